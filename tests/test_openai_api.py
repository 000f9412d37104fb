"""The OpenAI-compatible speech API, driven by the official ``openai`` client against a real Vox server."""

from __future__ import annotations

import base64
import io
import json
import threading
import time

import av
import numpy as np
import openai
import pytest
import requests

from tests.conftest import start_server
from vox.audio.encoders import FORMAT_NAMES
from vox.audio.pcm import rms

TEXT = "Hello there. This is Vox, speaking through the OpenAI client. It should sound like a person."
SENTENCE = "This is sentence number {} of a long reply that keeps going for a while."
LONG = " ".join(SENTENCE.format(i) for i in range(1, 13))
STREAMED = " ".join(SENTENCE.format(i) for i in range(1, 9))
"""Eight sentences: long enough that the first bytes come well before the end, in each of six formats."""
CONTAINERS = {"mp3": "mp3", "opus": "ogg", "aac": "aac", "flac": "flac", "wav": "wav"}


@pytest.fixture(scope="module")
def vox(tmp_path_factory):
    s = start_server(tmp_path_factory.mktemp("openai"), '[engine]\nturbo_checkpoint = "/nonexistent/turbo"\n')
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(vox) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{vox.url}/v1", api_key="anything", max_retries=0, timeout=60)


def decode(data: bytes, fmt: str, rate: int = 22050) -> tuple[np.ndarray, int]:
    """Samples and rate, decoded with PyAV (raw PCM is 16-bit little-endian at the stated rate)."""
    if fmt == "pcm":
        return np.frombuffer(data, "<i2").astype(np.float32) / 32768, rate
    with av.open(io.BytesIO(data), format=CONTAINERS[fmt]) as container:
        frames = [f.to_ndarray().astype(np.float32).reshape(-1) for f in container.decode(audio=0)]
        out_rate = container.streams.audio[0].rate
    pcm = np.concatenate(frames)
    return (pcm / 32768 if np.abs(pcm).max() > 2 else pcm), out_rate


def check_speech(pcm: np.ndarray, rate: int, text: str) -> None:
    seconds = len(pcm) / rate
    words = len(text.split())
    assert 0.15 * words < seconds < 0.8 * words, f"{seconds:.2f} s for {words} words"
    assert rms(pcm) > 0.02, "silent"


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_create_returns_speech_in_every_format(client, fmt):
    audio = client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format=fmt)
    pcm, rate = decode(audio.content, fmt)
    check_speech(pcm, rate, TEXT)


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_streaming_response_starts_before_the_reply_is_synthesised(client, fmt):
    t0 = time.perf_counter()
    arrivals: list[tuple[float, bytes]] = []
    with client.audio.speech.with_streaming_response.create(model="tts-1", voice="nova", input=STREAMED,
                                                            response_format=fmt) as response:  # fmt: skip
        assert response.headers["content-type"].startswith({"mp3": "audio/mpeg", "opus": "audio/ogg",
                                                            "aac": "audio/aac", "flac": "audio/flac",
                                                            "wav": "audio/wav", "pcm": "audio/pcm"}[fmt])
        assert response.headers.get("transfer-encoding") == "chunked"
        rate = int(response.headers["x-sample-rate"])
        for piece in response.iter_bytes():
            arrivals.append((time.perf_counter() - t0, piece))
    total = time.perf_counter() - t0
    first = arrivals[0][0]
    assert len(arrivals) > 3, "the audio came in one piece, not as it was synthesised"
    assert first < total / 3, f"first bytes at {first:.2f} s of {total:.2f} s"
    pcm, out_rate = decode(b"".join(p for _, p in arrivals), fmt, rate)
    check_speech(pcm, out_rate, STREAMED)


def test_pcm_states_its_rate(client):
    with client.audio.speech.with_streaming_response.create(model="piper", voice="joe", input="Hi there.",
                                                            response_format="pcm") as response:  # fmt: skip
        assert response.headers["x-sample-rate"] == "22050"
        assert "rate=22050" in response.headers["content-type"]


def test_sse_stream_format(vox):
    r = requests.post(f"{vox.url}/v1/audio/speech", json={"model": "gpt-4o-mini-tts", "voice": "coral",
                      "input": TEXT, "response_format": "wav", "stream_format": "sse"}, stream=True, timeout=60)
    assert r.headers["Content-Type"].startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in r.iter_lines(decode_unicode=True) if line.startswith("data: ")]
    deltas, done = events[:-1], events[-1]
    assert {e["type"] for e in deltas} == {"speech.audio.delta"} and len(deltas) >= 2
    assert done["type"] == "speech.audio.done" and not done["stopped"]
    assert set(done["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}
    assert done["usage"]["output_tokens"] == len(deltas)
    pcm, rate = decode(b"".join(base64.b64decode(e["audio"]) for e in deltas), "wav")
    check_speech(pcm, rate, TEXT)


def test_models_and_voices(client, vox):
    ids = [m.id for m in client.models.list()]
    assert {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "piper", "chatterbox-turbo", "chatterbox-multilingual"} <= set(ids)
    voices = vox.get("/v1/audio/voices").json()
    assert {"id": "joe", "name": "Joe (built in)"}.items() <= voices["voices"][0].items()
    assert "alloy" in voices["openai_voices"]
    assert {m["id"] for m in vox.get("/v1/audio/models").json()["models"]} == set(ids)


def test_errors_in_openai_shape(client, vox):
    with pytest.raises(openai.NotFoundError) as e:
        client.audio.speech.create(model="tts-9", voice="alloy", input="Hi")
    assert e.value.body["code"] == "model_not_found" and e.value.body["param"] == "model"
    with pytest.raises(openai.NotFoundError) as e:
        client.audio.speech.create(model="tts-1", voice="nobody", input="Hi")
    assert e.value.body["param"] == "voice" and "joe" in e.value.body["message"]
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hi", speed=4.0)
    assert e.value.body["param"] == "speed" and e.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hi", response_format="ogg")  # type: ignore
    assert e.value.body["param"] == "response_format"
    r = vox.post("/v1/audio/speech", {"model": "tts-1", "input": "\U0001F600 \U0001F389"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "input"
    r = requests.post(f"{vox.url}/v1/audio/speech", data="input=hi", timeout=10)
    assert r.status_code == 415 and set(r.json()["error"]) == {"message", "type", "param", "code"}
    assert vox.get("/v1/nothing").json()["error"]["type"] == "invalid_request_error"


def test_a_named_engine_that_cannot_run_here_is_a_clear_503(client, vox):
    with pytest.raises(openai.InternalServerError) as e:
        client.audio.speech.create(model="chatterbox-turbo", voice="alloy", input="Hi")
    assert e.value.status_code == 503 and "turbo" in e.value.body["message"].lower()
    assert vox.get("/api/status").json()["engine"] == "piper", "Piper keeps speaking"


def test_stop_all_ends_the_stream_as_a_shorter_file(vox):
    with requests.post(f"{vox.url}/v1/audio/speech", json={"input": LONG, "response_format": "mp3"}, stream=True,
                       timeout=60) as r:  # fmt: skip
        pieces = iter(r.iter_content(chunk_size=None))
        data = next(pieces)
        t0 = time.perf_counter()
        assert vox.post("/api/stop_all_vox").json()["stopped"]
        data += b"".join(pieces)
        ended = time.perf_counter() - t0
    assert ended < 2.0, f"the stream went on for {ended:.2f} s after stop-all"
    pcm, rate = decode(data, "mp3")
    assert 0 < len(pcm) / rate < 0.5 * 0.4 * len(LONG.split()), "the whole reply was sent"
    assert not vox.get("/api/tts_is_speaking").json()["speaking"]


def test_a_new_reply_in_the_same_session_replaces_the_old_one(vox):
    headers = {"X-Vox-Session": "webui"}
    first = requests.post(f"{vox.url}/v1/audio/speech", json={"input": LONG}, headers=headers, stream=True,
                          timeout=60)  # fmt: skip
    next(first.iter_content(chunk_size=None))
    other = threading.Thread(target=lambda: requests.post(f"{vox.url}/v1/audio/speech", headers={
        "X-Vox-Session": "another"}, json={"input": TEXT}, timeout=60).content)  # fmt: skip
    other.start()
    second = requests.post(f"{vox.url}/v1/audio/speech", json={"input": TEXT, "response_format": "wav"},
                           headers=headers, timeout=60)  # fmt: skip
    rest = b"".join(first.iter_content(chunk_size=None))
    other.join(60)
    assert second.status_code == 200 and rms(decode(second.content, "wav")[0]) > 0.02
    assert len(rest) < 64_000, "the replaced reply went on"


def test_client_that_hangs_up_stops_its_reply(vox):
    r = requests.post(f"{vox.url}/v1/audio/speech", json={"input": LONG, "response_format": "pcm"}, stream=True,
                      timeout=60)  # fmt: skip
    next(r.iter_content(chunk_size=None))
    r.close()
    deadline = time.monotonic() + 5
    while vox.get("/api/tts_is_speaking").json()["speaking"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not vox.get("/api/tts_is_speaking").json()["speaking"]


def test_whole_file_formats_on_the_vox_api(vox):
    for fmt in FORMAT_NAMES:
        r = vox.post("/api/vox_speak_wav", {"text": TEXT, "format": fmt})
        assert r.status_code == 200, r.text
        check_speech(*decode(r.content, fmt), TEXT)
    r = requests.post(f"{vox.url}/api/vox_speak_wav", json={"text": TEXT}, headers={"Accept": "audio/flac"}, timeout=60)
    assert r.headers["Content-Type"] == "audio/flac" and r.content[:4] == b"fLaC"
    r = vox.post("/api/vox_speak_wav", {"text": TEXT})
    assert r.headers["Content-Type"] == "audio/wav" and r.content[:4] == b"RIFF"
    assert int.from_bytes(r.content[40:44], "little") == len(r.content) - 44, "WAV carries its real length"
    assert vox.post("/api/vox_speak_wav", {"text": TEXT, "format": "ogg"}).status_code == 400


def test_api_key_as_bearer(tmp_path):
    s = start_server(tmp_path, '[server]\napi_key = "s3cret"\n')
    try:
        bad = openai.OpenAI(base_url=f"{s.url}/v1", api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as e:
            bad.models.list()
        assert e.value.body["code"] == "invalid_api_key"
        good = openai.OpenAI(base_url=f"{s.url}/v1", api_key="s3cret", max_retries=0)
        audio = good.audio.speech.create(model="tts-1", voice="alloy", input="Hi there.", response_format="wav")
        assert audio.content[:4] == b"RIFF"
        r = requests.post(f"{s.url}/v1/audio/speech", json={"input": "Hi"}, timeout=10,
                          headers={"Authorization": "Bearer s3cret", "Origin": "https://evil.example"})
        assert r.status_code == 403 and r.json()["error"]["type"] == "permission_error"
    finally:
        s.stop()
