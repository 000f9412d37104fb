"""Random-weight Chatterbox checkpoints, so the real engine classes can be tested with no download.

The real weights cannot be fetched on CI machines, but the real code paths (``from_local``, the T3 token
loop, S3Gen, the vocoder) run the same with random weights: per-token compute does not depend on the
weights' values, so speed figures are real for the architecture; speech quality is not.

``small=True`` shrinks the T3 transformer (Turbo: GPT-2, 2 layers x 256; Multilingual: Llama, 14 layers x 1024
with a narrow MLP: its perceiver is fixed at 1024 wide, and the alignment analyzer hooks layers 9-13) and the
flow decoder of S3Gen to 2 of its 12 identical middle blocks (those 12 blocks were two thirds of a test
reply's time; every kind of layer still runs), and stores weights as fp16, so a build takes seconds. S3Gen's
encoder and vocoder and the voice encoder keep their real sizes. The shrink changes module-level tables in
``chatterbox``, so it must also be applied in every process that loads a small checkpoint: call
:func:`use_small_config` here, or start the server with :func:`small_env`, which injects :func:`small_engine`
through the engine factory hook (``VOX_ENGINE_HOOK``).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import time
from pathlib import Path

from tests import cache
from vox.engines.chatterbox import SUPPORTED_LANGUAGES, import_chatterbox
from vox.engines.registry import HOOK_ENV
from vox.engines.tags import TAGS

TURBO = "turbo"
MULTILINGUAL = "multilingual"
_DONE = "vox-random-checkpoint.json"
SMALL_MID_BLOCKS = 2
TOKENS_ENV = "VOX_TEST_CHATTERBOX_TOKENS"
"""A fixed number of speech tokens per model call for :func:`small_engine` (random weights never stop)."""


def use_small_config() -> None:
    """Shrink T3's transformer in this process to the size of the small random checkpoints.

    Turbo: GPT-2 with 2 layers x 256. Multilingual: Llama with 14 layers x 1024 (its perceiver is fixed at
    1024 wide; 14 layers and 16 heads keep the alignment analyzer's hooked heads) and a narrow MLP. Both:
    S3Gen's flow decoder with 2 middle blocks.
    """
    cb = import_chatterbox()
    gpt2 = cb.ORIGINAL_CONFIGS["GPT2_medium"]
    cb.LLAMA_CONFIGS["GPT2_medium"] = {**gpt2, "n_layer": 2, "n_embd": 256, "hidden_size": 256, "n_head": 4}
    llama = cb.ORIGINAL_CONFIGS["Llama_520M"]
    cb.LLAMA_CONFIGS["Llama_520M"] = {**llama, "num_hidden_layers": 14, "intermediate_size": 1024}
    s3gen = importlib.import_module("chatterbox.models.s3gen.s3gen")
    if not issubclass(s3gen.ConditionalDecoder, _SmallDecoder):
        s3gen.ConditionalDecoder = _small_decoder(s3gen.ConditionalDecoder)


class _SmallDecoder:
    """Marks S3Gen's flow decoder as shrunk (see :func:`_small_decoder`)."""


def _small_decoder(real: type) -> type:
    """S3Gen's flow decoder with ``SMALL_MID_BLOCKS`` of its middle blocks (upstream: 12)."""

    class SmallDecoder(real, _SmallDecoder):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **{**kwargs, "num_mid_blocks": SMALL_MID_BLOCKS})

    return SmallDecoder


def small_engine(engine):
    """The engine factory hook for a server process that loads the small checkpoints: shrinks T3 for
    Chatterbox engines and, with ``VOX_TEST_CHATTERBOX_TOKENS``, fixes the tokens per model call."""
    if engine.name in (TURBO, MULTILINGUAL):
        use_small_config()
        tokens = os.environ.get(TOKENS_ENV)
        if tokens:
            engine.max_new_tokens = engine.min_new_tokens = int(tokens)
    return engine


def small_env(tokens: int | None = None) -> dict[str, str]:
    """Environment for a subprocess (e.g. the server) that must load the small checkpoints. Torch runs on one
    thread: tests share two cores with other processes, and torch's threads then spin against them."""
    env = {**os.environ, HOOK_ENV: "tests.chatterbox_ckpt:small_engine", "OMP_NUM_THREADS": "1"}
    if tokens is not None:
        env[TOKENS_ENV] = str(tokens)
    return env


def build_checkpoint(directory: str | Path, small: bool = True, kind: str = TURBO) -> Path:
    """Build a random checkpoint for ``kind`` in ``directory`` unless one of the same variant is there.

    Returns the directory. The marker file is written last, so an interrupted build is rebuilt.
    """
    directory = Path(directory)
    marker = directory / _DONE
    want = {"kind": kind, "small": small, "version": 3}
    if marker.exists() and json.loads(marker.read_text()) == want:
        if small:
            use_small_config()
        return directory
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    if small:
        use_small_config()
    started = time.monotonic()
    if kind == TURBO:
        _build_turbo(directory, small)
    elif kind == MULTILINGUAL:
        _build_multilingual(directory, small)
    else:
        raise ValueError(f"unknown checkpoint kind {kind!r}")
    marker.write_text(json.dumps(want))
    print(
        f"built {'small' if small else 'full'} random {kind} checkpoint in {time.monotonic() - started:.1f} s"
    )
    return directory


def small_checkpoint(kind: str = TURBO) -> Path:
    """The small random checkpoint of ``kind`` in ``tests/.cache/``: built by the first test (or xdist worker)
    that asks, then kept across runs (the marker names the variant, so a change of recipe rebuilds it)."""
    with cache.locked(f"chatterbox-{kind}-small") as directory:
        return build_checkpoint(directory, small=True, kind=kind)


def _state(module, half: bool) -> dict:
    """A state dict that safetensors/torch.save accept: detached, contiguous, no shared storage."""
    import torch

    out = {}
    for key, value in module.state_dict().items():
        value = value.detach().clone().contiguous()
        if half and value.dtype == torch.float32:
            value = value.half()
        out[key] = value
    return out


def _build_turbo(directory: Path, small: bool) -> None:
    import torch
    from safetensors.torch import save_file

    cb = import_chatterbox()
    torch.manual_seed(0)
    save_file(_state(cb.VoiceEncoder(), small), directory / "ve.safetensors")
    save_file(_state(cb.T3(cb.turbo_t3_config()), small), directory / "t3_turbo_v1.safetensors")
    save_file(_state(cb.S3Gen(meanflow=True), small), directory / "s3gen_meanflow.safetensors")
    _write_bpe_tokenizer(directory)


def _build_multilingual(directory: Path, small: bool) -> None:
    import torch
    from safetensors.torch import save_file

    cb = import_chatterbox()
    torch.manual_seed(0)
    torch.save(_state(cb.VoiceEncoder(), small), directory / "ve.pt")
    save_file(_state(cb.T3(cb.T3Config.multilingual()), small), directory / "t3_mtl23ls_v2.safetensors")
    torch.save(_state(cb.S3Gen(), small), directory / "s3gen.pt")
    _write_grapheme_tokenizer(directory / "grapheme_mtl_merged_expanded_v1.json")


def _write_bpe_tokenizer(directory: Path) -> None:
    """A tiny byte-level BPE tokenizer that ``AutoTokenizer.from_pretrained`` loads as GPT-2's, with Turbo's
    paralinguistic tags as added tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = [
        "Hello there, this is a random checkpoint speaking.",
        "The quick brown fox jumps over the lazy dog.",
    ]
    tok.train_from_iterator(corpus * 20, trainer=trainer)
    tok.add_tokens(list(TAGS))  # as in Turbo's real tokenizer: each paralinguistic tag is one added token
    tok.save(str(directory / "tokenizer.json"))
    config = {
        "tokenizer_class": "GPT2Tokenizer",
        "bos_token": "<|endoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "model_max_length": 1024,
        "add_prefix_space": False,
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config))


def _write_grapheme_tokenizer(path: Path) -> None:
    """A character-level tokenizer with the special tokens and language tags MTLTokenizer expects.

    T3's multilingual config uses id 255 as start-of-text and 0 as stop-of-text, and 2454 text ids.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers

    specials = ["[STOP]", "[UNK]", "[SPACE]", "[PAD]", "[SEP]", "[CLS]", "[MASK]"]
    tags = [f"[{code}]" for code in SUPPORTED_LANGUAGES]
    chars = [chr(c) for c in range(33, 127)] + list("àáâäçèéêëìíîïñòóôöùúûüßøåæœ")
    vocab: dict[str, int] = {}
    for token in specials + tags + chars:
        vocab.setdefault(token, len(vocab))
    vocab["[START]"] = 255
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(pattern="", behavior="isolated")
    tok.add_special_tokens(specials + tags + ["[START]"])
    tok.save(str(path))
