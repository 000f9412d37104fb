"""Sessions without Ray: what a stop covers, what each page hears, N turns at once, and that the default
(``[serve] replicas = 0``) never imports Ray.

A page tab names its session (X-Vox-Session); a stop that names a session covers it and the shared default
session (clients that name none); a stop that names none covers every session, as on the desktop.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import requests

from tests.conftest import ROOT, VoxServer, sse_messages
from vox.engines.manager import TurnLock

STORY = "The keeper climbed the stairs. " + "He polished the great lens until it shone over the water. " * 6


def test_default_vox_serves_a_reply_without_importing_ray():
    """replicas = 0: a reply over a real socket, the statistics answer that there are no replicas, and no module
    of Ray is in ``sys.modules`` afterwards (in a process of its own: this one may have imported Ray)."""
    script = r"""
import json, sys, threading, urllib.request
from vox.web.app import create_app
from vox.config import Config
from vox.runtime import Runtime
from vox.web.server import make_server

config = Config()
assert config.serve.replicas == 0
server = make_server("127.0.0.1", 0, create_app(config, Runtime(config)), 10.0, 16)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.port}"
request = urllib.request.Request(base + "/api/vox_speak_wav", data=json.dumps({"text": "Hello there."}).encode(),
                                 headers={"Content-Type": "application/json"})
wav = urllib.request.urlopen(request, timeout=60).read()
stats = json.load(urllib.request.urlopen(base + "/api/serve/stats", timeout=10))
server.shutdown()
ray = sorted(m for m in sys.modules if m == "ray" or m.startswith("ray."))
print(json.dumps({"wav": len(wav), "stats": stats, "ray": ray}))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["wav"] > 10_000
    assert got["stats"]["enabled"] is False and got["stats"]["replicas"] == []
    assert got["ray"] == []


def test_the_turn_lock_gives_as_many_turns_as_the_engine_has_slots():
    lock = TurnLock()
    first, second = lock.acquire(0, lambda: False, slots=2), lock.acquire(0, lambda: False, slots=2)
    assert first is not None and second is not None and lock.holders == 2
    gave_up = time.monotonic() + 0.1
    assert lock.acquire(0, lambda: time.monotonic() > gave_up, slots=2) is None  # a third waits, may give up
    order: list[int] = []

    def wait(priority: int) -> None:
        lock.acquire(priority, lambda: False, slots=2)
        order.append(priority)

    waiters = [threading.Thread(target=wait, args=(p,)) for p in (1, 0)]
    for t in waiters:
        t.start()
        time.sleep(0.05)
    assert lock.waiting == 2
    lock.release(first)
    time.sleep(0.1)
    assert order == [0]  # conversation before render, whatever the arrival order
    lock.release(second)
    for t in waiters:
        t.join(2)
    assert order == [0, 1] and lock.holders == 2


class Stream(threading.Thread):
    def __init__(self, server: VoxServer, session: str | None) -> None:
        super().__init__(daemon=True)
        self.server, self.session, self.messages = server, session, []
        self.first = threading.Event()
        self.start()

    def run(self) -> None:
        headers = {"X-Vox-Session": self.session} if self.session else {}
        with requests.post(self.server.url + "/api/vox_speak_wav_stream", json={"text": STORY}, headers=headers,
                           stream=True, timeout=60) as r:  # fmt: skip
            for m in sse_messages(r):
                self.messages.append(m)
                self.first.set()

    def end(self) -> dict:
        self.join(60)
        return self.messages[-1]


def test_a_tab_stop_covers_its_session_and_the_shared_one_not_other_tabs(server):
    mine, theirs, shared = Stream(server, "tab-a"), Stream(server, "tab-b"), Stream(server, None)
    assert mine.first.wait(30) and theirs.first.wait(30) and shared.first.wait(30)
    stopped = server.post("/api/vox_stop", headers={"X-Vox-Session": "tab-a"}).json()["stopped"]
    assert len(stopped) == 2
    assert mine.end()["reason"] == "user stop" and shared.end()["reason"] == "user stop"
    last = theirs.end()
    assert last["done"] and not last["stopped"], last


class Page(threading.Thread):
    """A reader of /api/live, as a page tab of ``session`` is."""

    def __init__(self, server: VoxServer, session: str | None) -> None:
        super().__init__(daemon=True)
        self.url = server.url + "/api/live" + (f"?session={session}" if session else "")
        self.messages: list[dict] = []
        self.connected = threading.Event()
        self.response: requests.Response | None = None
        self.closed = False
        self.start()

    def run(self) -> None:
        try:
            with requests.get(self.url, stream=True, timeout=60) as r:
                self.response = r
                self.connected.set()
                for m in sse_messages(r):
                    self.messages.append(m)
        except Exception:  # closing the connection from the test's thread ends the read with an error
            if not self.closed:
                raise

    def close(self) -> None:
        self.closed = True
        if self.response is not None:
            self.response.close()
        self.join(5)


def _push(server: VoxServer, text: str, session: str | None) -> str:
    headers = {"X-Vox-Session": session} if session else {}
    r = server.post("/api/replies", {"sink": "page"}, headers=headers)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    server.post(f"/api/replies/{rid}/text", {"text": text}, headers=headers)
    server.post(f"/api/replies/{rid}/end", headers=headers)
    return rid


def test_each_page_hears_its_own_session_and_the_shared_one(server):
    kitchen, office, anywhere = Page(server, "kitchen"), Page(server, "office"), Page(server, None)
    for page in (kitchen, office, anywhere):
        assert page.connected.wait(10)
    time.sleep(0.3)
    try:
        assert server.post("/api/replies", {"sink": "page"}, headers={"X-Vox-Session": "hall"}).status_code == 409
        _push(server, "Dinner is ready.", "kitchen")
        _push(server, "Everybody, the door.", None)
        deadline = time.monotonic() + 30
        while sum(1 for m in kitchen.messages if m.get("done")) < 2:
            assert time.monotonic() < deadline, kitchen.messages
            time.sleep(0.05)
        time.sleep(0.3)
        said = {name: " ".join(m["text"] for m in page.messages if "audio" in m)
                for name, page in (("kitchen", kitchen), ("office", office), ("anywhere", anywhere))}  # fmt: skip
        assert "Dinner" in said["kitchen"] and "door" in said["kitchen"]
        assert "Dinner" not in said["office"] and "door" in said["office"]
        assert "Dinner" not in said["anywhere"] and "door" in said["anywhere"]
        before = {name: len(p.messages) for name, p in (("kitchen", kitchen), ("office", office))}
        server.post("/api/vox_stop", headers={"X-Vox-Session": "kitchen"})
        time.sleep(0.3)
        kitchen_stops = [m for m in kitchen.messages[before["kitchen"]:] if m.get("stop")]
        office_stops = [m for m in office.messages[before["office"]:] if m.get("stop")]
        assert any("jobs" not in m for m in kitchen_stops), kitchen_stops  # its own session's stop
        assert all("jobs" in m for m in office_stops), office_stops  # only the shared session's, naming its jobs
    finally:
        for page in (kitchen, office, anywhere):
            page.close()
