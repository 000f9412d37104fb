"""Soak with stalled clients: rows 14-14d of the benchmark table.

Eight well-behaved clients (each in its own session: speak a short reply, read it to the end, pause) run
first alone, then for two minutes alongside four stalled clients that open a long stream and never read a
byte of it (a hung tab, a stopped process). Each stalled stream costs the engine what it synthesised before
its socket filled up (a few chunks), then nothing: the server drops it after server.client_timeout_s.
(Clients that keep opening streams they never read are a load like any other: in a 30 s trial with four of
them opening one every 10 s, the others' first audio took 3.5x as long.)
The well-behaved clients' time to first audio must stay
within 1.5x of what they get alone, and once it is over the server's threads and RSS return to where they
were, before the stalled clients have closed anything: the server drops them itself (server.client_timeout_s).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.common import p95, row, spread
from tests.conftest import sse_messages, start_server
from tests.test_stalled_clients import LONG, open_and_stall

POLITE, STALLED = 8, 4
REPLY = "Sure, here is the short answer. It has a second sentence. And a third one to finish."
QUIET = 1.0
"""release_memory_after_s: freed heap goes back to the OS this long after the last reply."""


def polite_client(url: str, i: int, stop: threading.Event, ttfa: list[float], refused: list[str]) -> None:
    rng = random.Random(i)
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            with requests.post(url + "/api/vox_speak_wav_stream", json={"text": REPLY}, stream=True, timeout=120,
                               headers={"X-Vox-Session": f"polite-{i}"}) as r:  # fmt: skip
                if r.status_code != 200:
                    refused.append(str(r.status_code))
                    stop.wait(1.0)
                    continue
                first, last = None, {}
                for m in sse_messages(r):
                    if "audio" in m and first is None:
                        first = time.perf_counter() - t0
                    last = m
                if first is None or not last.get("done"):
                    refused.append(str(last.get("error", "no audio")))
                else:
                    ttfa.append(first)
        except requests.RequestException as e:
            refused.append(type(e).__name__)
        stop.wait(rng.uniform(0.5, 1.5))


def stalled_client(port: int, i: int, stop: threading.Event, every: float, sockets: list) -> None:
    while not stop.is_set():
        sockets.append(open_and_stall(port, {"text": LONG}, f"stalled-{i}"))
        stop.wait(every)


def phase(url: str, port: int, seconds: float, stalled: bool, every: float) -> tuple[list[float], list[str], list]:
    stop = threading.Event()
    ttfa: list[float] = []
    refused: list[str] = []
    sockets: list = []
    threads = [threading.Thread(target=polite_client, args=(url, i, stop, ttfa, refused), daemon=True)
               for i in range(POLITE)]  # fmt: skip
    if stalled:
        threads += [threading.Thread(target=stalled_client, args=(port, i, stop, every, sockets), daemon=True)
                    for i in range(STALLED)]  # fmt: skip
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(130)
    return ttfa, refused, sockets


def settle(url: str, threads: int, timeout: float) -> tuple[dict, float]:
    """Wait until the server is back to ``threads`` threads and not speaking; (status, seconds waited)."""
    t0 = time.monotonic()
    while True:
        status = requests.get(url + "/api/status", timeout=10).json()
        if (status["threads"] <= threads and not status["speaking"]) or time.monotonic() - t0 > timeout:
            return status, time.monotonic() - t0
        time.sleep(0.2)


def run(quick: bool = False) -> list[dict]:
    alone_s, soak_s, client_timeout = (6, 12, 2.0) if quick else (40, 120, 10.0)
    every = 2 * soak_s  # each stalled client holds one stream for the whole soak
    tmp = Path(tempfile.mkdtemp(prefix="vox-bench-soak-"))
    s = start_server(tmp, config=f"[server]\nmax_queued_jobs = {POLITE + STALLED}\nclient_timeout_s = {client_timeout}"
                                 f"\nrelease_memory_after_s = {QUIET}\n")  # fmt: skip
    try:
        s.post("/api/tts_load", {"engine": "piper"})
        for _ in range(3):
            list(s.stream({"text": REPLY}))
        time.sleep(QUIET + 1)
        base = requests.get(s.url + "/api/status", timeout=10).json()
        alone, refused_alone, _ = phase(s.url, s.port, alone_s, False, every)
        settle(s.url, base["threads"], 30)
        loaded, refused, sockets = phase(s.url, s.port, soak_s, True, every)
        after, waited = settle(s.url, base["threads"], client_timeout + 30)  # stalled sockets still open
        time.sleep(QUIET + 1.5)
        after = requests.get(s.url + "/api/status", timeout=10).json()
        for sock in sockets:
            sock.close()
    finally:
        s.stop()
    m_alone, m_loaded = statistics.median(alone), statistics.median(loaded)
    ratio = m_loaded / m_alone
    growth = after["memory_mb"] - base["memory_mb"]
    rows = [
        row("14", f"soak {soak_s} s: {POLITE} clients' first audio with {STALLED} stalled clients "
                  f"({len(sockets)} stalled streams)",
            f"{spread(loaded)}, p95 {p95(loaded) * 1000:.0f} ms", ""),
        row("14a", f"  the same {POLITE} clients alone", f"{spread(alone)} -> ratio {ratio:.2f}", "<= 1.5x",
            ratio, 1.5),
        row("14b", "  refused or failed replies (alone / with stalled clients)",
            f"{len(refused_alone)} / {len(refused)} of {len(alone) + len(refused_alone)} / "
            f"{len(loaded) + len(refused)} {sorted(set(refused_alone + refused))}", "0",
            len(refused) + len(refused_alone), 0),
        row("14c", "  threads before / after (stalled sockets still open); seconds to get there",
            f"{base['threads']} / {after['threads']}; {waited:.1f} s", "after <= before",
            after["threads"] - base["threads"], 0),
        row("14d", "  RSS before / after, once quiet", f"{base['memory_mb']:.0f} / {after['memory_mb']:.0f} MB "
            f"(growth {growth:+.0f} MB)", "growth <= 20 MB", growth, 20.0),
    ]  # fmt: skip
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
