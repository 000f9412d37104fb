"""Lazy imports of torch and chatterbox (with the torchaudio workaround), the missing-package check, and
giving freed model memory back."""

from __future__ import annotations

import gc
import logging
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

from vox.engines.memory import trim_heap

log = logging.getLogger("vox.engines.chatterbox")  # one logger name for the whole package, as before

_MODULES = (
    "torch", "torchaudio", "transformers", "diffusers", "librosa", "s3tokenizer", "perth",
    "conformer", "pyloudnorm", "omegaconf", "safetensors", "chatterbox",
)  # fmt: skip

_chatterbox: types.SimpleNamespace | None = None
_import_lock = threading.Lock()


def import_chatterbox() -> types.SimpleNamespace:
    """Import torch and the chatterbox parts Vox uses (10 s or so the first time), once per process."""
    global _chatterbox
    with _import_lock:
        if _chatterbox is None:
            _chatterbox = _import_chatterbox()
        return _chatterbox


def _import_torchaudio() -> None:
    """Import torchaudio, without its C extension when that extension cannot load.

    PyPI's torchaudio 2.11 wheel carries a CUDA-built extension that fails to load beside a CPU torch
    (``libc10_cuda.so`` missing). Chatterbox only uses torchaudio's pure-Python parts (Resample, kaldi
    fbank, Spectrogram), so when loading the extension fails, Vox stands in a module that says "no
    extension" (what torchaudio itself reports when the library file is absent) and imports it again.
    """
    try:
        import torchaudio
    except OSError as exc:
        log.info("torchaudio's C extension does not load here (%s); using its pure-Python parts", exc)
        stub = types.ModuleType("torchaudio._extension")
        stub._IS_TORCHAUDIO_EXT_AVAILABLE = False
        stub._IS_ALIGN_AVAILABLE = False
        stub._check_cuda_version = lambda: None

        def fail_if_no_align(func: Callable) -> Callable:
            def fail(*args: Any, **kwargs: Any) -> None:
                raise RuntimeError("torchaudio's C extension is not available in this environment")

            return fail

        stub.fail_if_no_align = fail_if_no_align
        sys.modules["torchaudio._extension"] = stub
        import torchaudio  # noqa: F401


def _import_chatterbox() -> types.SimpleNamespace:
    import torch

    _import_torchaudio()
    from chatterbox import mtl_tts, tts_turbo
    from chatterbox.models.s3gen import S3Gen, flow_matching
    from chatterbox.models.s3gen.s3gen import S3Token2Mel
    from chatterbox.models.t3 import T3
    from chatterbox.models.t3.inference.alignment_stream_analyzer import (
        LLAMA_ALIGNED_HEADS,
        AlignmentStreamAnalyzer,
    )
    from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS
    from chatterbox.models.t3.modules.t3_config import T3Config
    from chatterbox.models.voice_encoder import VoiceEncoder
    from transformers.generation.logits_process import (
        LogitsProcessorList,
        MinPLogitsWarper,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    # Cosmetic: the vocoder prints a line and a progress bar on every call, i.e. for every slice.
    flow_matching.print = lambda *args, **kwargs: None
    flow_matching.tqdm = lambda iterable, *args, **kwargs: iterable

    def turbo_t3_config() -> Any:
        """The T3Config that ``ChatterboxTurboTTS.from_local`` builds (not exposed by chatterbox)."""
        hp = T3Config(text_tokens_dict_size=50276)
        hp.llama_config_name = "GPT2_medium"
        hp.speech_tokens_dict_size = 6563
        hp.input_pos_emb = None
        hp.speech_cond_prompt_len = 375
        hp.use_perceiver_resampler = False
        hp.emotion_adv = False
        return hp

    return types.SimpleNamespace(
        torch=torch,
        tts_turbo=tts_turbo,
        mtl_tts=mtl_tts,
        T3=T3,
        T3Config=T3Config,
        S3Gen=S3Gen,
        S3Token2Mel=S3Token2Mel,
        VoiceEncoder=VoiceEncoder,
        LLAMA_CONFIGS=LLAMA_CONFIGS,
        ORIGINAL_CONFIGS={name: dict(cfg) for name, cfg in LLAMA_CONFIGS.items()},
        AlignmentStreamAnalyzer=AlignmentStreamAnalyzer,
        LLAMA_ALIGNED_HEADS=LLAMA_ALIGNED_HEADS,
        LogitsProcessorList=LogitsProcessorList,
        MinPLogitsWarper=MinPLogitsWarper,
        RepetitionPenaltyLogitsProcessor=RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper=TemperatureLogitsWarper,
        TopKLogitsWarper=TopKLogitsWarper,
        TopPLogitsWarper=TopPLogitsWarper,
        turbo_t3_config=turbo_t3_config,
    )


def missing_modules() -> list[str]:
    """The packages Chatterbox needs that are not installed (found without importing them)."""
    import importlib.util

    return [name for name in _MODULES if importlib.util.find_spec(name) is None]


def release_memory(cuda: bool = False) -> None:
    """Give freed model memory back: collect cycles, empty CUDA's cache, and trim glibc's heap.

    PyTorch's CPU tensors come from malloc; without ``malloc_trim`` glibc keeps much of the freed heap, and
    the process's RSS stays high after an unload.
    """
    gc.collect()
    if cuda:
        import torch

        torch.cuda.empty_cache()
    trim_heap()
