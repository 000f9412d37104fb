"""faster-whisper (CTranslate2): the default recogniser. int8 on the CPU, float16 on CUDA.

The model is a local folder (``[stt] model`` = a path holding model.bin, config.json, tokenizer.json) or a
size name (``base``, ``small.en``, ...) looked up in the user's Hugging Face cache only: Vox never downloads
at run time, and a missing model is a 503 whose message says how to get one.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from vox.config import Stt
from vox.errors import RecogniserUnavailable
from vox.jobs.cancel import Cancel
from vox.stt.base import RATE, Progress, Recogniser, Segment, Transcript, no_progress

log = logging.getLogger("vox.stt")
logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # it logs every clip's duration at INFO

MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
HOW_TO_GET = (
    "Download a Whisper model once, e.g. `.venv/bin/python -c \"from faster_whisper import download_model; "
    "download_model('{name}')\"` (it goes to the Hugging Face cache), or set [stt] model in config.toml to a "
    "folder holding model.bin, config.json and tokenizer.json. Typing still works."
)


def _has_model_files(folder: Path) -> bool:
    return all((folder / f).is_file() for f in MODEL_FILES)


def resolve_model(model: str) -> Path:
    """The folder of ``model``: itself when it is a folder, else the cached snapshot of that size."""
    as_path = Path(model).expanduser()
    if as_path.is_absolute() or model.startswith((".", "~")) or as_path.is_dir():
        if as_path.is_dir() and _has_model_files(as_path):
            return as_path
        raise RecogniserUnavailable(
            f"The Whisper model folder {as_path} is missing or incomplete (it needs {', '.join(MODEL_FILES)}). "
            + HOW_TO_GET.format(name="base"))
    try:
        from faster_whisper.utils import download_model
    except ImportError:
        raise RecogniserUnavailable(
            "Speech recognition needs faster-whisper: run `.venv/bin/pip install -r requirements.txt`. "
            "Typing still works.") from None
    try:
        folder = Path(download_model(model, local_files_only=True))
    except Exception as e:  # not in the cache (huggingface_hub's LocalEntryNotFoundError), or an unknown size
        if "Invalid model size" in str(e):
            raise RecogniserUnavailable(
                f"[stt] model {model!r} is neither a folder nor a Whisper size (tiny, base, small, medium, "
                "large-v3, with .en for English only). Set it in config.toml.") from None
        raise RecogniserUnavailable(f"The Whisper model {model!r} is not on this computer. "
                                    + HOW_TO_GET.format(name=model)) from None
    if not _has_model_files(folder):
        raise RecogniserUnavailable(f"The cached Whisper model {model!r} is incomplete. "
                                    + HOW_TO_GET.format(name=model))
    return folder


def _device(wanted: str) -> str:
    if wanted != "auto":
        return wanted
    try:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:
        return "cpu"


class WhisperRecogniser(Recogniser):
    name = "faster-whisper"
    title = "Whisper (faster-whisper)"

    def __init__(self, settings: Stt) -> None:
        self.settings = settings
        self.model: Any = None
        self.model_path: Path | None = None
        self.device = "cpu"
        self.compute_type = ""
        self._lock = threading.Lock()
        """One transcription at a time: CTranslate2 would queue them anyway, and unload must wait for it."""

    @property
    def loaded(self) -> bool:
        return self.model is not None

    def load(self, progress: Progress = no_progress) -> None:
        progress(0.1, "Finding the Whisper model…")
        path = resolve_model(self.settings.model)
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise RecogniserUnavailable(
                "Speech recognition needs faster-whisper: run `.venv/bin/pip install -r requirements.txt`. "
                "Typing still works.") from None
        self.device = _device(self.settings.device)
        self.compute_type = "float16" if self.device == "cuda" else "int8"
        progress(0.3, f"Loading Whisper from {path.name} ({self.device}, {self.compute_type})…")
        try:
            self.model = WhisperModel(str(path), device=self.device, compute_type=self.compute_type,
                                      cpu_threads=self.settings.cpu_threads, local_files_only=True)  # fmt: skip
        except Exception as e:
            raise RecogniserUnavailable(f"The Whisper model in {path} could not be loaded ({e}). "
                                        + HOW_TO_GET.format(name="base")) from e
        self.model_path = path
        progress(0.8, "Warming Whisper up…")
        self.transcribe(np.zeros(RATE // 2, np.float32))  # the first read costs several times a normal one

    def unload(self) -> None:
        with self._lock:
            self.model = None

    def transcribe(self, pcm: np.ndarray, language: str | None = None, cancel: Cancel | None = None) -> Transcript:
        language = language or self.settings.language or None
        duration = pcm.size / RATE
        started = time.monotonic()
        with self._lock:
            waited = time.monotonic() - started
            model = self.model
            if model is None:
                raise RecogniserUnavailable("The speech recogniser was unloaded. Try again.")
            segments, info = model.transcribe(
                pcm.astype(np.float32, copy=False), language=language, beam_size=self.settings.beam_size,
                condition_on_previous_text=False, vad_filter=False, without_timestamps=False,
            )  # fmt: skip
            found = []
            for s in segments:  # a generator: decoding happens as it is read
                if cancel is not None and cancel.is_set():
                    break
                detail = {"seek": int(s.seek), "tokens": list(s.tokens), "temperature": float(s.temperature or 0.0),
                          "avg_logprob": float(s.avg_logprob), "compression_ratio": float(s.compression_ratio),
                          "no_speech_prob": float(s.no_speech_prob)}  # fmt: skip
                found.append(Segment(float(s.start), min(float(s.end), duration), s.text, detail))
        text = " ".join(s.text.strip() for s in found).strip()
        self.last_cost = time.monotonic() - started - waited
        log.debug("transcribed %.1f s of audio in %.2f s (%.2f s waiting)", duration, self.last_cost, waited)
        return Transcript(text, tuple(found), info.language or (language or ""), duration)
