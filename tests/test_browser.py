"""The page in real Chromium against a real server with real Piper: what the page plays, and how it stops.

What the page played is recorded inside the page, sample-exactly (tests/chromium.py RECORDER_JS: the
AudioContext is forced to Piper's 22050 Hz and everything connected to its destination is also recorded
by an AudioWorklet); the server's chunks are captured from the same SSE stream the page reads.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests import conftest
from tests.chromium import Recording, added_silence, locate_exact, new_page, sse_chunks
from tests.conftest import start_server

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")

REPLY = (
    "Good morning! The weather today is sunny with a light breeze. The meeting moved to three. "
    "Please bring the report and the charts. We expect a lot of visitors this year. That is a record. "
    "Thanks for listening, and have a great day."
)
LONG = " ".join(f"This is sentence number {i} of a long reply that keeps going." for i in range(1, 31))
MS = 0.001


@pytest.fixture(scope="module")
def warm(server):
    """Piper's first synthesis is slow (ONNX warm-up); don't let it make the first test's server late."""
    assert server.post("/api/vox_speak_wav", {"text": "Warm up."}).status_code == 200
    return server


@pytest.fixture
def page(browser, server, warm):
    page = new_page(browser, server.url + "/")
    page.evaluate("() => vox.ready")
    yield page
    page.context.close()


def wait(page, expr: str, timeout: float = 30, arg=None):
    return page.wait_for_function(expr, arg=arg, timeout=timeout * 1000, polling=50)


def wait_playing(page, seconds: float = 0.3):
    """Until the page has played ``seconds`` of its current reply."""
    wait(page, "s => vox.chunks.length && vox.ctx.currentTime > vox.chunks[0].start + s", arg=seconds)


def wait_idle(server, timeout: float = 2.0) -> float:
    """Seconds until the server says it is no longer speaking (fails after ``timeout``)."""
    t0 = time.monotonic()
    while server.get("/api/tts_is_speaking").json()["speaking"]:
        assert time.monotonic() - t0 < timeout, "the server is still generating after the stop"
        time.sleep(0.02)
    return time.monotonic() - t0


def last_input_time(page, **match) -> float:
    """Audio-clock time of the latest click/keydown matching ``match`` (recorded by the init script)."""
    inputs = [i for i in page.evaluate("() => window.__rec.inputs") if all(i.get(k) == v for k, v in match.items())]
    assert inputs, f"no input event {match}"
    return inputs[-1]["t"]


def assert_silent_after(page, t_action: float, within: float = 300 * MS) -> Recording:
    """The page's output has no sound later than ``within`` after ``t_action`` (audio-clock seconds). The page
    fades out in a few ms; the margin is for a page whose main thread waits for a loaded machine (load 10)."""
    rec = Recording(page)
    last = rec.last_sound()
    assert last is not None, "nothing was recorded"
    late = rec.time(last) - t_action
    assert late < within, f"sound {late * 1000:.0f} ms after the stop"
    return rec


def assert_gapless(rec: Recording, chunks: list[dict]) -> list[tuple[float, float]]:
    """Each chunk is in the output sample-exactly and in order. One that arrived before its predecessor
    ended follows it on the very next sample; one the server was late with (a loaded machine) starts
    within a few ms of arriving."""
    boundaries = added_silence(rec, chunks, exact=True)
    for silence, waited in boundaries:
        assert silence >= 0, "chunks overlap"
        # A late chunk may take the player's lead (10 ms) plus its decode on a loaded machine.
        assert silence - waited < (5 if waited == 0 else 50) * MS, f"boundaries (silence, waited): {boundaries}"
    return boundaries


def test_reply_plays_gaplessly_and_sample_exact(page):
    page.fill("#text", REPLY)
    page.click("#speak")
    wait(page, "() => vox.last && vox.last.status === 'done'", timeout=60)
    wait(page, "() => !vox.speaking", timeout=60)
    chunks = sse_chunks(page)
    assert len(chunks) >= 3 and [c["idx"] for c in chunks] == sorted(c["idx"] for c in chunks)
    rec = Recording(page)
    # Every chunk is in the output, sample for sample, in order, and nothing else is.
    boundaries = assert_gapless(rec, chunks)
    assert any(waited == 0 for _, waited in boundaries), f"the server was late at every boundary: {boundaries}"
    first = locate_exact(rec.pcm, chunks[0]["pcm"])
    end = locate_exact(rec.pcm, chunks[-1]["pcm"]) + len(chunks[-1]["pcm"])
    assert not np.any(rec.pcm[:first]) and not np.any(rec.pcm[end:]), "sound outside the reply"
    # Playback started as soon as the first chunk arrived, long before the last one did.
    started = rec.time(first)
    # (a margin for a loaded machine: the page schedules a chunk as it arrives, bench row 1 times first audio)
    assert started - chunks[0]["arrived"] < 500 * MS, f"first chunk waited {started - chunks[0]['arrived']:.3f} s"
    assert started < chunks[-1]["arrived"], "the page waited for the whole reply"
    # The card showed the whole reply from the start, and shows it still.
    card = page.locator("#conversation .reply").last
    assert card.locator(".msg-body").inner_text() == REPLY
    assert card.get_attribute("data-state") == "done"


def test_stop_mid_reply_is_silent_at_once_and_ends_generation(page, server):
    page.fill("#text", LONG)
    page.click("#speak")
    wait_playing(page, 0.5)
    assert server.get("/api/tts_is_speaking").json()["speaking"]
    page.click("#stop")
    t_stop = last_input_time(page, type="click", id="stop")
    assert wait_idle(server) < 1.0
    page.wait_for_timeout(700)  # long enough for a stale chunk to show up if one could
    assert_silent_after(page, t_stop)
    assert page.locator("#conversation .reply").last.get_attribute("data-state") == "stopped"
    assert page.evaluate("() => vox.speaking") is False


def test_stop_all_button(page, server):
    posted = []
    page.on("request", lambda r: posted.append(r.url.split("/api/")[-1]) if r.method == "POST" else None)
    page.evaluate("t => { vox.speak(t); }", LONG)
    wait_playing(page)
    page.click("#stop-all")
    t_stop = last_input_time(page, type="click", id="stop-all")
    wait_idle(server)
    page.wait_for_timeout(500)
    assert_silent_after(page, t_stop)
    assert "stop_all_vox" in posted


def test_hotkeys_from_config_are_shown_and_work(page, server):
    hint = page.locator("#hotkeys").inner_text()
    assert "Ctrl+Enter" in hint.replace(" ", "") and "Esc" in hint and "Shift+Esc" in hint.replace(" ", "")
    posted = []
    page.on("request", lambda r: posted.append(r.url.split("/api/")[-1]) if r.method == "POST" else None)
    page.fill("#text", LONG)
    page.focus("#text")
    page.keyboard.press("Control+Enter")
    wait_playing(page)
    page.keyboard.press("Escape")
    t_stop = last_input_time(page, type="keydown", key="Escape")
    wait_idle(server)
    page.wait_for_timeout(300)
    assert_silent_after(page, t_stop)
    assert "vox_stop" in posted and "stop_all_vox" not in posted
    page.evaluate("t => { vox.speak(t); }", LONG)
    wait_playing(page)
    page.keyboard.press("Shift+Escape")
    t_stop = last_input_time(page, type="keydown", key="Escape")
    wait_idle(server)
    page.wait_for_timeout(300)
    assert_silent_after(page, t_stop)
    assert "stop_all_vox" in posted


def test_new_reply_replaces_the_one_playing(page):
    page.evaluate("t => { vox.speak(t); }", LONG)
    wait_playing(page, 0.4)
    page.fill("#text", "Second reply. It replaces the first one.")
    page.click("#speak")
    t_replace = last_input_time(page, type="click", id="speak")
    wait(page, "() => vox.last.text.startsWith('Second') && vox.last.status === 'done'", timeout=30)
    wait(page, "() => !vox.speaking", timeout=30)
    rec = Recording(page)
    chunks = sse_chunks(page, req=2)
    assert_gapless(rec, chunks)
    second = [c["pcm"] for c in chunks]
    # After the replacement, the output is exactly the second reply: not one sample of the first.
    start = locate_exact(rec.pcm, second[0])
    cut = rec.index(t_replace + 150 * MS)  # generous: a loaded machine delays the click handler
    assert not np.any(rec.pcm[cut:start]), "the first reply kept playing after the second was asked for"
    assert not np.any(rec.pcm[start + sum(len(c) for c in second) :])
    states = [r.get_attribute("data-state") for r in page.locator("#conversation .reply").all()]
    assert states == ["replaced", "done"]


def test_unknown_voice_shows_the_servers_error(page):
    page.evaluate(
        """() => { const s = document.querySelector('#voice');
                   s.append(new Option('Nobody', 'nobody')); s.value = 'nobody'; }"""
    )
    page.fill("#text", "Hello there.")
    page.click("#speak")
    message = page.locator("#message")
    message.wait_for(state="visible", timeout=10_000)
    assert "nobody" in message.inner_text() and "joe" in message.inner_text()
    assert page.locator("#conversation .reply").last.get_attribute("data-state") == "error"
    assert page.evaluate("() => vox.speaking") is False


def test_server_killed_then_restarted(browser, tmp_path, monkeypatch):
    srv = start_server(tmp_path / "a", config='[hotkeys]\nspeak = "Alt+S"\n')
    page = new_page(browser, srv.url + "/")
    page.evaluate("() => vox.ready")
    try:
        # The configured hotkey is the one shown and the one that works.
        assert "Alt+S" in page.locator("#hotkeys").inner_text().replace(" ", "")
        page.fill("#text", LONG)
        page.keyboard.press("Alt+s")
        wait(page, "() => vox.chunks.length > 0", timeout=60)
        srv.proc.kill()
        srv.proc.wait(5)
        message = page.locator("#message")
        wait(page, "() => /lost|reach/.test(document.querySelector('#message').innerText)", timeout=10)
        assert "Vox server" in message.inner_text()
        wait(page, "() => document.querySelector('#status').dataset.state === 'offline'", timeout=5)
        # Back on the same port: the page notices by itself, and speaking works again without a reload.
        monkeypatch.setattr(conftest, "free_port", lambda port=srv.port: port)  # start_server picks the port
        srv = start_server(tmp_path / "b")
        wait(page, "() => document.querySelector('#status').dataset.state !== 'offline'", timeout=10)
        page.fill("#text", "Back again.")
        page.click("#speak")
        wait(page, "() => vox.last.text === 'Back again.' && vox.last.status === 'done'", timeout=60)
        assert page.locator("#conversation .reply").last.get_attribute("data-state") in ("streaming", "done")
    finally:
        page.context.close()
        srv.stop()


def test_reply_pushed_by_another_program_plays_in_the_page(page, server):
    # The page listens on /api/live; until it is connected the server answers 409 ("no Vox page is open").
    deadline = time.monotonic() + 10
    while (r := server.post("/api/replies", {"sink": "page"})).status_code == 409:
        assert time.monotonic() < deadline, r.text
        time.sleep(0.1)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    for delta in ("Hello from another program. ", "It streams its reply ", "into Vox as it writes it."):
        assert server.post(f"/api/replies/{rid}/text", {"text": delta}).status_code == 202
    assert server.post(f"/api/replies/{rid}/end").status_code == 200
    wait(page, "() => vox.last && vox.last.live && vox.last.status === 'done' && !vox.speaking", timeout=60)
    assert sse_chunks(page) == [], "the page's own speak stream was not involved"
    rec = Recording(page)
    assert np.abs(rec.pcm).max() > 0.05, "the pushed reply was not played"
    bubble = page.locator("#conversation .reply").last
    assert "Hello from another program." in bubble.inner_text()
    assert bubble.get_attribute("data-state") == "done"


def test_play_on_speakers_uses_the_host_and_shows_its_answer(page):
    posted = []
    page.on("request", lambda r: posted.append(r.url.split("/api/")[-1]) if r.method == "POST" else None)
    page.check("#speakers")
    page.fill("#text", "On the speakers.")
    page.click("#speak")
    # Either the host plays it, or (no sound device here) the server's 503 message is shown.
    wait(page, "() => ['done', 'error'].includes(document.querySelector('#conversation .reply').dataset.state)")
    state = page.locator("#conversation .reply").last.get_attribute("data-state")
    if state == "error":
        assert "speakers" in page.locator("#message").inner_text().lower()
    assert "vox_speak" in posted and "vox_speak_wav_stream" not in posted
    assert page.evaluate("() => vox.ctx") is None, "the page itself played audio"
    if state == "done":
        page.click("#stop")  # stops host playback too (same stop path)
