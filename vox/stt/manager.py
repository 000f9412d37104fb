"""The one lazily loaded speech recogniser, like the EngineManager for voices: ``get()`` loads it on first
use, once, behind a lock (concurrent first requests share one load), and ``status()`` is what
``/api/status`` reports under ``stt``. A failed load keeps its message, so the page can say what to do."""

from __future__ import annotations

import gc
import logging
import threading
import time

from vox.config import Config
from vox.errors import RecogniserUnavailable
from vox.stt.base import Recogniser
from vox.stt.whisper import WhisperRecogniser

log = logging.getLogger("vox.stt")


class SttManager:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.current: Recogniser | None = None
        self._lock = threading.Lock()
        self.state = "unloaded"
        self.progress = 0.0
        self.message = ""
        self.error = ""
        self.loads = 0

    def _progress(self, fraction: float, message: str) -> None:
        self.progress, self.message = fraction, message

    def get(self) -> Recogniser:
        """The recogniser, loaded on first use; RecogniserUnavailable (a 503) says what is missing."""
        current = self.current
        if current is not None and current.loaded:
            return current
        with self._lock:
            if self.current is not None and self.current.loaded:
                return self.current
            recogniser = WhisperRecogniser(self.config.stt)
            self.state, self.error = "loading", ""
            self._progress(0.0, "Loading speech recognition…")
            started = time.monotonic()
            try:
                recogniser.load(self._progress)
            except RecogniserUnavailable as e:
                self.state, self.error = "error", str(e)
                log.warning("speech recognition unavailable: %s", e)
                raise
            self.current, self.state, self.loads = recogniser, "ready", self.loads + 1
            self._progress(1.0, f"{recogniser.title} is ready ({time.monotonic() - started:.1f} s)")
            log.info("speech recognition: %s on %s", self.config.stt.model, recogniser.device)
            return recogniser

    def unload(self) -> bool:
        with self._lock:
            if self.current is None:
                return False
            self.current.unload()
            self.current, self.state, self.message = None, "unloaded", "Speech recognition was unloaded"
            gc.collect()
            return True

    def status(self) -> dict:
        current = self.current
        return {"engine": WhisperRecogniser.name, "model": self.config.stt.model, "state": self.state,
                "loaded": bool(current and current.loaded), "progress": round(self.progress, 3),
                "message": self.message, "error": self.error,
                "device": current.device if current else None}  # fmt: skip
