"""Integrated loudness (ITU-R BS.1770-4, LUFS) with numpy alone, and the gains that make chapters match.

The K-weighting filter (a high shelf and a high-pass, the biquads pyloudnorm uses at any sample rate) is
applied as its power response on the spectrum of each 100 ms block (Parseval: a block's filtered power is its
spectrum's power weighted by |H|^2). That differs from running the IIR filters only by their ~10 ms of ringing
across block edges: within 0.2 LU of pyloudnorm on speech (tests/test_books_import.py). It needs no SciPy, which
Vox's base install does not have, and it measures a chapter block by block as it is read from its file.

Gating as the standard says: 400 ms blocks every 100 ms, an absolute gate at -70 LUFS and a relative gate 10 LU
below the mean of the blocks above it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
PEAK_CEILING_DB = -1.0
"""No chapter is raised so far that its peak passes this (dBFS)."""


def _biquad_power(b: tuple[float, float, float], a: tuple[float, float, float], w: np.ndarray) -> np.ndarray:
    z = np.exp(-1j * w)
    return np.abs((b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)) ** 2


def k_weighting_power(n: int, rate: int) -> np.ndarray:
    """|H(f)|^2 of the K-weighting filter at the rfft bins of an n-sample block."""
    w = 2 * np.pi * np.fft.rfftfreq(n, 1.0 / rate) / rate
    gain, q, fc = 4.0, 1 / math.sqrt(2), 1500.0  # the high shelf (the head's acoustic effect)
    big_a = 10 ** (gain / 40)
    w0 = 2 * math.pi * fc / rate
    alpha, cos = math.sin(w0) / (2 * q), math.cos(w0)
    shelf_b = (big_a * ((big_a + 1) + (big_a - 1) * cos + 2 * math.sqrt(big_a) * alpha),
               -2 * big_a * ((big_a - 1) + (big_a + 1) * cos),
               big_a * ((big_a + 1) + (big_a - 1) * cos - 2 * math.sqrt(big_a) * alpha))  # fmt: skip
    shelf_a = ((big_a + 1) - (big_a - 1) * cos + 2 * math.sqrt(big_a) * alpha,
               2 * ((big_a - 1) - (big_a + 1) * cos),
               (big_a + 1) - (big_a - 1) * cos - 2 * math.sqrt(big_a) * alpha)  # fmt: skip
    q, fc = 0.5, 38.0  # the high-pass (RLB weighting)
    w0 = 2 * math.pi * fc / rate
    alpha, cos = math.sin(w0) / (2 * q), math.cos(w0)
    pass_b = ((1 + cos) / 2, -(1 + cos), (1 + cos) / 2)
    pass_a = (1 + alpha, -2 * cos, 1 - alpha)
    return _biquad_power(shelf_b, shelf_a, w) * _biquad_power(pass_b, pass_a, w)


class LoudnessMeter:
    """Feed a chapter's audio in any pieces; ``loudness`` and ``peak`` at the end."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.step = max(1, rate // 10)
        self._weights = k_weighting_power(self.step, rate)
        self._pending = np.zeros(0, np.float32)
        self._powers: list[float] = []
        self.peak = 0.0
        self.samples = 0

    def feed(self, pcm: np.ndarray) -> None:
        if not pcm.size:
            return
        self.peak = max(self.peak, float(np.max(np.abs(pcm))))
        self.samples += pcm.size
        data = np.concatenate([self._pending, pcm.astype(np.float32, copy=False)])
        whole = data.size // self.step
        if whole:
            blocks = data[: whole * self.step].reshape(whole, self.step).astype(np.float64)
            spectra = np.abs(np.fft.rfft(blocks, axis=1)) ** 2
            spectra[:, 1:-1] *= 2  # the negative frequencies rfft leaves out (n even: the last bin is Nyquist)
            self._powers.extend((spectra @ self._weights) / (self.step * self.step))
        self._pending = data[whole * self.step:]

    @property
    def loudness(self) -> float:
        """Integrated loudness in LUFS; -inf for silence (or less than 400 ms of audio)."""
        powers = np.asarray(self._powers)
        if powers.size < 4:
            return float("-inf")
        blocks = np.convolve(powers, np.ones(4) / 4, mode="valid")  # 400 ms blocks, 75 % overlap
        with np.errstate(divide="ignore"):
            lufs = -0.691 + 10 * np.log10(blocks)
        kept = blocks[lufs > ABSOLUTE_GATE]
        if not kept.size:
            return float("-inf")
        relative = -0.691 + 10 * math.log10(kept.mean()) + RELATIVE_GATE
        kept = blocks[(lufs > ABSOLUTE_GATE) & (lufs > relative)]
        return float(-0.691 + 10 * math.log10(kept.mean()))


def measure(pieces: Iterable[np.ndarray], rate: int) -> tuple[float, float]:
    """(loudness in LUFS, sample peak) of audio given in pieces."""
    meter = LoudnessMeter(rate)
    for pcm in pieces:
        meter.feed(pcm)
    return meter.loudness, meter.peak


def common_target(measures: list[tuple[float, float]], wanted: float) -> float:
    """The loudness every chapter can be brought to: ``wanted``, or lower when raising a quiet chapter that far
    would push its peak past the ceiling (then every chapter is brought to what that one can reach, so they
    still match)."""
    target = wanted
    for lufs, peak in measures:
        if math.isfinite(lufs) and peak > 0:
            target = min(target, lufs + PEAK_CEILING_DB - 20 * math.log10(peak))
    return target


def gain_for(lufs: float, target: float) -> float:
    """The linear gain that brings a chapter measured at ``lufs`` to ``target`` (1 for silence)."""
    return 10 ** ((target - lufs) / 20) if math.isfinite(lufs) else 1.0
