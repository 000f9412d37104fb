"""The one contract every speech recogniser implements, kept as small as the TTS engines' (engines/base.py).

A recogniser turns 16 kHz mono float32 PCM into text: ``transcribe`` for a whole clip, ``stream`` for audio
that is still arriving (a microphone turn). Lifecycle: ``load`` -> any number of calls -> ``unload``; the
SttManager loads it lazily, once, and reports its state in ``/api/status``.

Streaming with a model that reads whole windows (Whisper reads 30 s at a time) is done here, once, for every
recogniser: ``FrameStream`` keeps the audio of the words not settled yet, re-reads it when asked for words
so far, and settles every segment but the last once the tail grows past ``SETTLE_AFTER_S``, dropping its
audio. So a ten-minute monologue costs at most ``MAX_TAIL_S`` of audio in memory and one window per read.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vox.jobs.cancel import Cancel

RATE = 16_000
"""Every recogniser takes 16 kHz mono PCM (Whisper's rate; the page sends it)."""
SETTLE_AFTER_S = 20.0
"""A stream's unsettled audio is read and all but its last segment settled once it is this long."""
MAX_TAIL_S = 28.0
"""Whisper reads 30 s windows: the unsettled tail never grows past this (older audio is settled by force)."""

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores progress."""


@dataclass(frozen=True)
class Segment:
    start: float
    """Seconds from the start of the clip."""
    end: float
    text: str
    detail: dict = field(default_factory=dict, compare=False, hash=False)
    """What the recogniser adds (Whisper: seek, tokens, temperature, avg_logprob, compression_ratio,
    no_speech_prob), passed on as it is by the OpenAI-compatible route."""


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: tuple[Segment, ...] = ()
    language: str = ""
    duration: float = 0.0
    """Seconds of audio transcribed."""

    def as_dict(self) -> dict:
        return {"text": self.text, "language": self.language, "duration": round(self.duration, 3),
                "segments": [{"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text}
                             for s in self.segments]}  # fmt: skip


class Recogniser(ABC):
    """What the rest of Vox needs from a speech recogniser."""

    name: str = ""
    title: str = ""
    device: str = "cpu"
    last_cost: float = 0.0
    """Seconds the last transcription took (a listener reads the words so far less often on a slow machine)."""

    @property
    @abstractmethod
    def loaded(self) -> bool:
        """True once ``load`` succeeded and until ``unload``."""

    @abstractmethod
    def load(self, progress: Progress = no_progress) -> None:
        """Load the model; raise RecogniserUnavailable with what to do when it cannot run here."""

    @abstractmethod
    def unload(self) -> None:
        """Free the model."""

    @abstractmethod
    def transcribe(self, pcm: np.ndarray, language: str | None = None, cancel: Cancel | None = None) -> Transcript:
        """The words in ``pcm`` (16 kHz mono float32), with segment times; ``language`` None detects it."""

    def stream(self, language: str | None = None) -> FrameStream:
        """A transcription of audio that arrives frame by frame."""
        return FrameStream(self, language)


@dataclass
class FrameStream:
    """The words of a stream of frames, readable at any time (bounded memory; see the module docstring)."""

    recogniser: Recogniser
    language: str | None = None
    settled: list[Segment] = field(default_factory=list)
    """Segments whose audio was dropped: their text no longer changes."""
    offset: float = 0.0
    """Seconds of audio settled (the tail starts here)."""
    _tail: list[np.ndarray] = field(default_factory=list)
    _tail_len: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _read_len: int = -1
    _read: Transcript | None = None

    @property
    def seconds(self) -> float:
        """Seconds of audio fed so far."""
        return self.offset + self._tail_len / RATE

    def feed(self, pcm: np.ndarray) -> None:
        with self._lock:
            if pcm.size:
                self._tail.append(pcm.astype(np.float32, copy=False))
                self._tail_len += pcm.size

    def _tail_audio(self) -> np.ndarray:
        with self._lock:
            if len(self._tail) > 1:
                self._tail = [np.concatenate(self._tail)]
            return self._tail[0] if self._tail else np.zeros(0, np.float32)

    def read(self, cancel: Cancel | None = None) -> Transcript:
        """The transcript of everything fed so far (the tail read again unless nothing new arrived)."""
        audio = self._tail_audio()
        if audio.size == self._read_len and self._read is not None:
            tail = self._read
        else:
            tail = self.recogniser.transcribe(audio, self.language, cancel) if audio.size else Transcript("")
            self._read_len, self._read = audio.size, tail
            if self.language is None and tail.language:
                self.language = tail.language  # the rest of the stream keeps the language first detected
            if audio.size / RATE >= SETTLE_AFTER_S and self._settle(audio, tail):
                return self.read(cancel)  # the shorter tail, read again
        return self._whole(tail)

    def _settle(self, audio: np.ndarray, tail: Transcript) -> bool:
        """Keep all but the tail's last segment for good and drop their audio (all of it at MAX_TAIL_S when
        there is no pause to cut at). False when there was nothing worth settling yet."""
        keep = tail.segments[:-1] if len(tail.segments) > 1 else ()
        cut = keep[-1].end if keep else 0.0
        if audio.size / RATE >= MAX_TAIL_S and cut < SETTLE_AFTER_S / 2:
            keep, cut = tail.segments, audio.size / RATE
        if cut < SETTLE_AFTER_S / 4:
            return False
        index = min(audio.size, int(cut * RATE))
        with self._lock:
            rest = np.concatenate(self._tail)[index:] if self._tail else np.zeros(0, np.float32)
            self._tail, self._tail_len = ([rest] if rest.size else []), rest.size
        self.settled.extend(Segment(s.start + self.offset, s.end + self.offset, s.text, s.detail) for s in keep)
        self.offset += index / RATE
        self._read_len, self._read = -1, None
        return True

    def _whole(self, tail: Transcript | None) -> Transcript:
        tail = tail or Transcript("")
        segments = (*self.settled, *(Segment(s.start + self.offset, s.end + self.offset, s.text, s.detail)
                                     for s in tail.segments))  # fmt: skip
        text = " ".join(t for t in (" ".join(s.text.strip() for s in self.settled).strip(), tail.text.strip()) if t)
        return Transcript(text, segments, self.language or tail.language, self.seconds)
