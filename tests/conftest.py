"""Shared fixtures: a real Vox server in its own process on a real socket, Vox's Flask app in this process (route
logic and validation need no socket), and an SSE reader; and the order in which pytest-xdist hands out files."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vox.audio.pcm import read_wav  # noqa: E402
from vox.config import load as load_config  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class VoxServer:
    proc: subprocess.Popen
    port: int
    root: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, path: str, payload: dict | None = None, **kw) -> requests.Response:
        return requests.post(self.url + path, json=payload, timeout=kw.pop("timeout", 60), **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.url + path, timeout=kw.pop("timeout", 30), **kw)

    def stream(self, payload: dict, **kw) -> Iterator[dict]:
        """The SSE messages of one /api/vox_speak_wav_stream request, parsed."""
        with requests.post(self.url + "/api/vox_speak_wav_stream", json=payload, stream=True, timeout=60, **kw) as r:
            assert r.status_code == 200, r.text
            yield from sse_messages(r)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def sse_messages(response: requests.Response) -> Iterator[dict]:
    for line in response.iter_lines(chunk_size=None, decode_unicode=True):
        if line and line.startswith("data: "):
            yield json.loads(line[6:])


def decode_chunk(message: dict) -> tuple[np.ndarray, int]:
    return read_wav(base64.b64decode(message["audio"]))


def start_server(tmp: Path, config: str = "", env: dict | None = None, args: tuple[str, ...] = (),
                 command: tuple[str, ...] = ()) -> VoxServer:  # fmt: skip
    """Start ``python app.py --no-window`` with its own config and voices folder; waits for /health. ``command``
    runs another entry point with app.py's options instead (``bench.baselines.baseline_command``).

    The port is a free one picked here; should another process take it before the server binds it (xdist
    workers start servers side by side), the server is started again on another."""
    for _ in range(2):
        try:
            return _start_server(tmp, config, env, args, command)
        except PortTaken:
            pass
    return _start_server(tmp, config, env, args, command)


class PortTaken(RuntimeError):
    """The free port picked for a server was taken before the server could bind it."""


def _start_server(tmp: Path, config: str, env: dict | None, args: tuple[str, ...],
                  command: tuple[str, ...]) -> VoxServer:  # fmt: skip
    port = free_port()
    voices = tmp / "voices"
    voices.mkdir(parents=True, exist_ok=True)
    cfg = tmp / "config.toml"
    if "[voices]" not in config:
        config += f'\n[voices]\ndir = "{voices}"\n'
    cfg.write_text(config)
    log = tmp / f"server-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, *(command or (str(ROOT / "app.py"),)), "--no-window", "--port", str(port),
         "--config", str(cfg), *args],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    server = VoxServer(proc, port, tmp, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            if "Address already in use" in server.log_text():
                raise PortTaken(port)
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log_text()}")
        try:
            if requests.get(server.url + "/health", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"server did not answer /health in 30 s:\n{server.log_text()}")


LONGEST_FIRST = (
    "test_serve.py", "test_chatterbox_engine.py", "test_stt.py", "test_page_controls.py", "test_speakers.py",
    "test_listen_browser.py", "test_books_server.py", "test_openai_api.py", "test_openapi.py", "test_books_cli.py",
    "test_browser.py", "test_page_access.py", "test_stalled_clients.py", "test_chat_browser.py",
    "test_chatterbox_server.py", "test_soak.py", "test_llm.py",
)  # fmt: skip
"""Test files that take longest (measured), in that order."""


def pytest_collection_modifyitems(session, config, items):
    """``make test`` hands whole files to pytest-xdist workers (``--dist loadfile``) in collection order: the
    longest files go first, so that no worker is left running one of them alone at the end."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # a stable sort keeps each file's order


def pytest_sessionfinish(session, exitstatus):
    """Under ``make test`` (VOX_STRICT=1) every part is installed, so a skipped test is a failure."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("VOX_STRICT") and skipped:
        reporter.write_line(f"VOX_STRICT: {len(skipped)} test(s) skipped; make test installs everything they need",
                            red=True)
        session.exitstatus = 1


def in_process_app(tmp: Path, config: str = ""):
    """Vox's Flask app on ``config`` (config.toml text; its own empty voices folder unless it names one), with its
    own Runtime, in this process. Shut it down with ``app.extensions["vox"].shutdown()``."""
    from vox.runtime import Runtime
    from vox.web.app import create_app

    voices = tmp / "voices"
    voices.mkdir(parents=True, exist_ok=True)
    if "[voices]" not in config:
        config += f'\n[voices]\ndir = "{voices}"\n'
    (tmp / "config.toml").write_text(config)
    settings = load_config(tmp / "config.toml")
    return create_app(settings, Runtime(settings))


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[VoxServer]:
    """One shared server with Piper loaded, for tests that don't change its state."""
    s = start_server(tmp_path_factory.mktemp("vox"))
    assert s.post("/api/tts_load", {"engine": "piper"}).status_code == 200
    yield s
    s.stop()


@pytest.fixture
def fresh_server(tmp_path) -> Iterator[VoxServer]:
    """A server of this test's own (engine not loaded yet)."""
    s = start_server(tmp_path)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (tests/chromium.py) shared by one test module."""
    from playwright import sync_api

    from tests.chromium import launch

    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
