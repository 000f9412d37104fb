"""Phone, keyboard and screen reader, in real Chromium: axe-core (axe-playwright-python) on every view with
zero serious or critical violations, nothing wider than a 390 px screen, touch targets of 44 px, one distinct
name per button, tabs with tab panels, live regions that say the right amount, Esc closing what is open before
it means stop, the theme button, a favicon, and stop-all ending a microphone recording.
"""

from __future__ import annotations

import re

import pytest
import requests

from tests.chromium import new_page
from tests.conftest import start_server
from tests.fake_llm import FakeLlm
from tests.test_browser import LONG, wait, wait_playing

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1180, "height": 760}
ANSWER = (
    "Here is a **plan** with code:\n\n```python\n"
    "print('a long line of code that would not fit on a phone screen')\n```"
    "\n\nMore at [the docs](https://example.org/a/long/address/that/goes/on/and/on)."
)


@pytest.fixture(scope="module")
def fake():
    f = FakeLlm(reply=ANSWER, tokens_per_second=400).start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def vox(tmp_path_factory, fake):
    config = f'[llm]\nbase_url = "{fake.base_url}"\nmodel = "llama3.2"\n'
    s = start_server(tmp_path_factory.mktemp("access"), config=config)
    assert s.post("/api/tts_load", {"engine": "piper"}).status_code == 200
    wav = s.post("/api/vox_speak_wav", {"text": LONG[:240]}).content
    r = requests.post(s.url + "/api/voices", files={"file": ("narrator.wav", wav, "audio/wav")},
                      data={"name": "Narrator"}, timeout=60)  # fmt: skip
    assert r.status_code == 201, r.text
    yield s
    s.stop()


def open_page(browser, vox, viewport=DESKTOP, scheme="light"):
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(vox.url + "/")
    page.evaluate("() => vox.ready")
    wait(page, "() => document.querySelector('#status').dataset.state === 'ready'", timeout=30)
    page.missing = missing
    return page


def fill_views(page) -> None:
    """A spoken reply in the Speak tab and an answer in the chat, so the views have their content."""
    page.fill("#text", "Hello there. This is **Vox**, reading a [link](https://example.org).")
    page.click("#speak")
    wait(page, "() => vox.last && vox.last.voiceState === 'done'", timeout=60)


def chat_answer(page) -> None:
    page.click("#mode-chat")
    page.uncheck("#chat-speak")
    page.fill("#chat-input", "Plan my day")
    page.press("#chat-input", "Enter")
    wait(page, "() => vox.chat.last && vox.chat.last.status === 'done'", timeout=30)
    page.wait_for_timeout(300)  # Stop turns back into Send with a 0.12 s colour transition


def serious(page) -> list[str]:
    results = axe_playwright.Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]  # fmt: skip


WIDER = """() => {
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width && r.right > window.innerWidth + 0.5) out.push(`${e.tagName}#${e.id} ${Math.round(r.right)}`);
  }
  return {out, scroll: document.documentElement.scrollWidth, width: window.innerWidth};
}"""

SMALL_TARGETS = """() => {
  const out = [];
  const visible = (e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden';
  for (const e of document.querySelectorAll('button, select, textarea, input, summary, [role=tab]')) {
    if (!visible(e) || e.closest('.md')?.contains(e) && e.tagName === 'A') continue;
    const box = (e.type === 'checkbox' && e.closest('label')) || e;  // a checkbox is hit through its label
    const r = box.getBoundingClientRect();
    const what = `${e.tagName}#${e.id} "${e.textContent.trim().slice(0, 20)}"`;
    if (r.height < 44 || r.width < 44) out.push(`${what} ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return out;
}"""

BUTTON_NAMES = """() => [...document.querySelectorAll('button')]
  .filter((b) => b.getClientRects().length && getComputedStyle(b).visibility !== 'hidden')
  .map((b) => (b.getAttribute('aria-label') || b.textContent).trim())"""


@pytest.mark.parametrize("viewport,scheme", [(DESKTOP, "light"), (DESKTOP, "dark"), (PHONE, "light"), (PHONE, "dark")],
                         ids=["desktop-light", "desktop-dark", "phone-light", "phone-dark"])  # fmt: skip
def test_every_view_passes_axe_and_fits(browser, vox, viewport, scheme):
    page = open_page(browser, vox, viewport, scheme)
    try:
        fill_views(page)
        views = {"main": None}
        page.click("#voices-toggle")
        wait(page, "() => document.querySelectorAll('#voice-list .voice').length >= 2", timeout=10)
        views["voices panel"] = serious(page)
        page.click("#voices-close")
        views["main"] = serious(page)
        chat_answer(page)
        views["chat"] = serious(page)
        assert not any(views.values()), views
        if viewport is PHONE:
            for mode in ("chat", "speak"):
                page.evaluate("m => vox.chat.setMode(m)", mode)
                wide = page.evaluate(WIDER)
                assert wide["scroll"] <= wide["width"] and not wide["out"], (mode, wide)
                assert not page.evaluate(SMALL_TARGETS), (mode, page.evaluate(SMALL_TARGETS))
            page.click("#voices-toggle")
            wide = page.evaluate(WIDER)
            assert wide["scroll"] <= wide["width"] and not wide["out"], ("voices", wide)
            assert not page.evaluate(SMALL_TARGETS), ("voices", page.evaluate(SMALL_TARGETS))
        assert not page.missing, f"404s: {page.missing}"
    finally:
        page.context.close()


def test_names_tabs_slider_and_live_regions(browser, vox):
    page = open_page(browser, vox)
    try:
        # The favicon is served; no 404 on load.
        assert requests.get(vox.url + page.get_attribute("link[rel=icon]", "href"), timeout=10).status_code == 200
        assert not page.missing
        fill_views(page)
        page.fill("#text", "A second reply.")
        page.click("#speak")
        wait(page, "() => vox.last.text === 'A second reply.' && vox.last.voiceState === 'done'", timeout=60)
        chat_answer(page)
        seen = []
        for mode in ("speak", "chat"):  # every button on screen has a name of its own
            page.evaluate("m => vox.chat.setMode(m)", mode)
            names = page.evaluate(BUTTON_NAMES)
            assert not {n for n in names if names.count(n) > 1}, (mode, names)
            assert "Stop" not in names and not [n for n in names if n.startswith("Say again")], names
            seen += names
        assert "Replay reply 1: “Hello there. This is Vox, reading a link.”" in seen, seen
        assert "Replay reply 2: “A second reply.”" in seen, seen
        assert "Replay answer 1: “Here is a plan with code: (code) More at the d…”" in seen, seen
        assert "Copy the python code of answer 1" in seen, seen
        assert "Stop speaking" in seen and "Stop all" in seen, seen
        # Tabs control tab panels that name them back.
        for tab in page.locator("[role=tab]").all():
            panel = page.locator(f"#{tab.get_attribute('aria-controls')}")
            assert panel.get_attribute("role") == "tabpanel"
            assert panel.get_attribute("aria-labelledby") == tab.get_attribute("id")
        # The speed slider says its value as a speed.
        assert page.get_attribute("#speed", "aria-valuetext") == "1.00×"
        page.fill("#speed", "1.25")
        assert page.get_attribute("#speed", "aria-valuetext") == "1.25×"
        # No jargon anywhere on the page.
        text = page.inner_text("body")
        assert not re.search(r"\bQuiet\b|\d/\d+ ready|\bcpu\b|loads on first use", text), text
        # Information is polite (role=status), an error is an alert.
        page.evaluate("() => vox.chat.setMode('chat')")
        page.fill("#chat-input", "")
        page.click("#chat-send")
        assert page.inner_text("#message-status") == "Type a message for the assistant first."
        assert page.inner_text("#message-alert") == ""
        page.evaluate("() => vox.chat.setMode('speak')")
        page.evaluate("""() => { const s = document.querySelector('#voice');
                                 s.append(new Option('Nobody', 'nobody')); s.value = 'nobody'; }""")
        page.fill("#text", "Hello.")
        page.click("#speak")
        wait(page, "() => document.querySelector('#message-alert').textContent.includes('nobody')", timeout=10)
        assert page.inner_text("#message-status") == ""
        assert page.input_value("#text") == "Hello.", "a failed Speak lost the text"
    finally:
        page.context.close()


def test_esc_closes_the_rename_box_before_it_stops(browser, vox):
    page = open_page(browser, vox)
    posted = []
    page.on("request", lambda r: posted.append(r.url.split("/api/")[-1]) if r.method == "POST" else None)
    try:
        page.click("#voices-toggle")
        page.evaluate("t => { vox.speak(t); }", LONG)
        wait_playing(page, 0.3)
        page.get_by_role("button", name="Rename Narrator").click()
        assert page.evaluate("() => !!document.activeElement.closest('#voice-list form.rename')")
        page.keyboard.press("Escape")
        assert page.locator("#voice-list form.rename").count() == 0, "Esc did not close the rename box"
        page.wait_for_timeout(200)
        assert page.evaluate("() => vox.speaking") and "vox_stop" not in posted, "Esc stopped speech too"
        page.keyboard.press("Escape")
        wait(page, "() => !vox.speaking", timeout=5)
        assert "vox_stop" in posted
    finally:
        page.context.close()


def test_theme_button_overrides_the_system_and_is_remembered(browser, vox):
    page = open_page(browser, vox, scheme="dark")
    bg = "() => getComputedStyle(document.body).backgroundColor"
    try:
        dark = page.evaluate(bg)
        assert page.get_attribute("#theme", "aria-label") == "System theme; switch to light theme"
        page.click("#theme")
        assert page.get_attribute("html", "data-theme") == "light" and page.evaluate(bg) != dark
        light = page.evaluate(bg)
        page.reload()
        page.evaluate("() => vox.ready")
        assert page.get_attribute("html", "data-theme") == "light" and page.evaluate(bg) == light
        page.click("#theme")
        assert page.get_attribute("html", "data-theme") == "dark" and page.evaluate(bg) == dark
        page.click("#theme")
        assert page.get_attribute("html", "data-theme") is None and page.evaluate(bg) == dark  # the system's
    finally:
        page.context.close()


def test_stop_all_ends_a_recording(browser, vox):
    """Chromium's fake microphone (tests/chromium.py launches with it) records a tone."""
    page = new_page(browser, vox.url + "/")
    try:
        page.evaluate("() => vox.ready")
        page.click("#voices-toggle")
        assert page.locator("#stop-all").is_disabled()
        page.click("#record-start")
        wait(page, "() => !document.querySelector('#record-stop').disabled", timeout=10)
        assert page.locator("#stop-all").is_enabled(), "Stop all is disabled while recording"
        page.wait_for_timeout(600)
        page.keyboard.press("Shift+Escape")
        wait(page, "() => document.querySelector('#record-stop').disabled", timeout=5)
        wait(page, "() => !document.querySelector('#record-save-row').hidden", timeout=10)
        assert page.locator("#stop-all").is_disabled()
    finally:
        page.context.close()
