"""``python app.py --book book.epub --out book.m4b [--voice ID] [--engine NAME]``: a book rendered without the
window or the server, with a text progress bar on stderr.

The book becomes a project in the books folder like one imported in the page (the same document again
continues the same project), so Ctrl+C (or a kill) leaves it resumable: run the same command again and it
continues at the first unfinished chapter. The output's suffix picks the format: ``.m4b`` (or ``.m4a``),
``.wav``, ``.flac``, ``.zip`` (one MP3 per chapter, zipped) or a folder (``--out chapters/``: one MP3 per
chapter in it). Exit status: 0 done, 2 bad input (the message says what), 3 the engine cannot run here,
130 stopped by Ctrl+C.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from vox.errors import EngineUnavailable, VoxError

SUFFIXES = {".m4b": "m4b", ".m4a": "m4b", ".wav": "wav", ".flac": "flac", ".zip": "mp3"}
BAR = 30


def output_format(out: Path) -> str | None:
    """The format ``--out`` asks for; "mp3" for a folder; None when its suffix names no format."""
    if out.is_dir() or str(out).endswith(("/", "\\")) or not out.suffix:
        return "mp3"
    return SUFFIXES.get(out.suffix.lower())


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def bar_line(p: dict) -> str:
    filled = int(BAR * p["fraction"])
    return (f"[{'#' * filled}{'-' * (BAR - filled)}] {p['fraction'] * 100:5.1f}%  "
            f"{p['chapters_done']}/{p['chapters_total']} chapters  {p['audio_minutes']:.1f} min of audio  "
            f"left {clock(p['eta_s'])}")  # fmt: skip


class ProgressPrinter:
    """One bar redrawn in place on a terminal; a line per 10% (and per chapter) anywhere else (logs, CI)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.tty = stream, stream.isatty()
        self.last = ("", -1, -1)

    def show(self, p: dict) -> None:
        if self.tty:
            self.stream.write("\r" + bar_line(p) + "\x1b[K")
        else:
            key = (p["state"], int(p["fraction"] * 10), p["chapters_done"])
            if key == self.last:
                return
            self.last = key
            self.stream.write(bar_line(p) + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def fail(message: str, status: int = 2) -> int:
    print(f"Vox cannot make this book: {message}", file=sys.stderr)
    return status


def main(runtime, book: str, out: str, voice: str | None = None, engine: str | None = None) -> int:
    source, target = Path(book).expanduser(), Path(out).expanduser()
    fmt = output_format(target)
    if fmt is None:
        return fail(f"--out {out}: the name must end in .m4b, .wav, .flac or .zip (one MP3 per chapter), or be a "
                    "folder for one MP3 per chapter.")  # fmt: skip
    if not source.is_file():
        return fail(f"{book}: no such file.")
    if not target.parent.is_dir() and fmt != "mp3":
        return fail(f"--out {out}: the folder {target.parent} does not exist.")
    try:
        data = source.read_bytes()
    except OSError as e:
        return fail(f"{book}: {e.strerror or e}.")
    try:
        runtime.load(engine or runtime.current_engine())
        project = runtime.find_book(data)
        changes = {"engine": runtime.current_engine(), "format": fmt}
        if voice is not None:
            changes["voice"] = voice
        if project is None:
            project = runtime.create_book(source.name, data, changes)
            print(f"{project.title}: {sum(c.included for c in project.chapters)} chapters "
                  f"(project {project.folder})", file=sys.stderr)  # fmt: skip
        else:
            project = runtime.update_book(project.id, changes)
            print(f"{project.title}: continuing the project in {project.folder}", file=sys.stderr)
        for chapter in project.chapters:
            if chapter.skipped:
                print(f"  skipped {chapter.title!r}: {chapter.skipped}", file=sys.stderr)
        runtime.render_book(project.id, persist=False)
    except EngineUnavailable as e:
        return fail(e.message, 3)
    except VoxError as e:
        return fail(e.message)
    return _watch(runtime, project, target, fmt)


def _watch(runtime, project, target: Path, fmt: str) -> int:
    """Show progress until the render ends; Ctrl+C (or SIGTERM) pauses it for the next run."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    printer = ProgressPrinter(sys.stderr)
    try:
        while runtime.book_rendering(project.id) and not stop.is_set():
            printer.show(runtime.book_progress(project.id))
            stop.wait(0.5)
        if stop.is_set():
            runtime.cancel_book(project.id) if runtime.book_rendering(project.id) else None
            printer.end()
            p = runtime.book_progress(project.id)
            print(f"Stopped: {p['chapters_done']} of {p['chapters_total']} chapters are done and kept in "
                  f"{project.folder}. Run the same command again to continue.", file=sys.stderr)  # fmt: skip
            return 130
        p = runtime.book_progress(project.id)
        printer.show(p)
        printer.end()
        if p["state"] not in ("done", "idle"):
            return fail(p["message"] or f"the render ended ({p['state']}).")
        for item in p.get("skipped", []):
            print(f"  skipped {item['title']!r}: {item['reason']}", file=sys.stderr)
        started = time.monotonic()
        runtime.export_book(project.id, fmt, target)
        print(f"Wrote {target} ({time.monotonic() - started:.1f} s to encode).", file=sys.stderr)
        return 0
    except VoxError as e:
        return fail(e.message)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
