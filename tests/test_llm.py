"""Talking to a local LLM, and programs pushing text to Vox, against a fake OpenAI-compatible server."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from bench.baselines import split_sentences
from tests.conftest import sse_messages, start_server
from tests.fake_llm import FakeLlm, tokenize
from vox.text import SpeechPlanner, normalize_for_speech

REPLY = (
    "Sure! The **Eiffel Tower** is about 330 metres tall. It was finished in 1889 for the World's Fair. "
    "Dr. Gustave Eiffel's company built it in just over two years. Today it welcomes roughly 7 million "
    "visitors a year. Would you like tips for visiting?"
)


@pytest.fixture(scope="module")
def shared_fake():
    f = FakeLlm().start()
    yield f
    f.stop()


@pytest.fixture
def fake(shared_fake):
    """The module's fake LLM server, reset to its defaults for each test."""
    return shared_fake.reset(reply=REPLY)


@pytest.fixture(scope="module")
def vox_server(tmp_path_factory, shared_fake):
    s = start_server(tmp_path_factory.mktemp("llm"),
                     config=f'[llm]\nbase_url = "{shared_fake.base_url}"\nmodel = "test-model"\n')
    assert s.post("/api/tts_load", {"engine": "piper"}).status_code == 200
    yield s
    s.stop()


@pytest.fixture
def vox(vox_server, fake):
    requests.delete(vox_server.url + "/api/chat/history", timeout=10)
    return vox_server


def chat(vox, message: str, **kw) -> list[tuple[float, dict]]:
    out = []
    with requests.post(vox.url + "/api/chat", json={"message": message, **kw}, stream=True, timeout=120) as r:
        assert r.status_code == 200, r.text
        for m in sse_messages(r):
            out.append((time.monotonic(), m))
    return out


def spoken(messages) -> list[str]:
    """The pieces that were synthesised, in order (each chunk's text is its pieces joined)."""
    chunks = [m for _, m in messages if "audio" in m and m["part"] == 0]
    assert all(m["text"] == " ".join(p["text"] for p in m["pieces"]) for m in chunks)
    return [p["text"] for m in chunks for p in m["pieces"]]


def batch_pieces(reply: str) -> list[str]:
    """What the batch path would say for the whole reply, piece by piece: however the chunks are sized as
    synthesis goes, streaming must say exactly these, nothing twice and nothing lost."""
    return [p.text for c in SpeechPlanner().plan(reply) for p in c.pieces]


def test_reply_streams_and_is_spoken_sentence_by_sentence(vox, fake):
    started = time.monotonic()
    messages = chat(vox, "Tell me about the Eiffel Tower.")
    tokens = [m["token"] for _, m in messages if "token" in m]
    assert "".join(tokens) == REPLY, "the view receives the reply token by token"
    assert messages[-1][1]["done"] and messages[-1][1]["reply"] == REPLY
    assert spoken(messages) == batch_pieces(REPLY)
    assert "**" not in " ".join(m["text"] for _, m in messages if "audio" in m)
    # The first audio arrives long before the LLM has finished writing.
    first_audio = next(at for at, m in messages if "audio" in m)
    last_token = max(at for at, m in messages if "token" in m)
    assert first_audio < last_token - 1.0
    assert fake.requests[0]["model"] == "test-model" and fake.requests[0]["stream"] is True
    assert fake.requests[0]["messages"][-1] == {"role": "user", "content": "Tell me about the Eiffel Tower."}
    assert started < first_audio


def test_first_audio_follows_the_first_sentence_closely(vox, fake):
    first_sentence = split_sentences(normalize_for_speech(REPLY), 1)[0]
    t0 = time.perf_counter()
    assert vox.post("/api/vox_speak_wav", {"text": first_sentence}).status_code == 200
    synth = time.perf_counter() - t0  # synthesis of that sentence, HTTP included: an upper bound
    messages = chat(vox, "Hi")
    text, first_sentence_done = "", None
    for at, m in messages:
        if "token" in m:
            text += m["token"]
            if first_sentence_done is None and normalize_for_speech(text).startswith(first_sentence):
                first_sentence_done = at
    first_audio = next(at for at, m in messages if "audio" in m)
    assert first_sentence_done is not None
    # The rest of the reply streams for about 2 s more: waiting for it would be caught. Generous enough to hold
    # at load 10 (0.7 s was seen with the suite on three workers); the benchmark holds the target (row 10).
    assert first_audio - first_sentence_done <= synth + 1.5


def test_a_reply_opening_with_a_clause_speaks_before_its_first_sentence_ends(vox, fake):
    fake.reply = "Sure, here is everything you need to know about the tower and its long history. It is tall."
    messages = chat(vox, "Hi")
    text, sentence_done = "", None
    for at, m in messages:
        if "token" in m:
            text += m["token"]
            if sentence_done is None and "history." in text:
                sentence_done = at
    first_audio = next(at for at, m in messages if "audio" in m)
    assert spoken(messages) == batch_pieces(fake.reply) and spoken(messages)[0] == "Sure,"
    assert sentence_done is not None and first_audio < sentence_done, "the clause was said while the LLM wrote"


def test_history_is_kept_and_can_be_cleared(vox, fake):
    chat(vox, "First question")
    chat(vox, "Second question")
    sent = fake.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[2]["content"] == REPLY
    assert len(vox.get("/api/chat/history").json()["messages"]) == 4
    r = requests.delete(vox.url + "/api/chat/history", timeout=10)
    assert r.status_code == 200 and vox.get("/api/chat/history").json()["messages"] == []


def test_stop_all_closes_the_llm_connection_and_silences(vox, fake):
    fake.reply = " ".join(["This reply goes on and on for a long time."] * 40)
    got: list[tuple[float, dict]] = []
    first_audio = threading.Event()

    def run():
        with requests.post(vox.url + "/api/chat", json={"message": "go"}, stream=True, timeout=120) as r:
            for m in sse_messages(r):
                got.append((time.monotonic(), m))
                if "audio" in m:
                    first_audio.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert first_audio.wait(30)
    stop_at = time.monotonic()
    assert vox.post("/api/stop_all_vox").status_code == 200
    t.join(10)
    assert not t.is_alive(), "the chat stream closed"
    assert fake.disconnected.wait(5), "the LLM server saw the connection close"
    assert not fake.finished.is_set()
    assert got[-1][1]["done"] and got[-1][1]["stopped"]
    assert not [m for at, m in got if at > stop_at + 0.05 and "audio" in m], "no audio after stop-all"
    assert not vox.get("/api/tts_is_speaking").json()["speaking"]


def chat_until_first_audio(vox, message: str) -> tuple[list[dict], threading.Thread]:
    """A chat turn read in the background, once its first audio arrived: (its messages so far, the reader)."""
    got: list[dict] = []
    first_audio = threading.Event()

    def run():
        with requests.post(vox.url + "/api/chat", json={"message": message}, stream=True, timeout=120) as r:
            for m in sse_messages(r):
                got.append(m)
                if "audio" in m:
                    first_audio.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert first_audio.wait(30)
    return got, t


def test_stop_silences_voice_but_the_text_goes_on(vox, fake):
    fake.reply = " ".join(["Here is one more sentence of the answer."] * 12)
    got, t = chat_until_first_audio(vox, "go")
    vox.post("/api/vox_stop")
    audio_at_stop = sum("audio" in m for m in got)
    t.join(60)
    assert got[-1]["done"] and got[-1]["reply"] == fake.reply, "the LLM reply was completed"
    assert sum("audio" in m for m in got) <= audio_at_stop + 1
    assert fake.finished.is_set()


def test_llm_server_down_gives_a_clear_message_and_speaking_still_works(tmp_path):
    s = start_server(tmp_path, config='[llm]\nbase_url = "http://127.0.0.1:9/v1"\n')
    try:
        with requests.post(s.url + "/api/chat", json={"message": "hi"}, stream=True, timeout=60) as r:
            messages = list(sse_messages(r))
        errors = [m["error"] for m in messages if "error" in m]
        assert errors and "No LLM server answers at http://127.0.0.1:9/v1" in errors[0], errors
        # Not Ollama's address: start the server meant to be there; nothing says to pull the configured model.
        assert "llama-server" in errors[0] and "ollama serve" in errors[0] and "pull" not in errors[0]
        assert "Errno" not in errors[0] and "refused" not in errors[0].lower()
        assert messages[-1]["done"]
        assert s.post("/api/vox_speak_wav", {"text": "Typed text still speaks."}).status_code == 200
    finally:
        s.stop()


def test_llm_error_answer_is_reported(vox, fake):
    fake.status = 404
    messages = [m for _, m in chat(vox, "hi")]
    errors = [m["error"] for m in messages if "error" in m]
    assert errors and "model 'nope' not found" in errors[0] and "no model called 'test-model'" in errors[0]
    assert "Set [llm] model in config.toml" in errors[0] and "ollama pull" not in errors[0], errors


def test_hints_fit_the_server_they_are_about():
    """Ollama's address: start Ollama; pulling is suggested only once Ollama answers that it lacks the model.
    Any other address: start the server that belongs there."""
    from vox.chat.llm_client import is_ollama, missing_model_hint, unreachable_hint
    from vox.config import Llm

    ollama = Llm(base_url="http://127.0.0.1:11434/v1", model="llama3.2")
    other = Llm(base_url="http://127.0.0.1:8080/v1", model="qwen2.5-7b-instruct-q4_k_m.gguf")
    assert is_ollama(ollama.base_url) and is_ollama("http://ollama:8000/v1") and not is_ollama(other.base_url)
    assert "ollama serve" in unreachable_hint(ollama) and "pull" not in unreachable_hint(ollama)
    assert "llama-server" in unreachable_hint(other) and "pull" not in unreachable_hint(other)
    assert "ollama pull llama3.2" in missing_model_hint(ollama)
    assert "ollama" not in missing_model_hint(other).lower()


def stopped_turn(vox, fake) -> tuple[list[dict], dict]:
    """A chat turn stopped with stop-all once its first audio arrived: (its messages, its done event)."""
    fake.reply = " ".join(["This reply goes on and on for a long time."] * 40)
    got, t = chat_until_first_audio(vox, "Tell me everything")
    assert vox.post("/api/stop_all_vox").status_code == 200
    t.join(10)
    assert got[-1]["done"] and got[-1]["stopped"]
    return got, got[-1]


def test_an_interrupted_turn_stays_in_the_history_with_what_was_heard(vox, fake):
    got, done = stopped_turn(vox, fake)
    written = "".join(m["token"] for m in got if "token" in m)
    history = vox.get("/api/chat/history").json()["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[1]["interrupted"] is True and history[1]["content"] == written == done["reply"]
    assert 0 < len(written) < len(fake.reply)
    # The page says what was heard: the first piece of the first chunk, by its offsets.
    first = next(m for m in got if "audio" in m)["pieces"][0]
    assert 0 < first["end"] <= len(written)
    r = vox.post("/api/chat/heard", {"job": done["job"], "heard": first["end"]})
    assert r.status_code == 200, r.text
    history = vox.get("/api/chat/history").json()["messages"]
    assert history[1] == {"role": "assistant", "content": written[: first["end"]], "interrupted": True}
    # The model reads what was heard and that the user cut it off there.
    fake.reset(reply="Sorry, I will be brief.", tokens_per_second=500)
    chat(vox, "Shorter, please")
    sent = fake.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[2]["content"].startswith(written[: first["end"]].rstrip())
    assert sent[2]["content"].endswith("[The user interrupted this reply here and did not hear the rest.]")
    assert set(sent[2]) == {"role", "content"}, "the LLM server gets plain role/content messages"
    history = vox.get("/api/chat/history").json()["messages"]
    assert len(history) == 4 and "interrupted" not in history[3], "a finished turn is not marked"


def test_heard_is_validated(vox, fake):
    _, done = stopped_turn(vox, fake)
    bad = [({"job": done["job"], "heard": -1}, 400), ({"job": done["job"], "heard": "3"}, 400),
           ({"job": done["job"], "heard": True}, 400), ({"heard": 3}, 400), ({"job": "j999999", "heard": 3}, 404)]
    for payload, status in bad:
        r = vox.post("/api/chat/heard", payload)
        assert r.status_code == status and r.json()["error"].endswith("."), (payload, r.text)
    fake.reset(reply="Done.", tokens_per_second=500)
    finished = chat(vox, "again")[-1][1]
    r = vox.post("/api/chat/heard", {"job": finished["job"], "heard": 1})
    assert r.status_code == 409 and "not interrupted" in r.json()["error"]


def test_very_long_reply(vox, fake):
    """300 sentences: the text streams in full and the voice says exactly the batch chunks, in order.
    Once the text is complete the voice is stopped: synthesising all of it would only cost test time."""
    fake.reply = " ".join(f"Point {i} is worth remembering." for i in range(300))
    fake.tokens_per_second = 3000
    got: list[dict] = []
    with requests.post(vox.url + "/api/chat", json={"message": "long"}, stream=True, timeout=120) as r:
        for m in sse_messages(r):
            got.append(m)
            if sum("audio" in x for x in got) == 4:
                assert vox.post("/api/vox_stop").status_code == 200
    assert got[-1]["done"] and got[-1]["reply"] == fake.reply and len(fake.reply) > 9000
    said = spoken([(0, m) for m in got])
    assert 4 <= sum("audio" in m for m in got) <= 5 and said == batch_pieces(fake.reply)[: len(said)]


@pytest.mark.parametrize("reply", [
    "```python\nfor i in range(3):\n    print(i)\n```",
    "# Plan\n\n- **First**: wake up\n- *Second*: coffee\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
])
def test_markdown_or_code_reply(vox, fake, reply):
    fake.reply, fake.tokens_per_second = reply, 200
    messages = chat(vox, "md")
    assert messages[-1][1]["reply"] == reply
    said = " ".join(m["text"] for _, m in messages if "audio" in m)
    assert "print(i)" not in said and "**" not in said and "|" not in said
    assert spoken(messages) == batch_pieces(reply)


def test_another_program_pushes_a_reply_to_the_page(vox):
    heard: list[dict] = []
    listening = threading.Event()

    def page():
        with requests.get(vox.url + "/api/live", stream=True, timeout=60) as r:
            listening.set()
            for m in sse_messages(r):
                heard.append(m)
                if m.get("done"):
                    return

    t = threading.Thread(target=page, daemon=True)
    t.start()
    assert listening.wait(10)
    time.sleep(0.2)
    r = vox.post("/api/replies", {"sink": "page"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    for token in tokenize(REPLY):
        assert vox.post(f"/api/replies/{rid}/text", {"text": token}).status_code == 202
        time.sleep(1 / 30)
    assert vox.post(f"/api/replies/{rid}/end").status_code == 200
    t.join(60)
    assert spoken([(0, m) for m in heard]) == batch_pieces(REPLY)
    assert heard[-1]["done"] and not heard[-1]["stopped"]


def test_pushing_to_a_page_when_none_is_open_is_a_clear_409(vox):
    deadline = time.monotonic() + 5
    while vox.get("/api/status").json()["pages"] and time.monotonic() < deadline:
        time.sleep(0.1)  # a page that went away is noticed at the next keep-alive
    r = vox.post("/api/replies", {"sink": "page"})
    assert r.status_code == 409 and "No Vox page is open" in r.json()["error"]
    assert vox.post("/api/replies/nope/text", {"text": "x"}).status_code == 404
