"""Books (issue 16): rows 13-13c.

13:  render throughput: seconds of audio per wall second of a book rendered by the server (import, then render
     until the last chapter is written; the book file's encoding is not counted), against Piper alone
     synthesising the very same chunks in this process. Runs alternate, so machine noise hits both.
13a: a conversational reply's time to first audio while a render runs, against the same server idle (the render
     paused), trials interleaved. The render holds the engine only preemptibly, so a reply takes it at once.
13b: how many render chunks a reply took the engine from (each is said again), and the machine's load average:
     the development machine is a shared 2-core box, and these figures move with its load.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import requests

from bench.bench_server import REPLY10, wait_idle
from bench.common import row, spread
from tests.conftest import sse_messages, start_server

SENTENCES = [s.strip() + "." for s in REPLY10.split(".") if s.strip()]


def book_text(chapters: int) -> str:
    return "\n\n".join(f"## Chapter {k}\n\n" + " ".join(SENTENCES[(k + i) % len(SENTENCES)] for i in range(6))
                       for k in range(1, chapters + 1))  # fmt: skip


def engine_alone(text: str) -> tuple[float, float]:
    """(audio seconds, wall seconds) of Piper synthesising the render's own chunks of ``text`` in this process."""
    from vox.books.render import GROUP
    from vox.config import Config
    from vox.engines.base import SynthesisOptions
    from vox.engines.piper import PiperEngine
    from vox.jobs.cancel import Cancel
    from vox.text import SpeechPlanner

    c = Config().chunking
    chunks = [ch.text for part in text.split("## ")[1:]
              for ch in SpeechPlanner(GROUP, c.max_chars, c.max_chars, False).plan("## " + part)]  # fmt: skip
    engine = PiperEngine()
    engine.load()
    audio = 0
    t0 = time.perf_counter()
    for chunk in chunks:
        audio += sum(pcm.size for pcm in engine.synthesize(chunk, None, SynthesisOptions(), Cancel()))
    wall = time.perf_counter() - t0
    engine.unload()
    return audio / engine.sample_rate, wall


def first_audio(url: str, text: str) -> float:
    """Seconds to a reply's first audio; the stream is closed then, which ends the reply."""
    t0 = time.perf_counter()
    with requests.post(url + "/api/vox_speak_wav_stream", json={"text": text}, stream=True, timeout=120) as r:
        return next(time.perf_counter() - t0 for m in sse_messages(r) if "audio" in m)


def progress(url: str, pid: str) -> dict:
    return requests.get(f"{url}/api/books/{pid}/progress", timeout=30).json()["progress"]


def server_render(url: str, text: str, name: str) -> tuple[float, float]:
    """(audio seconds, wall seconds) of the server rendering ``text`` as a new book."""
    pid = requests.post(f"{url}/api/books", json={"text": text, "title": name}, timeout=60).json()["book"]["id"]
    t0 = time.perf_counter()
    requests.post(f"{url}/api/books/{pid}/render", timeout=60).raise_for_status()
    while (p := progress(url, pid))["state"] == "rendering":
        time.sleep(0.2)  # (each poll costs the server a few ms of the CPU the render uses)
    wall = time.perf_counter() - t0
    while progress(url, pid)["state"] == "exporting":  # not counted, but one book renders at a time
        time.sleep(0.1)
    if p["chapters_done"] != p["chapters_total"]:
        raise RuntimeError(f"the render ended {p['state']}: {p['message']}")
    return p["audio_minutes"] * 60, wall


def run(quick: bool = False) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="vox-bench-books-"))
    server = start_server(tmp)
    url = server.url
    rows: list[dict] = []
    try:
        requests.post(f"{url}/api/tts_load", json={"engine": "piper"}, timeout=120).raise_for_status()
        text = book_text(2 if quick else 8)
        ratios, engine_rates, render_rates = [], [], []
        for trial in range(2 if quick else 3):
            audio_e, wall_e = engine_alone(text)
            audio_r, wall_r = server_render(url, text, f"Throughput {trial}")
            engine_rates.append(audio_e / wall_e)
            render_rates.append(audio_r / wall_r)
            ratios.append((audio_r / wall_r) / (audio_e / wall_e))
        ratio = statistics.median(ratios)
        rows.append(row("13", "books: render throughput, audio s per wall s (server render vs Piper alone, same "
                              "chunks)",
                        f"{statistics.median(render_rates):.1f} vs {statistics.median(engine_rates):.1f} -> ratio "
                        f"{ratio:.2f} (n={len(ratios)})", ">= 0.9x the engine alone", measure=1 / ratio,
                        limit=1 / 0.9))  # fmt: skip

        long_pid = requests.post(f"{url}/api/books", json={"text": book_text(40), "title": "Long"},
                                 timeout=60).json()["book"]["id"]  # fmt: skip
        idle, busy = [], []
        preempted = 0
        for _ in range(4 if quick else 12):
            idle.append(first_audio(url, REPLY10))
            requests.post(f"{url}/api/books/{long_pid}/render", timeout=60).raise_for_status()
            said = progress(url, long_pid)["chars_done"]
            deadline = time.monotonic() + 60
            while progress(url, long_pid)["chars_done"] == said and time.monotonic() < deadline:
                time.sleep(0.05)  # the render is really synthesising
            busy.append(first_audio(url, REPLY10))
            preempted += progress(url, long_pid)["preempted"]
            requests.post(f"{url}/api/books/{long_pid}/pause", timeout=60).raise_for_status()
            deadline = time.monotonic() + 60
            while progress(url, long_pid)["state"] != "paused" and time.monotonic() < deadline:
                time.sleep(0.05)  # the render's chunk in progress ends before the next idle trial
            wait_idle(url)
        slow = statistics.median(busy) / statistics.median(idle)
        rows.append(row("13a", "books: reply's first audio while a book renders / idle server",
                        f"{spread(busy)} / {spread(idle)} -> ratio {slow:.2f}", "<= 1.2x", measure=slow,
                        limit=1.2))  # fmt: skip
        requests.post(f"{url}/api/books/{long_pid}/cancel", timeout=60)
        load = os.getloadavg()
        rows.append(row("13b", "books: render chunks said again after a reply took the engine; load average",
                        f"{preempted} chunks; load {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min, "
                        f"{os.cpu_count()} cores)", "report"))  # fmt: skip
    finally:
        server.stop()
    return rows
