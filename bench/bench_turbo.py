"""Chatterbox Turbo on the CPU: speed per token, time to first audio, and what token slicing buys.

Runs the real engine on a random-weight checkpoint (the full one built once into ``bench/.cache/``; quick uses
the tests' small one in ``tests/.cache/``, which ``make test`` has built by then): per-token compute does not
depend on the weights' values, so the timings are real for the architecture. Random weights never
decide when to stop, so each text gets the token count real speech would need: 25 tokens per second of
audio at ~15 characters per second, capped at 1000 tokens (upstream's limit per call).

``quick=True`` uses the small checkpoint (2-layer T3, 2 of S3Gen's 12 flow middle blocks) and fewer tokens: a
smoke test and a guard against large regressions, not a speed figure.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from bench.common import not_measured, row
from vox.engines.base import SynthesisOptions

CACHE = Path(__file__).resolve().parent / ".cache"
REPLY = [
    "Sure, here is a quick overview of how the solar system formed.",
    "About four and a half billion years ago, a cloud of gas and dust collapsed under its own gravity.",
    "Most of the material gathered in the centre and became the Sun.",
    "The rest flattened into a spinning disk around it.",
    "Inside that disk, dust grains stuck together and slowly grew into larger and larger bodies.",
    "Close to the Sun it was too hot for ice, so the inner planets formed from rock and metal.",
    "Farther out, ice was plentiful, and the giant planets grew large enough to pull in gas.",
    "Jupiter probably formed first and shaped the orbits of everything that came after it.",
    "The leftover pieces became asteroids, comets and the dwarf planets we still see today.",
    "If you like, I can go into more detail about any of these steps.",
]
CHARS_PER_SECOND = 15.0
TOKENS_PER_SECOND = 25
MAX_TOKENS = 1000


def tokens_for(text: str, cap: int = MAX_TOKENS) -> int:
    """Speech tokens that ``text`` needs when spoken at a typical rate."""
    return min(cap, round(len(text) / CHARS_PER_SECOND * TOKENS_PER_SECOND))


def write_reference(path: Path, seconds: float = 10.0) -> Path:
    """A 10 s voiced-sounding clip (S3Gen uses up to 10 s of a reference, so this is the costly case)."""
    import soundfile

    rate = 24000
    t = np.arange(int(seconds * rate)) / rate
    phase = 2 * np.pi * np.cumsum(130 + 25 * np.sin(2 * np.pi * 0.4 * t)) / rate
    tone = sum(np.sin(k * phase) / k for k in range(1, 12)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2)
    soundfile.write(str(path), (0.2 * tone).astype(np.float32), rate)
    return path


class _Timed:
    """One synthesize call: time to first audio and in all, optionally stopping at the first audio."""

    def __init__(self, engine, text: str, voice, tokens: int, slice_tokens: int, first_only: bool) -> None:
        engine.max_new_tokens = engine.min_new_tokens = tokens
        engine.tokens_per_slice = slice_tokens
        cancel = threading.Event()
        started = time.perf_counter()
        self.first: float | None = None
        self.samples = 0
        for audio in engine.synthesize(text, voice, SynthesisOptions(), cancel):
            self.first = self.first or time.perf_counter() - started
            self.samples += len(audio)
            if first_only:
                cancel.set()
        self.total = time.perf_counter() - started
        self.stats = engine.stats


def run(quick: bool = False) -> list[dict]:
    from vox.engines.chatterbox import ChatterboxTurboEngine, missing_modules, release_memory

    missing = missing_modules()
    if missing:
        why = f"{', '.join(missing)} not installed (requirements-turbo.txt)"
        return [not_measured("9", "Chatterbox Turbo bench", why)]
    import psutil

    from tests.chatterbox_ckpt import build_checkpoint, small_checkpoint

    started = time.perf_counter()  # quick: the tests' small checkpoint (make test has just built it)
    checkpoint = small_checkpoint() if quick else build_checkpoint(CACHE / "turbo-full", small=False)
    build_s = time.perf_counter() - started
    from vox.engines.base import Voice

    clip = write_reference(CACHE / "reference-10s.wav")
    voice = Voice(id="bench", name="bench", engines=("turbo",), path=clip)
    engine = ChatterboxTurboEngine(checkpoint, device="cpu", cache_dir=CACHE / "conds", max_chars=10**6)
    process = psutil.Process()
    release_memory()  # what building the checkpoint left behind
    rss_before = process.memory_info().rss
    started = time.perf_counter()
    engine.load()
    load_s = time.perf_counter() - started
    rss_loaded = process.memory_info().rss
    started = time.perf_counter()
    engine.forget_voice(voice)  # measure computing the conditionals, not the disk cache
    engine.conditionals(voice)
    conds_s = time.perf_counter() - started

    first, reply = REPLY[0], " ".join(REPLY)
    cap_first, cap_reply = (60, 200) if quick else (MAX_TOKENS, MAX_TOKENS)
    n_first, n_reply = tokens_for(first, cap_first), tokens_for(reply, cap_reply)
    whole_first = _Timed(engine, first, voice, n_first, 0, first_only=False)
    sliced_first = _Timed(engine, first, voice, n_first, 35, first_only=quick)
    whole_reply = _Timed(engine, reply, voice, n_reply, 0, first_only=False)
    engine.unload()
    rss_unloaded = process.memory_info().rss

    ms_token = 1000 * whole_reply.stats.t3_seconds / whole_reply.stats.tokens
    audio_s = (n_reply + 3) / TOKENS_PER_SECOND
    vocoder_rtf = whole_reply.stats.vocoder_seconds / audio_s
    chunk_ratio = whole_first.first / whole_reply.first
    slice_ratio = sliced_first.first / whole_first.first
    tag = f"CPU, {'small' if quick else 'full'} random checkpoint"
    rows = [
        row(
            "9a",
            f"Turbo checkpoint build (or cached) / load ({tag})",
            f"{build_s:.1f} s / {load_s:.1f} s",
            "info",
        ),
        row(
            "9b",
            "Turbo RSS: before load / loaded / after unload",
            f"{rss_before / 2**20:.0f} / {rss_loaded / 2**20:.0f} / {rss_unloaded / 2**20:.0f} MiB",
            "unload gives back most of it",
            ok=rss_loaded - rss_unloaded > 0.5 * (rss_loaded - rss_before),
        ),
        row("9c", "Turbo voice conditionals from a 10 s clip (once per clip)", f"{conds_s:.1f} s", "info"),
        row(
            "9d",
            f"Turbo T3 ms per speech token ({tag}; {whole_reply.stats.tokens} tokens)",
            f"{ms_token:.1f} ms",
            "< 40 ms is real time (GPU)",
            ok=None if not quick else ms_token < 40,
        ),
        row("9e", "Turbo S3Gen + watermark seconds per second of audio", f"{vocoder_rtf:.2f}", "info"),
        row(
            "9f",
            f"TTFA, first sentence as Vox's first chunk ({n_first} tokens, whole-chunk vocoding)",
            f"{whole_first.first:.1f} s",
            "info",
        ),
        row(
            "9g",
            f"TTFA, whole 10-sentence reply in one generate() ({n_reply} tokens)",
            f"{whole_reply.first:.1f} s",
            "info",
        ),
        row(
            "9h",
            "TTFA ratio: Vox first chunk / whole reply",
            f"{chunk_ratio:.2f}",
            "< 1",
            measure=None if quick else chunk_ratio,
            limit=None if quick else 1.0,
        ),
        row(
            "9i",
            "TTFA, first sentence with token slices (35, then doubling)",
            f"{sliced_first.first:.1f} s (vs {whole_first.first:.1f} s whole-chunk)",
            "info",
        ),
        row(
            "9j",
            "TTFA ratio: token slices / whole-chunk vocoding",
            f"{slice_ratio:.2f}",
            "< 1 (full size; the small T3 costs ~nothing, so quick shows ~1)",
            measure=None if quick else slice_ratio,
            limit=None if quick else 1.0,
        ),
    ]
    rows.append(_speed_row())
    if not quick:
        rows.append(
            row(
                "9k",
                "First sentence done: token slices / whole-chunk (each slice re-vocodes the prompt)",
                f"{sliced_first.total:.1f} s / {whole_first.total:.1f} s",
                "info",
            )
        )
    return rows


if __name__ == "__main__":
    import sys

    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))


def _speed_row() -> dict:
    """What speed costs on Chatterbox: the streaming stretcher fed 35-token slices of 10 s of audio, against
    librosa stretching the same audio whole (what a per-chunk design would do), and the audio it holds back."""
    import librosa

    from vox.audio.stretch import Stretcher

    rate, slice_samples = 24000, 35 * 960
    t = np.arange(10 * rate) / rate
    audio = (0.2 * sum(np.sin(2 * np.pi * k * 150 * t) / k for k in range(1, 6))).astype(np.float32)
    streamed, whole, held = [], [], []
    for _ in range(3):
        started = time.perf_counter()
        stretcher = Stretcher(1.25)
        for at in range(0, len(audio), slice_samples):
            stretcher.feed(audio[at : at + slice_samples])
        stretcher.finish()
        streamed.append(time.perf_counter() - started)
        started = time.perf_counter()
        librosa.effects.time_stretch(audio, rate=1.25, n_fft=1024, hop_length=256)
        whole.append(time.perf_counter() - started)
    for speed in (0.5, 2.0):
        out = Stretcher(speed).feed(audio[:slice_samples])
        held.append(1000 * (round(slice_samples / speed) - len(out)) / rate)
    ms_streamed, ms_whole = 1000 * min(streamed) / 10, 1000 * min(whole) / 10
    return row(
        "9l",
        "Speed 1.25 on Chatterbox: stretch CPU per second of audio, 35-token slices / librosa whole",
        f"{ms_streamed:.1f} ms / {ms_whole:.1f} ms; holds back {held[0]:.0f}-{held[1]:.0f} ms per slice",
        "<= 2x librosa",
        measure=ms_streamed / ms_whole,
        limit=2.0,
    )
