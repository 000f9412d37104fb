"""Talking to Vox (issue 19), measured in real Chromium with a fake microphone that plays Vox's own voice.

The microphone file's clips are at known times, and the page records when each 20 ms frame of the capture
arrived (``vox.listen.frameTimes``), so "the end of the user's speech" is the arrival of the frame that holds
the voice's last sample (Piper's clips have ~50 ms of silence before the voice and ~170 ms after it; the
voice's own start and end are used; the capture device's own latency, a few ms on real hardware, is not in
it). What the page played is recorded sample-exactly inside the page (tests/chromium.py): the moment of silence.

  19a  end of speech -> transcript final (hands-free: the VAD waits [listen] silence_ms, then the last read)
  19b  end of speech -> first audio of the reply (fake LLM at 30 tokens/s)
  19c  start of barge-in speech -> silence (Vox speaking a long reply; target 150 ms)
  19d  false barge-ins while Vox speaks with its own voice fed back into the microphone, 18 dB down (target 0)
  19e  word error rate of the recogniser on clips Vox speaks (base and tiny.en), and one read's time (floor)
  19f  word error rate of the turns recognised through the page (capture, 16 kHz frames, VAD cut)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.common import row, spread
from tests.chromium import Recording
from tests.conftest import start_server
from tests.fake_llm import FakeLlm
from tests.fake_mic import chat_page, launch_with_mic, mic_file
from tests.speech_clips import CLIPS, clip16k, voice_span, wer
from tests.whisper_weights import whisper_model_dir

FRAME_S = 0.02
LONG = " ".join(["This reply goes on and on for a long time, so that there is something to interrupt."] * 30)
ECHO = " ".join(["This reply goes on and on for a long time, so that there is something to interrupt."] * 12)
SHORT_REPLY = "Once upon a time there was a dragon who loved to sing."
MODEL = "tiny.en"
"""The browser rows use tiny.en: on the 2-core development machine, shared, base costs about twice as much per
read (row 19e gives both)."""


def frame_time(page, seconds: float) -> float:
    """performance.now() at which the capture reached ``seconds`` into the microphone file."""
    times = page.evaluate("() => vox.listen.frameTimes")
    k = min(len(times) - 1, int(seconds / FRAME_S))
    return times[k]


def open_page(p, server, tmp: Path, name: str, parts):
    wav = tmp / f"{name}.wav"
    spans = mic_file(wav, parts)
    browser = launch_with_mic(p, wav)
    return browser, chat_page(browser, server.url), spans


def wait(page, expr: str, timeout: float = 60):
    page.wait_for_function(expr, timeout=timeout * 1000, polling=20)


def log(page, kind: str) -> list[dict]:
    return [e for e in page.evaluate("() => vox.listen.log") if e["kind"] == kind]


def turn_trial(p, server, fake, tmp: Path, n: int) -> tuple[float, float, str]:
    """(end of speech -> final, end of speech -> first reply audio, what was recognised)."""
    fake.reset(reply=SHORT_REPLY, tokens_per_second=30)
    requests.delete(server.url + "/api/chat/history", timeout=10)
    browser, page, spans = open_page(p, server, tmp, f"turn{n}", [("", 1.5), ("question", 0), ("", 5)])
    try:
        page.evaluate("() => vox.listen.handsFree(true)")
        wait(page, "() => vox.chat.last && vox.chat.last.firstAudioAt != null")
        end = frame_time(page, spans[0][0] + voice_span("question")[1])
        final = log(page, "final")[0]
        first_audio = page.evaluate("() => vox.chat.last.firstAudioAt")
        return (final["t"] - end) / 1000, (first_audio - end) / 1000, final["text"]
    finally:
        browser.close()
        server.post("/api/stop_all_vox")


def speak_reply(page) -> None:
    page.evaluate("() => { vox.chat.send('Tell me a long story.'); }")
    wait(page, "() => vox.chat.last && vox.chat.last.schedule && vox.chat.last.schedule.length "
               "&& vox.ctx.currentTime > vox.chat.last.schedule[0].start + 0.5")  # fmt: skip


def barge_trial(p, server, fake, tmp: Path, n: int) -> float:
    """Seconds from the first frame of the user's speech to the last sample Vox played."""
    fake.reset(reply=LONG, tokens_per_second=30)
    browser, page, spans = open_page(p, server, tmp, f"barge{n}", [("", 1.5), ("stop", 0), ("", 2)])
    try:
        speak_reply(page)
        page.evaluate("() => vox.listen.handsFree(true)")
        wait(page, "() => vox.listen.log.some(e => e.kind === 'barge_in')", timeout=30)
        page.wait_for_timeout(300)
        barge = log(page, "barge_in")[0]
        start = frame_time(page, spans[0][0] + voice_span("stop")[0])
        rec = Recording(page)
        last = rec.last_sound(0.0)
        # Silent from the moment the page stopped the player (or later, if sound went on after it; earlier
        # sound ending is a gap while the server caught up, after which Vox would have gone on speaking).
        silent = barge["t"] + max(0.0, rec.time(last) - barge["ctx"]) * 1000
        return (silent - start) / 1000
    finally:
        browser.close()
        server.post("/api/stop_all_vox")


def echo_trial(p, server, fake, tmp: Path, seconds: float) -> tuple[int, int, float, dict]:
    """(false barge-ins, turns taken from the echo, seconds of echo heard, the stream's counters)."""
    fake.reset(reply=LONG, tokens_per_second=30)
    browser, page, _ = open_page(p, server, tmp, "echo", [("", 0.5), (ECHO, -18), ("", 1)])
    try:
        speak_reply(page)
        page.evaluate("() => vox.listen.handsFree(true)")
        started = time.monotonic()
        while time.monotonic() - started < seconds and page.evaluate("() => vox.speaking"):
            time.sleep(0.5)
        heard = time.monotonic() - started
        stream = server.get("/api/status").json()["listening"][0]
        return stream["barge_ins"], stream["turn"], heard, stream
    finally:
        browser.close()
        server.post("/api/stop_all_vox")


def wer_rows(quick: bool) -> list[dict]:
    from vox.config import Stt
    from vox.stt.whisper import WhisperRecogniser

    rows = []
    names = ("question", "numbers", "stop") if quick else ("question", "names", "numbers", "travel", "story", "stop")
    for model in ("base", "tiny.en"):
        r = WhisperRecogniser(Stt(model=str(whisper_model_dir(model)), language="en"))
        r.load()
        rates, costs = [], []
        r.transcribe(clip16k("question"))  # warm
        for name in names:
            t0 = time.perf_counter()
            text = r.transcribe(clip16k(name)).text
            costs.append(time.perf_counter() - t0)
            rates.append(wer(CLIPS[name], text))
        r.unload()
        mean = statistics.mean(rates)
        rows.append(row(f"19e{'1' if model == 'base' else '2'}",
                        f"WER, {model} int8, {len(names)} clips Vox speaks (numbers, names, questions)",
                        f"{mean:.3f} (worst {max(rates):.3f}); one read {spread(costs)}", "<= 0.08 mean",
                        mean, 0.08))  # fmt: skip
    return rows


def run(quick: bool = False) -> list[dict]:
    from playwright.sync_api import sync_playwright

    fake = FakeLlm(reply=SHORT_REPLY, tokens_per_second=30).start()
    tmp = Path(tempfile.mkdtemp(prefix="vox-bench-listen-"))
    server = start_server(tmp, config=(f'[llm]\nbase_url = "{fake.base_url}"\nmodel = "m"\n'
                                       f'[stt]\nmodel = "{whisper_model_dir(MODEL)}"\nlanguage = "en"\n'))  # fmt: skip
    finals, audio, barges, texts = [], [], [], []
    try:
        server.post("/api/tts_load", {"engine": "piper"})
        server.post("/api/vox_speak_wav", {"text": "Warm up."})
        with sync_playwright() as p:
            for n in range(1 if quick else 3):
                final, first_audio, text = turn_trial(p, server, fake, tmp, n)
                finals.append(final)
                audio.append(first_audio)
                texts.append(text)
            for n in range(2 if quick else 5):
                barges.append(barge_trial(p, server, fake, tmp, n))
            false_barges, echo_turns, heard, stream = echo_trial(p, server, fake, tmp, 6 if quick else 60)
    finally:
        server.stop()
        fake.stop()
    silence_ms = 700
    turn_wer = statistics.mean(wer(CLIPS["question"], t) for t in texts)
    rows = [
        row("19a", f"listen: end of speech -> transcript final (hands-free, {MODEL}, silence_ms {silence_ms})",
            spread(finals), "report (the VAD's wait is 700 ms of it)"),
        row("19b", "listen: end of speech -> first audio of the reply (fake LLM 30 tok/s)", spread(audio),
            "report"),
        row("19c", "listen: start of barge-in speech -> silence (Vox speaking)", spread(barges),
            "<= 150 ms (median)", statistics.median(barges), 0.15),
        row("19d", f"listen: false barge-ins / turns from Vox's own voice fed back 18 dB down, {heard:.0f} s",
            f"{false_barges} / {echo_turns} (the VAD alone would have started {stream['echo_onsets']})",
            "0", false_barges + echo_turns, 0, ok=false_barges + echo_turns == 0),
        row("19f", "listen: WER of the turns heard through the page (question clip)", f"{turn_wer:.3f}",
            "report"),
    ]
    return rows + wer_rows(quick)


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
