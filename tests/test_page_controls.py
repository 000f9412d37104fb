"""The Speak tab in real Chromium against a real server with real Piper: the whole reply shown at once with the
sentence being heard highlighted from the server's offsets, Buffering when the audio is late, pause and resume,
the fade on stop (measured on the samples), replay and download, the controls enabled only when they can act,
a new voice that the loaded engine cannot speak, and the engine loading as the page opens.
"""

from __future__ import annotations

import io
import re
import time
import wave

import numpy as np
import pytest

from tests.chromium import Recording, locate_exact, new_page, sse_chunks
from tests.conftest import start_server
from tests.test_browser import LONG, REPLY, wait, wait_playing

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")

MARKDOWN = (
    "Sure, here is the **plan** for today. It has two steps.\n\n## Morning\n\n"
    "1. Walk [home](https://example.org) now.\n2. Eat lunch at noon.\n\nBye for now, and see you soon!"
)
SENTENCES = ["Sure, here is the plan for today.", "It has two steps.", "Morning", "Walk home now.",
             "Eat lunch at noon.", "Bye for now, and see you soon!"]  # fmt: skip
CARD = "#conversation .reply"


@pytest.fixture(scope="module")
def vox(tmp_path_factory):
    """A server of this module's own: the upload test adds a voice to its library."""
    s = start_server(tmp_path_factory.mktemp("controls"))
    assert s.post("/api/tts_load", {"engine": "piper"}).status_code == 200
    assert s.post("/api/vox_speak_wav", {"text": "Warm up."}).status_code == 200
    yield s
    s.stop()


@pytest.fixture
def page(browser, vox):
    page = new_page(browser, vox.url + "/")
    page.evaluate("() => vox.ready")
    yield page
    page.context.close()
    vox.post("/api/stop_all_vox")


SAMPLER = """() => {
  // Every 15 ms while the reply plays: the audio time, the chunk playing then, and the sentence highlighted.
  const out = (window.__heard = []);
  const timer = setInterval(() => {
    if (!vox.ctx || !vox.chunks.length) return;
    const t = vox.ctx.currentTime;
    const now = vox.chunks.find((c) => c.start <= t && t < c.end);
    out.push({ t, idx: now ? now.idx : null, spoken: vox.spoken });
    if (vox.last && vox.last.voiceState === 'done') clearInterval(timer);
  }, 15);
}"""


def test_the_whole_reply_shows_at_once_and_the_sentence_heard_is_highlighted(page):
    page.fill("#text", MARKDOWN)
    page.click("#speak")
    card = page.locator(CARD).last
    # At once, before any audio: the whole reply, rendered like the chat.
    body = card.locator(".msg-body")
    assert "Bye for now, and see you soon!" in body.inner_text()
    assert body.locator("strong").inner_text() == "plan" and body.locator("h4").inner_text() == "Morning"
    assert body.locator("ol > li").count() == 2 and body.locator("a").get_attribute("href") == "https://example.org"
    assert "**" not in body.inner_text() and "##" not in body.inner_text()
    page.evaluate(SAMPLER)
    wait(page, "() => vox.last.voiceState === 'done'", timeout=60)
    samples = page.evaluate("() => window.__heard")
    schedule = page.evaluate("() => vox.last.schedule")
    sentences_of = {c["idx"]: {p["sentence"] for p in c["pieces"]} for c in schedule}
    # The highlight went through the sentences in order, each as shown on the page (not as said: "1. Walk").
    order = []
    for s in samples:
        if s["spoken"] and (not order or order[-1] != s["spoken"]):
            order.append(s["spoken"])
    assert [x for x in order if x != "Sure,"] == SENTENCES, order
    # Each sample's highlight is a sentence of the chunk audible at that moment (away from a boundary, where
    # the 40 ms tick may lag).
    bounds = [c["start"] for c in schedule]
    for s in samples:
        if s["idx"] is None or not s["spoken"] or min(abs(s["t"] - b) for b in bounds) < 0.06:
            continue
        k = 0 if s["spoken"] == "Sure," else SENTENCES.index(s["spoken"])
        assert k in sentences_of[s["idx"]], (s, sentences_of)
    # Where the server says when each piece starts (`at`), the highlight follows it to within a tick or two.
    if all("at" in p for c in schedule for p in c["pieces"]):
        starts = {}
        for c in schedule:
            if c["part"] == 0:
                for p in c["pieces"]:
                    starts.setdefault(p["sentence"], c["start"] + p["at"])
        changes = {}
        for s in samples:
            if s["spoken"] in SENTENCES and s["spoken"] not in changes:
                changes[s["spoken"]] = s["t"]
        for k, text in enumerate(SENTENCES[1:], 1):
            assert abs(changes[text] - starts[k]) < 0.12, (text, changes[text], starts[k])
    assert card.get_attribute("data-state") == "done" and "Spoken" in card.locator(".msg-meta").inner_text()
    assert page.evaluate("() => vox.spoken") == "", "the highlight outlived the reply"


def test_buffering_is_shown_while_the_audio_is_late(page, vox):
    deadline = time.monotonic() + 10
    while (r := vox.post("/api/replies", {"sink": "page"})).status_code == 409:
        assert time.monotonic() < deadline, r.text
        time.sleep(0.1)
    rid = r.json()["id"]
    assert vox.post(f"/api/replies/{rid}/text", {"text": "Here is the first sentence on its own. The next"}).ok
    wait(page, "() => vox.spoken === 'Here is the first sentence on its own.'", timeout=30)
    card = page.locator(CARD).last
    assert card.locator(".msg-state").inner_text() == "Speaking"
    # The program has not sent the rest yet: once the first sentence has played, the page says it waits.
    wait(page, "() => vox.player.buffering", timeout=30)
    assert card.locator(".msg-state").inner_text() == "Buffering…"
    assert page.locator("#speaking .speaking-label").inner_text() == "Buffering…"
    assert vox.post(f"/api/replies/{rid}/text", {"text": " sentence arrives late."}).ok
    assert vox.post(f"/api/replies/{rid}/end").ok
    wait(page, "() => vox.spoken === 'The next sentence arrives late.'", timeout=30)
    assert card.locator(".msg-state").inner_text() == "Speaking"
    assert page.locator("#speaking .speaking-label").inner_text() == "Speaking"
    wait(page, "() => !vox.speaking", timeout=30)
    assert card.locator(".msg-state").inner_text() == "Spoken"


def test_space_pauses_and_resumes_where_it_paused(page):
    buttons = {name: page.locator(f"#{name}") for name in ("pause", "stop", "stop-all")}
    assert all(b.is_disabled() for b in buttons.values()), "controls enabled with nothing playing"
    page.fill("#text", LONG)
    page.click("#speak")
    wait_playing(page, 0.5)
    assert all(b.is_enabled() for b in buttons.values())
    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.press("Space")
    wait(page, "() => vox.ctx.state === 'suspended'", timeout=2)
    card = page.locator(CARD).last
    assert card.locator(".msg-state").inner_text() == "Paused"
    assert page.locator("#speaking .speaking-label").inner_text() == "Paused"
    assert buttons["pause"].inner_text() == "Resume" and buttons["pause"].get_attribute("aria-pressed") == "true"
    paused_at = page.evaluate("() => vox.ctx.currentTime")
    page.wait_for_timeout(500)
    assert page.evaluate("() => vox.ctx.currentTime") == paused_at, "the audio clock ran while paused"
    page.keyboard.press("Space")
    wait(page, "s => vox.ctx.state === 'running' && vox.ctx.currentTime > s + 0.3", arg=paused_at, timeout=5)
    assert card.locator(".msg-state").inner_text() == "Speaking" and buttons["pause"].inner_text() == "Pause"
    # Space in the text box types a space; the Pause button pauses too.
    page.focus("#text")
    page.keyboard.press("Space")
    assert page.input_value("#text").endswith(" ") and page.evaluate("() => vox.ctx.state") == "running"
    buttons["pause"].click()
    wait(page, "() => vox.ctx.state === 'suspended'", timeout=2)
    # A stop while paused ends the reply; the next one plays.
    page.click("#stop")
    wait(page, "() => !vox.speaking", timeout=5)
    assert card.get_attribute("data-state") == "stopped"
    page.evaluate("() => vox.speak('Playing again after a pause.')")
    wait(page, "() => vox.last.voiceState === 'done'", timeout=30)
    wait(page, "() => document.querySelector('#stop').disabled && document.querySelector('#pause').disabled", 5)


def fade_envelope(page) -> tuple[np.ndarray, float, int]:
    """Speak, stop in the middle of the second chunk, and return the gain the page applied over the last
    40 ms before silence (recorded output / the chunk's own samples), the last sample's level, and how many
    samples of the last 12 ms say something about the gain (those where the speech itself is not near zero)."""
    page.evaluate("t => { vox.speak(t); }", LONG)
    wait(page, "() => vox.chunks.length > 1 && vox.ctx.currentTime > vox.chunks[1].start + 0.4", timeout=60)
    page.click("#stop")
    page.wait_for_timeout(300)
    rec = Recording(page)
    req = page.evaluate("() => window.__rec.requests")
    chunks = sse_chunks(page, req=req)
    starts = page.evaluate("() => vox.last.schedule.map(c => c.start)")
    assert locate_exact(rec.pcm, chunks[0]["pcm"]) == rec.index(starts[0]), "the first chunk was not played exactly"
    # What the page would have played without a stop, sample for sample, where it scheduled each chunk.
    said_all = np.zeros(len(rec.pcm), np.float32)
    for chunk, start in zip(chunks, starts, strict=False):
        at = rec.index(start)
        n = max(0, min(len(chunk["pcm"]), len(rec.pcm) - at))
        said_all[at : at + n] = chunk["pcm"][:n]
    last = rec.last_sound()
    window = np.arange(last - int(0.04 * rec.rate), last + 1)
    said = said_all[window]
    loud = np.abs(said) > 0.02
    gain = np.full(len(window), np.nan)
    gain[loud] = rec.pcm[window][loud] / said[loud]
    return gain, float(abs(rec.pcm[last])), int(loud[-int(0.012 * rec.rate) :].sum())


def test_every_stop_fades_out_in_a_few_milliseconds(page):
    for _ in range(3):  # the fade is only visible where the speech itself is not silent: try another moment
        gain, last_level, evidence = fade_envelope(page)
        if evidence > 40:
            break
        page.evaluate("() => vox.stop()")
    assert evidence > 40, "the speech was silent wherever the stops fell"
    rate = 22050
    assert last_level < 0.005, f"the last sample before silence is {last_level:.3f} of full scale (a click)"
    known = ~np.isnan(gain)
    # Before the fade the page plays the chunk as it is; over its last 5-10 ms the gain falls to zero.
    head = gain[: int(0.02 * rate)]
    assert np.nanmax(np.abs(head - 1)) < 0.01, "the audio was changed before the stop"
    fading = np.flatnonzero(known & (gain < 0.98))
    assert fading.size, "no fade: the sound was cut"
    length = (len(gain) - fading[0]) / rate
    assert 0.004 <= length <= 0.012, f"fade of {length * 1000:.1f} ms"
    tail = gain[fading[0] :][known[fading[0] :]]
    assert np.all(np.diff(tail) < 0.02), "the fade is not a steady ramp down"


def test_replay_in_place_and_download_without_interrupting(page):
    page.fill("#text", REPLY)
    page.click("#speak")
    wait(page, "() => vox.last.voiceState === 'done'", timeout=60)
    assert page.input_value("#text") == "", "the text box was not emptied once the reply was heard"
    cards = page.locator(CARD)
    first = cards.first
    # Replay speaks the same card again, highlighting it there: no new card.
    first.get_by_role("button", name=re.compile(r"^Replay reply 1: “Good morning!")).click()
    wait(page, "() => vox.spoken === 'Good morning!'", timeout=30)
    assert cards.count() == 1 and first.get_attribute("data-voice") in ("playing", "buffering")
    page.evaluate("() => vox.stop()")  # resolves once the server has stopped (a later stop would hit the next)
    # A long reply plays while the first one is downloaded as a WAV: the download does not interrupt it.
    page.evaluate("t => { vox.speak(t); }", LONG)
    wait_playing(page, 0.3)
    with page.expect_download(timeout=60_000) as info:
        first.get_by_role("button", name=re.compile(r"^Download reply 1")).click()
    with wave.open(io.BytesIO(open(info.value.path(), "rb").read())) as w:
        assert w.getframerate() == 22050 and w.getnchannels() == 1
        assert w.getnframes() / w.getframerate() > 5, "the WAV is not the whole reply"
    assert info.value.suggested_filename == "vox-good-morning-the-weather-today-is.wav"
    assert page.evaluate("() => vox.speaking && vox.last.status !== 'replaced'"), "the download stopped the reply"
    page.click("#stop")


def test_a_stop_then_an_immediate_speak_keeps_the_new_reply(page):
    """Esc then Speak at once: the stop leaves the page first, so it cannot reach the server after the new
    reply began and stop that one instead (they travel on different connections)."""
    for _ in range(3):
        page.evaluate("t => { vox.speak(t); }", LONG)
        wait_playing(page, 0.2)
        page.evaluate("t => { vox.stop(); vox.speak(t); }", "Hello again, this reply must be heard.")
        wait(page, "() => vox.last.text === 'Hello again, this reply must be heard.' && "
                   "['done', 'stopped'].includes(vox.last.voiceState)", timeout=30)
        assert page.evaluate("() => vox.last.voiceState") == "done", "the stop hit the reply after it"


def upload(page, vox, name: str) -> None:
    """Add a clip voice (7 s of Piper speech) through the voices panel."""
    wav = vox.post("/api/vox_speak_wav", {"text": LONG[:260], "speed": 0.9}).content
    page.click("#voices-toggle")
    page.set_input_files("#voice-file", files=[{"name": f"{name.lower()}.wav", "mimeType": "audio/wav",
                                                "buffer": wav}])  # fmt: skip
    page.fill("#voice-name", name)
    page.click("#voice-upload-btn")
    wait(page, "n => [...document.querySelectorAll('#voice-list .voice-name')].some(e => e.textContent === n)",
         arg=name, timeout=30)  # fmt: skip


def test_a_new_clip_voice_does_not_break_the_next_speak(page, vox):
    posted = []
    page.on("request", lambda r: posted.append(r.url.split("/api/")[-1]) if r.method == "POST" else None)
    upload(page, vox, "Grandpa")
    # Piper is loaded: the menu keeps Joe; the clip voice is listed apart, saying what it needs.
    assert page.input_value("#voice") == "joe"
    groups = page.locator("#voice optgroup")
    assert groups.nth(0).get_attribute("label") == "Voices for Piper"
    assert groups.nth(1).locator("option").inner_text() == "Grandpa (needs Chatterbox Turbo)"
    assert "needs Chatterbox Turbo" in page.locator("#message").inner_text()
    # Chatterbox cannot run here (no weights): the panel says so before anyone tries.
    turbo = page.locator("#engine option[value=turbo]")
    assert "(cannot run here)" in turbo.inner_text()
    page.select_option("#engine", "turbo")
    assert page.locator("#engine-load").is_disabled()
    reason = page.locator("#engine-reason").inner_text()
    assert "Chatterbox Turbo" in reason and "/api/" not in reason and "Error" not in reason
    page.click("#voices-close")
    # The next Speak works.
    page.fill("#text", "Hello after the upload.")
    page.click("#speak")
    wait(page, "() => vox.last.text === 'Hello after the upload.' && vox.last.voiceState === 'done'", timeout=60)
    assert page.locator(CARD).last.get_attribute("data-state") == "done"
    # Choosing the clip voice says what it needs (a plain sentence), and Speak then sends nothing and keeps
    # the text.
    page.select_option("#voice", "grandpa")
    need = page.locator("#voice-need")
    assert need.is_visible() and "Grandpa needs Chatterbox Turbo, which cannot run here" in need.inner_text()
    before = len(posted)
    page.fill("#text", "This needs the other engine.")
    page.click("#speak")
    assert "Grandpa needs Chatterbox Turbo" in page.locator("#message").inner_text()
    assert page.input_value("#text") == "This needs the other engine."
    page.wait_for_timeout(200)
    assert "vox_speak_wav_stream" not in posted[before:]
    for text in (page.locator("#message").inner_text(), need.inner_text()):
        assert not re.search(r"/api/|Error\b|Exception|Traceback", text), text


def test_piper_loads_as_the_page_opens_and_the_card_shows_the_progress(browser, tmp_path):
    srv = start_server(tmp_path, env={"VOX_ENGINE_HOOK": "tests.slow_engine:slow_load"})
    context = browser.new_context()
    context.add_init_script("""document.addEventListener('DOMContentLoaded', () => {
      window.__said = []; window.__shown = [];
      const log = (el, list) => new MutationObserver(() => list.push(el.textContent))
        .observe(el, {childList: true, characterData: true, subtree: true});
      log(document.querySelector('#announce'), window.__said);
      log(document.querySelector('#status .status-text'), window.__shown);
    });""")
    page = context.new_page()
    try:
        assert srv.get("/api/status").json()["state"] == "unloaded"
        page.goto(srv.url + "/")
        # Nobody pressed Speak: the page loads Piper by itself, and says how far it is.
        wait(page, "() => /Loading Piper… \\d+%/.test(document.querySelector('#status').textContent)", 10)
        page.fill("#text", "Spoken once Piper is loaded.")
        page.click("#speak")
        card = page.locator(CARD).last
        wait(page, "() => /Loading Piper… \\d+%/.test(document.querySelector('.reply .msg-state').textContent)", 5)
        assert card.locator("progress").is_visible()
        wait(page, "() => vox.last.voiceState === 'done'", timeout=60)
        assert card.locator("progress").is_hidden() and card.get_attribute("data-state") == "done"
        status = srv.get("/api/status").json()
        assert status["state"] == "ready" and status["engine_loads"] == 1
        said, shown = page.evaluate("() => [window.__said, window.__shown]")
        # The pill moved with every poll; screen readers heard the load start and end, not every step.
        loading_shown = [t for t in shown if t.startswith("Loading")]
        loading_said = [t for t in said if t.startswith("Loading")]
        assert len(set(loading_shown)) >= 4, shown
        assert 1 <= len(loading_said) <= 2 and said[-1] == "Piper is ready", said
    finally:
        context.close()
        srv.stop()
