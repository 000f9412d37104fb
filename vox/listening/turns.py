"""Where a spoken turn starts and ends, from the VAD's probability of each 32 ms window (pure logic, no I/O).

A window counts as the user's speech when the VAD says speech *and*, while Vox is playing, the microphone is
loud enough not to be Vox's own voice coming back: at least ``echo_margin_db`` relative to the level the
page reports it is playing. Speech starts (``onset``) once such windows have lasted ``onset_s`` in a row:
that is the moment a barge-in may stop Vox. Speech pauses after ``PAUSE_S`` of silence (the recogniser can
read the turn so far while the user may still go on) and, hands-free, the turn ends after ``silence_s``. A
turn with less than ``min_speech_s`` of speech (a cough, a click, a door) is discarded, never sent.

Hands-free, audio before a turn is kept only as a ``PREROLL_S`` ring, so hours of silence cost nothing; after
a pause, silent windows are held back from the turn (trailing silence adds no words, and a turn that did not
change since the last read needs no new read at its end) and given to it only if speech resumes.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from vox.listening.vad import WINDOW_S

PREROLL_S = 0.3
"""Audio kept before the onset (the VAD needs a few windows to be sure; the first phoneme is in them)."""
PAUSE_S = 0.25
"""Silence after which the turn so far is worth reading."""
HELD_S = 1.0
"""Silence held back after a pause: at most this much of it is given to the turn if speech resumes."""
HYSTERESIS = 0.15
"""Once speaking, a window is silence only below ``threshold - HYSTERESIS`` (Silero's own practice)."""
NO_PLAYBACK_DB = -90.0


def level_db(window: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(window, dtype=np.float64)))) if window.size else 0.0
    return 20 * math.log10(rms) if rms > 1e-9 else -180.0


@dataclass
class TurnSettings:
    threshold: float = 0.5
    onset_s: float = 0.064
    silence_s: float = 0.7
    min_speech_s: float = 0.2
    echo_margin_db: float = -6.0
    hands_free: bool = True


@dataclass
class Step:
    """What one window did: ``audio`` goes to the turn (pre-roll first on a start)."""

    audio: list[np.ndarray] = field(default_factory=list)
    onset: bool = False
    start: bool = False
    pause: bool = False
    end: bool = False
    discard: bool = False
    echo: bool = False
    """The VAD heard speech that the level guard took for Vox's own voice."""


class TurnDetector:
    def __init__(self, settings: TurnSettings) -> None:
        self.s = settings
        self.in_turn = not settings.hands_free  # push-to-talk: the turn is the whole press
        self.speaking = False
        self.run = 0
        self.silent_s = 0.0
        self.speech_s = 0.0
        self.paused = False
        self.echo_windows = 0
        self.echo_onsets = 0
        """Times the VAD alone would have started speech (a barge-in) but the level guard said echo."""
        self._raw_run = 0
        self.loudest_over_playback = -180.0
        """The loudest speech window heard while Vox played, relative to the playback level (dB)."""
        self.preroll: deque[np.ndarray] = deque(maxlen=max(1, round(PREROLL_S / WINDOW_S)))
        self.held: deque[np.ndarray] = deque(maxlen=round(HELD_S / WINDOW_S))

    def is_speech(self, prob: float, window: np.ndarray, playback_db: float) -> tuple[bool, bool]:
        """(the user's speech, echo): the VAD's verdict with the level guard applied while Vox plays."""
        threshold = self.s.threshold - (HYSTERESIS if self.speaking else 0.0)
        if prob < threshold:
            return False, False
        if playback_db > NO_PLAYBACK_DB:
            over = level_db(window) - playback_db
            self.loudest_over_playback = max(self.loudest_over_playback, over)
            if over < self.s.echo_margin_db:
                return False, True
        return True, False

    def push(self, prob: float, window: np.ndarray, playback_db: float = NO_PLAYBACK_DB) -> Step:
        step = Step()
        speech, step.echo = self.is_speech(prob, window, playback_db)
        self.echo_windows += step.echo
        self.run = self.run + 1 if speech else 0
        self._raw_run = self._raw_run + 1 if (speech or step.echo) else 0
        if self._raw_run == round(self.s.onset_s / WINDOW_S) and self.run < self._raw_run:
            self.echo_onsets += 1
        if not self.in_turn:  # hands-free, between turns
            self.preroll.append(window)
            if self.run * WINDOW_S >= self.s.onset_s:
                self.in_turn = self.speaking = step.onset = step.start = True
                step.audio = list(self.preroll)
                self.preroll.clear()
                self.speech_s, self.silent_s, self.paused = self.run * WINDOW_S, 0.0, False
            return step
        if speech:
            self.speech_s += WINDOW_S
            if not self.speaking and self.run * WINDOW_S >= self.s.onset_s:
                self.speaking = step.onset = True
            if self.held:
                step.audio.extend(self.held)
                self.held.clear()
            self.silent_s, self.paused = 0.0, False
            step.audio.append(window)
            return step
        self.silent_s += WINDOW_S
        if self.silent_s >= PAUSE_S and self.speaking:
            self.speaking = False
            if not self.paused:
                self.paused = step.pause = True
        if self.paused:
            self.held.append(window)
        else:
            step.audio.append(window)
        if self.s.hands_free and self.silent_s >= self.s.silence_s:
            step.end = True
            step.discard = self.speech_s < self.s.min_speech_s
            self.reset()
        return step

    def finish(self) -> bool:
        """The turn ends now (push-to-talk released): whether it held enough speech to be sent."""
        enough = self.speech_s >= self.s.min_speech_s
        self.reset()
        return enough

    def reset(self) -> None:
        self.in_turn = not self.s.hands_free
        self.speaking, self.paused, self.run = False, False, 0
        self.silent_s = self.speech_s = 0.0
        self.held.clear()
        self.preroll.clear()
