"""What Turbo and Multilingual share: loading, voices, the token loop's driver, slicing, speed, stopping."""

from __future__ import annotations

import logging
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vox.audio.stretch import Stretcher
from vox.config import Config
from vox.engines.base import GENERATION_OPTIONS, Engine, Progress, SynthesisOptions, Voice, no_progress
from vox.engines.chatterbox.checkpoint import (
    INSTALL_HINT,
    CheckpointSpec,
    find_checkpoint,
    packages_problem,
    unavailable_reason,
)
from vox.engines.chatterbox.compute import Compute
from vox.engines.chatterbox.conditionals import _ConditionalsCache, check_reference
from vox.engines.chatterbox.constants import SAMPLE_RATE
from vox.engines.chatterbox.loading import import_chatterbox, release_memory
from vox.engines.chatterbox.sampling import Sampling, resolve
from vox.engines.chatterbox.text import split_for_model
from vox.engines.chatterbox.vocoder import VocoderSettings, _Vocoder
from vox.errors import EngineUnavailable, VoiceRequired, VoxError
from vox.jobs.cancel import Cancel

log = logging.getLogger("vox.engines.chatterbox")  # one logger name for the whole package


@dataclass
class SynthesisStats:
    """What the current (or last) ``synthesize`` call (one chunk) did, updated as it runs: the benchmark reads
    the timings; ``seed`` is the seed the chunk was generated with (a request's, or one drawn for it)."""

    tokens: int = 0
    pieces: int = 0
    t3_seconds: float = 0.0
    vocoder_seconds: float = 0.0
    stretch_seconds: float = 0.0
    first_audio_seconds: float | None = None
    stopped: bool = False
    seed: int | None = None
    model_calls: list[str] = field(default_factory=list)
    """The texts given to the model, one per call (a chunk longer than ``max_chars`` takes several)."""


class ChatterboxEngine(Engine):
    """The shared base; subclasses declare their checkpoint, their model defaults and their T3 token loop."""

    checkpoint: ClassVar[CheckpointSpec]
    model_defaults: ClassVar[Sampling]
    """Upstream ``generate()``'s defaults for the options the engine honours."""
    conds_kwargs: ClassVar[dict[str, Any]] = {}
    end_tokens: ClassVar[tuple[int, ...]] = ()
    """Tokens appended before the final vocoder call."""
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
        defaults: dict[str, float | int] | None = None,
    ) -> None:
        """
        checkpoint_dir: a folder with the checkpoint's files; None looks in the Hugging Face cache and, unless
            HF_HUB_OFFLINE=1, downloads there.
        device: "auto" (CUDA when available, else CPU), "cuda", "cpu" or "mps".
        cache_dir: where per-voice conditionals are kept on disk; None keeps them in memory only.
        max_chars: no single model call gets more characters than this.
        tokens_per_slice: vocode the first this many speech tokens as soon as they are out, then the next
            slices as they come; 0 vocodes each chunk once, at its end (upstream's way).
        slice_growth: each slice is this many times the tokens so far (at least ``tokens_per_slice``):
            2 gives slices after 35, 70, 140... tokens; 1 gives a slice every ``tokens_per_slice`` tokens.
        max_new_tokens: cap on speech tokens per model call (25 per second of audio).
        min_new_tokens: the stop token is masked until this many tokens (as ``min_new_tokens`` in Hugging
            Face's generate; random test weights use it for a fixed length).
        cfm_steps: S3Gen flow steps; None keeps the model's own (Turbo 2, Multilingual 10).
        watermark: apply Resemble's Perth watermark to the audio, as chatterbox itself does.
        defaults: generation options from config.toml ([engine]), used where a request sets none.
        """
        super().__init__()
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
        self.defaults = dict(defaults or {})
        self.device = "cpu"
        self.cb: types.SimpleNamespace | None = None
        self.compute: Compute | None = None
        self.stats = SynthesisStats()
        self._model: Any = None
        self._conds: _ConditionalsCache | None = None
        self.conditionals_class: Any = None
        # Held while the model computes (load, conditionals, a whole generation). A plain Lock, not an RLock:
        # a generator may be closed from another thread than the one that started it.
        self._lock = threading.Lock()

    @property
    def title(self) -> str:
        return self.capabilities.title

    @classmethod
    def from_config(cls, config: Config) -> ChatterboxEngine:
        defaults = {name: getattr(config.engine, name) for name in GENERATION_OPTIONS}
        return cls(
            checkpoint_dir=getattr(config.engine, cls.checkpoint.config_key) or None,
            device=config.engine.device,
            cache_dir=config.voices_dir / ".cache",
            max_chars=config.chunking.max_chars,
            defaults={name: value for name, value in defaults.items() if value is not None},
        )

    @classmethod
    def unavailable_reason(cls, config: Config) -> str:
        return unavailable_reason(cls.checkpoint, getattr(config.engine, cls.checkpoint.config_key))

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
            problem = packages_problem(self.title)
            if problem:
                raise EngineUnavailable(problem)
            # A local folder is checked first (instant); the Hugging Face cache or a download only after
            # the packages have imported, so nobody downloads gigabytes for an engine that cannot run.
            checkpoint = None
            if self.checkpoint_dir is not None:
                checkpoint = find_checkpoint(self.checkpoint, self.checkpoint_dir, progress)
            progress(0.1, "importing torch and chatterbox")
            self.cb = cb = self._import()
            checkpoint = checkpoint or find_checkpoint(self.checkpoint, None, progress)
            self.device = self._pick_device(cb.torch)
            self.compute = Compute(cb, self.device)
            if self.device == "cuda":
                cb.torch.backends.cuda.matmul.allow_tf32 = True
                cb.torch.backends.cudnn.allow_tf32 = True
            elif self.device == "cpu":
                log.warning("%s runs on the CPU here: expect several seconds per sentence", self.title)
            progress(0.3, f"loading {self.title} weights on {self.device}")
            try:
                model = self._from_local(checkpoint)
            except Exception as exc:  # a corrupt or foreign checkpoint fails in many ways inside torch
                raise EngineUnavailable(f"{self.title} could not load the checkpoint in {checkpoint} ({exc}). "
                                        f"{self.checkpoint.files_help()}") from exc  # fmt: skip
            folder = None
            if self.cache_dir is not None:
                folder = self.cache_dir / f"{self.name}-{self.checkpoint.fingerprint(checkpoint)}"
            self._conds = _ConditionalsCache(folder, self.max_cached_voices)
            self._model = model
            progress(1.0, f"{self.title} ready on {self.device}")

    def _import(self) -> types.SimpleNamespace:
        try:
            return import_chatterbox()
        except (ImportError, OSError) as exc:  # installed, but broken or mismatched (torch/torchaudio)
            raise EngineUnavailable(
                f"{self.title} cannot import its packages ({exc}). Reinstall them with {INSTALL_HINT}."
            ) from exc

    def _release(self) -> None:
        """Drop the model and every tensor Vox holds, and give the memory back to the system. ``unload`` has
        set ``closing`` first, so a generation still running stops at its next token and frees the lock."""
        with self._lock:
            model, self._model = self._model, None
            self._conds = None
            if model is None:
                return
            cuda = self.device == "cuda"
            del model
            release_memory(cuda)

    def _pick_device(self, torch: Any) -> str:
        wanted = self.requested_device
        if wanted == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise EngineUnavailable(
                f"{self.title} was set to run on {wanted!r}, but no CUDA GPU is usable here. Set device = \"auto\" "
                "or \"cpu\" in the [engine] section of config.toml."
            )
        return wanted

    def _hold(self, cancel: Cancel) -> bool:
        """Take the model lock; False (without it) if a cancel or unload comes first, or nothing is loaded."""
        while not self._lock.acquire(timeout=0.05):
            if self.stopping(cancel):
                return False
        if self._model is None:
            self._lock.release()
            return False
        return True

    # ---- voices

    def conditionals(self, voice: Voice | None) -> Any:
        """The voice's conditionals: from memory, from disk, or computed (about a second) and cached."""
        with self._lock:
            return self._conditionals(voice)

    def _conditionals(self, voice: Voice | None) -> Any:
        """``conditionals`` for a caller that holds the model lock."""
        model = self._require_model()
        if voice is None or voice.path is None:
            self._check_builtin(model)
            return model.conds
        check_reference(voice, self.title)
        path = Path(voice.path)
        sha = self._conds.digest(path)
        conds = self._conds.get(voice, sha, self._load_conds)
        if conds is None:
            conds = self._compute_conds(model, path)
            self._conds.put(sha, conds, conds.save)
        return conds

    def _check_builtin(self, model: Any) -> None:
        if model.conds is None:
            raise VoiceRequired(
                f"This {self.title} checkpoint has no built-in voice (conds.pt). Choose a voice made from a "
                "reference clip, or add one in the Voices panel."
            )

    def warm_voices(self, voices: list[Voice]) -> None:
        """Compute (or load) every voice's conditionals now; meant for a background thread after load.

        Takes the model lock one voice at a time, so speech can start in between. A bad clip is logged and
        skipped.
        """
        for voice in voices:
            if not self.loaded or self.closing.is_set():
                return
            if voice.path is None:
                continue
            try:
                self.conditionals(voice)
            except (VoxError, ValueError, OSError, RuntimeError) as exc:  # a bad clip must not stop the others
                log.warning("%s: skipping voice %s: %s", self.title, voice.id, exc)

    def forget_voice(self, voice: Voice) -> None:
        """Drop a voice's cached conditionals (memory and disk), e.g. when its clip is deleted or replaced."""
        with self._lock:
            if self._conds is not None:
                self._conds.forget(voice)

    @property
    def conditionals_hits(self) -> dict[str, int]:
        """How conditionals were found since the load: from memory, from disk, or computed."""
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
            raise EngineUnavailable(f"{self.title} is not loaded. Load it again in the Voices panel.")
        return self._model

    # ---- synthesis

    def synthesize(
        self, text: str, voice: Voice | None, options: SynthesisOptions, cancel: Cancel
    ) -> Iterator[np.ndarray]:
        """Yield float32 mono audio at 24 kHz for ``text``; stop within a token once ``cancel`` is set.

        Checks that can fail fast (options, language, a missing or short clip, no voice) raise here, before
        the first item. The generator holds the model lock while it runs: consume it to the end or close it.
        """
        self.check_options(options)
        model = self._require_model()
        lang = self._check_language(options.lang)
        if voice is None or voice.path is None:
            self._check_builtin(model)
        else:
            check_reference(voice, self.title)
        sampling = resolve(self.model_defaults, self.defaults, options, self.capabilities.options)
        pieces = split_for_model(self.speakable(text), self.max_chars)
        return self._synthesize(pieces, voice, cancel, lang, sampling, options.speed)

    def _synthesize(self, pieces: list[str], voice: Voice | None, cancel: Cancel, lang: str | None,
                    sampling: Sampling, speed: float) -> Iterator[np.ndarray]:  # fmt: skip
        if not self._hold(cancel):
            return
        try:
            self.stats = stats = SynthesisStats(seed=sampling.seed)
            started = time.perf_counter()
            stretcher = Stretcher(speed) if speed != 1.0 else None
            for audio in self._audio(pieces, voice, cancel, lang, sampling):
                if stretcher is not None:
                    stretch_started = time.perf_counter()
                    audio = stretcher.finish() if audio is None else stretcher.feed(audio)
                    stats.stretch_seconds += time.perf_counter() - stretch_started
                if audio is None or not len(audio):
                    continue
                if stats.first_audio_seconds is None:
                    stats.first_audio_seconds = time.perf_counter() - started
                yield audio
            stats.stopped = self.stopping(cancel)
        finally:
            self._lock.release()

    def _audio(self, pieces: list[str], voice: Voice | None, cancel: Cancel, lang: str | None,
               sampling: Sampling) -> Iterator[np.ndarray | None]:  # fmt: skip
        """The chunk's audio as the vocoder releases it, then None once it is complete (not after a stop)."""
        stats, model = self.stats, self._model
        conds = self._conditionals(voice)
        generator = self.compute.generator(sampling.seed)
        settings = VocoderSettings(self.tokens_per_slice, self.slice_growth, self.cfm_steps, self.end_tokens,
                                   self.watermark)  # fmt: skip

        def stop() -> bool:
            return self.stopping(cancel)

        for piece in pieces:
            if stop():
                return
            stats.pieces += 1
            stats.model_calls.append(piece)
            vocoder = _Vocoder(self.compute, model, conds.gen, settings, generator)
            tokens = self._tokens(model, conds, piece, lang, sampling, generator, stop)
            try:
                while not stop():
                    t3_started = time.perf_counter()
                    token = next(tokens, None)
                    stats.t3_seconds += time.perf_counter() - t3_started
                    if token is None:
                        break
                    stats.tokens += 1
                    audio = vocoder.feed(token)
                    if audio is not None and len(audio):
                        yield audio
            finally:
                tokens.close()
            if stop():
                stats.vocoder_seconds += vocoder.seconds
                return
            audio = vocoder.finish()
            stats.vocoder_seconds += vocoder.seconds
            if len(audio):
                yield audio
        if not stop():
            yield None

    def _check_language(self, lang: str | None) -> str | None:
        return lang

    # ---- per-model parts (subclasses)

    def _from_local(self, checkpoint: Path) -> Any:
        raise NotImplementedError

    def _tokens(self, model: Any, conds: Any, text: str, lang: str | None, sampling: Sampling, generator: Any,
                stop: Callable[[], bool]) -> Iterator[int]:  # fmt: skip
        """The T3 loop: speech tokens one at a time, checking ``stop`` before computing each."""
        raise NotImplementedError
