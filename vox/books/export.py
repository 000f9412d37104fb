"""The book file, made from finished chapter files: one M4B (AAC) with chapter markers, one MP3 per chapter
(tagged; a folder or a ZIP), or one WAV or FLAC.

Every chapter is brought to one loudness (``loudness.common_target``) and followed by a second of silence; the
chapter markers of the M4B (and the CHAPTERnnn comments of the FLAC) point at each chapter's first sample. The
audio streams through, ten seconds at a time, so a long book costs no more memory than a short one, and every
output is written beside its final name and renamed into place only once complete (``files.atomic_path``): a
failure, a stop or a kill never leaves half a book file.

Encoders: FFmpeg's AAC and LAME through PyAV (as ``vox/audio/encoders.py``); WAV and FLAC through libsndfile
(soundfile); tags through mutagen (ID3 for the MP3s, Vorbis comments for the FLAC). The M4B's title, author and
chapters are written by FFmpeg's muxer, which mutagen and every audiobook player read.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vox.audio.encoders import FORMATS, codec_rate
from vox.books.files import atomic_path, part_path
from vox.books.loudness import common_target, gain_for

GAP_S = 1.0
"""Silence after each chapter."""
BLOCK_S = 10
GENRE = "Audiobook"


@dataclass
class Part:
    """One finished chapter as the book file uses it."""

    title: str
    path: Path
    """Its FLAC."""
    seconds: float
    loudness: float
    peak: float


@dataclass
class Book:
    title: str
    author: str
    parts: list[Part]
    rate: int
    loudness: float
    """What the caller asked every chapter to be brought to (LUFS)."""

    @property
    def target(self) -> float:
        return common_target([(p.loudness, p.peak) for p in self.parts], self.loudness)


def safe_name(text: str, limit: int = 80) -> str:
    """A file name for ``text`` on any file system."""
    name = re.sub(r'[\x00-\x1f/\\:*?"<>|]+', " ", text)
    name = " ".join(name.split()).strip(" .")
    return name[:limit].rstrip(" .") or "Untitled"


def chapter_audio(part: Part, gain: float, rate: int, gap: bool = True) -> Iterator[np.ndarray]:
    """A chapter's samples with its gain, ten seconds at a time, then its silence."""
    import soundfile

    for block in soundfile.blocks(str(part.path), blocksize=rate * BLOCK_S, dtype="float32", always_2d=False):
        yield np.clip(block * gain, -1.0, 1.0).astype(np.float32)
    if gap:
        yield np.zeros(int(GAP_S * rate), np.float32)


def chapter_starts(book: Book) -> list[tuple[int, int]]:
    """(first sample, end sample) of each chapter in a single-file book (its silence included)."""
    out, at = [], 0
    for part in book.parts:
        frames = round(part.seconds * book.rate) + int(GAP_S * book.rate)
        out.append((at, at + frames))
        at += frames
    return out


def _encode_av(book: Book, path: Path, fmt_name: str, container: str, parts: list[Part], target: float,
               metadata: dict[str, str], chapters: bool, options: dict | None = None) -> None:  # fmt: skip
    """Encode ``parts`` into one file with PyAV (AAC in an M4B, or an MP3)."""
    import av

    fmt = FORMATS[fmt_name]
    out = av.open(str(path), mode="w", format=container, options=options or {})
    try:
        for key, value in metadata.items():
            if value:
                out.metadata[key] = value
        stream = out.add_stream(fmt.codec, rate=codec_rate(fmt, book.rate), layout="mono")
        stream.codec_context.bit_rate = fmt.bit_rate
        pts = 0
        marks = []
        for part in parts:
            first = pts
            for block in chapter_audio(part, gain_for(part.loudness, target), book.rate, gap=len(parts) > 1):
                frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="flt", layout="mono")
                frame.sample_rate, frame.pts = book.rate, pts
                pts += block.size
                for packet in stream.encode(frame):
                    out.mux(packet)
            marks.append((first, pts, part.title))
        for packet in stream.encode(None):
            out.mux(packet)
        if chapters:
            from fractions import Fraction

            out.set_chapters([{"id": k, "start": a, "end": b, "time_base": Fraction(1, book.rate),
                               "metadata": {"title": title}} for k, (a, b, title) in enumerate(marks, 1)])  # fmt: skip
    finally:
        out.close()


def _book_tags(book: Book) -> dict[str, str]:
    return {"title": book.title, "album": book.title, "artist": book.author, "album_artist": book.author,
            "genre": GENRE}  # fmt: skip


def write_m4b(book: Book, final: Path) -> None:
    with atomic_path(final) as part:
        _encode_av(book, part, "aac", "ipod", book.parts, book.target, _book_tags(book), chapters=True,
                   options={"brand": "M4B "})  # fmt: skip


def write_mp3(book: Book, final: Path, number: int, part: Part, target: float) -> None:
    """One chapter as a tagged MP3 (ID3v2.4: title, album, artist, track n/N, genre)."""
    from mutagen.id3 import ID3, TALB, TCON, TIT2, TPE1, TPE2, TRCK

    with atomic_path(final) as tmp:
        _encode_av(book, tmp, "mp3", "mp3", [part], target, {}, chapters=False)
        tags = ID3()
        tags.add(TIT2(encoding=3, text=part.title))
        tags.add(TALB(encoding=3, text=book.title))
        if book.author:
            tags.add(TPE1(encoding=3, text=book.author))
            tags.add(TPE2(encoding=3, text=book.author))
        tags.add(TRCK(encoding=3, text=f"{number}/{len(book.parts)}"))
        tags.add(TCON(encoding=3, text=GENRE))
        tags.save(str(tmp))


def mp3_names(book: Book) -> list[str]:
    width = max(2, len(str(len(book.parts))))
    return [f"{k:0{width}d} - {safe_name(p.title)}.mp3" for k, p in enumerate(book.parts, 1)]


def write_mp3_folder(book: Book, folder: Path) -> list[Path]:
    target = book.target
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, (name, part) in enumerate(zip(mp3_names(book), book.parts, strict=True), 1):
        write_mp3(book, folder / name, k, part, target)
        paths.append(folder / name)
    return paths


def write_mp3_zip(book: Book, final: Path) -> None:
    """Every chapter's MP3 in one ZIP (stored: MP3 does not compress), for one download."""
    target = book.target
    with atomic_path(final) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for k, (name, part) in enumerate(zip(mp3_names(book), book.parts, strict=True), 1):
            mp3 = part_path(final.with_name(name))
            try:
                write_mp3(book, mp3, k, part, target)
                zf.write(mp3, f"{safe_name(book.title)}/{name}")
            finally:
                with contextlib.suppress(OSError):
                    mp3.unlink()


def write_pcm_file(book: Book, final: Path, fmt: str) -> None:
    """One WAV (RF64 past 4 GB) or FLAC of the whole book; the FLAC carries tags and CHAPTERnnn comments."""
    import soundfile

    target = book.target
    total_bytes = sum(p.seconds + GAP_S for p in book.parts) * book.rate * 2
    container = "FLAC" if fmt == "flac" else ("RF64" if total_bytes > 2**32 - 2**20 else "WAV")
    with atomic_path(final) as tmp:
        with soundfile.SoundFile(str(tmp), "w", book.rate, 1, "PCM_16", format=container) as out:
            for part in book.parts:
                for block in chapter_audio(part, gain_for(part.loudness, target), book.rate):
                    out.write(block)
        if fmt == "flac":
            _flac_tags(book, tmp)


def _flac_tags(book: Book, path: Path) -> None:
    from mutagen.flac import FLAC

    audio = FLAC(str(path))
    for key, value in _book_tags(book).items():
        if value and key != "album_artist":
            audio[key.upper()] = value
    for k, ((start, _), part) in enumerate(zip(chapter_starts(book), book.parts, strict=True), 1):
        seconds = start / book.rate
        h, rest = divmod(seconds, 3600)
        m, s = divmod(rest, 60)
        audio[f"CHAPTER{k:03d}"] = f"{int(h):02d}:{int(m):02d}:{s:06.3f}"
        audio[f"CHAPTER{k:03d}NAME"] = part.title
    audio.save()


def write_book(book: Book, fmt: str, final: Path) -> None:
    """The book file in ``fmt`` at ``final`` (mp3: a ZIP of the chapters, or a folder when ``final`` is one)."""
    if fmt == "m4b":
        write_m4b(book, final)
    elif fmt == "mp3":
        if final.suffix.lower() == ".zip":
            write_mp3_zip(book, final)
        else:
            write_mp3_folder(book, final)
    else:
        write_pcm_file(book, final, fmt)
