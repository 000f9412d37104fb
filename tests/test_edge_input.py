"""Edge input on every path (issue 18): numbers and nesting no field could take, lone surrogates, text with
nothing to say, chunked bodies over the limit, look-alike letters in names, loopback aliases, special files
in voices/, and a Piper voice replaced at the same path."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from tests.conftest import ROOT, decode_chunk, free_port, sse_messages, start_server
from tests.fake_llm import FakeLlm
from tests.test_bad_input import GOOD_CLIP
from vox.audio.pcm import read_wav
from vox.engines.piper import bundled_model
from vox.voices import VoiceLibrary

J = {"Content-Type": "application/json"}
NUMBERS = {
    "an integer too large for a float": b'{"text": "Hi.", "speed": 1' + b"0" * 400 + b"}",
    "an integer past Python's digit limit": b'{"text": "Hi.", "speed": 1' + b"0" * 5000 + b"}",
    "a negative huge integer": b'{"text": "Hi.", "seed": -' + b"9" * 60 + b"}",
    "1e400": b'{"text": "Hi.", "speed": 1e400}',
    "-1e999 in a list": b'{"text": "Hi.", "x": [1, -1e999]}',
    "a huge decimal": b'{"text": "Hi.", "temperature": 1' + b"0" * 400 + b'.5}',
    "NaN": b'{"text": "Hi.", "speed": NaN}',
    "-Infinity in an object": b'{"text": "Hi.", "x": {"y": -Infinity}}',
    "100,000 levels of arrays": b'{"text": "Hi.", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "100,000 levels of objects": b'{"text": "Hi.", "x": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"}",
    "a bare deep array": b"[" * 100_000 + b"]" * 100_000,
}
JSON_ENDPOINTS = [("POST", "/api/vox_speak_wav_stream"), ("POST", "/api/vox_speak_wav"), ("POST", "/api/vox_speak"),
                  ("POST", "/api/tts_load"), ("POST", "/api/chat"), ("POST", "/api/replies"),
                  ("PATCH", "/api/voices/keeper")]  # fmt: skip
NOTHING = ["...", "!!! ???", "** __ ~~", "# \n> \n---", "\u200b\u200b\u2060", "\ufeff", "🎉🙂", "(( )) [ ]", "¿¡…",
           "— –"]


@pytest.fixture(scope="module")
def fake_llm():
    f = FakeLlm().start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def vox(tmp_path_factory, fake_llm):
    s = start_server(tmp_path_factory.mktemp("edge"), config=f'[server]\nmax_upload_mb = 1\n[llm]\nbase_url = '
                                                              f'"{fake_llm.base_url}"\nmodel = "m"\n')  # fmt: skip
    assert s.post("/api/tts_load", {"engine": "piper"}).status_code == 200
    r = requests.post(s.url + "/api/voices", files={"file": ("k.wav", GOOD_CLIP)}, data={"id": "keeper"}, timeout=30)
    assert r.status_code == 201
    yield s
    s.stop()


def clear_error(r: requests.Response, status: int = 400) -> str:
    assert r.status_code == status, r.text[:300]
    assert r.headers["Content-Type"].startswith("application/json")
    message = r.json()["error"]
    assert 10 <= len(message) <= 400 and "Traceback" not in message and (message[0].isalpha() or message[0] in "'\"")
    return message


@pytest.mark.parametrize("method,path", JSON_ENDPOINTS)
@pytest.mark.parametrize("what", NUMBERS)
def test_numbers_and_nesting_no_field_could_take_are_400_everywhere(vox, method, path, what):
    r = requests.request(method, vox.url + path, data=NUMBERS[what], headers=J, timeout=30)
    message = clear_error(r)
    assert "number" in message or "nested" in message


def test_big_but_sane_numbers_still_work(vox):
    r = vox.post("/api/vox_speak_wav", {"text": "Fine.", "speed": 1.0000000000000000001})
    assert r.status_code == 200
    r = requests.post(vox.url + "/api/vox_speak_wav", data=b'{"text": "Fine.", "speed": 12345678901234567890}',
                      headers=J, timeout=30)  # fmt: skip
    assert "between" in clear_error(r)


SURROGATE = '"Hello \\ud800 there."'


@pytest.mark.parametrize("method,path,template", [
    ("POST", "/api/vox_speak_wav_stream", '{"text": %s}'),
    ("POST", "/api/vox_speak_wav", '{"text": %s}'),
    ("POST", "/api/vox_speak", '{"text": %s}'),
    ("POST", "/api/chat", '{"message": %s}'),
    ("POST", "/api/replies", '{"sink": "speakers", "voice": %s}'),
    ("PATCH", "/api/voices/keeper", '{"name": %s}'),
    ("POST", "/api/vox_speak_wav", '{"text": "fine", %s: 1}'),
    ("POST", "/api/vox_speak_wav", '{"text": "fine", "x": ["\\udfff"]}'),
    ("POST", "/api/tts_load", '{"engine": %s}'),
])  # fmt: skip
def test_lone_surrogates_are_refused_at_the_boundary(vox, method, path, template):
    body = (template % SURROGATE if "%s" in template else template).encode()
    message = clear_error(requests.request(method, vox.url + path, data=body, headers=J, timeout=30))
    assert "surrogate" in message


def test_a_surrogate_in_a_pushed_delta_is_refused_and_later_pushes_still_work(vox):
    with live_page(vox):
        reply = vox.post("/api/replies", {"sink": "page"}).json()["id"]
        bad = requests.post(f"{vox.url}/api/replies/{reply}/text", data=b'{"text": "Oops \\udc00."}', headers=J,
                            timeout=30)  # fmt: skip
        assert "surrogate" in clear_error(bad)
        assert vox.post(f"/api/replies/{reply}/text", {"text": "This part is fine. "}).status_code == 202
        assert vox.post(f"/api/replies/{reply}/end").status_code == 200
        vox.post("/api/vox_stop")


def test_raw_surrogate_bytes_elsewhere_are_replaced_not_crashed_on(vox):
    """Outside JSON, bytes that would decode to a surrogate (ED A0 80) are not UTF-8: they become U+FFFD."""
    bad = b"\xed\xa0\x80"
    r = requests.post(vox.url + "/api/voices", files={"file": ("x\xed\xa0\x80.wav", GOOD_CLIP)},
                      data={"name": bad}, timeout=30)  # fmt: skip
    assert r.status_code == 400 and "file name" in r.json()["error"]  # no id can be made from it
    r = requests.post(vox.url + "/api/voices", files={"file": ("x.wav", GOOD_CLIP)}, data={"id": "odd", "name": bad},
                      timeout=30)  # fmt: skip
    assert r.status_code == 201 and set(r.json()["voice"]["name"]) == {"\ufffd"}
    assert requests.delete(vox.url + "/api/voices/odd", timeout=10).status_code == 200
    assert vox.get("/api/voices/%ED%A0%80").status_code == 404
    assert vox.get("/api/status?x=%ED%A0%80").status_code == 200
    conn = http.client.HTTPConnection("127.0.0.1", vox.port, timeout=30)
    conn.putrequest("POST", "/api/vox_speak_wav")
    conn.putheader("X-Vox-Session", bad)
    conn.putheader("Content-Type", "application/json")
    body = b'{"text": "A session header that is not text."}'
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    assert conn.getresponse().status == 200
    conn.close()


@pytest.mark.parametrize("text", NOTHING)
def test_nothing_to_say_is_400_on_every_speak_path(vox, text):
    for path in ("/api/vox_speak_wav_stream", "/api/vox_speak_wav", "/api/vox_speak"):
        assert "nothing to say" in clear_error(vox.post(path, {"text": text})).lower()


def test_a_reply_with_some_words_among_the_punctuation_says_only_the_words(vox):
    messages = list(vox.stream({"text": "... Hello there. !!! ??? And goodbye."}))
    spoken = [m["text"] for m in messages if "audio" in m]
    assert messages[-1]["done"] and all(any(c.isalpha() for c in t) for t in spoken)
    assert "Hello" in " ".join(spoken) and "goodbye" in " ".join(spoken)


class live_page:
    """An open Vox page, as far as the server can tell: a reader of /api/live, collecting its messages."""

    def __init__(self, vox) -> None:
        self.vox, self.messages, self._stop = vox, [], threading.Event()

    def __enter__(self):
        self._r = requests.get(self.vox.url + "/api/live", stream=True, timeout=60)
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()
        deadline = time.monotonic() + 10
        while self.vox.get("/api/status").json()["pages"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def _read(self) -> None:
        try:
            for m in sse_messages(self._r):
                self.messages.append(m)
        except (requests.RequestException, AttributeError, ValueError):
            pass

    def wait_for(self, check, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hit = [m for m in self.messages if check(m)]
            if hit:
                return hit[0]
            time.sleep(0.05)
        return None

    def __exit__(self, *exc):
        self._r.close()


def test_a_pushed_reply_with_nothing_to_say_ends_quietly_with_no_chunks(vox):
    """Pushed text arrives piece by piece, so each delta cannot be judged alone: a reply that never had
    anything to say ends with a done event and 0 chunks (documented), not an error."""
    with live_page(vox) as page:
        reply = vox.post("/api/replies", {"sink": "page"}).json()["id"]
        for delta in ("... ", "**", " 🎉 ", "!!!"):
            assert vox.post(f"/api/replies/{reply}/text", {"text": delta}).status_code == 202
        assert vox.post(f"/api/replies/{reply}/end").status_code == 200
        done = page.wait_for(lambda m: m.get("done") and m.get("job") == reply)
        assert done is not None and done["chunks"] == 0 and not done["stopped"]
        assert not [m for m in page.messages if "audio" in m and m.get("job") == reply]


def test_chat_whose_llm_reply_says_nothing_ends_with_the_text_and_no_audio(vox, fake_llm):
    fake_llm.reset(reply="... !!! 🎉")
    with requests.post(vox.url + "/api/chat", json={"message": "Say nothing."}, stream=True, timeout=60) as r:
        assert r.status_code == 200
        messages = list(sse_messages(r))
    assert messages[-1]["done"] and messages[-1]["reply"] == "... !!! 🎉"
    assert not [m for m in messages if "audio" in m or "error" in m]


def chunked_post(port: int, path: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
    conn.request("POST", path, body=pieces, headers={"Content-Type": content_type}, encode_chunked=True)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, json.loads(data) if data.startswith(b"{") else {}


def test_chunked_bodies_over_the_limit_are_413_like_declared_ones(vox):
    big = json.dumps({"text": "Hello. " * 200_000}).encode()  # 1.4 MB; the limit here is 1 MB
    status, answer = chunked_post(vox.port, "/api/vox_speak_wav_stream", big)
    assert status == 413 and "1 MB" in answer["error"]
    padded = b'{"text": "Hi."' + b" " * (2**20 + 10) + b"}"
    assert chunked_post(vox.port, "/api/vox_speak_wav", padded)[0] == 413
    status, _ = chunked_post(vox.port, "/api/vox_speak_wav", b'{"text": "A small chunked body is fine."}')
    assert status == 200
    boundary = "b0undary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
    form = head.encode() + b"\0" * (2 * 2**20) + f"\r\n--{boundary}--\r\n".encode()
    status, answer = chunked_post(vox.port, "/api/voices", form, f"multipart/form-data; boundary={boundary}")
    assert status == 413 and "1 MB" in answer["error"]


@pytest.mark.parametrize("name,stored", [("\u212a9 unit", "K9 unit"), ("\u2126mega", "\u03a9mega"),
                                         ("\u212bngstr\u00f6m", "\u00c5ngstr\u00f6m"),
                                         ("Ju\u0308rgen", "J\u00fcrgen")])  # fmt: skip
def test_canonical_look_alikes_are_folded_in_display_names(vox, name, stored):
    r = requests.patch(vox.url + "/api/voices/keeper", json={"name": name}, timeout=10)
    assert r.status_code == 200 and r.json()["voice"]["name"] == stored


@pytest.mark.parametrize("name", ["\uff25vil", "\ufb01ne", "Voice\u00b2", "\u2460 one", "Ｋ"])
def test_compatibility_look_alikes_are_refused_in_display_names(vox, name):
    assert "look-alike" in clear_error(requests.patch(vox.url + "/api/voices/keeper", json={"name": name}, timeout=10))
    r = requests.post(vox.url + "/api/voices", files={"file": ("x.wav", GOOD_CLIP)}, data={"id": "lookalike",
                                                                                           "name": name}, timeout=30)
    assert "look-alike" in clear_error(r)


def start_on(host: str, tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    (tmp / "voices").mkdir(parents=True, exist_ok=True)
    cfg = tmp / "config.toml"
    cfg.write_text(f'[voices]\ndir = "{tmp / "voices"}"\n')
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--no-window", "--host", host, "--port", str(port),
                             "--config", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://{host if ':' not in host.strip('[]') else '[' + host.strip('[]') + ']'}:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"no server on {url}")


@pytest.mark.parametrize("host", ["127.0.0.2", "127.3.4.5", "::1", "[::1]"])
def test_a_loopback_alias_accepts_requests_addressed_to_it(tmp_path, host):
    proc, url = start_on(host, tmp_path)
    try:
        assert requests.get(url + "/api/status", timeout=10).status_code == 200
        assert requests.post(url + "/api/vox_stop", headers={"Origin": url}, timeout=10).status_code == 200
        r = requests.get(url + "/api/status", headers={"Host": "evil.example"}, timeout=10)
        assert r.status_code == 403
        r = requests.post(url + "/api/vox_stop", headers={"Origin": "http://127.0.0.9:1"}, timeout=10)
        assert r.status_code == 403
    finally:
        proc.terminate()
        proc.wait(10)


def special_files(folder: Path) -> list[str]:
    """A FIFO, a symlink to it, a socket and a device, each named like a voice file; returns their names."""
    os.mkfifo(folder / "fifo.wav")
    os.symlink(folder / "fifo.wav", folder / "link.wav")
    os.mkfifo(folder / "pipe.onnx")
    (folder / "pipe.onnx.json").write_text('{"audio": {"sample_rate": 22050}}')
    shutil.copy(bundled_model(), folder / "real.onnx")
    os.mkfifo(folder / "real.onnx.json")  # a real model whose config is a FIFO
    os.mkfifo(folder / "keeper.voice.json")  # a clip whose sidecar is a FIFO
    (folder / "keeper.wav").write_bytes(GOOD_CLIP)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock.wav"))
    sock.close()
    os.symlink("/dev/zero", folder / "zero.wav")
    return ["fifo.wav", "link.wav", "pipe.onnx", "real.onnx.json", "keeper.voice.json", "sock.wav", "zero.wav"]


def test_special_files_in_voices_are_skipped_with_one_log_line(tmp_path, caplog):
    folder = tmp_path / "voices"
    folder.mkdir()
    names = special_files(folder)
    library = VoiceLibrary(folder)
    result: list = []
    t = threading.Thread(target=lambda: result.append(library.list()), daemon=True)
    t.start()
    t.join(10)
    assert result, "listing the voices hung"
    assert [v.id for v in result[0]] == ["joe", "keeper"] and result[0][1].name == "Keeper"
    library.list()
    logged = [r.getMessage() for r in caplog.records if "not a regular file" in r.getMessage()]
    for name in names:
        assert sum(name in line for line in logged) == 1, (name, logged)


def test_a_server_with_special_files_in_voices_lists_uploads_and_deletes(tmp_path):
    (tmp_path / "voices").mkdir()
    special_files(tmp_path / "voices")
    s = start_server(tmp_path)
    try:
        assert [v["id"] for v in s.get("/api/voices", timeout=10).json()["voices"]] == ["joe", "keeper"]
        r = requests.post(s.url + "/api/voices", files={"file": ("n.wav", GOOD_CLIP)}, data={"id": "new"}, timeout=30)
        assert r.status_code == 201
        assert requests.delete(s.url + "/api/voices/new", timeout=10).status_code == 200
        assert s.get("/api/voices/fifo/audio", timeout=10).status_code == 404
        assert s.get("/api/voices/keeper/audio", timeout=10).status_code == 200
        assert "fifo.wav is a FIFO" in s.log_text() and "sock.wav is a socket" in s.log_text()
    finally:
        s.stop()


def test_a_piper_voice_replaced_at_the_same_path_is_not_served_stale(tmp_path):
    """The model cache is keyed by both files' mtime, size and inode: a replaced voice (here its config says
    another sample rate, so the same phonemes last twice as long) is loaded again without an unload."""
    folder = tmp_path / "voices"
    folder.mkdir()
    joe = bundled_model()
    config = json.loads(Path(f"{joe}.json").read_text())
    shutil.copy(joe, folder / "alt.onnx")
    (folder / "alt.onnx.json").write_text(json.dumps(config))
    s = start_server(tmp_path)
    try:
        s.post("/api/tts_load", {"engine": "piper"})

        def seconds() -> float:
            r = s.post("/api/vox_speak_wav", {"text": "The same words each time.", "voice": "alt"})
            assert r.status_code == 200
            pcm, rate = read_wav(r.content)
            return pcm.size / rate

        first = seconds()
        for name, rate in (("alt.onnx.json", config["audio"]["sample_rate"] // 2), ("alt.onnx", None)):
            time.sleep(0.05)
            if rate is not None:  # the config alone is rewritten in place
                (folder / name).write_text(json.dumps({**config, "audio": {**config["audio"], "sample_rate": rate}}))
            else:  # the model is replaced by a new file (a new inode), as a download would
                shutil.copy(joe, folder / "alt.onnx.new")
                os.replace(folder / "alt.onnx.new", folder / "alt.onnx")
            assert seconds() == pytest.approx(2 * first, rel=0.1)
    finally:
        s.stop()


def test_audio_of_a_reply_is_still_real_speech(vox):
    """A sanity check that the filters above did not silence ordinary text."""
    messages = list(vox.stream({"text": "Ordinary words, spoken as always."}))
    pcm, _ = decode_chunk(messages[0])
    assert float(np.sqrt(np.mean(pcm**2))) > 0.01
