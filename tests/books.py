"""Small books the book tests build: EPUBs written by ebooklib (sound, DRM-protected, damaged), Markdown and text,
and the checks every test makes of rendered audio."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

CHAPTERS = (
    ("The Harbour", "<p>The boats came in before the storm. Nobody on the pier said a word.</p>"),
    ("The Lighthouse", "<p>Old Martha climbed the stairs with her lamp.</p><p>The light turned all night.</p>"),
    ("Morning", "<p>By morning the sea was calm again, and the gulls were back.</p>"),
)
"""A three-chapter book; each chapter has a word no other has (boats, lamp, calm)."""
KEYWORDS = ("boats", "lamp", "calm")


def make_epub(path: Path, chapters=CHAPTERS, title: str = "Tales of the Coast", author: str = "Ann Author",
              cover: bool = True) -> Path:  # fmt: skip
    """An EPUB 3 (with an NCX and a nav document, as ebooklib writes them): an optional cover page with only a
    picture, then ``chapters`` (title, XHTML body)."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("vox-test-book")
    book.set_title(title)
    book.set_language("en")
    book.add_author(author)
    items = []
    if cover:
        page = epub.EpubHtml(title="Cover", file_name="cover.xhtml", lang="en")
        page.content = '<div><img src="cover.png" alt=""/></div>'
        book.add_item(page)
        items.append(page)
    docs = []
    for number, (name, html) in enumerate(chapters, 1):
        doc = epub.EpubHtml(title=name, file_name=f"chapter_{number}.xhtml", lang="en")
        doc.content = f"<h1>{name}</h1>{html}"
        book.add_item(doc)
        docs.append(doc)
    book.toc = docs
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items, *docs]
    epub.write_epub(str(path), book)
    return path


ENCRYPTION = b"""<?xml version="1.0" encoding="UTF-8"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
  <enc:EncryptedData>
    <enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
    <enc:CipherData><enc:CipherReference URI="EPUB/chapter_1.xhtml"/></enc:CipherData>
  </enc:EncryptedData>
</encryption>"""


def make_drm_epub(path: Path) -> Path:
    """A sound EPUB whose chapters are then encrypted the way a DRM scheme does it (encryption.xml lists them
    with AES; their bytes become noise)."""
    plain = make_epub(path.with_name("plain-" + path.name))
    rng = np.random.default_rng(1)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(".xhtml") and "chapter" in info.filename:
                data = rng.bytes(len(data))
            dst.writestr(info, data)
        dst.writestr("META-INF/encryption.xml", ENCRYPTION)
    return path


def make_damaged_epub(path: Path) -> Path:
    """A sound EPUB cut short in the middle, as an interrupted download leaves it."""
    whole = make_epub(path.with_name("whole-" + path.name)).read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    return path


MARKDOWN = """---
title: Field Notes
author: Bea Writer
---
# Field Notes

## Spring

The first swallows arrived on Tuesday. They nested under the barn roof.

## Summer

The river ran low and warm. We counted eleven herons.

## Plates

![A drawing of a heron](heron.png)

## Autumn

Leaves covered the path. The apples were picked in one long afternoon.
"""
"""A Markdown book: four chapters, one of them (Plates) with nothing to say but a picture's alt text."""


def zip_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.namelist()


def speech_like(pcm: np.ndarray, rate: int, words: int) -> None:
    """Audio that is speech of about ``words`` words: long enough for them, loud enough, and alternating
    sound and pauses as speech does (not a tone, not noise, not silence)."""
    seconds = len(pcm) / rate
    assert 0.15 * words < seconds < 1.0 * words + 2, f"{seconds:.2f} s for {words} words"
    frames = pcm[: len(pcm) // 441 * 441].reshape(-1, 441)
    energy = np.sqrt(np.mean(frames**2, axis=1))
    assert energy.max() > 0.05, "silent"
    loud = energy > 0.1 * energy.max()
    assert 0.3 < loud.mean() < 0.98, f"{loud.mean():.2f} of the audio is loud: not speech"
