"""What a document becomes once read: its title, author and chapters (each chapter's text as Markdown)."""

from __future__ import annotations

from dataclasses import dataclass, field

TITLE_CHARS = 200
"""Longest book or chapter title kept (a "title" line longer than this is prose)."""


@dataclass
class SourceChapter:
    title: str
    text: str
    """Markdown: what the speech planner reads (plain text and EPUB chapters are written as Markdown too)."""
    skipped: str = ""
    """Why this chapter is not rendered ("" when it is)."""


@dataclass
class Document:
    title: str
    author: str
    kind: str
    chapters: list[SourceChapter] = field(default_factory=list)


def clean_title(text: str, limit: int = TITLE_CHARS) -> str:
    """A title on one line, without markdown marks at its ends, at most ``limit`` characters."""
    words = " ".join(text.split()).strip(" #*_=-:.")
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"
