"""Clips of known words spoken by Vox's own voice (Piper's Joe), for the recogniser's tests, the fake microphone
files Chromium reads, and the benchmark; plus word error rate with a small normaliser.

The clips are synthesised by the real Piper engine in-process and kept in ``tests/.cache/clips`` (keyed by
their text), so a run costs one synthesis per clip the first time.
"""

from __future__ import annotations

import hashlib
import re
import wave
from pathlib import Path

import numpy as np

from tests import cache
from vox.audio.pcm import resample
from vox.stt import RATE

CACHE = cache.CACHE / "clips"

CLIPS = {
    "question": "What is the weather like in Berlin tomorrow?",
    "names": "Remind me to email Doctor Smith and Alice on Friday.",
    "numbers": "I need twelve eggs, two apples and one loaf of bread.",
    "travel": "How far is London from Edinburgh by train?",
    "story": "Tell me a long story about a dragon.",
    "stop": "Wait, stop. What time is it in Tokyo?",
}
"""Name -> what the clip says: a question, names, numbers, and the turns the browser tests speak."""

_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]  # fmt: skip
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ABBREVIATIONS = {"dr": "doctor", "mr": "mister", "mrs": "missus", "st": "saint"}


def number_words(n: int) -> str:
    if n < 20:
        return _SMALL[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _SMALL[n % 10])
    if n < 1000:
        rest = n % 100
        return _SMALL[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    rest = n % 1000
    return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))


def normalise(text: str) -> list[str]:
    """Words to compare: lower case, digits spelled out, common abbreviations expanded, no punctuation."""
    text = text.lower().replace("'", "")
    text = re.sub(r"\d{1,6}", lambda m: f" {number_words(int(m.group()))} ", text)
    words = re.findall(r"[a-z]+", text)
    return [_ABBREVIATIONS.get(w, w) for w in words]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)] / max(1, len(ref))


def piper_pcm(text: str) -> tuple[np.ndarray, int]:
    """``text`` spoken by Joe (Piper, in-process), float32 at Piper's rate; cached on disk."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{hashlib.sha1(text.encode()).hexdigest()[:16]}.npy"
    if path.exists():
        return np.load(path), 22050
    from vox.engines.base import SynthesisOptions
    from vox.engines.piper import PiperEngine
    from vox.jobs.cancel import Cancel

    engine = PiperEngine()
    engine.load()
    try:
        pcm = np.concatenate(list(engine.synthesize(text, None, SynthesisOptions(), Cancel())))
    finally:
        engine.unload()
    cache.write_atomic(path, lambda tmp: np.save(tmp, pcm.astype(np.float32)))
    return pcm.astype(np.float32), engine.sample_rate


def clip16k(name_or_text: str) -> np.ndarray:
    """A clip (by name in CLIPS, or any text) at 16 kHz, the recogniser's rate."""
    pcm, rate = piper_pcm(CLIPS.get(name_or_text, name_or_text))
    return resample(pcm, rate, RATE)


def write_wav(path: Path, pcm: np.ndarray, rate: int) -> Path:
    """16-bit mono WAV (Chromium's fake microphone reads these)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def silence(seconds: float, rate: int = RATE, noise_db: float = -70.0, seed: int = 0) -> np.ndarray:
    """Room tone: very quiet noise (digital zero is not what a microphone gives)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * rate)) * 10 ** (noise_db / 20)).astype(np.float32)


def timeline(parts: list[tuple[str, float]], rate: int = RATE) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """A microphone recording from (clip name or text | "", gain dB | silence seconds) parts: clips at their
    gain, "" parts as room tone of that many seconds. Returns the audio and each clip's (start, end) in s."""
    out, spans, t = [], [], 0.0
    for what, value in parts:
        if what:
            pcm, src = piper_pcm(CLIPS.get(what, what))
            pcm = resample(pcm, src, rate) * 10 ** (value / 20)
            pcm = pcm + silence(len(pcm) / rate, rate, seed=len(out))
            spans.append((t, t + len(pcm) / rate))
        else:
            pcm = silence(value, rate, seed=len(out))
        out.append(pcm.astype(np.float32))
        t += len(pcm) / rate
    return np.concatenate(out), spans


def voice_span(name_or_text: str, floor_db: float = -40.0) -> tuple[float, float]:
    """Seconds from a clip's start to where the voice starts and ends (Piper pads ~50 ms before the voice and
    ~170 ms after it): the first and last 5 ms whose level is above ``floor_db``."""
    pcm, rate = piper_pcm(CLIPS.get(name_or_text, name_or_text))
    w = int(0.005 * rate)
    rms = np.sqrt(np.convolve(pcm.astype(np.float64) ** 2, np.ones(w) / w, "valid"))
    loud = np.flatnonzero(rms > 10 ** (floor_db / 20))
    return float(loud[0] / rate), float((loud[-1] + w) / rate)
