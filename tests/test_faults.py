"""Injected faults against a real server on a real socket (in this process, so a fault can be injected)."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest
import requests

from app import serve
from tests.conftest import sse_messages
from vox.config import Config
from vox.engines import manager
from vox.runtime import Runtime
from vox.voices import VoiceLibrary
from vox.voices import files as voice_files
from vox.web.app import create_app


@pytest.fixture
def inproc(tmp_path):
    cfg = Config()
    cfg.voices.dir = str(tmp_path / "voices")
    app = create_app(cfg, Runtime(cfg))
    server, thread = serve(app, "127.0.0.1", 0)
    rt = app.extensions["vox"]
    yield rt, f"http://127.0.0.1:{server.port}"
    rt.shutdown()
    server.shutdown()
    thread.join(5)


def stream(url: str, text: str) -> list[dict]:
    with requests.post(url + "/api/vox_speak_wav_stream", json={"text": text}, stream=True, timeout=60) as r:
        assert r.status_code == 200
        return list(sse_messages(r))


def test_engine_raising_mid_stream_gives_an_error_event_and_the_next_request_works(inproc, monkeypatch):
    rt, url = inproc
    engine = rt.engines.get()
    real = engine.synthesize
    calls = []

    def flaky(text, *args, **kw):
        calls.append(text)
        if len(calls) == 2:
            raise RuntimeError("injected fault: the engine fell over")
        yield from real(text, *args, **kw)

    monkeypatch.setattr(engine, "synthesize", flaky)
    messages = stream(url, "First sentence here. Second one. Third one. Fourth one. Fifth one.")
    assert "audio" in messages[0]
    assert messages[-1] == {"error": "injected fault: the engine fell over", "job": messages[0]["job"]}
    assert not rt.is_speaking()
    monkeypatch.setattr(engine, "synthesize", real)
    again = stream(url, "Working again. Yes.")
    assert again[-1]["done"] and not again[-1]["stopped"]


def test_engine_failing_to_load_is_503_and_the_previous_engine_keeps_working(inproc, monkeypatch):
    _, url = inproc
    assert stream(url, "Piper speaks.")[-1]["done"]

    class Exploding:
        name, sample_rate, loaded = "turbo", 24000, False

        def load(self, progress):
            raise RuntimeError("CUDA out of memory (injected)")

    real_create = manager.create_engine
    monkeypatch.setattr(manager, "create_engine",
                        lambda name, config: Exploding() if name == "turbo" else real_create(name, config))
    r = requests.post(url + "/api/tts_load_turbo", timeout=30)
    assert r.status_code == 503 and "CUDA out of memory" in r.json()["error"]
    status = requests.get(url + "/api/status", timeout=10).json()
    assert status["engine"] == "piper" and status["loaded"] and status["state"] == "ready"
    assert stream(url, "Piper still speaks.")[-1]["done"]


def test_a_disconnect_storm_leaves_no_thread_behind(inproc):
    rt, url = inproc
    stream(url, "Warm up.")
    baseline = threading.active_count()
    for _ in range(10):
        r = requests.post(url + "/api/vox_speak_wav_stream", json={"text": "Going on and on. " * 30}, stream=True,
                          timeout=60)
        next(r.iter_lines())
        r.close()
    assert rt.jobs.wait_idle(10)
    deadline = threading.Event()
    for _ in range(100):
        if threading.active_count() <= baseline:
            break
        deadline.wait(0.05)
    assert threading.active_count() <= baseline
    assert not rt.is_speaking()


@pytest.fixture
def inproc_timeouts(tmp_path):
    """An in-process server with a short client timeout (1 s) and a long one (30 s), side by side."""
    made = []

    def make(client_timeout: float):
        cfg = Config()
        cfg.voices.dir = str(tmp_path / f"voices-{len(made)}")
        app = create_app(cfg, Runtime(cfg))
        server, thread = serve(app, "127.0.0.1", 0, client_timeout=client_timeout)
        made.append((app.extensions["vox"], server, thread))
        return app.extensions["vox"], server.port

    yield make
    for rt, server, thread in made:
        rt.shutdown()
        server.shutdown()
        thread.join(5)


def raw_request(port: int, path: str, text: str) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    body = json.dumps({"text": text}).encode()
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
              f"Content-Length: {len(body)}\r\n\r\n".encode() + body)  # fmt: skip
    return s


LONG = "This reply goes on and on, far longer than anyone would listen to. " * 60


def test_a_stalled_readers_writer_gives_up_after_the_client_timeout(inproc_timeouts):
    rt, port = inproc_timeouts(1.0)
    stream(f"http://127.0.0.1:{port}", "Warm up.")
    baseline = threading.active_count()
    sock = raw_request(port, "/api/vox_speak_wav_stream", LONG)
    try:
        assert rt.jobs.wait_idle(30), "the stalled stream's job never finished"
        for _ in range(200):
            if threading.active_count() <= baseline:
                break
            time.sleep(0.05)
        assert threading.active_count() <= baseline
        assert not rt.is_speaking()
    finally:
        sock.close()


def test_a_wav_client_hanging_up_is_noticed_at_once_despite_the_socket_timeout(inproc_timeouts):
    """The disconnect probe must never wait for the socket's timeout (30 s here)."""
    rt, port = inproc_timeouts(30.0)
    stream(f"http://127.0.0.1:{port}", "Warm up.")
    sock = raw_request(port, "/api/vox_speak_wav", LONG)
    deadline = time.monotonic() + 10
    while not rt.is_speaking() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rt.is_speaking()
    sock.close()
    t0 = time.monotonic()
    assert rt.jobs.wait_idle(10)
    assert time.monotonic() - t0 < 5


def test_a_voice_file_swapped_for_a_fifo_after_its_check_is_still_never_opened_blocking(tmp_path, monkeypatch):
    """Between the stat and the open a file may become a FIFO: the open does not block and fstat refuses it."""
    folder = tmp_path / "voices"
    folder.mkdir()
    os.mkfifo(folder / "swapped.wav")
    monkeypatch.setattr(voice_files, "is_regular", lambda path: True)  # the stat "saw" a regular file
    library = VoiceLibrary(folder)
    listed: list = []
    t = threading.Thread(target=lambda: listed.append(library.list()), daemon=True)
    t.start()
    t.join(10)
    assert listed and [v.id for v in listed[0]] == ["joe"]
