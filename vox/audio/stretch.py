"""Time-stretch audio that arrives in pieces, without changing its pitch: a streaming phase vocoder.

Chatterbox has no speed control of its own, so Vox stretches its audio. The algorithm is the standard phase
vocoder (the one ``librosa.effects.time_stretch`` runs, with the same STFT framing and window-sum
normalisation); what librosa cannot do is take the audio in pieces. Stretching each token slice on its own
restarts the phase at every slice and leaves a seam there. ``Stretcher`` keeps the analysis frames, the
accumulated phase and the overlap-add tail between ``feed`` calls, so the pieces it returns, joined, are the
same samples as stretching the whole chunk at once: no seam can exist at a slice join.

What it costs: each piece's last ~50 ms of output (75 ms at speed 0.5, 30 ms at 2.0, at 24 kHz) waits for
the next piece or ``finish``, since later input still overlaps it. The FFTs of each piece run in one batch,
so the compute is no more than librosa's stretch of the whole chunk (bench row 9l: 8 to 12 ms per second of
audio on the busy 2-core development machine).
"""

from __future__ import annotations

import numpy as np

N_FFT = 1024
"""43 ms at 24 kHz: short enough for speech transients, long enough to resolve a voice's harmonics."""
HOP = N_FFT // 4


class Stretcher:
    """Feed mono float32 audio in pieces; get the audio ``speed`` times faster (2.0: half the duration)."""

    def __init__(self, speed: float, n_fft: int = N_FFT, hop: int = HOP) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed, self.n_fft, self.hop = float(speed), n_fft, hop
        self.window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float64)
        self.omega = 2 * np.pi * hop * np.arange(n_fft // 2 + 1) / n_fft  # phase advance per hop, per bin
        self.received = 0  # input samples fed
        self.input = np.zeros(n_fft // 2)  # centred framing: half a window of silence before the start
        self.input_start = 0  # index (padded input) of self.input[0]
        self.spectra: dict[int, np.ndarray] = {}  # analysis frames not yet passed
        self.step = 0  # next output frame
        self.phase: np.ndarray | None = None
        self.output = np.zeros(n_fft)  # overlap-add accumulator, from padded output index output_start
        self.weight = np.zeros(n_fft)  # sum of squared windows at each accumulated sample
        self.output_start = 0
        self.emitted = 0  # output samples returned (after the centring trim)

    def feed(self, audio: np.ndarray) -> np.ndarray:
        """Add input; return the output that no later input can change any more (possibly empty)."""
        audio = np.asarray(audio, dtype=np.float64).reshape(-1)
        self.received += len(audio)
        self.input = np.concatenate([self.input, audio])
        self._run(final=False)
        return self._release(final=False)

    def finish(self) -> np.ndarray:
        """The rest of the output once the input is complete; the whole output is ``round(input / speed)``."""
        self.input = np.concatenate([self.input, np.zeros(self.n_fft // 2 + self.hop)])
        self._run(final=True)
        return self._release(final=True)

    # ---- the phase vocoder

    def _plan(self, final: bool) -> list[tuple[int, float, bool]]:
        """The output frames computable now: (analysis frame, fraction towards the next, next is silence)."""
        available = (len(self.input) - self.n_fft) // self.hop + 1 + self.input_start // self.hop
        total = 1 + self.received // self.hop if final else None  # librosa's framing, then one frame of silence
        steps, k = [], self.step
        while True:
            t = k * self.speed
            i = int(t)
            if total is not None and t >= total:
                break
            silent_next = total is not None and i + 1 >= total
            if i >= available or (not silent_next and i + 1 >= available):
                break
            steps.append((i, t - i, silent_next))
            k += 1
        return steps

    def _spectra(self, frames: list[int]) -> None:
        """Analyse the frames not analysed yet, in one batch: magnitude and phase of each."""
        missing = [j for j in frames if j not in self.spectra]
        if not missing:
            return
        starts = np.array(missing) * self.hop - self.input_start
        segments = self.input[starts[:, None] + np.arange(self.n_fft)]
        spectra = np.fft.rfft(self.window * segments, axis=-1)
        for j, spectrum in zip(missing, spectra, strict=True):
            self.spectra[j] = (np.abs(spectrum), np.angle(spectrum))

    def _run(self, final: bool) -> None:
        steps = self._plan(final)
        if steps:
            self._spectra(sorted({i for i, _, _ in steps} | {i + 1 for i, _, silent in steps if not silent}))
            out = np.empty((len(steps), self.n_fft // 2 + 1), dtype=complex)
            for n, (i, alpha, silent_next) in enumerate(steps):
                magnitude, angle = self.spectra[i]
                next_magnitude, next_angle = (0.0, 0.0) if silent_next else self.spectra[i + 1]
                if self.phase is None:
                    self.phase = angle
                out[n] = ((1 - alpha) * magnitude + alpha * next_magnitude) * np.exp(1j * self.phase)
                advance = next_angle - angle - self.omega
                advance -= 2 * np.pi * np.round(advance / (2 * np.pi))
                self.phase = self.phase + self.omega + advance
            self._overlap_add(self.window * np.fft.irfft(out, n=self.n_fft, axis=-1))
        oldest = int(self.step * self.speed)  # the first analysis frame still needed
        for j in [j for j in self.spectra if j < oldest]:
            del self.spectra[j]
        keep = oldest * self.hop - self.input_start
        if keep > 0:
            self.input, self.input_start = self.input[keep:], self.input_start + keep

    def _overlap_add(self, frames: np.ndarray) -> None:
        """Add windowed output frames, one hop apart from output frame ``step`` on."""
        at = self.step * self.hop - self.output_start
        need = at + (len(frames) - 1) * self.hop + self.n_fft
        if need > len(self.output):
            grow = need - len(self.output)
            self.output = np.concatenate([self.output, np.zeros(grow)])
            self.weight = np.concatenate([self.weight, np.zeros(grow)])
        squared = self.window**2
        for frame in frames:
            self.output[at : at + self.n_fft] += frame
            self.weight[at : at + self.n_fft] += squared
            at += self.hop
        self.step += len(frames)

    def _release(self, final: bool) -> np.ndarray:
        """Output samples no later frame overlaps, normalised, without the centring half window."""
        done = len(self.output) if final else self.step * self.hop - self.output_start
        done = max(0, min(done, len(self.output)))
        ready = self.output[:done] / np.where(self.weight[:done] > 1e-8, self.weight[:done], 1.0)
        self.output, self.weight = self.output[done:], self.weight[done:]
        self.output_start += done
        trim = max(0, self.n_fft // 2 - (self.output_start - done))  # padded samples still to drop
        ready = ready[min(trim, len(ready)) :]
        if final:
            total = round(self.received / self.speed)
            ready = ready[: max(0, total - self.emitted)]
            ready = np.concatenate([ready, np.zeros(max(0, total - self.emitted - len(ready)))])
        self.emitted += len(ready)
        return ready.astype(np.float32)


def stretch(audio: np.ndarray, speed: float) -> np.ndarray:
    """The whole of ``audio`` at ``speed`` (what the streamed pieces add up to)."""
    stretcher = Stretcher(speed)
    return np.concatenate([stretcher.feed(audio), stretcher.finish()])
