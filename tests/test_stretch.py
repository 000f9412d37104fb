"""The streaming time-stretcher Chatterbox's speed uses: duration, pitch, seams, and what it costs."""

from __future__ import annotations

import time

import numpy as np
import pytest

from vox.audio.stretch import Stretcher, stretch

RATE = 24000


def tone(seconds: float, f0: float = 180.0) -> np.ndarray:
    """A harmonic tone with a syllable-rate envelope: voice-like enough for a pitch estimate."""
    t = np.arange(int(seconds * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6))
    return (0.2 * wave * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2)).astype(np.float32)


def pitch(audio: np.ndarray) -> float:
    """Median F0 by YIN (librosa), over the voiced middle of the clip."""
    import librosa

    middle = audio[len(audio) // 5 : -len(audio) // 5]
    return float(np.median(librosa.yin(middle, fmin=80, fmax=400, sr=RATE, frame_length=2048)))


def in_pieces(stretcher: Stretcher, audio: np.ndarray, seed: int = 0) -> list[np.ndarray]:
    rng, pieces, at = np.random.default_rng(seed), [], 0
    while at < len(audio):
        size = int(rng.integers(300, 20000))  # token slices are 35+ tokens (33,600+ samples); smaller is harder
        pieces.append(stretcher.feed(audio[at : at + size]))
        at += size
    pieces.append(stretcher.finish())
    return pieces


@pytest.mark.parametrize("speed", [0.5, 0.8, 1.25, 2.0])
def test_speed_changes_the_duration_by_its_factor_and_keeps_the_pitch(speed):
    audio = tone(2.0)
    out = stretch(audio, speed)
    assert len(out) == round(len(audio) / speed)
    assert pitch(out) == pytest.approx(pitch(audio), rel=0.02)  # a resampler would move it by the factor
    assert pitch(audio) == pytest.approx(180, rel=0.02)


@pytest.mark.parametrize("speed", [0.5, 1.25, 2.0])
def test_audio_fed_in_pieces_comes_out_as_if_stretched_whole(speed):
    audio = tone(2.5)
    pieces = in_pieces(Stretcher(speed), audio, seed=int(speed * 10))
    assert sum(len(p) > 0 for p in pieces) > 3  # output flows while input still arrives
    assert np.array_equal(np.concatenate(pieces), stretch(audio, speed))  # so no join can have a seam


def test_it_is_librosas_phase_vocoder():
    import librosa

    audio = tone(1.5)
    ours = stretch(audio, 1.3)
    theirs = librosa.effects.time_stretch(audio, rate=1.3, n_fft=1024, hop_length=256)
    assert len(ours) == len(theirs) and np.abs(ours - theirs).max() < 1e-4


def test_each_piece_waits_for_little_more_than_a_window_and_costs_milliseconds():
    audio = tone(10.0)
    for speed in (0.5, 2.0):
        stretcher = Stretcher(speed)
        out = stretcher.feed(audio)
        held = round(len(audio) / speed) - len(out)
        assert 0 < held <= 2048, held  # ~75 ms at 0.5, ~30 ms at 2.0 (README); released by the next piece
    started = time.perf_counter()
    stretch(audio, 1.25)
    per_second = (time.perf_counter() - started) / 10
    assert per_second < 0.1, per_second  # ~6 ms per second of audio on one core; generous for a busy machine
