"""A document in (plain text, Markdown or EPUB, as bytes), a ``Document`` out: its title, author and chapters.

What kind a file is comes from its bytes first and its name second, so an EPUB named ``.txt`` is read as an
EPUB and a PDF or a program renamed ``.txt`` is refused with a sentence saying what it looks like, rather than
read aloud as noise. Every failure is a ``BadBook`` (or ``TooLarge``) with a message a person can act on;
nothing here raises anything else for bad input.
"""

from __future__ import annotations

import codecs
import unicodedata

from vox.books.chapters import split_markdown, split_text
from vox.books.document import Document, clean_title
from vox.books.epub import read_epub
from vox.errors import BadBook, TooLarge
from vox.text import normalize_for_speech, speakable

TEXT_SUFFIXES = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown"}
KINDS = ("text", "markdown", "epub")

NO_SPEECH = "it has no text to read aloud"
"""Why a chapter with nothing speakable (a cover picture, a page of ornaments) is skipped."""

_MAGIC = (
    (b"%PDF", "a PDF document"), (b"\x7fELF", "a program"), (b"MZ", "a Windows program"),
    (b"\x89PNG", "a PNG picture"), (b"\xff\xd8\xff", "a JPEG picture"), (b"GIF8", "a GIF picture"),
    (b"ID3", "an MP3 file"), (b"RIFF", "a RIFF file (WAV or AVI)"), (b"OggS", "an Ogg audio file"),
    (b"fLaC", "a FLAC file"), (b"\x1f\x8b", "a gzip archive"), (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"), (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
    (b"BOOKMOBI", "a Kindle (MOBI) book"),
)  # fmt: skip
_ZIP = b"PK\x03\x04"
READS = "Vox reads plain text (.txt), Markdown (.md) and EPUB books"


def sniff(name: str, data: bytes) -> str:
    """The kind of document ``data`` is ("text", "markdown" or "epub"), or a BadBook saying what it is instead."""
    if data.startswith(_ZIP):
        if b"application/epub+zip" in data[:100]:
            return "epub"
        if name.lower().endswith(".epub"):
            return "epub"  # a zip without its mimetype first: let the EPUB reader say what is wrong with it
        what = "a Word document" if b"word/" in data[:4096] else "a ZIP archive"
        raise BadBook(f"This file is {what}, not a book Vox can read. {READS}; save it as one of those first.")
    if name.lower().endswith(".epub"):
        raise BadBook("This EPUB file is damaged: it is not a ZIP archive as every EPUB is. Download it again, or "
                      "export it from your e-book app once more.")  # fmt: skip
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise BadBook(f"This file is {what}, not text. {READS}.")
    suffix = "." + name.lower().rsplit(".", 1)[-1] if "." in name else ""
    return TEXT_SUFFIXES.get(suffix, "text")


def decode_text(data: bytes) -> str:
    """The text of a text file: UTF-8 (with or without a BOM), UTF-16 with a BOM, or Windows-1252; a file that
    is none of these (a binary file renamed .txt) is refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise BadBook("This text file says it is UTF-16 but is not. Save it again as UTF-8 text.") from None
    not_text = f"This file is not text (it looks like a program or data file renamed). {READS}."
    if b"\x00" in data[:65536]:
        raise BadBook(not_text)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    sample = text[:65536]
    controls = sum(1 for c in sample if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v")
    if controls > max(8, len(sample) // 200) or sample.count("\ufffd") > max(8, len(sample) // 100):
        raise BadBook(not_text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def has_speech(markdown: str) -> bool:
    return speakable(normalize_for_speech(markdown))


def read_document(name: str, data: bytes, max_bytes: int) -> Document:
    """Read a whole document; chapters with nothing to say are kept, marked ``skipped`` with the reason."""
    if len(data) > max_bytes:
        raise TooLarge(f"The book is {len(data) / 2**20:.1f} MB; Vox takes books up to {max_bytes / 2**20:.0f} MB "
                       "(books.max_source_mb in config.toml). Split it into parts, or raise the limit.")  # fmt: skip
    if not data.strip():
        raise BadBook("The document is empty: there is nothing to read aloud.")
    kind = sniff(name, data)
    stem = clean_title(name.rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("_", " ")) or "Untitled"
    if kind == "epub":
        doc = read_epub(data, stem)
    else:
        text = decode_text(data)
        doc = split_markdown(text, stem) if kind == "markdown" else split_text(text, stem)
    for chapter in doc.chapters:
        if not chapter.skipped and not has_speech(chapter.text):
            chapter.skipped = NO_SPEECH
    if not any(not c.skipped for c in doc.chapters):
        raise BadBook("The document has no text Vox can read aloud (only pictures, markup or punctuation).")
    return doc
