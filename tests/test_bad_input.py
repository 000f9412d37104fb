"""A table of bad requests across every endpoint: each gets a 4xx JSON error a person understands, the
server keeps speaking, and voices/ stays byte-for-byte the same. On Vox's app in process (Flask's test client):
these are answers of the routes, not of the socket (test_edge_input sends chunked bodies over a real one)."""

from __future__ import annotations

import hashlib
import io
import json
import math
import wave

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import in_process_app

J = "application/json"


def wav(seconds: float, rate: int = 24000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2 * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


GOOD_CLIP = wav(6.0)


def flac(rate: int, channels: int, seconds: float) -> bytes:
    """A silent FLAC claiming ``rate`` and ``channels`` (a decompression bomb's header)."""
    import soundfile

    buf = io.BytesIO()
    soundfile.write(buf, np.zeros((int(rate * seconds), channels), np.float32), rate, format="FLAC")
    return buf.getvalue()

# (what, method, path, kwargs for requests, expected status)
BAD = [
    ("malformed json", "POST", "/api/vox_speak_wav_stream", {"data": b'{"text": "hi"', "ct": J}, 400),
    ("json array", "POST", "/api/vox_speak_wav_stream", {"data": b'["hi"]', "ct": J}, 400),
    ("json string", "POST", "/api/vox_speak_wav", {"data": b'"hi"', "ct": J}, 400),
    ("json null", "POST", "/api/vox_speak_wav", {"data": b"null", "ct": J}, 400),
    ("form instead of json", "POST", "/api/vox_speak_wav_stream", {"data": b"text=hi",
                                                                   "ct": "application/x-www-form-urlencoded"}, 415),
    ("text/plain", "POST", "/api/vox_speak_wav", {"data": b'{"text": "hi"}', "ct": "text/plain"}, 415),
    ("no content type", "POST", "/api/vox_speak_wav", {"data": b'{"text": "hi"}', "ct": None}, 415),
    ("empty body", "POST", "/api/vox_speak_wav_stream", {"data": b"", "ct": J}, 400),
    ("missing text", "POST", "/api/vox_speak_wav_stream", {"json": {"voice": "joe"}}, 400),
    ("text is a number", "POST", "/api/vox_speak_wav_stream", {"json": {"text": 42}}, 400),
    ("text is a list", "POST", "/api/vox_speak_wav", {"json": {"text": ["a", "b"]}}, 400),
    ("text is null", "POST", "/api/vox_speak_wav", {"json": {"text": None}}, 400),
    ("text is an object", "POST", "/api/vox_speak", {"json": {"text": {"a": 1}}}, 400),
    ("empty text", "POST", "/api/vox_speak_wav_stream", {"json": {"text": ""}}, 400),
    ("whitespace text", "POST", "/api/vox_speak_wav", {"json": {"text": " \n\t "}}, 400),
    ("only emoji", "POST", "/api/vox_speak_wav_stream", {"json": {"text": "🎉🎉"}}, 400),
    ("only a code block", "POST", "/api/vox_speak_wav", {"json": {"text": "```\n\n```"}}, None),
    ("text too long", "POST", "/api/vox_speak_wav_stream", {"json": {"text": "a" * 5001}}, 413),
    ("negative speed", "POST", "/api/vox_speak_wav_stream", {"json": {"text": "hi", "speed": -1}}, 400),
    ("zero speed", "POST", "/api/vox_speak_wav", {"json": {"text": "hi", "speed": 0}}, 400),
    ("NaN speed", "POST", "/api/vox_speak_wav_stream", {"data": b'{"text": "hi", "speed": NaN}', "ct": J}, 400),
    ("Infinity speed", "POST", "/api/vox_speak_wav", {"data": b'{"text": "hi", "speed": Infinity}', "ct": J}, 400),
    ("huge speed", "POST", "/api/vox_speak_wav_stream", {"json": {"text": "hi", "speed": 1e308}}, 400),
    ("speed as string", "POST", "/api/vox_speak_wav", {"json": {"text": "hi", "speed": "fast"}}, 400),
    ("speed as bool", "POST", "/api/vox_speak_wav", {"json": {"text": "hi", "speed": True}}, 400),
    ("unknown voice", "POST", "/api/vox_speak_wav_stream", {"json": {"text": "hi", "voice": "nobody"}}, 404),
    ("voice as number", "POST", "/api/vox_speak_wav", {"json": {"text": "hi", "voice": 7}}, 400),
    ("traversal voice", "POST", "/api/vox_speak_wav_stream", {"json": {"text": "hi", "voice": "../config"}}, 404),
    ("unknown language", "POST", "/api/vox_speak_wav_stream", {"json": {"text": "hi", "lang": "xx"}}, 400),
    ("language as list", "POST", "/api/vox_speak_wav", {"json": {"text": "hi", "lang": ["en"]}}, 400),
    ("unknown engine", "POST", "/api/tts_load", {"json": {"engine": "espeak"}}, 400),
    ("engine as number", "POST", "/api/tts_load", {"json": {"engine": 3}}, 400),
    ("invalid utf-8", "POST", "/api/vox_speak_wav_stream", {"data": b'{"text": "\xff\xfe hi"}', "ct": J}, 400),
    ("NUL byte", "POST", "/api/vox_speak_wav_stream", {"json": {"text": "hi\x00there"}}, 400),
    ("NUL in pushed text", "POST", "/api/replies/none/text", {"json": {"text": "a\x00"}}, 404),
    ("GET on a POST endpoint", "GET", "/api/vox_speak_wav_stream", {}, 405),
    ("PUT on stop", "PUT", "/api/vox_stop", {}, 405),
    ("DELETE on status", "DELETE", "/api/status", {}, 405),
    ("POST on status", "POST", "/api/status", {"json": {}}, 405),
    ("no such endpoint", "GET", "/api/nothing_here", {}, 404),
    ("delete traversal id", "DELETE", "/api/voices/..%2F..%2Fconfig.toml", {}, 404),
    ("delete absolute path", "DELETE", "/api/voices/%2Fetc%2Fpasswd", {}, 404),
    ("delete odd unicode", "DELETE", "/api/voices/%EF%BD%85%EF%BD%96%EF%BD%89%EF%BD%8C", {}, 404),
    ("delete bidi id", "DELETE", "/api/voices/abc%E2%80%AEdef", {}, 404),
    ("delete built-in", "DELETE", "/api/voices/joe", {}, 403),
    ("rename to traversal", "PATCH", "/api/voices/keeper", {"json": {"id": "../evil"}}, 400),
    ("rename to absolute", "PATCH", "/api/voices/keeper", {"json": {"id": "/etc/passwd"}}, 400),
    ("rename with bad type", "PATCH", "/api/voices/keeper", {"json": {"name": 5}}, 400),
    ("preview unknown", "GET", "/api/voices/ghost/audio", {}, 404),
    ("upload not audio", "POST", "/api/voices", {"files": {"file": ("x.wav", b"this is not audio" * 100)},
                                                 "form": {"name": "notaudio"}}, 400),
    ("upload zero bytes", "POST", "/api/voices", {"files": {"file": ("z.wav", b"")}, "form": {"name": "zero"}}, 400),
    ("upload truncated", "POST", "/api/voices", {"files": {"file": ("t.wav", GOOD_CLIP[: len(GOOD_CLIP) // 3])},
                                                 "form": {"name": "truncated"}}, 400),
    ("upload too short", "POST", "/api/voices", {"files": {"file": ("s.wav", wav(3.0))}, "form": {"name": "short"}},
     400),
    ("upload without file", "POST", "/api/voices", {"form": {"name": "nofile"}}, 400),
    ("upload traversal name", "POST", "/api/voices", {"files": {"file": ("../../x.wav", GOOD_CLIP)},
                                                      "form": {"id": "../../x"}}, 400),
    ("upload absolute name", "POST", "/api/voices", {"files": {"file": ("a.wav", GOOD_CLIP)},
                                                     "form": {"id": "/tmp/x"}}, 400),
    ("upload odd unicode name", "POST", "/api/voices", {"files": {"file": ("a.wav", GOOD_CLIP)},
                                                        "form": {"name": "ｅｖｉｌ"}}, 400),
    ("upload duplicate", "POST", "/api/voices", {"files": {"file": ("k.wav", GOOD_CLIP)}, "form": {"id": "keeper"}},
     409),
    ("upload too large", "POST", "/api/voices", {"files": {"file": ("big.wav", b"\0" * (3 * 2**20))},
                                                 "form": {"name": "big"}}, 413),
    ("chat without message", "POST", "/api/chat", {"json": {}}, 400),
    ("chat speak not bool", "POST", "/api/chat", {"json": {"message": "hi", "speak": "yes"}}, 400),
    ("reply with bad sink", "POST", "/api/replies", {"json": {"sink": "radio"}}, 400),
    ("reply with bad speed", "POST", "/api/replies", {"json": {"sink": "speakers", "speed": -3}}, 400),
    ("push to unknown reply", "POST", "/api/replies/nope/text", {"json": {"text": "hi"}}, 404),
    ("end unknown reply", "POST", "/api/replies/nope/end", {}, 404),
    # issue 18: numbers, nesting, surrogates, nothing to say, chunked bodies, uploads, names
    ("integer of 400 digits", "POST", "/api/vox_speak_wav_stream",
     {"data": b'{"text": "hi", "speed": 1' + b"0" * 400 + b"}", "ct": J}, 400),
    ("integer past the digit limit", "POST", "/api/vox_speak_wav",
     {"data": b'{"text": "hi", "seed": 1' + b"0" * 4400 + b"}", "ct": J}, 400),
    ("100,000 levels of nesting", "POST", "/api/chat",
     {"data": b'{"message": "hi", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "ct": J}, 400),
    ("1e400 speed", "POST", "/api/vox_speak", {"data": b'{"text": "hi", "speed": 1e400}', "ct": J}, 400),
    ("NaN exaggeration", "POST", "/api/replies", {"data": b'{"sink": "page", "exaggeration": NaN}', "ct": J}, 400),
    ("lone surrogate in text", "POST", "/api/vox_speak_wav_stream",
     {"data": b'{"text": "hi \\ud800 there"}', "ct": J}, 400),
    ("lone surrogate in a voice name", "PATCH", "/api/voices/keeper", {"data": b'{"name": "\\udfff"}', "ct": J}, 400),
    ("lone surrogate in a reply's voice", "POST", "/api/replies",
     {"data": b'{"sink": "speakers", "voice": "\\ud83d"}', "ct": J}, 400),
    ("punctuation only", "POST", "/api/vox_speak_wav", {"json": {"text": "... !!! ???"}}, 400),
    ("zero-width only", "POST", "/api/vox_speak_wav_stream", {"json": {"text": "\u200b\u200c\u2060\ufeff"}}, 400),
    ("markdown symbols only", "POST", "/api/vox_speak", {"json": {"text": "**\n---\n> #"}}, 400),
    ("chunked body over the limit", "POST", "/api/vox_speak_wav_stream",
     {"chunks": [b'{"text": "' + b"a" * 2**20] * 2 + [b'"}'], "ct": J}, 413),
    ("chunked upload over the limit", "POST", "/api/voices",
     {"chunks": [b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n",
                 *[b"\0" * 2**20] * 3, b"\r\n--x--\r\n"], "ct": "multipart/form-data; boundary=x"}, 413),
    ("impossible WAV header", "POST", "/api/voices",
     {"files": {"file": ("w.wav", GOOD_CLIP[:32] + b"\0\0" + GOOD_CLIP[34:])}, "form": {"name": "align zero"}}, 400),
    ("FLAC claiming 655 kHz and 8 channels", "POST", "/api/voices",
     {"files": {"file": ("b.flac", flac(655_350, 8, 0.2))}, "form": {"name": "bomb"}}, 400),
    ("5,000 form fields", "POST", "/api/voices",
     {"files": {"file": ("k.wav", GOOD_CLIP)}, "form": {f"f{i}": "x" for i in range(5000)}}, 413),
    ("a 1 MB text field", "POST", "/api/voices",
     {"files": {"file": ("k.wav", GOOD_CLIP)}, "form": {"name": "x" * 2**20}}, 413),
    ("full-width display name", "PATCH", "/api/voices/keeper", {"json": {"name": "\uff2b\uff45\uff45\uff50"}}, 400),
]


def voices_snapshot(root) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def vox(tmp_path_factory):
    app = in_process_app(tmp_path_factory.mktemp("bad"), config="[server]\nmax_text_chars = 5000\nmax_upload_mb = 2\n")
    client = app.test_client()
    r = client.post("/api/voices", data={"file": (io.BytesIO(GOOD_CLIP), "keeper.wav"), "id": "keeper"})
    assert r.status_code == 201, r.text
    yield client
    app.extensions["vox"].shutdown()


def send(client, method: str, path: str, kw: dict):
    """One row's request. A body in ``chunks`` comes without a length, as werkzeug's server hands a chunked one on."""
    headers = {}
    if "ct" in kw and kw["ct"] is not None:
        headers["Content-Type"] = kw["ct"]
    if "chunks" in kw:
        return client.open(path, method=method, headers=headers, input_stream=io.BytesIO(b"".join(kw["chunks"])),
                           environ_overrides={"wsgi.input_terminated": True})  # fmt: skip
    if "files" in kw:
        form = {name: (io.BytesIO(data), filename) for name, (filename, data) in kw["files"].items()}
        return client.open(path, method=method, data={**form, **kw.get("form", {})})
    if "json" in kw:
        return client.open(path, method=method, json=kw["json"])
    return client.open(path, method=method, headers=headers, data=kw.get("data", kw.get("form")))


def voices_folder(client):
    return client.application.extensions["vox"].config.voices_dir


def test_the_table_is_big_enough():
    assert len(BAD) >= 50


@pytest.mark.parametrize("what,method,path,kw,status", BAD, ids=[b[0] for b in BAD])
def test_bad_request_gets_a_clear_json_error(vox, what, method, path, kw, status):
    r = send(vox, method, path, kw)
    if status is None:  # nothing speakable after normalisation: a 400, or a spoken note about the code
        assert r.status_code in (200, 400)
        return
    assert r.status_code == status, f"{what}: {r.status_code} {r.text[:300]}"
    assert r.headers["Content-Type"].startswith("application/json")
    message = r.get_json()["error"]
    assert isinstance(message, str) and 10 <= len(message) <= 400 and "Traceback" not in message
    assert message[0].isalpha() or message[0] in "'\"", message


def test_after_the_table_the_server_speaks_and_voices_are_unchanged(vox):
    before = voices_snapshot(voices_folder(vox))
    for _, method, path, kw, _ in BAD:
        send(vox, method, path, kw)
    assert voices_snapshot(voices_folder(vox)) == before
    r = vox.post("/api/vox_speak_wav_stream", json={"text": "All good after the storm. Yes indeed."})
    assert r.status_code == 200, r.text
    messages = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    assert messages[-1]["done"] and not messages[-1]["stopped"] and len(messages) >= 2


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(st.sampled_from(["text", "voice", "speed", "lang", "x"]),
                               st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                                         st.floats(allow_nan=True), st.lists(st.integers(), max_size=2)),
                               max_size=4))
def test_fuzzed_speak_requests_never_5xx(vox, payload):
    """Property: whatever JSON object is sent, the answer is 200 (real speech) or a clear 4xx JSON error."""
    body = json.dumps(payload, allow_nan=True)
    r = vox.post("/api/vox_speak_wav", data=body, headers={"Content-Type": J})
    assert r.status_code < 500, r.text
    if r.status_code != 200:
        assert r.get_json()["error"]
    speed = payload.get("speed")
    if isinstance(speed, float) and not math.isfinite(speed):
        assert r.status_code == 400
