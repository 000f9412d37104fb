"""Rendering a book: a background RENDER job that synthesises each unfinished chapter to its own FLAC.

- **Its own job kind.** The render is a ``JobKind.RENDER`` job: a conversational reply never replaces it, Esc
  and stop-all do not cover it (pause and cancel do), an engine switch or unload stops it.
- **Conversation first.** Each chunk takes a preemptible turn on the engine (``EngineManager.turn(...,
  preempt=)``): when a reply asks for the engine, the chunk's synthesis is ended at once and said again after
  the reply's turn, so a reply never waits for a render's sentence to finish.
- **Resumable.** A chapter's audio is appended to a hidden part file as it is made, and becomes
  ``audio/<chapter>.<hash>.flac`` (renamed into place, see files.py) only once the chapter is complete; its
  duration and loudness go beside it. ``hash`` covers the chapter's text and the voice settings, so a finished
  chapter is never synthesised again, and one whose text or voice changed is. A pause keeps the part file and
  continues at the next chunk; a crash loses only the chapter it was in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vox.audio.pcm import to_int16
from vox.books.files import atomic_path, part_path, read_json, write_json
from vox.books.loudness import LoudnessMeter
from vox.books.project import Chapter, Project, Settings
from vox.engines import Priority
from vox.jobs.cancel import Cancel
from vox.jobs.controller import Job

log = logging.getLogger("vox.books")

RENDER_VERSION = 1
"""Part of every chapter's hash: raise it when a change to Vox makes old chapter audio wrong."""
GROUP = 2
"""Sentences per render chunk: few, so that a chunk a reply preempts costs little to say again."""
PIECE_CHARS = 120
"""Longer sentences are said in pieces of at most this (at a clause where there is one). A reply that preempts a
render waits for the engine's operator in progress to end, and Piper's operators grow with the sentence: with
300-character pieces that wait was 20 ms at the median and 200 ms at worst, on a loaded 2-core machine."""


def chapter_hash(text: str, settings: Settings) -> str:
    """What a chapter's audio depends on: its text and the voice settings (not the title, not the format)."""
    payload = {"v": RENDER_VERSION, "text": text, "engine": settings.engine, "voice": settings.voice,
               "speed": settings.speed, "lang": settings.lang, "params": settings.params}  # fmt: skip
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:16]


@dataclass
class ChapterAudio:
    path: Path
    seconds: float
    loudness: float
    peak: float
    rate: int


def audio_path(project: Project, chapter: Chapter, digest: str) -> Path:
    return project.audio_dir / f"{chapter.id}.{digest}.flac"


def finished_audio(project: Project, chapter: Chapter, digest: str) -> ChapterAudio | None:
    """The chapter's finished audio for ``digest``, or None. Its measurements come from the sidecar, or from the
    FLAC itself when the sidecar is missing (the process died between the two renames)."""
    flac = audio_path(project, chapter, digest)
    if not flac.is_file():
        return None
    meta = flac.with_suffix(".json")
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        m = read_json(meta)
        return ChapterAudio(flac, float(m["seconds"]), float(m["loudness"]), float(m["peak"]), int(m["rate"]))
    try:
        import soundfile

        meter = LoudnessMeter(soundfile.info(str(flac)).samplerate)
        for block in soundfile.blocks(str(flac), blocksize=meter.rate * 10, dtype="float32", always_2d=False):
            meter.feed(block)
    except Exception as e:  # an unreadable file is no finished chapter: it is made again
        log.warning("%s cannot be read (%s): the chapter is rendered again", flac, e)
        with contextlib.suppress(OSError):
            flac.unlink()
        return None
    audio = ChapterAudio(flac, meter.samples / meter.rate, meter.loudness, meter.peak, meter.rate)
    _write_meta(audio)
    return audio


def _write_meta(audio: ChapterAudio) -> None:
    loudness = audio.loudness if math.isfinite(audio.loudness) else -200.0
    write_json(audio.path.with_suffix(".json"), {"seconds": audio.seconds, "loudness": loudness,
                                                 "peak": audio.peak, "rate": audio.rate})  # fmt: skip


def forget_other_audio(project: Project, chapter: Chapter, keep: str | None) -> None:
    """Delete a chapter's audio for every hash but ``keep`` (its text or voice changed since)."""
    if not project.audio_dir.is_dir():
        return
    for path in project.audio_dir.glob(f"{chapter.id}.*"):
        if keep is None or not path.name.startswith(f"{chapter.id}.{keep}."):
            with contextlib.suppress(OSError):
                path.unlink()


@dataclass
class Partial:
    """A chapter being made: its chunks so far, as 16-bit PCM in a hidden part file."""

    chapter_id: str
    digest: str
    path: Path
    next_chunk: int = 0
    samples: int = 0
    chars: int = 0
    """Characters of the chapter's text said so far."""

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


class Stopped(Exception):
    """The render's job was stopped (pause, cancel, engine switch, shutdown)."""


class ChapterRenderer:
    """Synthesises chapters for one job; ``on_chunk(chars, samples)`` reports each chunk as it is kept."""

    def __init__(self, runtime, job: Job, voice, options, on_chunk) -> None:
        self.runtime, self.job, self.voice, self.options, self.on_chunk = runtime, job, voice, options, on_chunk
        self.preemptions = 0
        self.on_preempt: Callable[[], None] = lambda: None
        self.partial: Partial | None = None
        self.engine = runtime.engines.get()
        """The engine the render started with: every chunk is said by it (one voice, one sample rate)."""
        self.rate = self.engine.sample_rate

    def planner(self):
        from functools import partial

        from vox import text as speech_text
        from vox.text.verbalise import Verbaliser

        cfg = self.runtime.config
        day_first = cfg.text.day_first
        size = min(PIECE_CHARS, cfg.chunking.max_chars)
        return speech_text.SpeechPlanner(GROUP, size, size, False,
                                         lang=self.options.lang or cfg.engine.lang,
                                         verbaliser=partial(Verbaliser, day_first=day_first))  # fmt: skip

    def synthesize(self, text: str) -> np.ndarray:
        """One chunk's audio, said again whenever a reply takes the engine in the middle of it."""
        while not self.job.cancelled:
            preempt = Cancel()
            unhook = self.job.on_cancel(preempt.set)
            try:
                with self.runtime.engines.turn(self.job, self.engine, Priority.RENDER, preempt) as engine:
                    if engine is None:  # stopped, or the engine was switched (which stops a render) or unloaded
                        change = self.runtime.engines.change_since(self.engine)
                        if change is not None and not self.job.cancelled:
                            self.runtime.stop_job(self.job, change)
                        break
                    pieces = engine.synthesize(text, self.voice, self.options, preempt)
                    try:
                        audio = [pcm for pcm in pieces]
                    finally:
                        pieces.close()
            finally:
                unhook()
            if not preempt.is_set():
                return np.concatenate(audio) if audio else np.zeros(0, np.float32)
            if not self.job.cancelled:
                self.preemptions += 1
                self.on_preempt()
        raise Stopped

    def render(self, project: Project, chapter: Chapter, digest: str, partial: Partial | None) -> ChapterAudio | None:
        """Make the chapter's FLAC, continuing ``partial`` when it is this chapter's; None when it has nothing to
        say. Raises Stopped (keeping the part file in ``self.partial``) when the job is stopped."""
        text = project.text_of(chapter)
        chunks = self.planner().plan(text)
        if not chunks:
            return None
        final = audio_path(project, chapter, digest)
        if partial is None or (partial.chapter_id, partial.digest) != (chapter.id, digest) \
                or not partial.path.exists():  # fmt: skip
            if partial is not None:
                partial.discard()
            final.parent.mkdir(parents=True, exist_ok=True)
            partial = Partial(chapter.id, digest, part_path(final.with_suffix(".pcm")))
        self.partial = partial
        with open(partial.path, "ab") as out:
            out.truncate(partial.samples * 2)  # a chunk cut short by a stop is dropped whole
            for idx in range(partial.next_chunk, len(chunks)):
                pcm = self.synthesize(chunks[idx].text)
                out.write(to_int16(pcm).tobytes())
                out.flush()
                chars = max(p.end for p in chunks[idx].pieces)
                self.on_chunk(chars - partial.chars, pcm.size)
                partial.next_chunk, partial.samples, partial.chars = idx + 1, partial.samples + pcm.size, chars
        if len(text) > partial.chars:
            self.on_chunk(len(text) - partial.chars, 0)  # what follows the last word (markup, spaces) counts too
        audio = self._finish(partial, final)
        self.partial = None
        return audio

    def _finish(self, partial: Partial, final: Path) -> ChapterAudio:
        """The part file as the chapter's FLAC (measured as it is converted), renamed into place."""
        import soundfile

        meter = LoudnessMeter(self.rate)
        raw = np.memmap(partial.path, dtype="<i2", mode="r") if partial.samples else np.zeros(0, "<i2")
        with atomic_path(final) as tmp:
            with soundfile.SoundFile(str(tmp), "w", self.rate, 1, "PCM_16", format="FLAC") as out:
                step = self.rate * 10
                for at in range(0, raw.size, step):
                    block = raw[at:at + step].astype(np.float32) / 32768.0
                    meter.feed(block)
                    out.write(block)
            audio = ChapterAudio(final, meter.samples / self.rate, meter.loudness, meter.peak, self.rate)
            _write_meta(audio)  # before the FLAC takes its name: a FLAC in place always has its numbers
        del raw
        partial.discard()
        return audio


class Progress:
    """What the page's progress bar and the command line's show; updated by the render thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state = "idle"
        self.message = ""
        self.chapter = ""
        self.chapters_done = 0
        self.chapters_total = 0
        self.chars_done = 0
        self.chars_total = 0
        self.audio_s = 0.0
        self.said_chars = 0
        """Characters synthesised by this run (what the speed, and so the time left, is measured on)."""
        self.started = time.monotonic()
        self.skipped: list[dict] = []
        self.preempted = 0
        """Chunks said again because a reply took the engine in the middle of them."""

    def chunk(self, chars: int, samples: int, rate: int) -> None:
        with self.lock:
            self.chars_done += chars
            self.said_chars += chars
            self.audio_s += samples / rate

    def as_json(self) -> dict:
        with self.lock:
            elapsed = time.monotonic() - self.started
            rate = self.said_chars / elapsed if self.said_chars and elapsed > 0 else None
            left = max(0, self.chars_total - self.chars_done)
            eta = round(left / rate, 1) if rate and self.state == "rendering" else None
            return {"state": self.state, "message": self.message, "chapter": self.chapter,
                    "chapters_done": self.chapters_done, "chapters_total": self.chapters_total,
                    "chars_done": min(self.chars_done, self.chars_total), "chars_total": self.chars_total,
                    "audio_minutes": round(self.audio_s / 60, 2), "eta_s": eta,
                    "fraction": round(self.chars_done / self.chars_total, 4) if self.chars_total else 0.0,
                    "skipped": list(self.skipped), "preempted": self.preempted}  # fmt: skip
