"""The LLM chat in real Chromium: a real Vox server with real Piper, and the fake LLM server at 30 tokens/s.

The reply streams into the view token by token while the page already plays its first sentences; the view
renders the markdown while the voice says plain text; Esc silences the voice and the text goes on; Shift+Esc
stops everything and the LLM server sees its connection close; Clear empties the history; with no LLM server
the page says how to start one and typed text still speaks. What the page played is recorded inside the page
(tests/chromium.py RECORDER_JS), so "silent after the stop" is checked on the samples themselves.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from tests.chromium import Recording, new_page
from tests.conftest import start_server
from tests.fake_llm import FakeLlm
from tests.test_browser import assert_silent_after, last_input_time

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")

REPLY = (
    "Sure! Here is a **short plan** for your *trip* to Paris.\n\n"
    "## Morning\n\n"
    "1. Visit the `Louvre` early, before the crowds arrive.\n"
    "2. Walk along the **Seine** to Notre-Dame.\n\n"
    "## Afternoon\n\n"
    "- Have lunch in the *Marais* with a friend.\n"
    "- Climb the Eiffel Tower at sunset.\n\n"
    "Enjoy your day in Paris, and take lots of photos!"
)
STEADY = " ".join(["Here is one more sentence of the answer."] * 12)  # about 4 s at 30 tokens/s
LONG = " ".join(["This reply goes on and on for a long time."] * 40)  # about 15 s
MS = 0.001
ASSISTANT = "#chat-log .msg.assistant"


@pytest.fixture(scope="module")
def shared_fake():
    f = FakeLlm(reply=REPLY, tokens_per_second=30).start()
    yield f
    f.stop()


@pytest.fixture
def fake(shared_fake):
    """The module's fake LLM server, reset for each test."""
    return shared_fake.reset(reply=REPLY, tokens_per_second=30)


@pytest.fixture(scope="module")
def vox_server(tmp_path_factory, shared_fake):
    s = start_server(tmp_path_factory.mktemp("chat"),
                     config=f'[llm]\nbase_url = "{shared_fake.base_url}"\nmodel = "test-model"\n')
    assert s.post("/api/tts_load", {"engine": "piper"}).status_code == 200
    assert s.post("/api/vox_speak_wav", {"text": "Warm up."}).status_code == 200  # ONNX warm-up
    yield s
    s.stop()


def history(vox_server, page) -> list[dict]:
    """The chat history the server keeps for this page's tab (its session)."""
    headers = {"X-Vox-Session": page.evaluate("() => vox.session")}
    return vox_server.get("/api/chat/history", headers=headers).json()["messages"]


def open_chat(browser, url: str):
    page = new_page(browser, url + "/")
    page.evaluate("() => vox.ready")
    page.click("#mode-chat")
    return page


@pytest.fixture
def page(browser, vox_server, fake):
    requests.delete(vox_server.url + "/api/chat/history", timeout=10)
    page = open_chat(browser, vox_server.url)
    yield page
    page.context.close()
    vox_server.post("/api/stop_all_vox")  # what the closed page left generating must not slow the next test


def wait(page, expr: str, timeout: float = 30, arg=None):
    return page.wait_for_function(expr, arg=arg, timeout=timeout * 1000, polling=30)


def wait_playing(page, seconds: float = 0.3):
    """Until the page has played ``seconds`` of the chat reply's audio."""
    wait(page, "s => vox.chunks.length && vox.ctx.currentTime > vox.chunks[0].start + s", arg=seconds)


def send(page, text: str) -> None:
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")


SAMPLER = """() => {
  // Every 30 ms: how much of the reply the view shows, whether the LLM is still writing, whether sound plays.
  const samples = (window.__samples = []);
  const timer = setInterval(() => {
    const r = vox.chat.last;
    const msg = [...document.querySelectorAll('#chat-log .msg.assistant')].pop();
    if (!r || !msg) return;
    const typing = msg.querySelector('.typing');
    samples.push({
      len: msg.querySelector('.msg-body').textContent.length,
      status: r.status,
      busy: msg.getAttribute('aria-busy'),
      typing: !!typing && typing.offsetParent !== null,
      playing: !!(vox.ctx && vox.chunks.length && vox.ctx.currentTime > vox.chunks[0].start),
      spoken: vox.spoken,
    });
    if (r.status !== 'waiting' && r.status !== 'streaming') clearInterval(timer);
  }, 30);
}"""


def test_reply_streams_token_by_token_renders_markdown_and_speaks_while_written(page, fake):
    page.evaluate(SAMPLER)
    send(page, "Plan my day in Paris")
    wait(page, "() => vox.chat.last && vox.chat.last.status === 'done'", timeout=60)
    samples = page.evaluate("() => window.__samples")
    streaming = [s for s in samples if s["status"] == "streaming"]
    lengths = [s["len"] for s in streaming]
    # Token by token: many intermediate states, each longer than the one before (nothing shown is taken back).
    final = page.locator(ASSISTANT).last.locator(".msg-body").inner_text()
    assert len({n for n in lengths if 0 < n < samples[-1]["len"]}) >= 8, lengths
    assert lengths == sorted(lengths) and max(lengths) <= samples[-1]["len"]
    # While the LLM writes: a typing indicator, and the message marked busy for screen readers.
    assert all(s["typing"] and s["busy"] == "true" for s in streaming)
    assert page.locator(ASSISTANT).last.locator(".typing").is_hidden()
    assert page.locator(ASSISTANT).last.get_attribute("aria-busy") == "false"
    assert page.locator("#chat-log").get_attribute("aria-live") == "polite"
    # The page played the reply's first sentences before the LLM had finished writing it.
    assert any(s["playing"] for s in streaming), "no sound before the reply was complete"
    assert fake.finished.is_set()
    # The view renders the markdown, safely; the voice says the words without the marks.
    body = page.locator(ASSISTANT).last.locator(".msg-body")
    assert body.locator("strong").first.inner_text() == "short plan"
    assert body.locator("em").first.inner_text() == "trip"
    assert body.locator("code").inner_text() == "Louvre"
    assert body.locator("h4").all_inner_texts() == ["Morning", "Afternoon"]
    assert body.locator("ol > li").count() == 2 and body.locator("ul > li").count() == 2
    assert not any(mark in final for mark in ("**", "`", "##"))
    # The sentence heard was highlighted as the page shows it, while the reply was still being written: a list
    # item without its number, inline code without its backticks (offsets from the server, not a search).
    spoken = {s["spoken"] for s in samples if s["status"] == "streaming" and s["spoken"]}
    assert "Visit the Louvre early, before the crowds arrive." in spoken or "Morning" in spoken, spoken
    assert spoken <= {"Sure!", "Here is a short plan for your trip to Paris.", "Morning",
                      "Visit the Louvre early, before the crowds arrive.", "Walk along the Seine to Notre-Dame.",
                      "Afternoon", "Have lunch in the Marais with a friend.", "Climb the Eiffel Tower at sunset.",
                      "Enjoy your day in Paris, and take lots of photos!"}, spoken  # fmt: skip
    played = page.evaluate("() => vox.chat.last.schedule.map(c => c.text)")
    assert played and "Louvre" in " ".join(played)
    assert not any(mark in t for t in played for mark in ("*", "`", "#")), played
    assert Recording(page).last_sound(0.05) is not None, "the reply was not heard"
    # The user's message is in the conversation too, and the input is ready for the next one.
    assert page.locator("#chat-log .msg.user").inner_text().startswith("Plan my day in Paris")
    assert page.input_value("#chat-input") == ""


def test_esc_silences_the_voice_while_the_text_completes(page, fake, vox_server):
    fake.reply = STEADY
    posted = []
    page.on("request", lambda r: posted.append(r.url.split("/api/")[-1]) if r.method == "POST" else None)
    send(page, "Keep talking")
    wait_playing(page)
    shown = page.evaluate(f"() => document.querySelector('{ASSISTANT} .msg-body').textContent.length")
    assert page.evaluate("() => vox.chat.last.status") == "streaming"
    page.keyboard.press("Escape")
    t_stop = last_input_time(page, type="keydown", key="Escape")
    wait(page, "() => vox.chat.last.status === 'done'", timeout=30)
    assert fake.finished.is_set() and not fake.disconnected.is_set()
    reply = page.locator(ASSISTANT).last
    assert reply.locator(".msg-body").inner_text().strip() == STEADY
    assert len(STEADY) > shown, "the reply was already complete when Esc was pressed"
    assert reply.get_attribute("data-state") == "done" and reply.get_attribute("data-voice") == "stopped"
    assert "Voice stopped" in reply.locator(".msg-meta").inner_text()
    page.wait_for_timeout(300)  # long enough for a stale chunk to play if one could
    assert_silent_after(page, t_stop)
    assert "vox_stop" in posted and "stop_all_vox" not in posted
    assert not vox_server.get("/api/tts_is_speaking").json()["speaking"]


def test_shift_esc_stops_the_reply_and_closes_the_llm_connection(page, fake):
    fake.reply = LONG
    send(page, "Talk for a long time")
    wait_playing(page)
    page.keyboard.press("Shift+Escape")
    t_stop = last_input_time(page, type="keydown", key="Escape")
    assert fake.disconnected.wait(5), "the LLM server did not see its connection close"
    wait(page, "() => vox.chat.last.status === 'stopped'", timeout=10)
    assert not fake.finished.is_set()
    reply = page.locator(ASSISTANT).last
    assert reply.get_attribute("data-state") == "stopped"
    assert "Stopped" in reply.locator(".msg-meta").inner_text()
    assert reply.locator(".typing").is_hidden()
    text = reply.locator(".msg-body").inner_text()
    assert 0 < len(text) < len(LONG)
    page.wait_for_timeout(400)
    assert reply.locator(".msg-body").inner_text() == text, "text kept arriving after stop-all"
    assert_silent_after(page, t_stop)
    assert page.evaluate("() => vox.speaking") is False
    # The page is ready for the next message.
    assert page.locator("#chat-send").is_enabled()


def test_history_comes_back_and_clear_empties_it(page, fake, vox_server):
    fake.reply, fake.tokens_per_second = "Hello! How can I **help** you?", 200
    chats = []
    page.on("request", lambda r: chats.append(r.post_data_json) if r.url.endswith("/api/chat") else None)
    page.uncheck("#chat-speak")  # "Speak replies" off: text only
    page.fill("#chat-input", "First line")
    page.press("#chat-input", "Shift+Enter")  # a new line, not a send
    page.type("#chat-input", "second line")
    assert page.input_value("#chat-input") == "First line\nsecond line" and not fake.requests
    page.press("#chat-input", "Enter")
    wait(page, "() => vox.chat.last && vox.chat.last.status === 'done'", timeout=30)
    assert chats[-1]["speak"] is False and chats[-1]["message"] == "First line\nsecond line"
    assert page.evaluate("() => vox.ctx") is None, "a reply not to be spoken was played"
    assert len(history(vox_server, page)) == 2
    # A reload shows the conversation again (from the server), in the mode the page was left in.
    page.reload()
    page.evaluate("() => vox.ready")
    assert page.locator("#mode-chat").get_attribute("aria-selected") == "true"
    assert page.locator("#chat-log .msg").count() == 2
    assert page.locator(f"{ASSISTANT} strong").inner_text() == "help"
    assert not page.locator("#chat-speak").is_checked(), "the Speak replies choice is remembered"
    # The tabs work from the keyboard.
    page.focus("#mode-chat")
    page.keyboard.press("ArrowLeft")
    assert page.locator("#text").is_visible() and page.locator("#chat").is_hidden()
    page.keyboard.press("ArrowRight")
    assert page.locator("#chat-log").is_visible() and page.locator("#text").is_hidden()
    # Clear asks first; Esc (or Cancel) keeps the conversation, and does not mean "stop" while the dialog is open.
    posted = []
    page.on("request", lambda r: posted.append(r.url.split("/api/")[-1]) if r.method in ("POST", "DELETE") else None)
    page.click("#chat-clear")
    assert page.locator("#confirm").is_visible() and "Clear the conversation?" in page.inner_text("#confirm")
    page.keyboard.press("Escape")
    assert page.locator("#confirm").is_hidden() and page.locator("#chat-log .msg").count() == 2
    assert not posted, f"Esc in the dialog sent {posted}"
    page.click("#chat-clear")
    page.click("#confirm-ok")
    wait(page, "() => !document.querySelector('#chat-log .msg')", timeout=10)
    assert page.locator("#chat-empty").is_visible()
    assert history(vox_server, page) == []


def test_llm_down_says_how_to_start_one_and_typed_text_still_speaks(browser, tmp_path):
    server = start_server(tmp_path, config='[llm]\nbase_url = "http://127.0.0.1:9/v1"\n')
    page = open_chat(browser, server.url)
    try:
        send(page, "Hello?")
        wait(page, "() => vox.chat.last && vox.chat.last.status === 'error'", timeout=30)
        error = page.locator(f"{ASSISTANT} .msg-error")
        assert error.get_attribute("role") == "alert"
        text = error.inner_text()
        assert "Ollama" in text and "ollama serve" in text and "127.0.0.1:9" in text, text
        assert page.locator("#chat-llm").get_attribute("data-state") == "error"
        assert page.evaluate("() => vox.speaking") is False
        # Speaking typed text is unaffected.
        page.click("#mode-speak")
        page.fill("#text", "Typed text still speaks.")
        page.click("#speak")
        wait(page, "() => vox.last && vox.last.text === 'Typed text still speaks.' && vox.last.status === 'done'",
             timeout=60)
        assert page.locator("#conversation .reply").last.get_attribute("data-state") in ("streaming", "done")
        assert page.locator("#chat").is_hidden()
    finally:
        page.context.close()
        server.stop()


def test_send_turns_into_stop_and_the_interrupted_turn_keeps_what_was_heard(page, fake, vox_server):
    fake.reply = LONG
    send(page, "Talk for a long time")
    send_button = page.locator("#chat-send")
    wait(page, "() => document.querySelector('#chat-send').textContent === 'Stop reply'", timeout=10)
    assert send_button.is_enabled() and "danger" in send_button.get_attribute("class")
    wait(page, "() => vox.spoken && vox.ctx.currentTime > vox.chunks[0].start + 3.5", timeout=60)
    heard_sentence = page.evaluate("() => vox.spoken")
    send_button.click()
    wait(page, "() => vox.chat.last.status === 'stopped'", timeout=10)
    assert fake.disconnected.wait(5), "Stop in place of Send did not stop the LLM"
    assert send_button.inner_text() == "Send"
    shown = page.locator(ASSISTANT).last.locator(".msg-body").inner_text()
    # The server keeps the turn, marked, with what was heard: whole sentences, up to the one being heard.
    deadline = time.monotonic() + 5
    while True:
        remembered = history(vox_server, page)
        kept = remembered[-1]["content"] if remembered else ""
        if remembered and (len(kept) < len(shown) or time.monotonic() > deadline):
            break
        time.sleep(0.05)
    assert [m["role"] for m in remembered] == ["user", "assistant"] and remembered[1]["interrupted"] is True
    assert kept and LONG.startswith(kept) and kept.endswith(heard_sentence), (kept[-60:], heard_sentence)
    assert len(kept) < len(shown), "the history kept what was written, not what was heard"
    # After a reload the answer is shown as it is remembered: what was heard, marked interrupted.
    page.reload()
    page.evaluate("() => vox.ready")
    assert page.locator(ASSISTANT).last.locator(".msg-body").inner_text().strip() == kept.strip()
    assert "Interrupted" in page.locator(ASSISTANT).last.locator(".msg-meta").inner_text()
    # And the model reads that it was cut off there.
    fake.reset(reply="Sorry, I will be brief.", tokens_per_second=300)
    page.uncheck("#chat-speak")
    send(page, "Shorter please")
    wait(page, "() => vox.chat.last && vox.chat.last.status === 'done'", timeout=30)
    sent = fake.requests[-1]["messages"]
    assert sent[2]["content"].startswith(kept.rstrip()) and "interrupted" in sent[2]["content"]


CODE_REPLY = (
    "Run this:\n\n```python\nprint('hi')\n```\n\n"
    "More at [the docs](https://example.org/docs) or https://example.com. Not [this](javascript:alert(1))."
)


def test_code_blocks_copy_links_open_and_answers_replay_and_download(page, fake, vox_server):
    fake.reply, fake.tokens_per_second = CODE_REPLY, 300
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=vox_server.url)
    page.uncheck("#chat-speak")
    send(page, "Show me code")
    wait(page, "() => vox.chat.last && vox.chat.last.status === 'done'", timeout=30)
    answer = page.locator(ASSISTANT).last
    copy = answer.get_by_role("button", name="Copy the python code of answer 1")
    copy.click()
    assert page.evaluate("() => navigator.clipboard.readText()") == "print('hi')"
    wait(page, "() => document.querySelector('.md-copy').dataset.done === 'true'", timeout=5)
    links = answer.locator("a.md-link")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "https://example.org/docs", "https://example.com"]  # fmt: skip
    assert all(links.nth(i).get_attribute("target") == "_blank" for i in range(links.count()))
    assert all("noopener" in links.nth(i).get_attribute("rel") for i in range(links.count()))
    assert not page.locator("a[href^='javascript']").count() and "this" in answer.inner_text()
    # Replay speaks the answer (even with "Speak replies" off), highlighting it in place.
    answer.get_by_role("button", name=re.compile(r"^Replay answer 1")).click()
    wait(page, "() => vox.spoken === 'Run this:'", timeout=30)
    wait(page, "() => vox.chat.last.voiceState === 'done'", timeout=30)
    assert Recording(page).last_sound(0.05) is not None
    # Download gives the answer as one WAV.
    with page.expect_download(timeout=60_000) as info:
        answer.get_by_role("button", name=re.compile(r"^Download answer 1")).click()
    wav = Path(info.value.path()).read_bytes()
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and len(wav) > 22050
    assert info.value.suggested_filename.startswith("vox-run-this") and info.value.suggested_filename.endswith(".wav")
