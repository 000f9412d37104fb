"""Where speech is in an audio array, by energy: leading and trailing silence, onsets, and the pause a voice
makes inside a sentence. Shared by the tests and the benchmark (bench/bench_pacing.py).

Energy is the RMS of 5 ms frames; a frame is speech when its RMS is above LEVEL (Piper normalises every
sentence to full scale, so -34 dBFS is well below any voiced sound and well above its silences).
"""

from __future__ import annotations

import numpy as np

FRAME = 0.005
LEVEL = 0.02


def _loud(pcm: np.ndarray, rate: int) -> np.ndarray:
    """Per 5 ms frame: whether it is speech."""
    n = max(1, round(FRAME * rate))
    frames = len(pcm) // n
    if not frames:
        return np.zeros(0, bool)
    energy = np.sqrt(np.mean(np.square(pcm[: frames * n].astype(np.float64)).reshape(frames, n), axis=1))
    return energy > LEVEL


def leading_silence(pcm: np.ndarray, rate: int) -> float:
    loud = np.flatnonzero(_loud(pcm, rate))
    return len(pcm) / rate if not loud.size else loud[0] * FRAME


def trailing_silence(pcm: np.ndarray, rate: int) -> float:
    loud = np.flatnonzero(_loud(pcm, rate))
    return len(pcm) / rate if not loud.size else len(pcm) / rate - (loud[-1] + 1) * FRAME


def onset_after(pcm: np.ndarray, rate: int, at: float) -> float | None:
    """Seconds from ``at`` to the first speech after it; None if none follows."""
    start = round(at * rate)
    lead = leading_silence(pcm[start:], rate)
    return None if start + round(lead * rate) >= len(pcm) else lead


def silent_before(pcm: np.ndarray, rate: int, at: float, seconds: float) -> bool:
    """Whether the ``seconds`` before ``at`` hold no speech."""
    end = round(at * rate)
    window = pcm[max(0, end - round(seconds * rate)) : end]
    return len(window) > 0 and not _loud(window, rate).any()


def pauses(pcm: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """(start, length) in seconds of every silence between two stretches of speech in ``pcm``."""
    loud = _loud(pcm, rate)
    out, i = [], int(np.argmax(loud)) if loud.any() else len(loud)
    while i < len(loud):
        if loud[i]:
            i += 1
            continue
        j = i
        while j < len(loud) and not loud[j]:
            j += 1
        if j < len(loud):
            out.append((i * FRAME, (j - i) * FRAME))
        i = j
    return out


def clause_pause(whole: np.ndarray, rate: int, clause_speech: float) -> float | None:
    """The pause after a sentence's first clause, in the audio of the whole sentence: the longest pause that
    starts between half and all of the clause's speech time (plus 300 ms) after the speech begins."""
    onset = leading_silence(whole, rate)
    found = [n for start, n in pauses(whole, rate) if onset + 0.5 * clause_speech < start < onset + clause_speech + 0.3]
    return max(found) if found else None
