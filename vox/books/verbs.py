"""The Runtime's book verbs (the Runtime inherits them); the Books service (service.py) does the work.

Routes and the command line call these, never the service itself.
"""

from __future__ import annotations

from pathlib import Path

from vox.books.project import Project
from vox.books.service import Books


class BookVerbs:
    books: Books

    def list_books(self) -> list[dict]:
        return self.books.list()

    def book(self, book_id: str) -> dict:
        """A book project: settings, chapters, progress, exports."""
        return self.books.describe(book_id)

    def find_book(self, source: bytes) -> Project | None:
        """The project made from this very document, if there is one (a render to continue)."""
        return self.books.find_source(source)

    def create_book(self, name: str, source: bytes, changes: dict | None = None) -> Project:
        return self.books.create(name, source, changes)

    def create_book_from_text(self, title: str, text: str, markdown: bool, changes: dict) -> Project:
        return self.books.create_from_text(title, text, markdown, changes)

    def update_book(self, book_id: str, changes: dict) -> Project:
        return self.books.update(book_id, changes)

    def merge_chapters(self, book_id: str, chapter_ids: object) -> Project:
        return self.books.merge(book_id, chapter_ids)

    def delete_book(self, book_id: str) -> None:
        self.books.delete(book_id)

    def render_book(self, book_id: str, persist: bool = True) -> dict:
        """Start (or resume) a book's render in the background; ``persist`` False: not resumed at the next start."""
        return self.books.render(book_id, persist)

    def pause_book(self, book_id: str) -> dict:
        return self.books.pause(book_id)

    def cancel_book(self, book_id: str) -> dict:
        return self.books.cancel(book_id)

    def book_progress(self, book_id: str) -> dict:
        return self.books.progress(book_id)

    def book_rendering(self, book_id: str) -> bool:
        return self.books.runner.active(book_id)

    def export_book(self, book_id: str, fmt: str | None = None, out: Path | None = None) -> dict:
        return self.books.export(book_id, fmt, out)

    def book_file(self, book_id: str, fmt: str) -> tuple[Path, str, str]:
        """The exported book file: its path, download name and media type."""
        return self.books.download(book_id, fmt)

    def resume_book_renders(self) -> None:
        """Continue a render that was running when Vox stopped."""
        self.books.resume_pending()
