"""``app.py --book ... --out ...``: a book rendered without the window, a progress bar, clear failures with no
output file, and Ctrl+C leaving a project the same command continues."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.books import make_epub
from tests.conftest import ROOT


def book_command(tmp: Path, *args: str) -> list[str]:
    cfg = tmp / "config.toml"
    if not cfg.exists():
        (tmp / "voices").mkdir(exist_ok=True)
        cfg.write_text(f'[voices]\ndir = "{tmp / "voices"}"\n')
    return [sys.executable, str(ROOT / "app.py"), "--config", str(cfg), *args]


def run(tmp: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(book_command(tmp, *args), capture_output=True, text=True, timeout=timeout, cwd=tmp,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip


def test_an_epub_becomes_an_m4b_with_a_progress_bar(tmp_path):
    import av

    book = make_epub(tmp_path / "tales.epub")
    out = tmp_path / "tales.m4b"
    result = run(tmp_path, "--book", str(book), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "': it has no text to read aloud" in result.stderr  # the cover page: a picture only
    assert "3/3 chapters" in result.stderr and "100.0%" in result.stderr and "[####" in result.stderr
    with av.open(str(out)) as c:
        assert [ch["metadata"]["title"] for ch in c.chapters()] == ["The Harbour", "The Lighthouse", "Morning"]
        assert c.metadata["artist"] == "Ann Author"
    flac = tmp_path / "tales.flac"
    again = run(tmp_path, "--book", str(book), "--out", str(flac))  # the same book: nothing said again
    assert again.returncode == 0 and "continuing the project" in again.stderr, again.stderr
    import soundfile

    assert soundfile.info(str(flac)).duration > 5


def test_bad_input_exits_non_zero_with_a_sentence_and_writes_nothing(tmp_path):
    noise = tmp_path / "noise.txt"
    noise.write_bytes(bytes(range(256)) * 40)
    cases = [
        (("--book", str(noise), "--out", str(tmp_path / "a.m4b")), "not text"),
        (("--book", str(tmp_path / "missing.epub"), "--out", str(tmp_path / "b.m4b")), "no such file"),
        (("--book", str(noise), "--out", str(tmp_path / "c.ogg")), ".m4b, .wav, .flac or .zip"),
        (("--book", str(make_epub(tmp_path / "t.epub")), "--out", str(tmp_path / "d.m4b"), "--voice", "nobody"),
         "no voice called 'nobody'"),
        (("--book", str(noise)), "--book and --out go together"),
    ]
    for args, words in cases:
        result = run(tmp_path, *args, timeout=120)
        assert result.returncode == 2, (args, result.stderr)
        assert words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".m4b", ".ogg")]


def test_ctrl_c_leaves_a_project_that_the_same_command_finishes(tmp_path):
    scene = "The night train left at {k} o'clock. Snow fell on the empty platform, and the lamps went out. "
    text = "\n\n".join(f"Chapter {k}\n\n" + scene.format(k=k) * 3 for k in range(1, 9))
    source = tmp_path / "train.txt"
    source.write_text(text)
    out = tmp_path / "train.m4b"
    proc = subprocess.Popen(book_command(tmp_path, "--book", str(source), "--out", str(out)), cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    lines = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            done = re.search(r" (\d)/8 chapters", line)
            if not line or (done and int(done.group(1)) >= 2):  # progress is polled: it may skip a count
                break
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(60) == 130, "".join(lines) + rest
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Run the same command again to continue" in rest
    assert not out.exists()
    audio = next((tmp_path / "books").iterdir()) / "audio"
    kept = {p.name: p.stat().st_mtime_ns for p in audio.glob("*.flac")}
    assert len(kept) >= 2
    result = run(tmp_path, "--book", str(source), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"{len(kept)}/8 chapters" in result.stderr.splitlines()[1]  # it starts from what was kept
    assert {n: t for n, t in ((p.name, p.stat().st_mtime_ns) for p in audio.glob("*.flac")) if n in kept} == kept
    assert out.stat().st_size > 0
