"""Books: the facade the routes and the command line call (``runtime.books``).

Import a document into a project, describe and edit it (rename, merge, exclude, re-order chapters; voice
settings), render it (``runner.py``), and make and hand out its book file (``export.py``). Edits that would
change audio being made (the voice, the chapters) wait until the render is paused or cancelled; the title,
author and format can change at any time, since they only touch the book file.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Any

import vox.books.export as book_export
from vox.books.document import TITLE_CHARS, Document
from vox.books.files import read_json, write_json
from vox.books.project import FORMATS, Chapter, Project, ProjectStore, Settings
from vox.books.render import chapter_hash, finished_audio, forget_other_audio
from vox.books.runner import Runner
from vox.books.sources import NO_SPEECH, has_speech, read_document
from vox.engines import ENGINE_NAMES, all_languages, engine_class
from vox.errors import BadBook, BookBusy, InvalidRequest, VoxError
from vox.validate import PARAMETER_RANGES, lang_of, parameters_of, speed_of

log = logging.getLogger("vox.books")

EXPORT_FILES = {"m4b": "book.m4b", "mp3": "book.mp3.zip", "wav": "book.wav", "flac": "book.flac"}
MIME = {"m4b": "audio/mp4", "mp3": "application/zip", "wav": "audio/wav", "flac": "audio/flac"}
DOWNLOAD_SUFFIX = {"m4b": ".m4b", "mp3": " (MP3).zip", "wav": ".wav", "flac": ".flac"}
VOICE_FIELDS = ("engine", "voice", "speed", "lang", "params")
EDIT_FIELDS = ("title", "author", "format", *VOICE_FIELDS, "chapters")


def _title(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"{key!r} must be a string.")
    value = " ".join(value.split())
    if len(value) > TITLE_CHARS:
        raise InvalidRequest(f"{key!r} is longer than {TITLE_CHARS} characters.")
    return value


class Books:
    def __init__(self, runtime) -> None:
        self.runtime = runtime
        self.config = runtime.config.books
        self.store = ProjectStore(runtime.config.books_dir)
        self.runner = Runner(runtime, self.store, self._export_default)
        self._export_lock = threading.Lock()
        self._swept = False

    def _ready(self) -> None:
        if not self._swept:
            self._swept = True
            self.store.sweep()

    # -- import -----------------------------------------------------------------------------------------

    def default_settings(self) -> Settings:
        e = self.runtime.config.engine
        return Settings(engine=self.runtime.engines.active_name, voice=e.voice, speed=e.speed, lang=e.lang,
                        format=self.config.format)  # fmt: skip

    def create(self, name: str, data: bytes, changes: dict | None = None) -> Project:
        """A project from a document's bytes (``name`` says its kind when its bytes do not)."""
        self._ready()
        doc = read_document(name, data, self.config.max_source_mb * 2**20)
        return self._create(doc, name, data, changes)

    def create_from_text(self, title: str, text: str, markdown: bool = True, changes: dict | None = None) -> Project:
        """A project from text sent as it is (a long chat answer, an article pasted in)."""
        self._ready()
        name = f"{title or 'text'}.{'md' if markdown else 'txt'}"
        data = text.encode("utf-8")
        doc = read_document(name, data, self.config.max_source_mb * 2**20)
        if title:
            doc.title = _title(title, "title")
        return self._create(doc, name, data, changes)

    def _create(self, doc: Document, name: str, data: bytes, changes: dict | None) -> Project:
        settings = self.default_settings()
        if changes:
            self._apply_settings(settings, changes)
        project = self.store.create(doc, Path(name).name[:200], data, hashlib.sha256(data).hexdigest(), settings)
        if changes and ("title" in changes or "author" in changes):
            return self.update(project.id, {k: changes[k] for k in ("title", "author") if k in changes})
        return project

    def find_source(self, data: bytes) -> Project | None:
        """The newest project made from exactly these bytes (the command line continues it)."""
        digest = hashlib.sha256(data).hexdigest()
        found = [p for p in self.store.list() if p.source_sha256 == digest]
        return found[-1] if found else None

    # -- reading --------------------------------------------------------------------------------------------

    def list(self) -> list[dict]:
        self._ready()
        return [self.summary(p) for p in self.store.list()]

    def summary(self, project: Project) -> dict:
        return {"id": project.id, "title": project.title, "author": project.author,
                "chapters": sum(1 for c in project.chapters if c.included), "format": project.settings.format,
                "progress": self.progress(project.id)}  # fmt: skip

    def describe(self, pid: str) -> dict:
        project = self.store.get(pid)
        chapters = []
        for c in project.chapters:
            audio = finished_audio(project, c, chapter_hash(project.text_of(c), project.settings)) \
                if c.included else None  # fmt: skip
            chapters.append({"id": c.id, "title": c.title, "chars": c.chars, "excluded": c.excluded,
                             "skipped": c.skipped, "done": audio is not None,
                             "seconds": round(audio.seconds, 2) if audio else None})  # fmt: skip
        s = project.settings
        return {"id": project.id, "title": project.title, "author": project.author,
                "source": {"name": project.source_name, "kind": project.source_kind},
                "settings": {"engine": s.engine, "voice": s.voice, "speed": s.speed, "lang": s.lang,
                             "params": s.params, "format": s.format},
                "chapters": chapters, "progress": self.progress(pid), "exports": self.exports(project)}  # fmt: skip

    def progress(self, pid: str) -> dict:
        run = self.runner.active(pid)
        if run is not None:
            return run.progress.as_json()
        project = self.store.get(pid)
        done = chapters = chars_done = chars = 0
        seconds = 0.0
        for c in project.chapters:
            if not c.included:
                continue
            chapters += 1
            chars += c.chars
            audio = finished_audio(project, c, chapter_hash(project.text_of(c), project.settings))
            if audio is not None:
                done += 1
                chars_done += c.chars
                seconds += audio.seconds
        last = self.runner.last.get(pid)
        state = last.state if last is not None and last.state != "done" else ("done" if done == chapters else "idle")
        if pid in self.runner.partials:
            state = "paused"
        return {"state": state, "message": last.message if last is not None and state == last.state else "",
                "chapter": "", "chapters_done": done, "chapters_total": chapters, "chars_done": chars_done,
                "chars_total": chars, "audio_minutes": round(seconds / 60, 2), "eta_s": None,
                "fraction": round(chars_done / chars, 4) if chars else 0.0,
                "skipped": last.skipped if last is not None else [],
                "preempted": last.preempted if last is not None else 0}  # fmt: skip

    # -- editing -------------------------------------------------------------------------------------------

    def _apply_settings(self, s: Settings, changes: dict) -> None:
        if "engine" in changes:
            if changes["engine"] not in ENGINE_NAMES:
                raise InvalidRequest(f"'engine' must be one of {', '.join(ENGINE_NAMES)}.")
            s.engine = changes["engine"]
        if "voice" in changes:
            voice = changes["voice"] or ""
            if not isinstance(voice, str):
                raise InvalidRequest("'voice' must be a voice id string.")
            if voice:
                self.runtime.voices.get(voice)  # an unknown voice is a 404 that lists the voices
            s.voice = voice
        if "speed" in changes:
            s.speed = speed_of(changes) or s.speed
        if "lang" in changes:
            s.lang = lang_of(changes, all_languages()) or s.lang
        if "params" in changes:
            if not isinstance(changes["params"], dict):
                raise InvalidRequest("'params' must be an object of generation parameters.")
            unknown = set(changes["params"]) - set(PARAMETER_RANGES) - {"seed"}
            if unknown:
                raise InvalidRequest(f"Unknown generation parameter {sorted(unknown)[0]!r}.")
            s.params = parameters_of(changes["params"])
        if "format" in changes:
            if changes["format"] not in FORMATS:
                raise InvalidRequest(f"'format' must be one of {', '.join(FORMATS)}.")
            s.format = changes["format"]

    def update(self, pid: str, changes: dict) -> Project:
        unknown = [k for k in changes if k not in EDIT_FIELDS]
        if unknown:
            raise InvalidRequest(f"A book has no field {unknown[0]!r}; send any of {', '.join(EDIT_FIELDS)}.")
        if self.runner.active(pid) and any(k in changes for k in (*VOICE_FIELDS, "chapters")):
            raise BookBusy("This book is rendering. Pause or cancel the render before changing its voice or its "
                           "chapters.")  # fmt: skip
        with self.store.lock:
            project = self.store.get(pid)
            for key in ("title", "author"):
                if key in changes:
                    setattr(project, key, _title(changes[key], key))
            if not project.title:
                raise InvalidRequest("A book needs a title.")
            self._apply_settings(project.settings, changes)
            if "chapters" in changes:
                self._reorder(project, changes["chapters"])
            self.store.save(project)
        return project

    def _reorder(self, project: Project, items: Any) -> None:
        """The chapter list in a new order, with new titles and inclusion: every chapter, each once."""
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise InvalidRequest("'chapters' must be a list of objects such as {\"id\": \"c1\", \"title\": \"One\", "
                                 "\"excluded\": false}.")  # fmt: skip
        ids = [i.get("id") for i in items]
        if sorted(map(str, ids)) != sorted(c.id for c in project.chapters) or len(set(ids)) != len(ids):
            raise InvalidRequest("'chapters' must list every chapter of the book exactly once (reload the book: it "
                                 "may have changed).")  # fmt: skip
        by_id = {c.id: c for c in project.chapters}
        ordered = []
        for item in items:
            chapter = by_id[item["id"]]
            if "title" in item:
                chapter.title = _title(item["title"], "title") or chapter.title
            if "excluded" in item:
                if not isinstance(item["excluded"], bool):
                    raise InvalidRequest("'excluded' must be true or false.")
                chapter.excluded = item["excluded"]
            ordered.append(chapter)
        project.chapters = ordered

    def merge(self, pid: str, ids: Any) -> Project:
        """Chapters ``ids`` become one, at the first one's place, with its title; their text in book order."""
        if not isinstance(ids, list) or len(ids) < 2 or not all(isinstance(i, str) for i in ids) \
                or len(set(ids)) != len(ids):  # fmt: skip
            raise InvalidRequest("'chapters' must list two or more different chapter ids to merge.")
        if self.runner.active(pid):
            raise BookBusy("This book is rendering. Pause or cancel the render before merging chapters.")
        with self.store.lock:
            project = self.store.get(pid)
            parts = [c for c in project.chapters if c.id in ids]
            if len(parts) != len(ids):
                raise InvalidRequest("Some of those chapters are not in this book; reload it and try again.")
            text = "\n\n".join(project.text_of(c) for c in parts)
            merged = Chapter(project.new_chapter_id(), parts[0].title, len(text),
                             excluded=all(c.excluded for c in parts))  # fmt: skip
            merged.skipped = "" if has_speech(text) else NO_SPEECH
            self.store.write_text(project, merged, text)
            at = project.chapters.index(parts[0])
            project.chapters = [c for c in project.chapters if c.id not in ids]
            project.chapters.insert(at, merged)
            self.store.save(project)
            for c in parts:
                self.store.forget_text(project, c)
                forget_other_audio(project, c, None)
        return project

    def delete(self, pid: str) -> None:
        if self.runner.active(pid):
            raise BookBusy("This book is rendering. Cancel the render before deleting the book.")
        partial = self.runner.partials.pop(pid, None)
        if partial is not None:
            partial.discard()
        self.store.delete(pid)

    # -- rendering -----------------------------------------------------------------------------------------

    def render(self, pid: str, persist: bool = True) -> dict:
        """Start (or resume) rendering ``pid`` in the background; its progress."""
        rt = self.runtime
        project = self.store.get(pid)
        if not any(c.included for c in project.chapters):
            raise InvalidRequest("Every chapter of this book is excluded or skipped; include at least one.")
        s = project.settings
        if s.engine != rt.engines.active_name:
            want, have = engine_class(s.engine).capabilities.title, engine_class(rt.engines.active_name).capabilities
            raise BookBusy(f"This book is read by {want}, but {have.title} is loaded. Load {want}, or choose "
                           f"{have.title} for this book.", engine=s.engine)  # fmt: skip
        voice = rt.resolve_voice(s.voice or None)
        options = rt.options(s.speed, s.lang, s.params)
        rt.engines.get()  # a load that fails is this request's answer
        return self.runner.start(project, voice, options, persist).progress.as_json()

    def pause(self, pid: str) -> dict:
        self.store.get(pid)
        if not self.runner.stop(pid, "pause"):
            raise BookBusy("This book is not rendering, so there is nothing to pause.")
        return self.progress(pid)

    def cancel(self, pid: str) -> dict:
        self.store.get(pid)
        if not self.runner.stop(pid, "cancel"):
            raise BookBusy("This book is not rendering, so there is nothing to cancel.")
        return self.progress(pid)

    def resume_pending(self) -> None:
        """Continue every render that was running when Vox stopped (in the background: loading the engine may
        take a while). One book renders at a time, so only the first such project starts."""
        self._ready()
        pending = [p for p in self.store.list() if p.render_wanted]
        if not pending:
            return

        def resume() -> None:
            for project in pending[:1]:
                try:
                    self.render(project.id)
                    log.info("resumed rendering %s (%s)", project.title, project.id)
                except VoxError as e:
                    log.warning("could not resume rendering %s: %s", project.title, e.message)

        threading.Thread(target=resume, name="vox-book-resume", daemon=True).start()

    # -- the book file ----------------------------------------------------------------------------------

    def _book(self, project: Project) -> tuple[book_export.Book, str]:
        """The finished chapters as a Book, and a signature of what it is made of."""
        parts, sig = [], [project.title, project.author, self.config.loudness_lufs]
        missing = 0
        for c in project.chapters:
            if not c.included:
                continue
            digest = chapter_hash(project.text_of(c), project.settings)
            audio = finished_audio(project, c, digest)
            if audio is None:
                missing += 1
                continue
            parts.append((c, audio))
            sig.append([c.id, c.title, digest])
        if missing:
            raise BookBusy(f"{missing} chapter(s) of this book are not rendered yet. Render the book first.")
        if not parts:
            raise BadBook("This book has no chapter to put in a book file.")
        rate = parts[0][1].rate
        book = book_export.Book(project.title, project.author,
                                [book_export.Part(c.title, a.path, a.seconds, a.loudness, a.peak) for c, a in parts],
                                rate, self.config.loudness_lufs)  # fmt: skip
        return book, hashlib.sha256(repr(sig).encode()).hexdigest()[:16]

    def export(self, pid: str, fmt: str | None = None, out: Path | None = None) -> dict:
        """Make the book file in ``fmt`` (default the project's) in the project's exports, or at ``out``."""
        project = self.store.get(pid)
        fmt = fmt or project.settings.format
        if fmt not in FORMATS:
            raise InvalidRequest(f"'format' must be one of {', '.join(FORMATS)}.")
        book, signature = self._book(project)
        with self._export_lock:
            if out is not None:
                book_export.write_book(book, fmt, out)
                return {"format": fmt, "path": str(out)}
            final = project.export_dir / EXPORT_FILES[fmt]
            book_export.write_book(book, fmt, final)
            write_json(project.export_dir / f"{fmt}.json", {"signature": signature, "bytes": final.stat().st_size,
                                                            "loudness": round(book.target, 2)})  # fmt: skip
        return self.exports(project)[fmt]

    def _export_default(self, project: Project) -> None:
        self.export(project.id, project.settings.format)

    def exports(self, project: Project) -> dict:
        """Each format's book file: whether it is made and still matches the chapters."""
        out = {}
        try:
            _, signature = self._book(project)
        except VoxError:
            signature = None
        for fmt, name in EXPORT_FILES.items():
            meta_path = project.export_dir / f"{fmt}.json"
            ready = False
            size = 0
            if (project.export_dir / name).is_file() and meta_path.is_file():
                try:
                    meta = read_json(meta_path)
                    ready, size = meta.get("signature") == signature, int(meta.get("bytes", 0))
                except (OSError, ValueError):
                    pass
            out[fmt] = {"ready": ready, "bytes": size, "url": f"/api/books/{project.id}/download/{fmt}"}
        return out

    def download(self, pid: str, fmt: str) -> tuple[Path, str, str]:
        """(path, download name, media type) of a made book file that matches the chapters."""
        project = self.store.get(pid)
        if fmt not in FORMATS:
            raise InvalidRequest(f"The format must be one of {', '.join(FORMATS)}.")
        if not self.exports(project)[fmt]["ready"]:
            raise BookBusy(f"The {fmt.upper()} file of this book is not made yet (or the book changed since). Render "
                           "the book, or export it in this format.")  # fmt: skip
        return (project.export_dir / EXPORT_FILES[fmt], book_export.safe_name(project.title) + DOWNLOAD_SUFFIX[fmt],
                MIME[fmt])  # fmt: skip
