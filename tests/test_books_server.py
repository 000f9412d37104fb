"""Books through a real server: EPUB and Markdown books rendered with Piper to M4B (chapters, durations, tags,
speech a recogniser understands) and tagged MP3s; edits that re-render only what changed; a render that a
conversation interrupts, stop-all leaves alone, and pause, resume and cancel control; a server killed with
SIGKILL mid-render that resumes after a restart without saying a finished chapter again; bad uploads."""

from __future__ import annotations

import io
import signal
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import requests

from tests.books import KEYWORDS, MARKDOWN, make_drm_epub, make_epub, speech_like
from tests.conftest import VoxServer, sse_messages, start_server

RENDER_TIMEOUT = 600
"""Seconds a small book may take on a loaded 2-core machine (it takes 10-60 s)."""


def upload(server: VoxServer, name: str, data: bytes, **fields) -> requests.Response:
    return requests.post(server.url + "/api/books", files={"file": (name, data)}, data=fields, timeout=120)


def patch(server: VoxServer, path: str, payload: dict) -> requests.Response:
    return requests.patch(server.url + path, json=payload, timeout=60)


def wait_progress(server: VoxServer, pid: str, until, timeout: float = RENDER_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = server.get(f"/api/books/{pid}/progress").json()["progress"]
        if until(p):
            return p
        if p["state"] == "error":
            raise AssertionError(p["message"])
        time.sleep(0.2)
    raise AssertionError(f"the render did not get there in {timeout} s: {p}")


def render(server: VoxServer, pid: str) -> dict:
    r = server.post(f"/api/books/{pid}/render")
    assert r.status_code == 202, r.text
    return wait_progress(server, pid, lambda p: p["state"] == "done")


def audio_files(folder: Path) -> dict[str, tuple[int, int]]:
    """Each finished chapter file and what would change if it were written again (inode, mtime)."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (folder / "audio").glob("*.flac")}


def book_folder(server: VoxServer, pid: str) -> Path:
    return server.root / "books" / pid


def decode(data: bytes) -> tuple[np.ndarray, int, list[dict], dict]:
    import av

    with av.open(io.BytesIO(data)) as c:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)]).astype(np.float32)
        return pcm, c.streams.audio[0].rate, c.chapters(), dict(c.metadata)


def transcribe(pcm: np.ndarray, rate: int) -> str:
    import faster_whisper

    from tests.whisper_weights import whisper_base
    from vox.audio.pcm import resample

    global _model
    if _model is None:
        _model = faster_whisper.WhisperModel(str(whisper_base()), device="cpu", compute_type="int8", cpu_threads=2)
    segments, _ = _model.transcribe(resample(pcm, rate, 16000), language="en", beam_size=1,
                                    condition_on_previous_text=False)  # fmt: skip
    return " ".join(s.text for s in segments).lower()


_model = None


@pytest.fixture
def vox(tmp_path):
    s = start_server(tmp_path)
    yield s
    s.stop()


@pytest.mark.whisper
def test_an_epub_becomes_an_m4b_with_chapters_tags_and_speech_and_tagged_mp3s(vox, tmp_path):
    r = upload(vox, "tales.epub", make_epub(tmp_path / "tales.epub").read_bytes())
    assert r.status_code == 201, r.text
    book = r.json()["book"]
    included = [c for c in book["chapters"] if not c["excluded"] and not c["skipped"]]
    assert [c["title"] for c in included] == ["The Harbour", "The Lighthouse", "Morning"]
    assert {c["skipped"] for c in book["chapters"]} >= {"it is the table of contents", "it has no text to read aloud"}
    assert not book["exports"]["m4b"]["ready"]
    assert vox.get(f"/api/books/{book['id']}/download/m4b").status_code == 409  # not made yet

    done = render(vox, book["id"])
    assert (done["chapters_done"], done["chapters_total"], done["fraction"]) == (3, 3, 1.0)
    assert done["audio_minutes"] > 0.05
    book = vox.get(f"/api/books/{book['id']}").json()["book"]
    assert book["exports"]["m4b"]["ready"]
    m4b = vox.get(book["exports"]["m4b"]["url"])
    assert m4b.status_code == 200 and m4b.headers["Content-Type"] == "audio/mp4"
    assert 'filename="Tales of the Coast.m4b"' in m4b.headers["Content-Disposition"]

    pcm, rate, chapters, tags = decode(m4b.content)
    assert (tags["title"], tags["artist"]) == ("Tales of the Coast", "Ann Author")
    assert [c["metadata"]["title"] for c in chapters] == ["The Harbour", "The Lighthouse", "Morning"]
    seconds = [c["seconds"] for c in book["chapters"] if c["done"]]
    for marker, length in zip(chapters, seconds, strict=True):
        span = (marker["end"] - marker["start"]) * marker["time_base"]
        assert float(span) == pytest.approx(length + 1.0, abs=0.1)  # the chapter and its second of silence
    assert len(pcm) / rate == pytest.approx(sum(seconds) + 3.0, abs=0.2)
    from mutagen.mp4 import MP4

    path = tmp_path / "book.m4b"
    path.write_bytes(m4b.content)
    assert [c.title for c in MP4(str(path)).chapters] == ["The Harbour", "The Lighthouse", "Morning"]
    for marker, keyword in zip(chapters, KEYWORDS, strict=True):
        a, b = (int(float(marker[k] * marker["time_base"]) * rate) for k in ("start", "end"))
        speech_like(pcm[a:b], rate, 8)
        assert keyword in transcribe(pcm[a:b], rate), keyword

    r = vox.post(f"/api/books/{book['id']}/export", {"format": "mp3"})
    assert r.status_code == 200 and r.json()["export"]["ready"], r.text
    with zipfile.ZipFile(io.BytesIO(vox.get(r.json()["export"]["url"]).content)) as zf:
        names = zf.namelist()
        assert [n.split("/")[-1] for n in names] == ["01 - The Harbour.mp3", "02 - The Lighthouse.mp3",
                                                     "03 - Morning.mp3"]  # fmt: skip
        from mutagen.id3 import ID3

        for k, name in enumerate(names, 1):
            mp3 = tmp_path / f"{k}.mp3"
            mp3.write_bytes(zf.read(name))
            tags = ID3(str(mp3))
            assert str(tags["TIT2"]) == name.split(" - ", 1)[1][:-4]
            assert (str(tags["TALB"]), str(tags["TPE1"]), str(tags["TRCK"])) == ("Tales of the Coast", "Ann Author",
                                                                                 f"{k}/3")  # fmt: skip
            speech_like(*decode(mp3.read_bytes())[:2], 8)


def test_edits_keep_finished_chapters_and_a_voice_change_renders_them_again(vox):
    book = upload(vox, "notes.md", MARKDOWN.encode()).json()["book"]
    ids = {c["title"]: c["id"] for c in book["chapters"]}
    assert list(ids) == ["Spring", "Summer", "Plates", "Autumn"]
    pid = book["id"]
    render(vox, pid)
    folder = book_folder(vox, pid)
    before = audio_files(folder)
    assert len(before) == 4
    order = [{"id": ids["Spring"]}, {"id": ids["Autumn"]}, {"id": ids["Summer"], "title": "High Summer"},
             {"id": ids["Plates"], "excluded": True}]  # fmt: skip
    r = patch(vox, f"/api/books/{pid}", {"chapters": order, "title": "Notes", "author": "B. W."})
    assert r.status_code == 200, r.text
    done = render(vox, pid)
    assert done["chapters_done"] == 3 and audio_files(folder).items() <= before.items()  # nothing said again
    _, _, chapters, tags = decode(vox.get(f"/api/books/{pid}/download/m4b").content)
    assert [c["metadata"]["title"] for c in chapters] == ["Spring", "Autumn", "High Summer"]
    assert (tags["title"], tags["artist"]) == ("Notes", "B. W.")

    r = vox.post(f"/api/books/{pid}/merge", {"chapters": [ids["Spring"], ids["Autumn"]]})
    assert r.status_code == 200, r.text
    merged = r.json()["book"]["chapters"]
    assert [(c["title"], c["done"]) for c in merged if not c["excluded"]] == [("Spring", False), ("High Summer", True)]
    render(vox, pid)
    after = audio_files(folder)
    summer = next(n for n in before if n.startswith(ids["Summer"] + "."))
    assert after[summer] == before[summer]  # the untouched chapter was not said again
    assert not any(n.startswith((ids["Spring"] + ".", ids["Autumn"] + ".")) for n in after)  # merged away

    assert patch(vox, f"/api/books/{pid}", {"speed": 1.3}).status_code == 200
    render(vox, pid)
    final = audio_files(folder)
    spoken = [n for n in final if not n.startswith(ids["Plates"] + ".")]  # (the excluded one keeps its audio)
    assert summer not in final and len(spoken) == 2  # new voice settings: every chapter again, the old ones gone


def test_conversation_goes_first_stop_all_leaves_the_render_and_pause_resume_cancel_control_it(vox):
    text = "\n\n".join(f"## Part {k}\n\nThe wind turned over the hills for the {k} time. The shepherd counted "
                       f"his sheep again, slowly, one by one." for k in range(1, 13))  # fmt: skip
    pid = upload(vox, "long.md", text.encode()).json()["book"]["id"]
    assert vox.post(f"/api/books/{pid}/render").status_code == 202
    wait_progress(vox, pid, lambda p: p["chars_done"] > 0)
    for _ in range(3):
        t0 = time.monotonic()
        with requests.post(vox.url + "/api/vox_speak_wav_stream", json={"text": "Yes, I am here. What next?"},
                           stream=True, timeout=120) as r:  # fmt: skip
            messages = list(sse_messages(r))
        assert messages[-1].get("done") and not messages[-1]["stopped"], messages[-1]
        assert time.monotonic() - t0 < 60
    p = vox.get(f"/api/books/{pid}/progress").json()["progress"]
    assert p["state"] == "rendering"
    for stop in ("/api/stop_all_vox", "/api/vox_stop"):
        assert vox.post(stop).status_code == 200
        assert vox.get(f"/api/books/{pid}/progress").json()["progress"]["state"] == "rendering"
    chars = vox.get(f"/api/books/{pid}/progress").json()["progress"]["chars_done"]
    wait_progress(vox, pid, lambda p: p["chars_done"] > chars)  # it goes on after the replies

    paused = vox.post(f"/api/books/{pid}/pause").json()["progress"]
    assert paused["state"] == "paused"
    time.sleep(1.0)
    again = vox.get(f"/api/books/{pid}/progress").json()["progress"]
    assert again["state"] == "paused" and again["chars_done"] == paused["chars_done"]
    assert vox.post(f"/api/books/{pid}/render").status_code == 202  # resume
    resumed = wait_progress(vox, pid, lambda p: p["chars_done"] > paused["chars_done"])
    assert resumed["chars_done"] >= paused["chars_done"]
    other = upload(vox, "other.md", b"# Other\n\nA different book.").json()["book"]["id"]
    busy = vox.post(f"/api/books/{other}/render")
    assert busy.status_code == 409 and "one book renders at a time" in busy.json()["error"]
    cancelled = vox.post(f"/api/books/{pid}/cancel").json()["progress"]
    assert cancelled["state"] == "cancelled" and cancelled["chapters_done"] >= paused["chapters_done"]
    assert vox.post(f"/api/books/{pid}/cancel").status_code == 409
    assert not list(book_folder(vox, pid).rglob("*.part-*"))  # the unfinished chapter's part is gone


def test_a_server_killed_mid_render_resumes_at_the_first_unfinished_chapter(tmp_path):
    text = "\n\n".join(f"## Chapter {k}\n\nChapter {k} begins here. The fox ran {k} miles through the snow."
                       for k in range(1, 8))  # fmt: skip
    first = start_server(tmp_path)
    try:
        pid = upload(first, "fox.md", text.encode()).json()["book"]["id"]
        assert first.post(f"/api/books/{pid}/render").status_code == 202
        wait_progress(first, pid, lambda p: p["chapters_done"] >= 2)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    finally:
        first.stop()
    folder = book_folder(first, pid)
    kept = audio_files(folder)
    assert 2 <= len(kept) < 7
    import soundfile

    for name in kept:  # every finished chapter is whole; nothing half-written has a final name
        assert soundfile.info(str(folder / "audio" / name)).frames > 0
    second = start_server(tmp_path)  # the same config and books folder
    try:
        done = wait_progress(second, pid, lambda p: p["state"] == "done")
        assert done["chapters_done"] == 7
        after = audio_files(folder)
        assert {n: after[n] for n in kept} == kept  # no finished chapter was synthesised again
        assert len(after) == 7
        assert not list(folder.rglob("*.part-*"))
        _, _, chapters, _ = decode(second.get(f"/api/books/{pid}/download/m4b").content)
        assert [c["metadata"]["title"] for c in chapters] == [f"Chapter {k}" for k in range(1, 8)]
        assert "resumed rendering" in second.log_text()
    finally:
        second.stop()


def test_bad_books_are_refused_with_a_sentence_and_leave_no_project(vox, tmp_path):
    cases = [
        ("drm.epub", make_drm_epub(tmp_path / "drm.epub").read_bytes(), 400, "DRM"),
        ("noise.txt", bytes(range(256)) * 100, 400, "not text"),
        ("empty.md", b"", 400, "empty"),
        ("huge.txt", b"word " * (50 * 2**20 // 5), 413, "books.max_source_mb"),
    ]
    for name, data, status, words in cases:
        r = upload(vox, name, data)
        assert r.status_code == status, (name, r.text)
        assert words in r.json()["error"], r.json()
    assert vox.get("/api/books").json()["books"] == []
    books = vox.root / "books"
    assert not books.exists() or not [p for p in books.iterdir() if not p.name.startswith(".")]
    assert vox.get("/api/books/nope").status_code == 404
    assert vox.post("/api/books", {"text": "  "}).status_code == 400
    pid = vox.post("/api/books", {"text": "# A note\n\nRemember the milk.", "title": "Note"}).json()["book"]["id"]
    for bad in ({"chapters": [{"id": "c1"}, {"id": "c1"}]}, {"chapters": "c1"}, {"speed": 9}, {"format": "ogg"},
                {"nonsense": 1}, {"voice": 3}):  # fmt: skip
        r = patch(vox, f"/api/books/{pid}", bad)
        assert r.status_code == 400, (bad, r.text)
    assert patch(vox, f"/api/books/{pid}", {"voice": "nobody"}).status_code == 404
    assert vox.post(f"/api/books/{pid}/merge", {"chapters": ["c1"]}).status_code == 400
    assert vox.post(f"/api/books/{pid}/pause").status_code == 409
    assert vox.get(f"/api/books/{pid}/download/ogg").status_code == 400
    assert requests.delete(f"{vox.url}/api/books/{pid}", timeout=10).status_code == 200
    assert vox.get(f"/api/books/{pid}").status_code == 404
