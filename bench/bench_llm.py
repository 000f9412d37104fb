"""Speaking an LLM reply while it is written: LLM's first token -> first audio at 30 tokens/s, Vox against
waiting for the whole reply and then speaking it (what the predecessor did), same server, engine and text."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.common import row, spread
from tests.conftest import sse_messages, start_server
from tests.fake_llm import FakeLlm

REPLY = (
    "Good question! The short answer is yes, you can run it locally. You need about eight gigabytes of memory "
    "and a recent processor. Start by installing the runtime, then download the model you want. After that, "
    "point the app at the local address and you are done. If anything fails, check the logs first. Most "
    "problems come from a missing driver. Let me know how it goes."
)

OPENS_WITH_CLAUSE = (
    "Sure, here is how you can run the whole thing on your own machine without any cloud account. You need "
    "about eight gigabytes of memory. Let me know how it goes."
)
FIRST_SENTENCE_END = "account."


def vox_trial(url: str) -> tuple[float, float | None]:
    """Seconds from the first token to the first audio while the reply streams, and to the token that
    completes the first sentence when that came before the audio (else None)."""
    first_token, text, sentence_done = None, "", None
    with requests.post(url + "/api/chat", json={"message": "hi"}, stream=True, timeout=120) as r:
        for m in sse_messages(r):
            if "token" in m:
                first_token = first_token or time.perf_counter()
                text += m["token"]
                if sentence_done is None and FIRST_SENTENCE_END in text:
                    sentence_done = time.perf_counter() - first_token
            if "audio" in m:
                return time.perf_counter() - (first_token or time.perf_counter()), sentence_done
    raise RuntimeError("no audio")


def sentence_done_trial(url: str) -> float:
    """Seconds from the first token to the token that completes the first sentence."""
    first_token, text = None, ""
    with requests.post(url + "/api/chat", json={"message": "hi", "speak": False}, stream=True, timeout=120) as r:
        for m in sse_messages(r):
            if "token" in m:
                first_token = first_token or time.perf_counter()
                text += m["token"]
                if FIRST_SENTENCE_END in text:
                    return time.perf_counter() - first_token
    raise RuntimeError("the first sentence never ended")


def wait_whole_trial(url: str) -> float:
    """Seconds from the first token to the first audio when speech waits for the whole reply."""
    first_token, reply = None, ""
    with requests.post(url + "/api/chat", json={"message": "hi", "speak": False}, stream=True, timeout=120) as r:
        for m in sse_messages(r):
            if "token" in m and first_token is None:
                first_token = time.perf_counter()
            if m.get("done"):
                reply = m["reply"]
    with requests.post(url + "/api/vox_speak_wav_stream", json={"text": reply}, stream=True, timeout=120) as r:
        for m in sse_messages(r):
            if "audio" in m:
                return time.perf_counter() - (first_token or time.perf_counter())
    raise RuntimeError("no audio")


def run(quick: bool = False) -> list[dict]:
    fake = FakeLlm(reply=REPLY, tokens_per_second=30).start()
    tmp = Path(tempfile.mkdtemp(prefix="vox-bench-llm-"))
    s = start_server(tmp, config=f'[llm]\nbase_url = "{fake.base_url}"\n')
    try:
        s.post("/api/tts_load", {"engine": "piper"})
        vox_trial(s.url)
        vox, whole, clause, sentence = [], [], [], []
        for _ in range(1 if quick else 5):
            fake.reply = REPLY
            vox.append(vox_trial(s.url)[0])
            s.post("/api/stop_all_vox")
            whole.append(wait_whole_trial(s.url))
            s.post("/api/stop_all_vox")
            fake.reply = OPENS_WITH_CLAUSE
            clause.append(vox_trial(s.url)[0])
            s.post("/api/stop_all_vox")
            sentence.append(sentence_done_trial(s.url))
    finally:
        s.stop()
        fake.stop()
    ratio = statistics.median(vox) / statistics.median(whole)
    return [
        row("10", "LLM at 30 tok/s: first token -> first audio (Vox)", spread(vox), ""),
        row("10a", "  waiting for the whole reply (predecessor)", f"{spread(whole)} -> ratio {ratio:.2f}",
            "Vox much sooner", ratio, 0.5),
        row("10b", "  a reply opening with a clause (\"Sure, here is ...\"): first audio / first sentence complete",
            f"{spread(clause)} / {spread(sentence)}", "audio first",
            statistics.median(clause) / statistics.median(sentence), 1.0),
    ]


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
