"""Engine replicas on Ray Serve against the single-process server: rows 20-20f.

Eight clients, each in its own session, speak the same reply at once. Throughput is the audio they received
per wall second, with 1 and with 2 Piper replicas (two Vox servers, each with a local Ray instance of its own),
each replica limited to one CPU thread (``cpus_per_replica = 1``); the single-process server (onnxruntime's
default threads) is the reference. The three servers take turns, round after round.
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

from bench.bench_server import REPLY10, stop_trial, wait_idle
from bench.common import p95, row, spread
from tests.conftest import VoxServer, sse_messages, start_server

CLIENTS = 8
SHORT = "Sure, here is the plan. We start at nine with a short meeting. Lunch is at twelve thirty."
MEDIUM = ". ".join(REPLY10.split(". ")[:5]) + "."
"""The first five sentences of row 1's reply (about 15 s of audio per client)."""


def wav_seconds(message: dict) -> float:
    """Seconds of a chunk's 16-bit mono WAV, from its base64 length: decoding it would take CPU from the servers."""
    return (len(message["audio"]) * 3 // 4 - message["audio"].count("=") - 44) / 2 / message["sample_rate"]


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
                audio += wav_seconds(m)
            elif m.get("done") or m.get("error"):
                if m.get("error") or m.get("stopped"):
                    raise RuntimeError(f"a bench reply ended early: {m}")
                break
    out[session] = (first, audio, time.perf_counter() - t0)


def many_clients(url: str, text: str, rounds: int) -> tuple[float, list[float], float]:
    """Audio seconds per wall second with CLIENTS replies at once (``rounds`` times), every client's TTFA, and
    the wall seconds it took."""
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
    return audio / wall, ttfa, wall


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
    text, rounds, stop_trials = (SHORT, 1, 4) if quick else (MEDIUM, 3, 12)
    tmp = Path(tempfile.mkdtemp(prefix="vox-bench-serve-"))
    servers: dict[str, VoxServer] = {}
    try:
        servers["single"] = start_server(tmp / "single", config="[server]\nmax_queued_jobs = 16\n")
        servers["single"].post("/api/tts_load", {"engine": "piper"})
        servers["one"] = replica_server(tmp, 1)  # each Vox starts a Ray instance of its own
        servers["two"] = replica_server(tmp, 2)
        for s in servers.values():
            warm_up(s)
        # The three take turns, round after round, so a change in the machine's other load hits all alike.
        audio = dict.fromkeys(servers, 0.0)
        wall = dict.fromkeys(servers, 0.0)
        ttfa: dict[str, list[float]] = {name: [] for name in servers}
        loads: list[float] = []
        for n in range(rounds):
            names = list(servers)[n % 3:] + list(servers)[:n % 3]
            for name in names:
                loads.append(os.getloadavg()[0])
                rate, firsts, seconds = many_clients(servers[name].url, text, 1)
                audio[name] += rate * seconds
                wall[name] += seconds
                ttfa[name] += firsts
        closes: dict[str, list[float]] = {"single": [], "two": []}
        idles: dict[str, list[float]] = {"single": [], "two": []}
        for i in range(stop_trials):
            for name in closes:
                c, d = stop_trial(servers[name].url, 0.05 + 0.1 * (i % 3), session="stopper")
                closes[name].append(c)
                idles[name].append(d)
                time.sleep(0.2)
    finally:
        for s in servers.values():
            s.stop()
    rate = {name: audio[name] / wall[name] for name in servers}
    ratio = rate["two"] / rate["one"]
    load = f"load {statistics.median(loads):.1f} (median of {len(loads)}, before each turn)"
    rows = [
        row("20", f"throughput, {CLIENTS} clients at once, 1 Piper replica (1 CPU thread)",
            f"{rate['one']:.2f} audio s per s; {load}", "report"),
        row("20a", f"  2 replicas (1 CPU thread each), same {CLIENTS} clients, turns interleaved",
            f"{rate['two']:.2f} audio s per s -> {ratio:.2f}x of 1 replica", ">= 1.6x on 2 free cores",
            measure=1 / ratio, limit=1 / 1.6),
        row("20b", f"  single-process server (no Ray, onnxruntime's threads), same {CLIENTS} clients",
            f"{rate['single']:.2f} audio s per s -> 2 replicas are {rate['two'] / rate['single']:.2f}x", "reference"),
    ]  # fmt: skip
    for id_, name, key in (("20c", "2 replicas", "two"), ("20d", "single process", "single")):
        rows.append(row(id_, f"time to first audio under {CLIENTS} clients, {name}: p50 / p95",
                        f"{statistics.median(ttfa[key]) * 1000:.0f} / {p95(ttfa[key]) * 1000:.0f} ms "
                        f"(n={len(ttfa[key])})", "report" if key == "two" else "reference"))  # fmt: skip
    close_ratio = statistics.median(closes["two"]) / statistics.median(closes["single"])
    idle_ratio = statistics.median(idles["two"]) / statistics.median(idles["single"])
    rows += [
        row("20e", "stop -> stream closed, through a replica / single process",
            f"{spread(closes['two'])} / {spread(closes['single'])} -> {close_ratio:.2f}x", "<= 2x",
            measure=close_ratio, limit=2.0),
        row("20f", "stop -> engine idle (the remote call cancelled), through a replica / single process",
            f"{spread(idles['two'])} / {spread(idles['single'])} -> {idle_ratio:.2f}x", "report"),
    ]  # fmt: skip
    return rows
