"""Chatterbox Turbo and Chatterbox Multilingual: voice-cloning engines (GPU first; CPU works, slowly).

Why this package does more than call ``model.generate()``:

- Stop: ``generate()`` runs up to 1000 speech tokens with no hook. Vox runs its own T3 loop over the model's
  parts (one prefill, then one token at a time with the KV cache) and checks ``cancel`` before every token,
  so a stop frees the engine within a token (~0.1 s on CPU, a few ms on a GPU).
- First audio: ``generate()`` vocodes only after the last token. Vox vocodes every ``tokens_per_slice``
  tokens as they come (``vocoder._Vocoder``), so audio starts after ~35 tokens instead of after the whole
  chunk.
- Voices: a reference clip's conditionals are computed once per clip *content* (sha256), kept in a small
  LRU in memory and on disk, and never left in the shared ``model.conds``.
- Start-up: importing this package imports neither torch nor chatterbox; ``load()`` does, so Vox starts
  fast and runs without them.

Chatterbox has no speed control: a speed other than 1.0 is refused (never silently ignored). Turbo speaks
English; its ``lang`` is ignored.

Modules:

- ``constants``: sample and token rates, supported languages, the install command, test-only env names.
- ``loading``: lazy imports of torch/chatterbox (and the torchaudio workaround), the test-only T3 shrink,
  the missing-package check, ``release_memory``.
- ``text``: ``split_for_model``, the cap on characters per model call.
- ``conditionals``: the per-voice conditionals cache, file hashing, reference clip length.
- ``vocoder``: the token-slice vocoder and its cross-fade.
- ``engine``: ``_ChatterboxEngine``, the shared base (loading, voices, the token loop's driver, stopping),
  and ``SynthesisStats``.
- ``turbo`` and ``multilingual``: the two engines and their T3 token loops (Multilingual's with the
  alignment analyzer).

Names are re-exported here; to monkeypatch one, patch the submodule that uses it (e.g. ``engine``).
"""

from __future__ import annotations

from vox.engines.chatterbox.conditionals import file_sha256, reference_seconds
from vox.engines.chatterbox.constants import (
    INSTALL_COMMAND,
    MIN_REFERENCE_SECONDS,
    SAMPLE_RATE,
    SAMPLES_PER_TOKEN,
    SUPPORTED_LANGUAGES,
)
from vox.engines.chatterbox.engine import SynthesisStats
from vox.engines.chatterbox.loading import _missing_modules, import_chatterbox, release_memory
from vox.engines.chatterbox.multilingual import ChatterboxMultilingualEngine
from vox.engines.chatterbox.text import split_for_model
from vox.engines.chatterbox.turbo import ChatterboxTurboEngine

__all__ = [
    "INSTALL_COMMAND",
    "MIN_REFERENCE_SECONDS",
    "SAMPLES_PER_TOKEN",
    "SAMPLE_RATE",
    "SUPPORTED_LANGUAGES",
    "ChatterboxMultilingualEngine",
    "ChatterboxTurboEngine",
    "SynthesisStats",
    "_missing_modules",
    "file_sha256",
    "import_chatterbox",
    "reference_seconds",
    "release_memory",
    "split_for_model",
]
