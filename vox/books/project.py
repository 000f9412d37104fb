"""Book projects on disk: one folder per project under the books folder, every file written atomically.

    <books>/<project id>/
        project.json          title, author, the source's name and checksum, settings, the chapter list
        source.<ext>          the document as it was imported
        text/<chapter>.md     each chapter's text (Markdown; merged chapters get a new id and file)
        audio/<chapter>.<hash>.flac   a finished chapter; <hash> covers its text and the voice settings
        audio/<chapter>.<hash>.json   its duration, loudness and peak (re-measured from the FLAC when missing)
        exports/              the book files (book.m4b, book.mp3.zip, ...) and what each was made from

A project is created in a hidden ``.new-<id>`` folder and renamed into place once complete, so a crash while
importing leaves no half project (``sweep`` removes the leftovers at start).
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vox.books.files import read_json, sweep_parts, write_bytes, write_json
from vox.books.sources import Document
from vox.errors import InvalidRequest, StorageFailed, UnknownBook

log = logging.getLogger("vox.books")

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
FORMATS = ("m4b", "mp3", "wav", "flac")
"""Book file formats: one M4B with chapters, one MP3 per chapter (a ZIP to download), one WAV, one FLAC."""


@dataclass
class Chapter:
    id: str
    title: str
    chars: int
    """Characters of its text: what progress counts."""
    excluded: bool = False
    """The user left it out of the book."""
    skipped: str = ""
    """Why it cannot be rendered ("" when it can): nothing to say, the table of contents..."""

    @property
    def included(self) -> bool:
        return not self.excluded and not self.skipped


@dataclass
class Settings:
    engine: str = "piper"
    voice: str = ""
    """A voice id from the library; "" is the engine's default voice."""
    speed: float = 1.0
    lang: str = "en"
    params: dict = field(default_factory=dict)
    """Generation parameters (Chatterbox)."""
    format: str = "m4b"


@dataclass
class Project:
    id: str
    title: str
    author: str
    source_name: str
    source_kind: str
    source_sha256: str
    settings: Settings
    chapters: list[Chapter]
    created: float = field(default_factory=time.time)
    next_chapter: int = 1
    render_wanted: bool = False
    """A render was started and neither finished nor was paused or cancelled: resumed when Vox starts again."""
    folder: Path = field(default=Path("."), compare=False)

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("folder")
        return data

    @classmethod
    def from_json(cls, data: dict, folder: Path) -> Project:
        data = dict(data)
        settings = Settings(**data.pop("settings"))
        chapters = [Chapter(**c) for c in data.pop("chapters")]
        return cls(settings=settings, chapters=chapters, folder=folder, **data)

    def chapter(self, chapter_id: str) -> Chapter:
        for c in self.chapters:
            if c.id == chapter_id:
                return c
        raise InvalidRequest(f"This book has no chapter {chapter_id!r}. Reload the book and try again.")

    def new_chapter_id(self) -> str:
        cid = f"c{self.next_chapter}"
        self.next_chapter += 1
        return cid

    @property
    def text_dir(self) -> Path:
        return self.folder / "text"

    @property
    def audio_dir(self) -> Path:
        return self.folder / "audio"

    @property
    def export_dir(self) -> Path:
        return self.folder / "exports"

    def text_of(self, chapter: Chapter) -> str:
        return (self.text_dir / f"{chapter.id}.md").read_text(encoding="utf-8")


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)[:32].strip("-") or "book"


class ProjectStore:
    """Every project under ``root``; one lock makes each read-modify-write of a project.json whole."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.RLock()

    def sweep(self) -> None:
        """Remove what a crash left: half-imported or half-deleted projects, files that died mid-write."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if path.name.startswith((".new-", ".trash-")):
                shutil.rmtree(path, ignore_errors=True)
        swept = sweep_parts(self.root)
        if swept:
            log.info("removed %d unfinished file(s) under %s", swept, self.root)

    def create(self, doc: Document, source_name: str, source: bytes, sha256: str, settings: Settings) -> Project:
        pid = f"{_slug(doc.title)}-{secrets.token_hex(3)}"
        staging = self.root / f".new-{pid}"
        project = Project(pid, doc.title, doc.author, source_name, doc.kind, sha256, settings, [], folder=staging)
        try:
            (staging / "text").mkdir(parents=True)
            suffix = {"epub": "epub", "markdown": "md"}.get(doc.kind, "txt")
            write_bytes(staging / f"source.{suffix}", source)
            for sc in doc.chapters:
                chapter = Chapter(project.new_chapter_id(), sc.title, len(sc.text), skipped=sc.skipped)
                write_bytes(staging / "text" / f"{chapter.id}.md", sc.text.encode("utf-8"))
                project.chapters.append(chapter)
            write_json(staging / "project.json", project.to_json())
            staging.rename(self.root / pid)
        except OSError as e:
            shutil.rmtree(staging, ignore_errors=True)
            raise StorageFailed(f"Vox could not save the book in {self.root}: {e.strerror or e}. Check the free "
                                "space and the folder's permissions.") from None  # fmt: skip
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        project.folder = self.root / pid
        return project

    def get(self, pid: str) -> Project:
        if not isinstance(pid, str) or not _ID.fullmatch(pid):
            raise UnknownBook(f"There is no book {pid!r}.")
        folder = self.root / pid
        try:
            return Project.from_json(read_json(folder / "project.json"), folder)
        except FileNotFoundError:
            raise UnknownBook(f"There is no book {pid!r}. It may have been deleted; reload the list.") from None
        except (OSError, ValueError, TypeError) as e:
            raise UnknownBook(f"The book {pid!r} cannot be read ({e}); delete its folder {folder}.") from None

    def list(self) -> list[Project]:
        if not self.root.is_dir():
            return []
        out = []
        for folder in sorted(self.root.iterdir()):
            if folder.name.startswith(".") or not (folder / "project.json").is_file():
                continue
            try:
                out.append(self.get(folder.name))
            except UnknownBook as e:
                log.warning("%s", e.message)
        return sorted(out, key=lambda p: p.created)

    def save(self, project: Project) -> None:
        write_json(project.folder / "project.json", project.to_json())

    def delete(self, pid: str) -> None:
        project = self.get(pid)
        trash = self.root / f".trash-{pid}"
        try:
            project.folder.rename(trash)
        except OSError as e:
            raise StorageFailed(f"Vox could not delete the book: {e.strerror or e}.") from None
        shutil.rmtree(trash, ignore_errors=True)

    def write_text(self, project: Project, chapter: Chapter, text: str) -> None:
        write_bytes(project.text_dir / f"{chapter.id}.md", text.encode("utf-8"))

    def forget_text(self, project: Project, chapter: Chapter) -> None:
        with contextlib.suppress(OSError):
            (project.text_dir / f"{chapter.id}.md").unlink()
