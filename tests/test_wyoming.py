"""Vox as a Wyoming TTS service (``app.py --wyoming``), driven by the ``wyoming`` package's own client."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import numpy as np
import pytest
from wyoming.audio import AudioChunk, AudioStart
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeVoice

from tests.conftest import ROOT, free_port, start_server
from vox.audio.pcm import rms

TEXT = "Hello there. This is Vox, speaking to Home Assistant over Wyoming."
LONG = " ".join(f"This is sentence number {i} of a long announcement that keeps going." for i in range(1, 21))


@pytest.fixture(scope="module")
def vox(tmp_path_factory):
    port = free_port()
    s = start_server(tmp_path_factory.mktemp("wyoming"), args=("--wyoming", f"tcp://127.0.0.1:{port}"))
    s.wyoming_port = port  # type: ignore[attr-defined]
    yield s
    s.stop()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def client(vox) -> AsyncTcpClient:
    return AsyncTcpClient("127.0.0.1", vox.wyoming_port)


async def read_audio(c: AsyncTcpClient, until: str) -> tuple[list[str], bytes, AudioStart | None, float | None]:
    """Events up to ``until`` (audio-stop or synthesize-stopped): their types, the PCM, the format, first audio."""
    types, pcm, start, first = [], b"", None, None
    t0 = time.perf_counter()
    while True:
        event = await c.read_event()
        assert event is not None, "the server closed the connection"
        types.append(event.type)
        if AudioStart.is_type(event.type):
            start = AudioStart.from_event(event)
        elif AudioChunk.is_type(event.type):
            first = first if first is not None else time.perf_counter() - t0
            pcm += AudioChunk.from_event(event).audio
        if event.type == until:
            return types, pcm, start, first


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, "<i2").astype(np.float32) / 32768


def test_describe_lists_the_voices_and_streaming(vox):
    async def go():
        async with client(vox) as c:
            await c.write_event(Describe().event())
            return Info.from_event(await c.read_event())

    info = run(go())
    [program] = info.tts
    assert program.supports_synthesize_streaming and program.installed
    joe = next(v for v in program.voices if v.name == "joe")
    assert joe.installed and joe.languages == ["en_US"]
    assert "Piper" in program.description


def test_synthesize(vox):
    async def go():
        async with client(vox) as c:
            await c.write_event(Synthesize(text=TEXT, voice=SynthesizeVoice(name="joe")).event())
            return await read_audio(c, "audio-stop")

    types, pcm, start, _ = run(go())
    assert types[0] == "audio-start" and types[-1] == "audio-stop"
    assert set(types[1:-1]) == {"audio-chunk"}
    assert (start.rate, start.width, start.channels) == (22050, 2, 1)
    seconds = len(pcm) / 2 / start.rate
    assert 2.0 < seconds < 8.0 and rms(samples(pcm)) > 0.02


def test_streaming_synthesis_speaks_while_text_arrives(vox):
    """Text at about 30 tokens per second, as an LLM writes it: audio comes before the text is complete, and
    the whole text that Home Assistant repeats inside the stream is not spoken twice."""
    words = LONG.split(" ")

    async def go():
        async with client(vox) as c:
            await c.write_event(SynthesizeStart(voice=SynthesizeVoice(name="joe")).event())
            sent_all = asyncio.get_running_loop().create_future()

            async def write():
                for word in words:
                    await c.write_event(SynthesizeChunk(text=word + " ").event())
                    await asyncio.sleep(1 / 30)
                sent_all.set_result(time.perf_counter())
                await c.write_event(Synthesize(text=LONG).event())
                await c.write_event(SynthesizeStop().event())

            writer = asyncio.create_task(write())
            t0 = time.perf_counter()
            types, pcm, start, first = await read_audio(c, "synthesize-stopped")
            await writer
            return types, pcm, start, first, sent_all.result() - t0

    types, pcm, start, first, text_took = run(go())
    assert first is not None and first < text_took / 2, f"first audio at {first:.2f} s; text took {text_took:.2f} s"
    assert types[0] == "audio-start" and types[-2:] == ["audio-stop", "synthesize-stopped"]
    seconds = len(pcm) / 2 / start.rate
    assert 0.2 * len(words) < seconds < 0.6 * len(words), f"{seconds:.1f} s for {len(words)} words"


def test_stop_all_in_the_middle_ends_the_reply(vox):
    async def go():
        async with client(vox) as c:
            await c.write_event(Synthesize(text=LONG).event())
            assert (await c.read_event()).type == "audio-start"
            assert AudioChunk.is_type((await c.read_event()).type)
            assert (await asyncio.to_thread(vox.post, "/api/stop_all_vox")).json()["stopped"]
            t0 = time.perf_counter()
            _, pcm, _, _ = await read_audio(c, "audio-stop")
            return time.perf_counter() - t0, len(pcm)

    took, size = run(go())
    assert took < 3.0, f"audio-stop came {took:.2f} s after stop-all"  # generous: it holds at load 10
    assert size / 2 / 22050 < 5.0, "the whole long reply was sent"
    assert not vox.get("/api/tts_is_speaking").json()["speaking"]


def test_a_new_synthesize_replaces_the_one_speaking(vox):
    async def go():
        async with client(vox) as first, client(vox) as second:
            await first.write_event(Synthesize(text=LONG).event())
            assert (await first.read_event()).type == "audio-start"
            await second.write_event(Synthesize(text="Something else.").event())
            replaced = await read_audio(first, "audio-stop")
            new = await read_audio(second, "audio-stop")
            return replaced, new

    (_, old_pcm, _, _), (_, new_pcm, _, _) = run(go())
    assert len(old_pcm) / 2 / 22050 < 6.0 and rms(samples(new_pcm)) > 0.02


def test_a_client_that_disconnects_stops_its_reply(vox):
    async def go():
        async with client(vox) as c:
            await c.write_event(Synthesize(text=LONG).event())
            assert (await c.read_event()).type == "audio-start"

    run(go())
    deadline = time.monotonic() + 5
    while vox.get("/api/tts_is_speaking").json()["speaking"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not vox.get("/api/tts_is_speaking").json()["speaking"]


def test_an_unknown_voice_is_an_error_event(vox):
    async def go():
        async with client(vox) as c:
            await c.write_event(Synthesize(text="Hi.", voice=SynthesizeVoice(name="en_US-lessac-medium")).event())
            return await c.read_event()

    event = run(go())
    assert Error.is_type(event.type) and "joe" in Error.from_event(event).text


def test_nothing_to_say_is_an_empty_reply(vox):
    async def go():
        async with client(vox) as c:
            await c.write_event(Synthesize(text="\U0001f600").event())
            return await read_audio(c, "audio-stop")

    types, pcm, _, _ = run(go())
    assert types == ["audio-start", "audio-stop"] and pcm == b""


def test_serving_wyoming_off_loopback_needs_an_explicit_opt_in(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[voices]\ndir = "{tmp_path}"\n')
    r = subprocess.run([sys.executable, str(ROOT / "app.py"), "--no-window", "--config", str(cfg), "--port",
                        str(free_port()), "--wyoming", "tcp://0.0.0.0:10200"], capture_output=True, text=True,
                       timeout=60)  # fmt: skip
    assert r.returncode == 2 and "allow_remote" in r.stderr
    r = subprocess.run([sys.executable, str(ROOT / "app.py"), "--no-window", "--config", str(cfg), "--wyoming",
                        "http://127.0.0.1:10200"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2 and "tcp://" in r.stderr


def test_wyoming_from_the_config_file(tmp_path):
    port = free_port()
    s = start_server(tmp_path, f'[wyoming]\nuri = "tcp://127.0.0.1:{port}"\n')
    try:
        async def go():
            async with AsyncTcpClient("127.0.0.1", port) as c:
                await c.write_event(Describe().event())
                return await c.read_event()

        assert Info.is_type(run(go()).type)
    finally:
        s.stop()
