"""Server latencies with the Piper engine: rows 1-4, 7 and 8 of the benchmark table.

The predecessor's policy runs through the same server and text (the ``predecessor`` baseline,
bench/baselines.py: plain 3-sentence groups); trials of both are interleaved so machine noise hits both alike.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.baselines import baseline_command, speech_chunks
from bench.common import p95, row, spread
from tests.conftest import ROOT, free_port, sse_messages, start_server
from vox import config as vox_config
from vox.engines.base import SynthesisOptions
from vox.engines.piper import PiperEngine
from vox.jobs.cancel import Cancel
from vox.text import normalize_for_speech

OPTIONS = SynthesisOptions()

REPLY10 = (
    "Sure, here is a quick summary of the plan for tomorrow. We start at nine with a short stand-up meeting. "
    "After that, the design team reviews the new onboarding screens. Lunch is booked for twelve thirty at the "
    "usual place. In the afternoon we test the release candidate on all three platforms. If anything breaks, "
    "we file it right away and fix it before Friday. Marketing needs the final screenshots by four. "
    "Please keep your status updated in the tracker. I will send a reminder an hour before each session. "
    "Let me know if you want me to change anything."
)
QUIET = 1.0
"""release_memory_after_s for the memory row (the default is 10 s)."""
SETTLE = 0.2
"""Seconds between trials: onnxruntime's threads spin for a while after a run and would slow the next trial
on a small machine, whichever process it runs in."""
LONG = " ".join(f"This is sentence number {i}, and it goes on for a little while." for i in range(1, 60))


def first_audio_and_total(url: str, text: str) -> tuple[float, float, int]:
    """Seconds to the first audio event and to the done event, and the number of chunks."""
    t0 = time.perf_counter()
    first = None
    with requests.post(url + "/api/vox_speak_wav_stream", json={"text": text}, stream=True, timeout=120) as r:
        for m in sse_messages(r):
            if "audio" in m and first is None:
                first = time.perf_counter() - t0
            if m.get("done"):
                return first or 0.0, time.perf_counter() - t0, m["chunks"]
    raise RuntimeError("stream ended without done")


def first_audio(url: str, text: str) -> float:
    """Seconds to the first audio event; the stream is then closed (which stops the reply) and the server
    left to go idle, so that every trial starts alike."""
    t0 = time.perf_counter()
    with requests.post(url + "/api/vox_speak_wav_stream", json={"text": text}, stream=True, timeout=120) as r:
        first = next(time.perf_counter() - t0 for m in sse_messages(r) if "audio" in m)
    wait_idle(url)
    return first


def wait_idle(url: str) -> None:
    while requests.get(url + "/api/status", timeout=10).json()["busy"]:
        time.sleep(0.005)


def stop_trial(url: str, delay: float, session: str | None = None) -> tuple[float, float]:
    """Stop a long reply ``delay`` s after its first audio: (POST -> stream closed, POST -> engine idle).
    ``session``: the X-Vox-Session the reply and its stop belong to (default: none)."""
    headers = {"X-Vox-Session": session} if session else {}
    closed = threading.Event()
    first = threading.Event()

    def read():
        with requests.post(url + "/api/vox_speak_wav_stream", json={"text": LONG}, stream=True, timeout=120,
                           headers=headers) as r:  # fmt: skip
            for m in sse_messages(r):
                if "audio" in m:
                    first.set()
        closed.set()

    t = threading.Thread(target=read, daemon=True)
    t.start()
    if not first.wait(60):
        raise RuntimeError("no first audio for the stop trial")
    time.sleep(delay)
    t0 = time.perf_counter()
    requests.post(url + "/api/vox_stop", headers=headers, timeout=10)
    closed.wait(10)
    to_close = time.perf_counter() - t0
    wait_idle(url)
    to_idle = time.perf_counter() - t0
    t.join(5)
    return to_close, to_idle


def replace_trial(url: str, delay: float) -> float:
    """Start a long reply, and ``delay`` s after its first audio replace it with REPLY10: seconds from the new
    request to its first audio (the old reply's synthesis must not stand in its way)."""
    with requests.post(url + "/api/vox_speak_wav_stream", json={"text": LONG}, stream=True, timeout=120) as old:
        next(m for m in sse_messages(old) if "audio" in m)
        time.sleep(delay)
        t0 = time.perf_counter()
        with requests.post(url + "/api/vox_speak_wav_stream", json={"text": REPLY10}, stream=True, timeout=120) as r:
            first = next(time.perf_counter() - t0 for m in sse_messages(r) if "audio" in m)
    wait_idle(url)
    return first


def startup_time(tmp: Path) -> float:
    port = free_port()
    cfg = tmp / "startup.toml"
    cfg.write_text(f'[voices]\ndir = "{tmp / "voices"}"\n')
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--no-window", "--port", str(port),
                             "--config", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return time.perf_counter() - t0
            except requests.ConnectionError:
                time.sleep(0.01)
            if time.perf_counter() - t0 > 30:
                raise RuntimeError("no /health in 30 s")
    finally:
        proc.terminate()
        proc.wait(10)


def run(quick: bool = False) -> list[dict]:
    rows: list[dict] = []
    tmp = Path(tempfile.mkdtemp(prefix="vox-bench-"))
    ttfa_trials, full_trials = (5, 2) if quick else (31, 9)
    vox = start_server(tmp / "vox")
    old = start_server(tmp / "predecessor", command=baseline_command("predecessor"))
    try:
        for s in (vox, old):
            s.post("/api/tts_load", {"engine": "piper"})
            first_audio_and_total(s.url, "Warm up. Two sentences.")
        # The floor: the engine alone, in this process, on the first chunk and on the whole reply.
        c = vox_config.Chunking()
        chunk_texts = speech_chunks(normalize_for_speech(REPLY10), c.group_size,
                                                c.max_chars, c.first_chunk_chars)
        engine = PiperEngine()
        engine.load()
        never = Cancel()
        list(engine.synthesize(chunk_texts[0], None, OPTIONS, never))

        def settled(work):
            """``work()`` and its seconds, after a pause that lets the last trial's engine threads go quiet."""
            time.sleep(SETTLE)
            t0 = time.perf_counter()
            out = work()
            return out, time.perf_counter() - t0

        # Interleaved, so that machine noise hits every variant alike.
        vox_first, old_first, floor_first, vox_total, floor_total = [], [], [], [], []
        for _ in range(ttfa_trials):
            vox_first.append(settled(lambda: first_audio(vox.url, REPLY10))[0])
            old_first.append(settled(lambda: first_audio(old.url, REPLY10))[0])
            floor_first.append(settled(lambda: list(engine.synthesize(chunk_texts[0], None, OPTIONS, never)))[1])
        for _ in range(full_trials):
            (_, total, chunks), _ = settled(lambda: first_audio_and_total(vox.url, REPLY10))
            vox_total.append(total)
            floor_total.append(settled(lambda: [list(engine.synthesize(t, None, OPTIONS, never))
                                                for t in chunk_texts])[1])  # fmt: skip

        m_vox, m_old, m_floor = (statistics.median(x) for x in (vox_first, old_first, floor_first))
        rows.append(row("1", "time to first audio, 10 sentences (Vox)", spread(vox_first), ""))
        rows.append(row("1a", "  predecessor policy (3-sentence groups)", spread(old_first),
                        "Vox <= 0.35x", m_vox / m_old, 0.35))
        rows[-1]["value"] += f" -> ratio {m_vox / m_old:.2f}"
        rows.append(row("1b", "  floor: engine alone, first chunk", spread(floor_first),
                        "Vox <= 1.3x", m_vox / m_floor, 1.3))
        rows[-1]["value"] += f" -> ratio {m_vox / m_floor:.2f}"
        m_total, m_raw = statistics.median(vox_total), statistics.median(floor_total)
        rows.append(row("2", f"all {chunks} chunks over SSE vs raw engine in-process",
                        f"{spread(vox_total)} vs {spread(floor_total)} -> ratio {m_total / m_raw:.2f}",
                        "<= 1.10x", m_total / m_raw, 1.10))

        stop_trials = 5 if quick else 20
        rng = random.Random(7)
        closes, idles = [], []
        for _ in range(stop_trials):
            c_, i_ = stop_trial(vox.url, rng.uniform(0.05, 0.8 if quick else 1.5))
            closes.append(c_)
            idles.append(i_)
        rows.append(row("3", "stop -> stream closed", f"{spread(closes)}, p95 {p95(closes) * 1000:.0f} ms",
                        "p95 <= 100 ms", p95(closes), 0.100))
        rows.append(row("4", "stop -> engine idle (the ONNX run is terminated mid-sentence)",
                        f"{spread(idles)}, p95 {p95(idles) * 1000:.0f} ms", "p95 <= 50 ms", p95(idles), 0.050))

        replaced, floor_again = [], []
        for _ in range(5 if quick else 15):
            replaced.append(replace_trial(vox.url, rng.uniform(0.05, 0.5)))
            floor_again.append(settled(lambda: list(engine.synthesize(chunk_texts[0], None, OPTIONS, never)))[1])
        m_replaced = statistics.median(replaced)
        rows.append(row("4a", "replace a speaking reply -> first audio of the new one", spread(replaced), ""))
        rows.append(row("4b", "  against Vox's first audio when idle (row 1)",
                        f"ratio {m_replaced / m_vox:.2f}", "<= 1.3x", m_replaced / m_vox, 1.3))
        rows.append(row("4c", "  against the floor: engine alone, first chunk",
                        f"{spread(floor_again)} -> ratio {m_replaced / statistics.median(floor_again):.2f}", "report"))
        engine.unload()
    finally:
        vox.stop()
        old.stop()

    mem = start_server(tmp / "memory", config=f"[server]\nrelease_memory_after_s = {QUIET}\n")
    try:
        before = mem.get("/api/status").json()["memory_mb"]
        mem.post("/api/tts_load", {"engine": "piper"})
        loaded = mem.get("/api/status").json()["memory_mb"]
        replies = 12 if quick else 200
        texts = ["Hello there, this is a short reply.", "The second reply has two sentences. Here it is.",
                 "Numbers like 3.14 and dates like May 5 are fine."]
        for i in range(replies):  # back to back: the freed heap is kept for the next reply
            first_audio_and_total(mem.url, texts[i % len(texts)])
        hot = mem.get("/api/status").json()["memory_mb"]
        time.sleep(QUIET + 1)
        after = mem.get("/api/status").json()["memory_mb"]
        growth = after - loaded
        rows.append(row("7", f"RSS before load / after Piper / after {replies} replies, once quiet",
                        f"{before:.0f} / {loaded:.0f} / {after:.0f} MB (growth {growth:+.0f} MB)",
                        "growth <= 20 MB", growth, 20.0))
        rows.append(row("7a", f"  RSS right after reply {replies}, before the quiet-time release", f"{hot:.0f} MB",
                        "report"))
    finally:
        mem.stop()

    starts = [startup_time(tmp) for _ in range(3 if quick else 5)]
    rows.append(row("8", "start-up: app.py --no-window -> /health 200", spread(starts), "<= 2 s",
                    statistics.median(starts), 2.0))
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
