"""Screenshots of the page for the docs: ``python scripts/screenshots.py`` (or ``make screenshots``).

Starts Vox without a window on a temporary voices folder, adds two cloned-voice clips (made with Piper),
opens the page in headless Chromium, speaks, and saves docs/screenshots/main.png (a reply playing, its
current sentence highlighted), voices.png (the voices panel), main-dark.png (the same in the dark theme),
phone.png (a 390 px wide phone, dark), chat.png (the LLM chat, a reply streaming in while it is spoken,
from the tests' fake OpenAI-compatible server) and books.png (the books panel, a book rendering).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.chromium import launch  # noqa: E402
from tests.conftest import start_server  # noqa: E402
from tests.fake_llm import FakeLlm  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1180, "height": 760}
PHONE = {"width": 390, "height": 844}
FIRST = "Good morning! What is on the agenda today?"
REPLY = (
    "Here is the plan for **today**. The team meets at nine for a short stand-up.\n\n"
    "- After that, design reviews the new onboarding screens.\n- Lunch is booked for half past twelve.\n\n"
    "In the afternoon we test the release candidate on all three platforms. "
    "Anything that breaks gets fixed before Friday."
)
CHAT = [
    (
        "What is the weather like in Lisbon in May?",
        "Warm and mostly **sunny**: about 22 °C in the afternoon, cooler by the river in the evening.",
    ),
    (
        "And how do I get around?",
        "The easiest way is the **Viva Viagem** card. Load it once and use it on the metro, trams and buses.\n\n"
        "1. Ride the historic `Tram 28` early in the morning, before the queues.\n"
        "2. Take the Santa Justa lift up to the Carmo ruins.\n"
        "3. For Belém, the train from Cais do Sodré is quickest.\n\n"
        "Most of the centre is also lovely on foot.",
    ),
]
CLIPS = {
    "Narrator": "This is a calm, clear reading voice. It speaks evenly, with short pauses between sentences.",
    "Grandpa": "Let me tell you a story from long ago, when the winters were colder, the snow was deeper, "
    "and the nights were so much longer than they are today.",
}


def add_voices(server) -> None:
    """Two clip voices, so the voices panel shows a library and not just the built-in voice."""
    for name, text in CLIPS.items():
        wav = server.post("/api/vox_speak_wav", {"text": text, "speed": 0.9}).content
        r = requests.post(
            server.url + "/api/voices",
            files={"file": (f"{name.lower()}.wav", wav, "audio/wav")},
            data={"name": name},
            timeout=60,
        )
        if r.status_code not in (201, 409):
            print(f"could not add the voice {name}: {r.status_code} {r.text}", file=sys.stderr)


def shoot(browser, url: str, scheme: str, phone: bool = False) -> None:
    viewport = PHONE if phone else VIEWPORT
    context = browser.new_context(viewport=viewport, color_scheme=scheme, device_scale_factor=1)
    page = context.new_page()
    page.goto(url)
    page.evaluate("() => vox.ready")
    page.wait_for_function("() => document.querySelector('#status').dataset.state === 'ready'", timeout=60_000)
    name = "phone" if phone else "main" if scheme == "light" else "main-dark"
    # A finished reply, then one playing with its second sentence highlighted.
    page.fill("#text", FIRST)
    page.click("#speak")
    page.wait_for_function("() => vox.last && vox.last.voiceState === 'done' && !vox.speaking", timeout=60_000)
    page.fill("#text", REPLY)
    page.click("#speak")
    page.wait_for_function("() => vox.spoken.startsWith('The team')", timeout=60_000)
    page.fill("#text", "Thanks! Read me the next item when you are ready.")
    page.mouse.move(0, 0)
    page.wait_for_timeout(150)
    page.screenshot(path=str(OUT / f"{name}.png"))
    if scheme == "light" and not phone:
        page.click("#voices-toggle")
        page.wait_for_function("() => document.querySelectorAll('#voice-list .voice').length >= 1")
        page.wait_for_timeout(200)
        page.screenshot(path=str(OUT / "voices.png"))
    page.evaluate("() => vox.stop()")
    context.close()


def shoot_chat(browser, url: str, fake: FakeLlm) -> None:
    """chat.png: one finished exchange, then a reply streaming in while its current sentence is spoken."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light", device_scale_factor=1)
    page = context.new_page()
    page.goto(url)
    page.evaluate("() => vox.ready")
    page.click("#mode-chat")
    (question, answer), (question2, answer2) = CHAT
    fake.reply, fake.tokens_per_second = answer, 500
    page.uncheck("#chat-speak")  # the first reply is only there to be seen
    page.fill("#chat-input", question)
    page.press("#chat-input", "Enter")
    page.wait_for_function("() => vox.chat.last && vox.chat.last.status === 'done'", timeout=60_000)
    page.check("#chat-speak")
    fake.reply, fake.tokens_per_second = answer2, 25
    page.fill("#chat-input", question2)
    page.press("#chat-input", "Enter")
    page.wait_for_function(
        "() => vox.chat.last.text.includes('Santa Justa') && vox.chat.last.status === 'streaming' && vox.spoken",
        timeout=60_000,
    )
    page.mouse.move(0, 0)
    page.wait_for_timeout(150)
    page.screenshot(path=str(OUT / "chat.png"))
    page.evaluate("() => vox.stop()")
    fake.finished.wait(30)  # let the reply end rather than cut the fake server's connection
    context.close()


BOOK = "\n\n".join(f"## {title}\n\n{text}" for title, text in (
    ("The Harbour", "The boats came in before the storm. Nobody on the pier said a word."),
    ("The Lighthouse", "Old Martha climbed the stairs with her lamp. The light turned all night."),
    ("Morning", "By morning the sea was calm again, and the gulls were back on the harbour wall."),
    ("The Letter", "A letter came for Martha on the first boat. She read it twice, then put it in the fire."),
    ("Winter", " ".join(["The winter was long, and the harbour froze from shore to shore."] * 12)),
))  # fmt: skip


def shoot_books(browser, url: str) -> None:
    """books.png: a book imported, one chapter renamed, the render part way."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light", device_scale_factor=1)
    page = context.new_page()
    page.goto(url)
    page.evaluate("() => vox.ready")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Tales of the Coast.md"
        path.write_text("# Tales of the Coast\n\n" + BOOK)
        page.click("#books-toggle")
        page.set_input_files("#book-file", str(path))
        page.click("#book-upload-btn")
        page.wait_for_function("() => vox.books.book && vox.books.book.chapters.length === 5")
    page.fill("#book-author", "Ann Author")
    page.press("#book-author", "Tab")
    page.wait_for_function("() => vox.books.book.author === 'Ann Author'")
    page.click("#book-render")
    page.wait_for_function("() => vox.books.progress && vox.books.progress.chapters_done >= 3", timeout=120_000)
    page.mouse.move(0, 0)
    page.click(".message-close")
    page.evaluate("() => document.querySelector('#book-detail-title').scrollIntoView()")
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / "books.png"))
    page.click("#book-cancel")
    context.close()


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeLlm().start()
        server = start_server(Path(tmp), config=f'[llm]\nbase_url = "{fake.base_url}"\nmodel = "llama3.2"\n')
        try:
            server.post("/api/tts_load", {"engine": "piper"})
            add_voices(server)
            with sync_playwright() as p:
                browser = launch(p)
                try:
                    for scheme in ("light", "dark"):
                        shoot(browser, server.url + "/", scheme)
                    shoot(browser, server.url + "/", "dark", phone=True)
                    shoot_chat(browser, server.url + "/", fake)
                    shoot_books(browser, server.url + "/")
                finally:
                    browser.close()
        finally:
            server.stop()
            fake.stop()
    for f in sorted(OUT.glob("*.png")):
        print(f.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
