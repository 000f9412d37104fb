"""Chatterbox Turbo and Chatterbox Multilingual: voice-cloning engines (GPU first; CPU works, slowly).

Why this package does more than call ``model.generate()``:

- Stop: ``generate()`` runs up to 1000 speech tokens with no hook. Vox runs its own T3 loop over the model's
  parts (one prefill, then one token at a time with the KV cache) and checks ``cancel`` (and the engine's
  ``closing``, set by ``unload``) before every token, so a stop frees the engine within a token (~0.1 s on
  CPU, a few ms on a GPU).
- First audio: ``generate()`` vocodes only after the last token. Vox vocodes every ``tokens_per_slice``
  tokens as they come, so audio starts after ~35 tokens instead of after the whole chunk.
- Reproducible replies: every random draw (T3 sampling, the flow's noise, HiFT's excitation) comes from one
  generator per reply, seeded by the request's ``seed`` (or a fresh one, reported in ``stats.seed``).
- Generation options: a request (or config.toml) may set the sampling options the model really uses
  (``Capabilities.options``); the others are refused, never ignored.
- Speed: Chatterbox has no speed control; Vox time-stretches its audio without changing the pitch
  (``vox.audio.stretch``), slice by slice with no seam at the joins.
- Voices: a reference clip's conditionals are computed once per clip *content* (sha256), kept in a small
  LRU in memory and on disk, and never left in the shared ``model.conds``.
- Start-up: importing this package imports neither torch nor chatterbox; ``load()`` does, so Vox starts
  fast and runs without them.

Modules, each one concern: ``constants``; ``loading`` (lazy imports, missing packages, giving memory back);
``checkpoint`` (finding the weights, and why an engine cannot run here); ``compute`` (device, inference
context, the reply's generator); ``sampling`` (the settings a reply is generated with); ``text`` (pieces no
model call chokes on); ``conditionals`` (per-voice cache, reference checks); ``hift`` (the vocoder with
seeded noise); ``vocoder`` (token slices and their cross-fade); ``engine`` (the shared base: load, voices,
the synthesis driver); ``turbo`` and ``multilingual`` (the two engines and their token loops);
``analyzer`` (Multilingual's removable alignment analyzer).
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
from vox.engines.chatterbox.engine import ChatterboxEngine, SynthesisStats
from vox.engines.chatterbox.loading import import_chatterbox, missing_modules, release_memory
from vox.engines.chatterbox.multilingual import ChatterboxMultilingualEngine
from vox.engines.chatterbox.text import split_for_model
from vox.engines.chatterbox.turbo import ChatterboxTurboEngine

__all__ = [
    "INSTALL_COMMAND",
    "MIN_REFERENCE_SECONDS",
    "SAMPLES_PER_TOKEN",
    "SAMPLE_RATE",
    "SUPPORTED_LANGUAGES",
    "ChatterboxEngine",
    "ChatterboxMultilingualEngine",
    "ChatterboxTurboEngine",
    "SynthesisStats",
    "file_sha256",
    "import_chatterbox",
    "missing_modules",
    "reference_seconds",
    "release_memory",
    "split_for_model",
]
