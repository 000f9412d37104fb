"""The voice library over a real socket: upload, list, rename, delete, preview, and every way an upload
can be wrong (not audio, empty, cut off, too short, too long, too big, a path for a name), concurrent
uploads, and a server killed mid-upload."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import requests
import soundfile
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import VoxServer, decode_chunk, start_server
from vox.audio.pcm import read_wav, rms
from vox.engines.piper import bundled_model
from vox.errors import InvalidRequest
from vox.voices.names import ID_PATTERN, voice_id_from_name

BAD_NAMES = ["../evil", "/etc/passwd", "..%2f", "..\\evil", "ｅｖｉｌ", "evil\u200f", "\u202eevil", "ev\x00il", ".."]


def speechlike(seconds: float, rate: int = 24000, channels: int = 1) -> np.ndarray:
    """A voiced-like signal: harmonics of a wandering 120 Hz pitch under a syllable-rate envelope."""
    t = np.arange(int(seconds * rate)) / rate
    phase = 2 * np.pi * np.cumsum(120 + 25 * np.sin(2 * np.pi * 0.7 * t)) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 25))
    pcm = (0.15 * voiced * (0.2 + 0.8 * np.sin(2 * np.pi * 2.5 * t) ** 2)).astype(np.float32)
    return np.repeat(pcm[:, None], channels, axis=1) if channels > 1 else pcm


def encode(pcm: np.ndarray, rate: int, fmt: str = "WAV", subtype: str | None = None) -> bytes:
    buf = io.BytesIO()
    soundfile.write(buf, pcm, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


SIX_SECONDS_WAV = encode(speechlike(6.0), 24000, "WAV", "PCM_16")


def upload(
    server: VoxServer | SimpleNamespace, data: bytes, filename: str = "clip.wav", **fields: str
) -> requests.Response:
    return requests.post(server.url + "/api/voices", files={"file": (filename, data)}, data=fields, timeout=60)


def listing(server: VoxServer) -> dict:
    r = server.get("/api/voices")
    assert r.status_code == 200, r.text
    return r.json()


def ids(server: VoxServer) -> list[str]:
    return [v["id"] for v in listing(server)["voices"]]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file in the voices folder and a hash of its bytes: proves a refused request changed nothing."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> VoxServer:
    """A server with a voices folder of its own that these tests change."""
    s = start_server(tmp_path_factory.mktemp("voices"))
    yield s
    s.stop()


@pytest.fixture
def folder(lib: VoxServer) -> Path:
    return lib.root / "voices"


# --- listing ------------------------------------------------------------------------------------------------


def test_bundled_joe_is_always_listed_and_is_the_default(lib):
    data = listing(lib)
    assert data["default"] == "joe"
    joe = data["voices"][0]
    assert joe == {
        "id": "joe",
        "name": "Joe (built in)",
        "engines": ["piper"],
        "duration": 0.0,
        "sample_rate": 22050,
        "kind": "piper",
    }


# --- uploads ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "subtype", "rate", "channels"),
    [
        ("WAV", "PCM_16", 24000, 1),
        ("WAV", "FLOAT", 48000, 2),
        ("FLAC", "PCM_16", 44100, 2),
        ("OGG", "VORBIS", 22050, 1),
        ("MP3", "MPEG_LAYER_III", 44100, 1),
    ],
)
def test_upload_each_format_is_stored_as_mono_16_bit_24k_wav(lib, folder, fmt, subtype, rate, channels):
    voice_id = f"fmt-{fmt.lower()}-{subtype.lower().replace('_', '')}"
    original = speechlike(6.0, rate, channels)
    r = upload(lib, encode(original, rate, fmt, subtype), f"take.{fmt.lower()}", id=voice_id)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/api/voices/{voice_id}"
    voice = r.json()["voice"]
    assert voice["id"] == voice_id and voice["kind"] == "clip"
    assert voice["engines"] == ["turbo", "multilingual"] and voice["sample_rate"] == 24000
    assert 5.9 < voice["duration"] < 6.2
    assert voice in listing(lib)["voices"]

    stored = (folder / f"{voice_id}.wav").read_bytes()
    info = soundfile.info(io.BytesIO(stored))
    assert (info.channels, info.samplerate, info.subtype, info.format) == (1, 24000, "PCM_16", "WAV")
    preview = lib.get(f"/api/voices/{voice_id}/audio")
    assert preview.status_code == 200 and preview.headers["Content-Type"] == "audio/wav"
    assert preview.content == stored
    pcm, _ = read_wav(stored)
    reference = original[:, 0] if channels > 1 else original
    assert abs(rms(pcm) - rms(reference)) < 0.15 * rms(reference), "the clip's loudness survived conversion"


def test_name_gives_the_id_and_is_kept_for_display(lib, folder):
    r = upload(lib, SIX_SECONDS_WAV, name="Grandpa Jürgen")
    assert r.status_code == 201, r.text
    assert r.json()["voice"]["id"] == "grandpa-jurgen"
    assert r.json()["voice"]["name"] == "Grandpa Jürgen"
    assert json.loads((folder / "grandpa-jurgen.voice.json").read_text("utf-8")) == {"name": "Grandpa Jürgen"}
    r = upload(lib, SIX_SECONDS_WAV, "Aunt May.flac")
    assert r.status_code == 201 and r.json()["voice"]["id"] == "aunt-may", r.text
    assert lib.get("/api/voices/aunt-may").json()["voice"]["name"] == "Aunt May"


def test_same_id_twice_is_409_and_keeps_the_first(lib, folder):
    assert upload(lib, SIX_SECONDS_WAV, id="twice", name="First").status_code == 201
    before = snapshot(folder)
    r = upload(lib, encode(speechlike(7.0), 24000), id="twice", name="Second")
    assert r.status_code == 409 and "already exists" in r.json()["error"]
    assert upload(lib, SIX_SECONDS_WAV, id="joe").status_code == 409
    assert snapshot(folder) == before
    assert lib.get("/api/voices/twice").json()["voice"]["name"] == "First"


def _truncated_wav() -> bytes:
    return SIX_SECONDS_WAV[: len(SIX_SECONDS_WAV) // 2]


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: b"", "empty"),
        (lambda: b"this is not audio at all " * 200, "not audio Vox can read (wav, flac, ogg, mp3)"),
        (lambda: b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(3000), "not audio Vox can read"),
        (_truncated_wav, "truncated"),
        (lambda: encode(speechlike(6.0, 44100), 44100, "FLAC")[:20000], "truncated"),
        (lambda: encode(speechlike(3.0), 24000), "3.0 s long; Chatterbox Turbo needs more than 5 s"),
        (lambda: encode(speechlike(5.0), 24000), "more than 5 s"),
        (lambda: encode(speechlike(61.0, 16000), 16000), "the limit is 60 s"),
        (lambda: encode(np.zeros(24000 * 6, np.float32), 24000), "silent"),
    ],
    ids=["zero-bytes", "junk", "bad-riff", "truncated-wav", "truncated-flac", "3s", "5s", "61s", "silence"],
)
def test_bad_audio_is_400_with_a_clear_message_and_stores_nothing(lib, folder, make, says):
    before = snapshot(folder)
    r = upload(lib, make(), id="rejected")
    assert r.status_code == 400, r.text
    assert says in r.json()["error"]
    assert snapshot(folder) == before
    assert "rejected" not in ids(lib)


def test_missing_file_field_is_400(lib):
    r = requests.post(lib.url + "/api/voices", data={"name": "x"}, timeout=10)
    assert r.status_code == 400 and "'file'" in r.json()["error"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_path_like_or_odd_unicode_names_are_400(lib, folder, name):
    before = snapshot(folder)
    for fields in ({"name": name}, {"id": name}, {"id": name.lower(), "name": "Fine"}):
        r = upload(lib, SIX_SECONDS_WAV, **fields)
        assert r.status_code == 400, (fields, r.text)
    r = upload(lib, SIX_SECONDS_WAV, filename=f"{name}.wav")
    assert r.status_code == 400, r.text
    assert snapshot(folder) == before
    assert not list(lib.root.rglob("*evil*"))


def test_ids_in_urls_cannot_reach_outside_the_library(lib):
    for path in ("..%2fconfig.toml", "..%2F..%2Fapp.py", "%2Fetc%2Fpasswd", "ｅｖｉｌ"):
        assert requests.delete(f"{lib.url}/api/voices/{path}", timeout=10).status_code == 404
        assert lib.get(f"/api/voices/{path}/audio").status_code == 404
    assert (lib.root / "config.toml").is_file()


def test_an_explicit_id_may_carry_any_display_name(lib):
    """Any script and punctuation; only look-alikes are refused (issue 18), as when an id is made from a name."""
    r = upload(lib, SIX_SECONDS_WAV, id="plain", name="Élodie evil / 日本語")
    assert r.status_code == 201, r.text
    assert r.json()["voice"]["name"] == "Élodie evil / 日本語"
    r = upload(lib, SIX_SECONDS_WAV, id="wide", name="Élodie ｅｖｉｌ")
    assert r.status_code == 400 and "look-alike" in r.json()["error"]


@given(st.text(max_size=90))
def test_a_derived_id_is_always_a_safe_file_name(name):
    try:
        voice_id = voice_id_from_name(name)
    except InvalidRequest as e:
        assert e.message
    else:
        assert ID_PATTERN.fullmatch(voice_id) and voice_id == Path(voice_id).name


# --- concurrency --------------------------------------------------------------------------------------------


def _race(uploads: list[dict]) -> list[int]:
    """Start the uploads together (a barrier) and return their status codes."""
    barrier = threading.Barrier(len(uploads))
    codes: list[int] = [0] * len(uploads)

    def run(i: int) -> None:
        fields = uploads[i]
        barrier.wait()
        codes[i] = upload(fields.pop("server"), fields.pop("data"), **fields).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(uploads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


def test_eight_uploads_of_one_name_one_wins(lib, folder):
    clips = [encode(speechlike(6.0 + i / 10), 24000) for i in range(8)]
    codes = _race([{"server": lib, "data": clips[i], "name": "Race Winner"} for i in range(8)])
    assert sorted(codes) == [201] + [409] * 7
    stored = (folder / "race-winner.wav").read_bytes()
    seconds = len(read_wav(stored)[0]) / 24000
    assert any(abs(seconds - (6.0 + i / 10)) < 0.01 for i in range(8)), "the stored clip is one whole upload"
    assert {p.name for p in folder.iterdir() if p.name.startswith("race-winner")} == {
        "race-winner.wav",
        "race-winner.voice.json",
    }
    assert no_temp_files(folder)


def test_eight_uploads_of_different_names_all_win(lib, folder):
    codes = _race([{"server": lib, "data": SIX_SECONDS_WAV, "name": f"Parallel {i}"} for i in range(8)])
    assert codes == [201] * 8
    assert {f"parallel-{i}" for i in range(8)} <= set(ids(lib))
    assert no_temp_files(folder)


# --- rename and delete --------------------------------------------------------------------------------------


def test_rename_display_name_then_id(lib, folder):
    assert upload(lib, SIX_SECONDS_WAV, id="before", name="Before").status_code == 201
    clip = (folder / "before.wav").read_bytes()

    r = requests.patch(lib.url + "/api/voices/before", json={"name": "Renamed Voice"}, timeout=10)
    assert r.status_code == 200 and r.json()["voice"]["name"] == "Renamed Voice", r.text
    r = requests.patch(lib.url + "/api/voices/before", json={"id": "after"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["voice"] == {**r.json()["voice"], "id": "after", "name": "Renamed Voice"}
    assert (folder / "after.wav").read_bytes() == clip
    assert not (folder / "before.wav").exists() and not (folder / "before.voice.json").exists()
    assert "before" not in ids(lib) and "after" in ids(lib)

    r = requests.patch(lib.url + "/api/voices/after", json={"id": "again", "name": "Both"}, timeout=10)
    assert r.status_code == 200 and r.json()["voice"]["id"] == "again" and r.json()["voice"]["name"] == "Both"
    assert no_temp_files(folder)


def test_rename_refusals(lib, folder):
    assert upload(lib, SIX_SECONDS_WAV, id="keep-a").status_code == 201
    assert upload(lib, SIX_SECONDS_WAV, id="keep-b").status_code == 201
    before = snapshot(folder)

    def patch(voice_id: str, payload) -> requests.Response:
        return requests.patch(f"{lib.url}/api/voices/{voice_id}", json=payload, timeout=10)

    assert patch("keep-a", {"id": "keep-b"}).status_code == 409
    assert patch("keep-a", {"id": "joe"}).status_code == 409
    assert patch("keep-a", {"id": "../evil"}).status_code == 400
    assert patch("keep-a", {"name": "bad\u202ename"}).status_code == 400
    assert patch("keep-a", {"colour": "red"}).status_code == 400
    assert patch("joe", {"name": "Joseph"}).status_code == 403
    r = patch("nobody", {"name": "X"})
    assert r.status_code == 404 and "keep-a" in r.json()["voices"] and "joe" in r.json()["voices"]
    assert snapshot(folder) == before


def test_delete_removes_clip_and_name(lib, folder):
    assert upload(lib, SIX_SECONDS_WAV, id="doomed", name="Doomed").status_code == 201
    r = requests.delete(lib.url + "/api/voices/doomed", timeout=10)
    assert r.status_code == 200 and r.json() == {"ok": True, "deleted": "doomed"}
    assert not [p for p in folder.iterdir() if p.name.startswith("doomed")]
    assert "doomed" not in ids(lib)
    assert lib.get("/api/voices/doomed/audio").status_code == 404

    r = requests.delete(lib.url + "/api/voices/doomed", timeout=10)
    assert r.status_code == 404 and "joe" in r.json()["voices"] and "doomed" in r.json()["error"]
    r = requests.delete(lib.url + "/api/voices/joe", timeout=10)
    assert r.status_code == 403 and "built into Vox" in r.json()["error"]
    assert "joe" in ids(lib)


# --- Piper voices and speaking ------------------------------------------------------------------------------


def test_dropped_in_piper_voice_is_listed_and_speaks(lib, folder):
    model = bundled_model()
    shutil.copy(model, folder / "en_US-copy-medium.onnx")
    shutil.copy(f"{model}.json", folder / "en_US-copy-medium.onnx.json")
    voice = lib.get("/api/voices/en_us-copy-medium").json()["voice"]
    assert voice == {
        "id": "en_us-copy-medium",
        "name": "En Us Copy Medium",
        "engines": ["piper"],
        "duration": 0.0,
        "sample_rate": 22050,
        "kind": "piper",
    }

    messages = list(lib.stream({"text": "Hello from a dropped in voice.", "voice": "en_us-copy-medium"}))
    assert messages[-1]["done"] is True and not messages[-1]["stopped"]
    pcm, rate = decode_chunk(messages[0])
    assert rate == 22050 and len(pcm) / rate > 0.8 and rms(pcm) > 0.02

    preview = lib.get("/api/voices/en_us-copy-medium/audio", timeout=60)
    assert preview.status_code == 200 and preview.headers["Content-Type"] == "audio/wav"
    pcm, rate = read_wav(preview.content)
    assert rate == 22050 and len(pcm) / rate > 1.0 and rms(pcm) > 0.02

    r = requests.patch(lib.url + "/api/voices/en_us-copy-medium", json={"id": "copy", "name": "Copy"}, timeout=10)
    assert r.status_code == 200 and r.json()["voice"]["kind"] == "piper", r.text
    assert {p.name for p in folder.glob("copy*")} == {"copy.onnx", "copy.onnx.json", "copy.voice.json"}
    assert not list(folder.glob("en_US-copy*"))
    assert requests.delete(lib.url + "/api/voices/copy", timeout=10).status_code == 200
    assert not list(folder.glob("copy*"))


def test_joe_preview_says_hello(lib):
    r = lib.get("/api/voices/joe/audio", timeout=60)
    assert r.status_code == 200
    pcm, rate = read_wav(r.content)
    assert rate == 22050 and 1.0 < len(pcm) / rate < 5 and rms(pcm) > 0.02


def test_unknown_voice_is_404_with_the_valid_ids(lib):
    assert upload(lib, SIX_SECONDS_WAV, id="known").status_code == 201
    for path in ("/api/vox_speak_wav_stream", "/api/vox_speak_wav"):
        r = lib.post(path, {"text": "Hello.", "voice": "nobody"})
        assert r.status_code == 404, r.text
        assert "nobody" in r.json()["error"]
        assert "joe" in r.json()["voices"] and "known" in r.json()["voices"]
    r = lib.get("/api/voices/nobody")
    assert r.status_code == 404 and "known" in r.json()["voices"]


def test_a_clip_voice_needs_a_cloning_engine(lib):
    assert upload(lib, SIX_SECONDS_WAV, id="clip-only").status_code == 201
    r = lib.post("/api/vox_speak_wav", {"text": "Hello.", "voice": "clip-only"})
    assert r.status_code == 409 and "Chatterbox Turbo" in r.json()["error"] and r.json()["engines"] == [
        "turbo", "multilingual"]


# --- limits and crashes -------------------------------------------------------------------------------------


def test_upload_over_max_upload_mb_is_413_json(tmp_path):
    s = start_server(tmp_path, "[server]\nmax_upload_mb = 1\n")
    try:
        big = encode(speechlike(30.0, 48000), 48000)  # 2.9 MB
        r = upload(s, big, id="big")
        assert r.status_code == 413
        assert "max_upload_mb" in r.json()["error"]
        body = (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n\r\n' + big + b"\r\n--b--\r\n"
        )
        chunked = (body[i : i + 65536] for i in range(0, len(body), 65536))  # no Content-Length
        headers = {"Content-Type": "multipart/form-data; boundary=b"}
        r = requests.post(s.url + "/api/voices", data=chunked, headers=headers, timeout=60)
        assert r.status_code == 413 and "max_upload_mb" in r.json()["error"]
        assert s.get("/health").status_code == 200
        assert snapshot(tmp_path / "voices") == {}
        assert upload(s, SIX_SECONDS_WAV, id="small").status_code == 201
    finally:
        s.stop()


def _multipart_head(port: int, total: int, boundary: str) -> bytes:
    return (
        f"POST /api/voices HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {total}\r\n\r\n"
    ).encode()


def test_sigkill_during_a_slow_upload_leaves_nothing_after_restart(tmp_path):
    s = start_server(tmp_path, "[server]\nmax_upload_mb = 20\n")
    voices = tmp_path / "voices"
    assert upload(s, SIX_SECONDS_WAV, id="survivor").status_code == 201
    before = snapshot(voices)
    boundary = "voxboundary"
    clip = encode(speechlike(50.0, 48000, 2), 48000)  # 9.6 MB
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\nhalf\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + clip
        + f"\r\n--{boundary}--\r\n".encode()
    )
    with socket.create_connection(("127.0.0.1", s.port)) as sock:
        sock.sendall(_multipart_head(s.port, len(body), boundary))
        for i in range(0, len(body) // 2, 256 * 1024):
            sock.sendall(body[i : i + 256 * 1024])
            time.sleep(0.02)
        s.proc.kill()
        s.proc.wait(10)
    # The moment a kill can cut a write short is after the upload is received: leave what that leaves, a
    # temp file of the dead process, plus one of a live process (this one) that must be kept.
    (voices / f".tmp-{s.proc.pid}-abc123.wav").write_bytes(clip[: len(clip) // 3])
    (voices / f".tmp-{os.getpid()}-live.wav").write_bytes(b"still being written")

    s2 = start_server(tmp_path, "[server]\nmax_upload_mb = 20\n")
    try:
        assert ids(s2) == ["joe", "survivor"]
        after = snapshot(voices)
        assert after.pop(f".tmp-{os.getpid()}-live.wav"), "a live process's temp file is kept"
        assert after == before
        assert "removed 1 unfinished file" in s2.log_text()
        assert upload(s2, SIX_SECONDS_WAV, id="half").status_code == 201
    finally:
        s2.stop()


# --- engine caches ------------------------------------------------------------------------------------------


def test_delete_tells_the_engine_to_forget_the_voice(tmp_path):
    """Chatterbox caches conditionals per clip content; deleting calls the current engine's forget_voice (a
    rename keeps the bytes, so the cache stays valid and is kept)."""
    from app import create_app, serve
    from vox import config as vox_config
    from vox.runtime import Runtime

    class RecordingEngine:
        name = "turbo"
        sample_rate = 24000
        loaded = True

        def __init__(self) -> None:
            self.forgotten: list[str] = []

        def forget_voice(self, voice) -> None:
            assert voice.path.exists(), "told before the file goes, so it can still be read"
            self.forgotten.append(voice.id)

        def unload(self) -> None:
            pass

    config = vox_config.Config()
    config.voices.dir = str(tmp_path / "voices")
    runtime = Runtime(config)
    engine = RecordingEngine()
    runtime.engines.current = engine
    server, thread = serve(create_app(config, runtime), "127.0.0.1", 0)
    s = SimpleNamespace(url=f"http://127.0.0.1:{server.port}")
    try:
        assert upload(s, SIX_SECONDS_WAV, id="cached").status_code == 201
        assert requests.patch(s.url + "/api/voices/cached", json={"name": "Only a name"}, timeout=10).ok
        assert engine.forgotten == []
        assert requests.patch(s.url + "/api/voices/cached", json={"id": "moved"}, timeout=10).ok
        assert requests.delete(s.url + "/api/voices/moved", timeout=10).ok
        assert engine.forgotten == ["moved"]
    finally:
        server.shutdown()
        thread.join(5)
