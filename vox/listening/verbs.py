"""The Runtime's listening verbs (the Runtime inherits them): microphone streams and speech recognition.

Routes and the desktop call these, never the registry or the recogniser themselves.
"""

from __future__ import annotations

import numpy as np

from vox.jobs.controller import DEFAULT_SESSION, StopReason
from vox.listening.registry import ListenRegistry
from vox.listening.streams import ListenStream
from vox.stt import SttManager, Transcript


class ListeningVerbs:
    stt: SttManager
    listening: ListenRegistry

    def listen(self, mode: str, session: str = DEFAULT_SESSION, language: str | None = None) -> ListenStream:
        """Open a microphone stream (push-to-talk or hands-free); it replaces the session's previous one."""
        return self.listening.open(mode, session, language)

    def transcribe(self, pcm: np.ndarray, language: str | None = None) -> Transcript:
        """The words in a whole clip (16 kHz mono float32)."""
        return self.stt.get().transcribe(pcm, language)

    def load_recogniser(self) -> dict:
        """Load speech recognition now (RecogniserUnavailable says what is missing); its status."""
        self.stt.get()
        return self.stt.status()

    def recogniser_status(self) -> dict:
        return self.stt.status()

    def listen_audio(self, stream_id: str, pcm: bytes, playback_db: float | None) -> dict:
        """One piece of a listening stream's microphone audio; what happened since the last piece."""
        return self.listening.get(stream_id).feed(pcm, playback_db)

    def end_turn(self, stream_id: str) -> dict:
        """Push-to-talk released: the turn's final words, and the stream ends."""
        return self.listening.get(stream_id).end_turn()

    def stop_listening(self, stream_id: str) -> dict:
        """The page turned its microphone off (or lost it): the stream ends; what it was."""
        stream = self.listening.get(stream_id)
        stream.stop(StopReason.CLIENT_GONE, "stopped by the page")
        return stream.info()
