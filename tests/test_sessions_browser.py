"""Sessions in the page (real Chromium, real server): each tab is its own session, kept across a reload; a
reply in one tab does not replace another tab's, and Esc in one tab leaves the other speaking; a page opened
with ``?session=NAME`` plays the replies pushed for that session, and only that page does."""

from __future__ import annotations

import time

import pytest
import requests

from tests.chromium import new_page

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")

LONG = " ".join(f"This is sentence number {i} of a long reply that keeps going." for i in range(1, 31))


def wait(page, expr: str, timeout: float = 30):
    return page.wait_for_function(expr, timeout=timeout * 1000, polling=50)


def test_two_tabs_speak_at_once_and_stop_alone(browser, server):
    first = new_page(browser, server.url + "/")
    second = first.context.new_page()  # a second tab of the same browser
    second.goto(server.url + "/")
    try:
        for tab in (first, second):
            tab.evaluate("() => vox.ready")
        one, two = first.evaluate("() => vox.session"), second.evaluate("() => vox.session")
        assert one != two and one.startswith("tab-")
        first.reload()
        first.evaluate("() => vox.ready")
        assert first.evaluate("() => vox.session") == one  # kept across a reload (sessionStorage)
        first.evaluate("t => { vox.speak(t); }", LONG)
        wait(first, "() => vox.speaking && vox.chunks.length > 0")
        second.evaluate("t => { vox.speak(t); }", LONG)
        wait(second, "() => vox.speaking && vox.chunks.length > 0")
        assert first.evaluate("() => vox.speaking && vox.last.status === 'streaming'")  # not replaced
        second.keyboard.press("Escape")
        wait(second, "() => !vox.speaking")
        time.sleep(0.5)
        assert first.evaluate("() => vox.speaking && vox.last.status === 'streaming'")
        assert server.get("/api/tts_is_speaking").json()["speaking"]
        first.evaluate("() => vox.stop()")
        wait(first, "() => !vox.speaking")
    finally:
        first.context.close()


def test_a_reply_pushed_for_a_named_session_plays_in_that_page_only(browser, server):
    kitchen = new_page(browser, server.url + "/?session=kitchen")
    other = new_page(browser, server.url + "/")
    try:
        for tab in (kitchen, other):
            tab.evaluate("() => vox.ready")
        assert kitchen.evaluate("() => vox.session") == "kitchen"
        headers = {"X-Vox-Session": "kitchen"}
        deadline = time.monotonic() + 10
        while (r := server.post("/api/replies", {"sink": "page"}, headers=headers)).status_code == 409:
            assert time.monotonic() < deadline, r.text  # until the page's /api/live is connected
            time.sleep(0.1)
        rid = r.json()["id"]
        requests.post(f"{server.url}/api/replies/{rid}/text", json={"text": "Dinner is ready."}, headers=headers,
                      timeout=10)  # fmt: skip
        requests.post(f"{server.url}/api/replies/{rid}/end", headers=headers, timeout=10)
        wait(kitchen, "() => vox.last && vox.last.live && vox.last.status === 'done'", timeout=30)
        assert "Dinner" in kitchen.evaluate("() => vox.last.text")
        time.sleep(0.5)
        assert other.evaluate("() => !vox.last || !vox.last.live")
    finally:
        kitchen.context.close()
        other.context.close()
