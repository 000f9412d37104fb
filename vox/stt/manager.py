"""The one lazily loaded speech recogniser: a ModelSlot (vox/models/slot.py, the engines' too) holding Whisper.
``get()`` loads it on first use, once, and ``status()`` is what ``/api/status`` reports under ``stt``."""

from __future__ import annotations

import logging
from functools import partial

from vox.config import Config
from vox.errors import RecogniserUnavailable
from vox.models.slot import ModelSlot
from vox.stt.base import Recogniser
from vox.stt.whisper import WhisperRecogniser

log = logging.getLogger("vox.stt")


class SttManager:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.slot: ModelSlot[Recogniser] = ModelSlot(RecogniserUnavailable, log)

    @property
    def current(self) -> Recogniser | None:
        return self.slot.current

    def get(self) -> Recogniser:
        """The recogniser, loaded on first use; RecogniserUnavailable (a 503) says what is missing."""
        current = self.slot.current
        if current is not None and current.loaded:
            return current
        build = partial(WhisperRecogniser, self.config.stt)
        recogniser = self.slot.get(lambda: self.slot.load(build, WhisperRecogniser.title))
        log.info("speech recognition: %s on %s", self.config.stt.model, recogniser.device)
        return recogniser

    def unload(self) -> bool:
        return self.slot.unload(lambda _: "Speech recognition was unloaded") is not None

    def status(self) -> dict:
        current = self.slot.current
        return {"engine": WhisperRecogniser.name, "model": self.config.stt.model, **self.slot.status(),
                "device": current.device if current else None}  # fmt: skip
