"""Chatterbox Turbo and Chatterbox Multilingual: voice-cloning engines (GPU first; CPU works, slowly).

Why this module does more than call ``model.generate()``:

- Stop: ``generate()`` runs up to 1000 speech tokens with no hook. Vox runs its own T3 loop over the model's
  parts (one prefill, then one token at a time with the KV cache) and checks ``cancel`` before every token,
  so a stop frees the engine within a token (~0.1 s on CPU, a few ms on a GPU).
- First audio: ``generate()`` vocodes only after the last token. Vox vocodes every ``tokens_per_slice``
  tokens as they come (:class:`_Vocoder`), so audio starts after ~35 tokens instead of after the whole chunk.
- Voices: a reference clip's conditionals are computed once per clip *content* (sha256), kept in a small
  LRU in memory and on disk, and never left in the shared ``model.conds``.
- Start-up: importing this module imports neither torch nor chatterbox; ``load()`` does, so Vox starts
  fast and runs without them.

``speed`` is accepted and ignored: Chatterbox has no speed control, and time-stretching speech well is not
trivial. Turbo speaks English; its ``lang`` is ignored.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import sys
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vox.engines.base import EngineUnavailable, Progress, Voice, no_progress
from vox.memory import trim_heap

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
SAMPLES_PER_TOKEN = 960
"""S3 speech tokens run at 25 per second: 2 mel frames of 480 samples each at 24 kHz."""

SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "ar", "da", "de", "el", "en", "es", "fi", "fr", "he", "hi", "it", "ja",
    "ko", "ms", "nl", "no", "pl", "pt", "ru", "sv", "sw", "tr", "zh",
)  # fmt: skip

MIN_REFERENCE_SECONDS = 5.0
INSTALL_COMMAND = (
    ".venv/bin/pip install -r requirements-turbo.txt && .venv/bin/pip install --no-deps chatterbox-tts==0.1.7"
)
TEST_SMALL_ENV = "VOX_TEST_SMALL_CHATTERBOX"
"""Test-only: when set to 1, ``load()`` shrinks T3 to match the small random checkpoints the tests build."""
TEST_TOKENS_ENV = "VOX_TEST_CHATTERBOX_TOKENS"
"""Test-only, with TEST_SMALL_ENV: a fixed token count per model call (random weights never stop)."""

_MODULES = (
    "torch", "torchaudio", "transformers", "diffusers", "librosa", "s3tokenizer", "perth",
    "conformer", "pyloudnorm", "omegaconf", "safetensors", "chatterbox",
)  # fmt: skip
_SILENCE_TOKEN = 4299  # S3GEN_SIL: Turbo appends three so an utterance ends cleanly
_SPEECH_VOCAB = 6561  # tokens >= this are start/stop/padding, never vocoded
_FLOW_LOOKAHEAD = 3  # S3Gen's flow drops this many trailing tokens unless finalize=True
_XFADE_TOKENS = 2  # audio held back at a slice's end and cross-faded into the next slice
_FLOW_CONTEXT_TOKENS = 12  # left context re-vocoded with each slice so its start matches the previous slice

_chatterbox: types.SimpleNamespace | None = None
_import_lock = threading.Lock()


# ----------------------------------------------------------------------------------------------- imports


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


def shrink_t3_for_tests() -> None:
    """TEST ONLY: shrink T3's transformer to the size of the small random checkpoints in ``tests/``.

    Turbo: GPT-2 with 2 layers x 256. Multilingual: Llama with 14 layers x 1024 (its perceiver is fixed
    at 1024 wide; 14 layers and 16 heads keep the alignment analyzer's hooked heads) and a narrow MLP.
    The running app applies this only when the test harness starts it with VOX_TEST_SMALL_CHATTERBOX=1.
    """
    cb = import_chatterbox()
    gpt2 = cb.ORIGINAL_CONFIGS["GPT2_medium"]
    cb.LLAMA_CONFIGS["GPT2_medium"] = {**gpt2, "n_layer": 2, "n_embd": 256, "hidden_size": 256, "n_head": 4}
    llama = cb.ORIGINAL_CONFIGS["Llama_520M"]
    cb.LLAMA_CONFIGS["Llama_520M"] = {**llama, "num_hidden_layers": 14, "intermediate_size": 1024}


def _missing_modules() -> list[str]:
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


# ---------------------------------------------------------------------------------------------- text


def split_for_model(text: str, max_chars: int) -> list[str]:
    """Split ``text`` into pieces of at most ``max_chars`` characters, at clause or word boundaries.

    Vox's chunker already sends short chunks; this is the engine's own guarantee that no single model call
    gets more (Turbo degrades past ~350 characters). A piece cut mid-sentence ends with a comma, so the
    model's own normalisation does not add a full stop there.
    """
    text = " ".join(text.split())
    limit = max(8, max_chars - 1)  # room for the comma added to a piece cut mid-sentence
    pieces: list[str] = []
    while len(text) > max_chars:
        window = text[: limit + 1]
        cut = max(window.rfind(p) for p in (", ", "; ", ": ", ". ", "! ", "? "))
        cut = cut + 1 if cut >= limit // 2 else window.rfind(" ")
        if cut <= 0:
            cut = limit
        piece, text = text[:cut].strip(), text[cut:].strip()
        if piece[-1] not in ".,;:!?-":
            piece += ","
        pieces.append(piece)
    if text:
        pieces.append(text)
    return pieces


def reference_seconds(path: Path) -> float:
    """Duration of a reference clip, read from its header."""
    import soundfile

    try:
        return float(soundfile.info(str(path)).duration)
    except Exception as exc:  # soundfile raises its own error types, and RuntimeError
        raise ValueError(f"cannot read the reference clip {path}: {exc}") from exc


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------------- vocoder


@dataclass
class _Rendering:
    """One vocoder call's output: audio and its excitation source, from token ``start`` to ``end``."""

    start: int
    end: int
    source: Any  # torch tensor (1, 1, samples)


class _Vocoder:
    """Turns speech tokens into audio, either in slices as tokens arrive or once at the end.

    S3Gen is a flow-matching decoder over the whole token sequence (plus the reference prompt), and its
    output near the sequence's right edge changes once more tokens follow. So each slice re-vocodes a
    little left context with the new tokens and cross-fades where it meets the previous slice:

    - slice k vocodes tokens [committed - 12, n) and trusts its output only up to n - 3 (S3Gen looks 3 tokens
      ahead; the last ones have no future yet), and emits audio from ``committed`` up to 2 tokens before that;
    - those last 2 tokens (80 ms) are held back and cross-faded (raised cosine, gains summing to 1) with the
      same stretch rendered by slice k+1, whose vocoder also reuses slice k's excitation source there
      (HiFT's ``cache_source``), so both renderings of the fade region are nearly identical;
    - the flow's noise is drawn once per utterance and indexed by token position, so overlapping
      renderings also share their noise.

    At the join the output is continuous by construction: the fade starts from the very rendering the
    previous piece ended with. ``tokens_per_slice=0`` vocodes the whole chunk at once (upstream's way).

    Every slice re-vocodes the reference prompt too (up to 10 s, 250 tokens), which costs little on a GPU but
    dominates on a CPU. With ``growth`` 2 the slices double (35, 70, 140... tokens): the first audio comes
    as early, and as long as T3 runs faster than real time each slice is ready before the audio already sent
    has played, with far fewer vocoder calls.
    """

    def __init__(
        self, engine: _ChatterboxEngine, model: Any, ref: dict, tokens_per_slice: int, growth: float = 1.0
    ) -> None:
        self.engine = engine
        self.model = model
        self.ref = ref
        self.slice = tokens_per_slice
        self.growth = growth
        self.tokens: list[int] = []
        self.committed = 0  # tokens whose audio has been emitted
        self.tail: np.ndarray | None = None  # audio rendered past `committed`, to cross-fade into
        self.last: _Rendering | None = None
        self.noise = None
        self.next_render = tokens_per_slice
        self.seconds = 0.0  # time spent vocoding

    def feed(self, token: int) -> np.ndarray | None:
        """Add one speech token; return audio when a slice is ready."""
        if token < _SPEECH_VOCAB:
            self.tokens.append(token)
        if self.slice <= 0 or len(self.tokens) < self.next_render:
            return None
        self.next_render = len(self.tokens) + max(self.slice, round(len(self.tokens) * (self.growth - 1)))
        if len(self.tokens) - _FLOW_LOOKAHEAD - _XFADE_TOKENS <= self.committed:
            return None
        return self._render(final=False)

    def finish(self) -> np.ndarray:
        """The rest of the audio, once the last token is in."""
        if not self.tokens:
            return np.zeros(0, dtype=np.float32)
        return self._render(final=True)

    def _noise(self, start: int, count: int) -> Any:
        torch = self.engine.cb.torch
        frames = 2 * (start + count)
        if self.noise is None or self.noise.shape[2] < frames:
            have = 0 if self.noise is None else self.noise.shape[2]
            more = max(frames, 2 * (len(self.tokens) + 64)) - have
            fresh = torch.randn(1, 80, more, dtype=self.model.s3gen.dtype, device=self.engine.device)
            self.noise = fresh if self.noise is None else torch.cat([self.noise, fresh], dim=2)
        return self.noise[:, :, 2 * start : frames]

    def _render(self, final: bool) -> np.ndarray:
        started = time.perf_counter()
        engine, cb, s3gen = self.engine, self.engine.cb, self.model.s3gen
        torch = cb.torch
        start = max(0, self.committed - _FLOW_CONTEXT_TOKENS) if self.slice > 0 else 0
        tokens = self.tokens[start:] + (engine.end_tokens if final else [])
        # S3Gen's finalize=False path is broken in chatterbox 0.1.7 (its mask keeps the dropped frames), so
        # every call finalizes and a non-final slice just does not trust its last look-ahead tokens.
        end = start + len(tokens) - (0 if final else _FLOW_LOOKAHEAD)
        with engine.compute():
            speech = torch.tensor([tokens], dtype=torch.long, device=engine.device)
            mels = cb.S3Token2Mel.forward(
                s3gen,
                speech,
                ref_wav=None,
                ref_sr=None,
                ref_dict=self.ref,
                n_cfm_timesteps=engine.cfm_steps or (2 if s3gen.meanflow else 10),
                finalize=True,
                noised_mels=self._noise(start, len(tokens)),
            )
        with engine.compute(autocast=False):
            cache = torch.zeros(1, 1, 0, device=engine.device, dtype=s3gen.dtype)
            if self.last is not None and self.last.end > start:
                offset = (start - self.last.start) * SAMPLES_PER_TOKEN
                cache = self.last.source[:, :, offset : (self.last.end - self.last.start) * SAMPLES_PER_TOKEN]
            wav, source = s3gen.hift_inference(mels.to(dtype=s3gen.dtype), cache)
            if start == 0:  # upstream's fade-in against "spillover" from the reference clip
                fade = s3gen.trim_fade
                wav[:, : len(fade)] *= fade
            audio = wav[0].float().cpu().numpy()
        if engine.watermark:
            # Watermark the whole rendering before cutting it: its edges fall in held-back or context audio.
            with engine.compute(autocast=False):
                audio = np.asarray(self.model.watermarker.apply_watermark(audio, sample_rate=SAMPLE_RATE))
        audio = audio.astype(np.float32, copy=False)
        self.last = _Rendering(start, end, source)
        emit_to = end if final else end - _XFADE_TOKENS
        at = SAMPLES_PER_TOKEN
        piece = audio[(self.committed - start) * at : (emit_to - start) * at].copy()
        if self.tail is not None and len(self.tail):
            n = min(len(self.tail), len(piece))
            fade_in = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
            piece[:n] = self.tail[:n] * (1.0 - fade_in) + piece[:n] * fade_in
        self.tail = None if final else audio[(emit_to - start) * at : (end - start) * at]
        self.committed = emit_to
        self.seconds += time.perf_counter() - started
        return piece.astype(np.float32, copy=False)


# ------------------------------------------------------------------------------------ voice conditionals


class _ConditionalsCache:
    """Per-voice conditionals: a bounded LRU in memory over a content-addressed cache on disk.

    Keyed by the sha256 of the clip's bytes, so an edited clip misses (and its old entry is dropped) and
    two copies of one clip share an entry. Disk files live under a folder named after the engine and the
    checkpoint's fingerprint, since conditionals from one checkpoint do not fit another.
    """

    def __init__(self, folder: Path | None, capacity: int) -> None:
        self.folder = folder
        self.capacity = capacity
        self.memory: OrderedDict[str, Any] = OrderedDict()
        self.hashes: dict[str, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, sha256)
        self.voice_hash: dict[str, str] = {}  # voice id -> sha256 last seen
        self.hits = {"memory": 0, "disk": 0, "computed": 0}

    def digest(self, path: Path) -> str:
        stat = path.stat()
        known = self.hashes.get(str(path))
        if known and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        sha = file_sha256(path)
        self.hashes[str(path)] = (stat.st_mtime_ns, stat.st_size, sha)
        return sha

    def file(self, sha: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{sha}.pt"

    def get(self, voice: Voice, sha: str, load: Callable[[Path], Any]) -> Any | None:
        old = self.voice_hash.get(voice.id)
        if old is not None and old != sha:
            self.drop(old)
        self.voice_hash[voice.id] = sha
        if sha in self.memory:
            self.memory.move_to_end(sha)
            self.hits["memory"] += 1
            return self.memory[sha]
        disk = self.file(sha)
        if disk is not None and disk.exists():
            try:
                conds = load(disk)
            except Exception as exc:  # a truncated or foreign file: recompute it
                log.warning("ignoring unreadable conditionals %s: %s", disk, exc)
            else:
                self.hits["disk"] += 1
                self.remember(sha, conds)
                return conds
        return None

    def put(self, sha: str, conds: Any, save: Callable[[Path], None]) -> None:
        self.hits["computed"] += 1
        self.remember(sha, conds)
        disk = self.file(sha)
        if disk is None:
            return
        disk.parent.mkdir(parents=True, exist_ok=True)
        partial = disk.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            save(partial)
            os.replace(partial, disk)
        except OSError as exc:
            log.warning("could not cache conditionals in %s: %s", disk, exc)
            partial.unlink(missing_ok=True)

    def remember(self, sha: str, conds: Any) -> None:
        self.memory[sha] = conds
        self.memory.move_to_end(sha)
        while len(self.memory) > self.capacity:
            self.memory.popitem(last=False)

    def drop(self, sha: str) -> None:
        self.memory.pop(sha, None)
        disk = self.file(sha)
        if disk is not None:
            disk.unlink(missing_ok=True)

    def forget(self, voice: Voice) -> None:
        shas = {self.voice_hash.pop(voice.id, None)}
        if voice.path is not None:
            path = Path(voice.path)
            self.hashes.pop(str(path), None)
            if path.exists():
                shas.add(file_sha256(path))
        for sha in shas - {None}:
            self.drop(sha)


# ------------------------------------------------------------------------------------------------ engines


@dataclass
class SynthesisStats:
    """What the last ``synthesize`` call did: read by tests and the benchmark."""

    tokens: int = 0
    pieces: int = 0
    t3_seconds: float = 0.0
    vocoder_seconds: float = 0.0
    first_audio_seconds: float | None = None
    stopped: bool = False
    model_calls: list[str] = field(default_factory=list)


class _ChatterboxEngine:
    """What Turbo and Multilingual share: loading, voices, the token loop's driver, slicing, stopping."""

    name = "chatterbox"
    title = "Chatterbox"
    config_key = ""
    repo_id = ""
    weight_files: tuple[str, ...] = ()
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        checkpoint_dir: str | Path | None = None,
        device: str = "auto",
        cache_dir: Path | None = None,
        max_chars: int = 300,
        tokens_per_slice: int = 35,
        slice_growth: float = 2.0,
        max_new_tokens: int = 1000,
        min_new_tokens: int = 0,
        max_cached_voices: int = 8,
        cfm_steps: int | None = None,
        watermark: bool = True,
    ) -> None:
        """
        checkpoint_dir: a folder with the checkpoint's files (``from_local``); None looks in the Hugging Face
            cache and, unless HF_HUB_OFFLINE=1, downloads there.
        device: "auto" (CUDA when available, else CPU), "cuda", "cpu" or "mps".
        cache_dir: where per-voice conditionals are kept on disk; None keeps them in memory only.
        max_chars: no single model call gets more characters than this.
        tokens_per_slice: vocode the first this many speech tokens as soon as they are out, then the next
            slices as they come; 0 vocodes each chunk once, at its end (upstream's way).
        slice_growth: each slice is this many times the tokens so far (at least ``tokens_per_slice``):
            2 gives slices after 35, 70, 140... tokens; 1 gives a slice every ``tokens_per_slice`` tokens.
        max_new_tokens: cap on speech tokens per model call (25 per second of audio).
        min_new_tokens: the stop token is masked until this many tokens (tests: random weights, fixed length).
        cfm_steps: S3Gen flow steps; None keeps the model's own (Turbo 2, Multilingual 10).
        watermark: apply Resemble's Perth watermark to the audio, as chatterbox itself does.
        """
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.requested_device = device
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.max_chars = max_chars
        self.tokens_per_slice = tokens_per_slice
        self.slice_growth = slice_growth
        self.max_new_tokens = max_new_tokens
        self.min_new_tokens = min_new_tokens
        self.max_cached_voices = max_cached_voices
        self.cfm_steps = cfm_steps
        self.watermark = watermark
        self.device = "cpu"
        self.cb: types.SimpleNamespace | None = None
        self.stats = SynthesisStats()
        self.token_count = 0
        """Speech tokens generated by the current (or last) synthesize call; tests watch it to stop midway."""
        self._model: Any = None
        self._conds: _ConditionalsCache | None = None
        # Held while the model computes (load, conditionals, a whole generation). A plain Lock, not an RLock:
        # a generator may be closed from another thread than the one that started it.
        self._lock = threading.Lock()
        self._closing = threading.Event()  # set by unload(): a running generation stops at its next token

    # ---- loading

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self, progress: Progress = no_progress) -> None:
        """Load the checkpoint; EngineUnavailable says exactly what to install or where files go."""
        with self._lock:
            if self._model is not None:
                return
            progress(0.0, f"checking {self.title}")
            missing = _missing_modules()
            if missing:
                raise EngineUnavailable(
                    f"{self.title} needs Python packages that are not installed ({', '.join(missing)}). "
                    f"Install them with: {INSTALL_COMMAND}"
                )
            # A local folder is checked first (instant); the Hugging Face cache or a download only after
            # the packages have imported, so nobody downloads gigabytes for an engine that cannot run.
            checkpoint = self._find_checkpoint(progress) if self.checkpoint_dir is not None else None
            progress(0.1, "importing torch and chatterbox")
            self.cb = cb = self._import()
            checkpoint = checkpoint or self._find_checkpoint(progress)
            if os.environ.get(TEST_SMALL_ENV) == "1":  # test harness only: see shrink_t3_for_tests
                shrink_t3_for_tests()
                tokens = os.environ.get(TEST_TOKENS_ENV)
                if tokens:
                    self.max_new_tokens = self.min_new_tokens = int(tokens)
            torch = cb.torch
            self.device = self._pick_device(torch)
            if self.device == "cuda":
                torch.backends.cuda.matmul.allow_tf32 = True
                torch.backends.cudnn.allow_tf32 = True
            elif self.device == "cpu":
                log.warning("%s runs on the CPU here: expect several seconds per sentence", self.title)
            progress(0.3, f"loading {self.title} weights on {self.device}")
            try:
                model = self._from_local(checkpoint)
            except Exception as exc:
                raise EngineUnavailable(
                    f"{self.title} could not load the checkpoint in {checkpoint}: {exc}. {self._files_help()}"
                ) from exc
            folder = None
            if self.cache_dir is not None:
                folder = self.cache_dir / f"{self.name}-{self._fingerprint(checkpoint)}"
            self._conds = _ConditionalsCache(folder, self.max_cached_voices)
            self._model = model
            progress(1.0, f"{self.title} ready on {self.device}")

    def _import(self) -> types.SimpleNamespace:
        try:
            return import_chatterbox()
        except (ImportError, OSError) as exc:  # installed, but broken or mismatched (torch/torchaudio)
            raise EngineUnavailable(
                f"{self.title} cannot import its packages ({type(exc).__name__}: {exc}). "
                f"Install them with: {INSTALL_COMMAND}"
            ) from exc

    def unload(self) -> None:
        """Drop the model and every tensor Vox holds, and give the memory back to the system."""
        self._closing.set()
        try:
            with self._lock:
                model, self._model = self._model, None
                self._conds = None
                if model is None:
                    return
                cuda = self.device == "cuda"
                del model
                release_memory(cuda)
        finally:
            self._closing.clear()

    def _pick_device(self, torch: Any) -> str:
        wanted = self.requested_device
        if wanted == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise EngineUnavailable(
                f"{self.title}: device {wanted!r} was asked for, but CUDA is not available"
            )
        return wanted

    def _find_checkpoint(self, progress: Progress) -> Path:
        if self.checkpoint_dir is not None:
            missing = self._missing_files(self.checkpoint_dir)
            if missing:
                where = f"lacks {', '.join(missing)}" if self.checkpoint_dir.is_dir() else "does not exist"
                raise EngineUnavailable(
                    f"{self.title} checkpoint folder {self.checkpoint_dir} {where}. {self._files_help()}"
                )
            return self.checkpoint_dir
        progress(0.15, f"looking for {self.repo_id} in the Hugging Face cache")
        try:
            from huggingface_hub import snapshot_download

            try:
                patterns = list(self.hub_patterns)
                found = Path(snapshot_download(self.repo_id, allow_patterns=patterns, local_files_only=True))
                if not self._missing_files(found):
                    return found
            except Exception:  # not in the cache
                pass
            if os.environ.get("HF_HUB_OFFLINE") == "1":
                raise RuntimeError("HF_HUB_OFFLINE=1")
            progress(0.16, f"downloading {self.repo_id} (several GB) into the Hugging Face cache")
            found = Path(snapshot_download(self.repo_id, allow_patterns=list(self.hub_patterns)))
        except Exception as exc:
            raise EngineUnavailable(
                f"No {self.title} checkpoint: none is configured, none is in the Hugging Face cache, and "
                f"downloading {self.repo_id} failed ({type(exc).__name__}: {exc}). {self._files_help()}"
            ) from exc
        missing = self._missing_files(found)
        if missing:
            raise EngineUnavailable(f"The downloaded {self.repo_id} in {found} lacks {', '.join(missing)}.")
        return found

    def _missing_files(self, folder: Path) -> list[str]:
        return [name for name in self.weight_files if not (folder / name).is_file()]

    def _files_help(self) -> str:
        files = ", ".join(self.weight_files)
        return (
            f"Put the files of the Hugging Face repo {self.repo_id} ({files}; conds.pt, the built-in "
            f'voice, is optional) in one folder and set {self.config_key} = "/path/to/that/folder" in the '
            f"[engine] section of config.toml."
        )

    def _fingerprint(self, folder: Path) -> str:
        """Names, sizes and times of the checkpoint's files: conditionals cached for one don't fit another."""
        digest = hashlib.sha256(str(folder.resolve()).encode())
        for name in self.weight_files:
            stat = (folder / name).stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]

    # ---- compute helpers

    def compute(self, autocast: bool = True) -> contextlib.ExitStack:
        """inference_mode (no autograd state, no leak), plus bf16 autocast on CUDA.

        Entered around each compute step, never across a ``yield``, so the caller's thread is left as it was.
        """
        torch = self.cb.torch
        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        if autocast and self.device == "cuda":
            stack.enter_context(torch.autocast("cuda", dtype=torch.bfloat16))
        return stack

    @contextlib.contextmanager
    def _hold(self, cancel: threading.Event) -> Iterator[bool]:
        """Hold the model lock; give up (yield False) if cancel or unload comes first."""
        while not self._lock.acquire(timeout=0.05):
            if cancel.is_set() or self._closing.is_set():
                yield False
                return
        try:
            yield self._model is not None
        finally:
            self._lock.release()

    # ---- voices

    def _check_reference(self, voice: Voice | None) -> None:
        if voice is None or voice.path is None:
            return
        path = Path(voice.path)
        if not path.is_file():
            raise ValueError(f"the reference clip of voice {voice.id!r} is missing: {path}")
        seconds = reference_seconds(path)
        if seconds <= MIN_REFERENCE_SECONDS:
            raise ValueError(
                f"{self.title} needs a reference clip longer than {MIN_REFERENCE_SECONDS:g} seconds; "
                f"this one is {seconds:.1f} s"
            )

    def conditionals(self, voice: Voice | None) -> Any:
        """The voice's conditionals: from memory, from disk, or computed (about a second) and cached."""
        with self._lock:
            return self._conditionals(voice)

    def _conditionals(self, voice: Voice | None) -> Any:
        """``conditionals`` for a caller that holds the model lock."""
        model = self._require_model()
        if voice is None or voice.path is None:
            if model.conds is None:
                raise ValueError(
                    f"this {self.title} checkpoint has no built-in voice (conds.pt); pick a voice with a "
                    f"reference clip"
                )
            return model.conds
        self._check_reference(voice)
        path = Path(voice.path)
        sha = self._conds.digest(path)
        conds = self._conds.get(voice, sha, self._load_conds)
        if conds is None:
            conds = self._compute_conds(model, path)
            self._conds.put(sha, conds, conds.save)
        return conds

    def warm_voices(self, voices: list[Voice]) -> None:
        """Compute (or load) every voice's conditionals now; meant for a background thread after load.

        Takes the model lock one voice at a time, so speech can start in between. A bad clip is logged and
        skipped.
        """
        for voice in voices:
            if not self.loaded or self._closing.is_set():
                return
            if voice.path is None:
                continue
            try:
                self.conditionals(voice)
            except (ValueError, OSError, RuntimeError) as exc:
                log.warning("%s: skipping voice %s: %s", self.title, voice.id, exc)

    def forget_voice(self, voice: Voice) -> None:
        """Drop a voice's cached conditionals (memory and disk), e.g. when its clip is deleted or replaced."""
        with self._lock:
            if self._conds is not None:
                self._conds.forget(voice)

    @property
    def conditionals_hits(self) -> dict[str, int]:
        """How conditionals were found so far: memory, disk, or computed (tests check the disk cache)."""
        return dict(self._conds.hits) if self._conds else {}

    def _compute_conds(self, model: Any, path: Path) -> Any:
        """Run upstream's prepare_conditionals, then put the model's shared ``conds`` back as it was."""
        previous = model.conds
        try:
            with self.compute(autocast=False):
                model.prepare_conditionals(str(path), **self.conds_kwargs)
            return model.conds
        finally:
            model.conds = previous

    def _load_conds(self, file: Path) -> Any:
        return self.conditionals_class.load(file, map_location="cpu").to(self.device)

    def _require_model(self) -> Any:
        if self._model is None:
            raise RuntimeError(f"{self.title} is not loaded")
        return self._model

    # ---- synthesis

    def synthesize(
        self,
        text: str,
        voice: Voice | None,
        speed: float,
        cancel: threading.Event,
        lang: str | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield float32 mono audio at 24 kHz for ``text``; stop within a token once ``cancel`` is set.

        Checks that can fail fast (not loaded, bad language, short or missing clip) raise here, before
        the first item. ``speed`` is ignored (Chatterbox has no speed control). The generator holds the
        model lock while it runs: consume it to the end or close it.
        """
        model = self._require_model()
        lang = self._check_language(lang)
        if voice is None or voice.path is None:
            if model.conds is None:
                raise ValueError(
                    f"this {self.title} checkpoint has no built-in voice (conds.pt); pick a voice with a "
                    f"reference clip"
                )
        self._check_reference(voice)
        pieces = split_for_model(text, self.max_chars)
        self.stats = SynthesisStats()
        self.token_count = 0
        return self._synthesize(pieces, voice, cancel, lang)

    def _synthesize(
        self, pieces: list[str], voice: Voice | None, cancel: threading.Event, lang: str | None
    ) -> Iterator[np.ndarray]:
        started = time.perf_counter()
        stats = self.stats

        def stop() -> bool:
            return cancel.is_set() or self._closing.is_set()

        def first_audio() -> None:
            if stats.first_audio_seconds is None:
                stats.first_audio_seconds = time.perf_counter() - started

        with self._hold(cancel) as ready:
            if not ready:
                stats.stopped = True
                return
            model = self._model
            conds = self._conditionals(voice)
            for piece in pieces:
                if stop():
                    break
                stats.pieces += 1
                stats.model_calls.append(piece)
                vocoder = _Vocoder(self, model, conds.gen, self.tokens_per_slice, self.slice_growth)
                tokens = self._tokens(model, conds, piece, lang, stop)
                try:
                    while not stop():
                        t3_started = time.perf_counter()
                        token = next(tokens, None)
                        stats.t3_seconds += time.perf_counter() - t3_started
                        if token is None:
                            break
                        self.token_count += 1
                        stats.tokens += 1
                        audio = vocoder.feed(token)
                        if audio is not None and len(audio):
                            first_audio()
                            yield audio
                finally:
                    tokens.close()
                    stats.vocoder_seconds += vocoder.seconds
                if stop():
                    break
                started_final = vocoder.seconds
                audio = vocoder.finish()
                stats.vocoder_seconds += vocoder.seconds - started_final
                if len(audio):
                    first_audio()
                    yield audio
        stats.stopped = stop()

    def _check_language(self, lang: str | None) -> str | None:
        return lang

    # ---- per-model parts (subclasses)

    conditionals_class: Any = None
    conds_kwargs: ClassVar[dict[str, Any]] = {}
    hub_patterns: tuple[str, ...] = ()

    @property
    def end_tokens(self) -> list[int]:
        """Tokens appended before the final vocoder call."""
        return []

    def _from_local(self, checkpoint: Path) -> Any:
        raise NotImplementedError

    def _tokens(
        self, model: Any, conds: Any, text: str, lang: str | None, stop: Callable[[], bool]
    ) -> Iterator[int]:
        raise NotImplementedError


class ChatterboxTurboEngine(_ChatterboxEngine):
    """Chatterbox Turbo: English, GPT-2 T3 without CFG, 2-step meanflow S3Gen. The fast one."""

    name = "turbo"
    title = "Chatterbox Turbo"
    config_key = "turbo_checkpoint"
    repo_id = "ResembleAI/chatterbox-turbo"
    weight_files = (
        "ve.safetensors",
        "t3_turbo_v1.safetensors",
        "s3gen_meanflow.safetensors",
        "tokenizer_config.json",
    )
    hub_patterns = ("*.safetensors", "*.json", "*.txt", "*.pt", "*.model")
    conds_kwargs: ClassVar[dict[str, Any]] = {"exaggeration": 0.0, "norm_loudness": True}

    # Upstream's generate() defaults.
    temperature = 0.8
    top_k = 1000
    top_p = 0.95
    repetition_penalty = 1.2

    def _from_local(self, checkpoint: Path) -> Any:
        tts = self.cb.tts_turbo
        self.conditionals_class = tts.Conditionals
        model = tts.ChatterboxTurboTTS.from_local(str(checkpoint), self.device)
        # chatterbox was written for numpy 1: under numpy 2 its loudness gain (a float64 scalar) turns the
        # reference into float64, which S3Gen's tokenizer rejects. Keep the clip float32.
        norm_loudness = model.norm_loudness
        model.norm_loudness = lambda wav, sr, *args, **kwargs: np.asarray(
            norm_loudness(wav, sr, *args, **kwargs), dtype=np.float32
        )
        return model

    @property
    def end_tokens(self) -> list[int]:
        return [_SILENCE_TOKEN] * 3

    def _tokens(
        self, model: Any, conds: Any, text: str, lang: str | None, stop: Callable[[], bool]
    ) -> Iterator[int]:
        """Turbo's T3 loop (as ``T3.inference_turbo``), one token per iteration, checking ``stop`` first."""
        cb, t3 = self.cb, model.t3
        torch = cb.torch
        with self.compute():
            text = self.cb.tts_turbo.punc_norm(text)
            text_tokens = model.tokenizer(text, return_tensors="pt", padding=True, truncation=True)
            text_tokens = text_tokens.input_ids.to(self.device)
            processors = cb.LogitsProcessorList(
                [
                    cb.TemperatureLogitsWarper(self.temperature),
                    cb.TopKLogitsWarper(self.top_k),
                    cb.TopPLogitsWarper(self.top_p),
                    cb.RepetitionPenaltyLogitsProcessor(self.repetition_penalty),
                ]
            )
            start = t3.hp.start_speech_token * torch.ones_like(text_tokens[:, :1])
            embeds, _ = t3.prepare_input_embeds(
                t3_cond=conds.t3, text_tokens=text_tokens, speech_tokens=start, cfg_weight=0.0
            )
            out = t3.tfmr(inputs_embeds=embeds, use_cache=True)
            past = out.past_key_values
            token = self._sample(processors, start, t3.speech_head(out[0][:, -1, :]), 0)
        history = [token]
        for count in range(1, self.max_new_tokens + 1):
            if token is None or int(token.item()) == t3.hp.stop_speech_token:
                return
            yield int(token.item())
            if stop() or count == self.max_new_tokens:
                return
            with self.compute():
                out = t3.tfmr(inputs_embeds=t3.speech_emb(token), past_key_values=past, use_cache=True)
                past = out.past_key_values
                logits = t3.speech_head(out[0][:, -1, :])
                token = self._sample(processors, torch.cat(history, dim=1), logits, count)
            history.append(token)

    def _sample(self, processors: Any, ids: Any, logits: Any, count: int) -> Any:
        """Upstream's sampling (processors, softmax, multinomial); None when every logit is -inf."""
        torch = self.cb.torch
        logits = logits.float()
        if count < self.min_new_tokens:
            logits[..., self._model.t3.hp.stop_speech_token] = -float("inf")
        logits = processors(ids, logits)
        if torch.all(logits == -float("inf")):
            return None
        return torch.multinomial(torch.softmax(logits, dim=-1), num_samples=1)


class ChatterboxMultilingualEngine(_ChatterboxEngine):
    """Chatterbox Multilingual: 23 languages, Llama T3 with classifier-free guidance, 10-step S3Gen."""

    name = "multilingual"
    title = "Chatterbox Multilingual"
    config_key = "multilingual_checkpoint"
    repo_id = "ResembleAI/chatterbox"
    weight_files = ("ve.pt", "t3_mtl23ls_v2.safetensors", "s3gen.pt", "grapheme_mtl_merged_expanded_v1.json")
    hub_patterns = (*weight_files, "conds.pt", "Cangjie5_TC.json")
    conds_kwargs: ClassVar[dict[str, Any]] = {"exaggeration": 0.5}
    SUPPORTED_LANGUAGES = SUPPORTED_LANGUAGES

    # Upstream's generate() defaults.
    cfg_weight = 0.5
    temperature = 0.8
    repetition_penalty = 2.0
    min_p = 0.05
    top_p = 1.0

    def _check_language(self, lang: str | None) -> str:
        code = (lang or "en").strip().lower().replace("_", "-").split("-")[0]
        if code not in SUPPORTED_LANGUAGES:
            raise ValueError(
                f"{self.title} does not speak {lang!r}; valid languages: {', '.join(SUPPORTED_LANGUAGES)}"
            )
        return code

    def _from_local(self, checkpoint: Path) -> Any:
        tts = self.cb.mtl_tts
        self.conditionals_class = tts.Conditionals
        # The tokenizer asks the hub for Cangjie5_TC.json (Chinese) and carries on without it; offline that
        # ask can hang, so look only in the local cache while loading.
        from huggingface_hub import constants

        offline, constants.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE, True
        try:
            return tts.ChatterboxMultilingualTTS.from_local(str(checkpoint), self.device)
        finally:
            constants.HF_HUB_OFFLINE = offline

    def _tokens(
        self, model: Any, conds: Any, text: str, lang: str | None, stop: Callable[[], bool]
    ) -> Iterator[int]:
        """Multilingual's T3 loop (as ``T3.inference``: CFG batch of two, alignment analyzer), per token."""
        cb, t3 = self.cb, model.t3
        torch, F = cb.torch, cb.torch.nn.functional
        hp = t3.hp
        with self.compute():
            text = cb.mtl_tts.punc_norm(text)
            text_tokens = model.tokenizer.text_to_tokens(text, language_id=lang).to(self.device)
            text_tokens = torch.cat([text_tokens, text_tokens], dim=0)  # conditional and unconditional rows
            text_tokens = F.pad(text_tokens, (1, 0), value=hp.start_text_token)
            text_tokens = F.pad(text_tokens, (0, 1), value=hp.stop_text_token)
            text_tokens = text_tokens.to(dtype=torch.long)
            start = hp.start_speech_token * torch.ones_like(text_tokens[:, :1])
            embeds, len_cond = t3.prepare_input_embeds(
                t3_cond=conds.t3, text_tokens=text_tokens, speech_tokens=start, cfg_weight=self.cfg_weight
            )
            bos = torch.tensor([[hp.start_speech_token]], dtype=torch.long, device=self.device)
            bos_embed = t3.speech_emb(bos) + t3.speech_pos_emb.get_fixed_embedding(0)
            inputs = torch.cat([embeds, torch.cat([bos_embed, bos_embed])], dim=1)
            repetition = cb.RepetitionPenaltyLogitsProcessor(penalty=float(self.repetition_penalty))
            min_p = cb.MinPLogitsWarper(min_p=self.min_p)
            top_p = cb.TopPLogitsWarper(top_p=self.top_p)
        analyzer = _Analyzer.attach(cb, t3, len_cond, text_tokens.size(-1))
        try:
            with self.compute():
                out = t3.tfmr(inputs_embeds=inputs, use_cache=True, output_attentions=analyzer.active)
            generated = bos
            for step in range(self.max_new_tokens):
                with self.compute():
                    logits = t3.speech_head(out[0][:, -1, :]).float()
                    cond, uncond = logits[0:1], logits[1:2]
                    logits = cond + self.cfg_weight * (cond - uncond)
                    logits = analyzer.step(logits, int(generated[0, -1]))
                    if step < self.min_new_tokens:
                        logits[..., hp.stop_speech_token] = -float("inf")
                    ids = generated[:1]
                    logits = repetition(ids, logits) / self.temperature
                    logits = top_p(ids, min_p(ids, logits))
                    token = torch.multinomial(torch.softmax(logits, dim=-1), num_samples=1)
                    generated = torch.cat([generated, token], dim=1)
                value = int(token.item())
                if value == hp.stop_speech_token:
                    return
                yield value
                if stop():
                    return
                with self.compute():
                    embed = t3.speech_emb(token) + t3.speech_pos_emb.get_fixed_embedding(step + 1)
                    out = t3.tfmr(
                        inputs_embeds=torch.cat([embed, embed]),
                        past_key_values=out.past_key_values,
                        use_cache=True,
                        output_attentions=analyzer.active,
                    )
        finally:
            analyzer.detach()


class _Analyzer:
    """Upstream's AlignmentStreamAnalyzer (early-stop and anti-repetition for Multilingual), made removable.

    Upstream attaches forward hooks to three attention layers and switches the model to eager attention on
    every call, and never undoes either, so hooks pile up. Here both are undone after each generation.
    A model with too few layers or heads for the hooked heads (a small test variant) runs without it.
    """

    def __init__(self, tfmr: Any = None, analyzer: Any = None) -> None:
        self.tfmr = tfmr
        self.analyzer = analyzer
        self.active = analyzer is not None
        self.hooks: list[tuple[Any, set]] = []
        self.config: tuple[Any, Any] = (None, None)

    @classmethod
    def attach(cls, cb: Any, t3: Any, len_cond: int, text_len: int) -> _Analyzer:
        tfmr = t3.tfmr
        heads = cb.LLAMA_ALIGNED_HEADS
        enough = (
            max(layer for layer, _ in heads) < len(tfmr.layers)
            and max(head for _, head in heads) < tfmr.config.num_attention_heads
        )
        if not (t3.hp.is_multilingual and enough):
            return cls()
        attentions = [tfmr.layers[layer].self_attn for layer, _ in heads]
        before = [(attention, set(attention._forward_hooks)) for attention in attentions]
        config = (tfmr.config.output_attentions, tfmr.config._attn_implementation)
        analyzer = cb.AlignmentStreamAnalyzer(
            tfmr,
            None,
            text_tokens_slice=(len_cond, len_cond + text_len),
            alignment_layer_idx=9,
            eos_idx=t3.hp.stop_speech_token,
        )
        made = cls(tfmr, analyzer)
        made.hooks, made.config = before, config
        return made

    def step(self, logits: Any, last_token: int) -> Any:
        return logits if self.analyzer is None else self.analyzer.step(logits, next_token=last_token)

    def detach(self) -> None:
        if self.analyzer is None:
            return
        for attention, before in self.hooks:
            for key in set(attention._forward_hooks) - before:
                del attention._forward_hooks[key]
        self.tfmr.config.output_attentions, self.tfmr.config._attn_implementation = self.config
        self.analyzer = None
        self.active = False
