"""Engine replicas on Ray Serve against the single-process server: rows 20-20f.

Eight clients, each in its own session, speak the same reply at once. Throughput is the audio they received
per wall second, with 1 and with 2 Piper replicas on a local Ray instance, each replica limited to one CPU
thread (``cpus_per_replica = 1``); the single-process server (onnxruntime's default threads) is the reference.
Time to first audio is each client's, under that load. Stop latency is the usual trial (a long reply stopped
shortly after its first audio) through a replica and in one process. The machine's load average is printed
with the figures: other work on a 2-core machine takes the second core the second replica needs.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.bench_server import LONG, REPLY10, wait_idle
from bench.common import p95, row, spread
from tests.conftest import VoxServer, decode_chunk, sse_messages, start_server

CLIENTS = 8
SHORT = "Sure, here is the plan. We start at nine with a short meeting. Lunch is at twelve thirty."
MEDIUM = ". ".join(REPLY10.split(". ")[:5]) + "."
"""The first five sentences of row 1's reply (about 15 s of audio per client)."""


def load_average() -> str:
    """The 1-minute load average just before a measurement: other work on the machine (and the idle servers)."""
    return f"load before {os.getloadavg()[0]:.1f}"


def one_client(url: str, text: str, session: str, out: dict, go: threading.Barrier) -> None:
    go.wait()
    t0 = time.perf_counter()
    audio = 0.0
    first = None
    with requests.post(url + "/api/vox_speak_wav_stream", json={"text": text}, stream=True, timeout=600,
                       headers={"X-Vox-Session": session}) as r:  # fmt: skip
        for m in sse_messages(r):
            if "audio" in m:
                first = first if first is not None else time.perf_counter() - t0
                pcm, rate = decode_chunk(m)
                audio += len(pcm) / rate
            elif m.get("done") or m.get("error"):
                if m.get("error") or m.get("stopped"):
                    raise RuntimeError(f"a bench reply ended early: {m}")
                break
    out[session] = (first, audio, time.perf_counter() - t0)


def many_clients(url: str, text: str, rounds: int) -> tuple[float, list[float]]:
    """Audio seconds per wall second with CLIENTS replies at once (``rounds`` times), and every client's TTFA."""
    audio = wall = 0.0
    ttfa: list[float] = []
    for _ in range(rounds):
        out: dict = {}
        go = threading.Barrier(CLIENTS + 1)
        threads = [threading.Thread(target=one_client, args=(url, text, f"bench-{i}", out, go), daemon=True)
                   for i in range(CLIENTS)]  # fmt: skip
        for t in threads:
            t.start()
        go.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join(600)
        wall += time.perf_counter() - t0
        if len(out) != CLIENTS:
            raise RuntimeError(f"only {len(out)} of {CLIENTS} bench clients finished")
        audio += sum(a for _, a, _ in out.values())
        ttfa += [f for f, _, _ in out.values()]
        wait_idle(url)
    return audio / wall, ttfa


def stop_trial(url: str, delay: float) -> tuple[float, float]:
    """A long reply stopped ``delay`` s after its first audio: (POST -> stream closed, POST -> engine idle)."""
    closed, first = threading.Event(), threading.Event()

    def read() -> None:
        with requests.post(url + "/api/vox_speak_wav_stream", json={"text": LONG}, stream=True, timeout=120,
                           headers={"X-Vox-Session": "stopper"}) as r:  # fmt: skip
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
    requests.post(url + "/api/vox_stop", headers={"X-Vox-Session": "stopper"}, timeout=10)
    closed.wait(10)
    to_close = time.perf_counter() - t0
    wait_idle(url)
    to_idle = time.perf_counter() - t0
    t.join(5)
    return to_close, to_idle


def stops(url: str, trials: int) -> tuple[list[float], list[float]]:
    closes, idles = [], []
    for i in range(trials):
        c, d = stop_trial(url, 0.05 + 0.1 * (i % 3))
        closes.append(c)
        idles.append(d)
        time.sleep(0.2)
    return closes, idles


def replica_server(tmp: Path, replicas: int) -> VoxServer:
    s = start_server(tmp / f"replicas-{replicas}", config=f"[serve]\nreplicas = {replicas}\ncpus_per_replica = 1\n")
    r = s.post("/api/tts_load", {"engine": "piper"}, timeout=600)
    if r.status_code != 200:
        s.stop()
        raise RuntimeError(f"the replicas did not start: {r.text}")
    return s


def warm_up(s: VoxServer) -> None:
    """Every replica has loaded its voice and run once before the clock starts."""
    many_clients(s.url, "Hello.", 1)


def run(quick: bool = False) -> list[dict]:
    text, rounds, stop_trials = (SHORT, 1, 4) if quick else (MEDIUM, 2, 12)
    tmp = Path(tempfile.mkdtemp(prefix="vox-bench-serve-"))
    figures: dict[str, tuple] = {}
    single = start_server(tmp / "single", config="[server]\nmax_queued_jobs = 16\n")
    try:
        single.post("/api/tts_load", {"engine": "piper"})
        warm_up(single)
        load = load_average()
        figures["single"] = (*many_clients(single.url, text, rounds), load)
        figures["single-stop"] = stops(single.url, stop_trials)
    finally:
        single.stop()
    for replicas in (1, 2):
        s = replica_server(tmp, replicas)
        try:
            warm_up(s)
            load = load_average()
            figures[replicas] = (*many_clients(s.url, text, rounds), load)
            if replicas == 2:
                figures["replica-stop"] = stops(s.url, stop_trials)
        finally:
            s.stop()
    one, two, alone = figures[1], figures[2], figures["single"]
    ratio = two[0] / one[0]
    rows = [
        row("20", f"throughput, {CLIENTS} clients at once, 1 Piper replica (1 CPU thread)",
            f"{one[0]:.2f} audio s per s ({one[2]})", "report"),
        row("20a", f"  2 replicas (1 CPU thread each), same {CLIENTS} clients",
            f"{two[0]:.2f} audio s per s ({two[2]}) -> {ratio:.2f}x of 1 replica", ">= 1.6x on 2 free cores",
            measure=1 / ratio, limit=1 / 1.6),
        row("20b", f"  single-process server (no Ray, onnxruntime's threads), same {CLIENTS} clients",
            f"{alone[0]:.2f} audio s per s ({alone[2]}) -> 2 replicas are {two[0] / alone[0]:.2f}x", "reference"),
    ]  # fmt: skip
    for id_, name, fig in (("20c", "2 replicas", two), ("20d", "single process", alone)):
        ttfa = fig[1]
        rows.append(row(id_, f"time to first audio under {CLIENTS} clients, {name}: p50 / p95",
                        f"{statistics.median(ttfa) * 1000:.0f} / {p95(ttfa) * 1000:.0f} ms (n={len(ttfa)})",
                        "report" if id_ == "20c" else "reference"))  # fmt: skip
    (rc, ri), (sc, si) = figures["replica-stop"], figures["single-stop"]
    close_ratio = statistics.median(rc) / statistics.median(sc)
    idle_ratio = statistics.median(ri) / statistics.median(si)
    rows += [
        row("20e", "stop -> stream closed, through a replica / single process", f"{spread(rc)} / {spread(sc)} "
            f"-> {close_ratio:.2f}x", "<= 2x", measure=close_ratio, limit=2.0),
        row("20f", "stop -> engine idle (the remote call cancelled), through a replica / single process",
            f"{spread(ri)} / {spread(si)} -> {idle_ratio:.2f}x", "report"),
    ]  # fmt: skip
    return rows
