"""Injected faults against a real server on a real socket (in this process, so a fault can be injected)."""

from __future__ import annotations

import threading

import pytest
import requests

from app import serve
from tests.conftest import sse_messages
from vox.app import create_app
from vox.config import Config
from vox.engines import manager
from vox.runtime import Runtime


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
