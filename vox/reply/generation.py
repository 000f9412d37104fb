"""The one path every reply takes from planned chunks to audio: a producer thread per job synthesises ahead of
the sink through a bounded queue; the sink (SSE, speakers, whole WAV, an encoder) iterates the Generation.

The producer takes each chunk from a ChunkSource when the engine is free for it, sized by a Pacer (how far
synthesis runs ahead of playback: pacing.py), and gives each chunk the start of every piece in its audio
(piece_timing.py): an engine that synthesises sentence by sentence (Piper) gets the chunk one sentence per call
within one turn, so the starts are exact; after a piece that ends inside its sentence ("Sure,") it adds the
pause the engine would have made there (``Capabilities.clause_pause``).

Every wait here watches the job's cancel signal, so a stop ends the producer at once (the engine's run is
interrupted) and the consumer within one poll interval. When the sink stops reading, it calls ``close`` with
why, and that goes to the Controller like every other stop.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Protocol

import numpy as np

from vox.engines import EngineManager, Priority, SynthesisOptions
from vox.engines.base import Engine, Voice
from vox.jobs.controller import Controller, Job, StopReason
from vox.reply.pacing import Pacer
from vox.reply.piece_timing import SpeechRate, Starts
from vox.text import Chunk as PlannedChunk
from vox.text import Piece

POLL = 0.02
"""Seconds between cancel checks while waiting: bounds stop latency for every sink."""
AHEAD = 2
"""Chunks synthesised ahead of the sink."""


@dataclass
class Chunk:
    job_id: str
    idx: int
    total: int | None
    """Chunks in the reply, or None while the text is still streaming in."""
    text: str
    audio: np.ndarray
    sample_rate: int
    part: int = 0
    """Engines that stream inside a chunk (Chatterbox token slices) send several parts per chunk."""
    pieces: tuple[Piece, ...] = ()
    """The sentences (or parts) this chunk says, with their offsets in the original reply."""
    starts: tuple[float, ...] = ()
    """Where each of ``pieces`` starts, in seconds from the beginning of this chunk's audio (part 0): exact
    for engines said sentence by sentence, estimated for the others (vox/reply/piece_timing.py)."""


class ChunkSource(Protocol):
    """Where a Generation takes its chunks from: planned up front (FixedPlan) or as text arrives (TextFeed)."""

    def next_chunk(self, limit: Callable[[], tuple[int, int]]) -> PlannedChunk | None:
        """The next chunk to synthesise; None at the end of the reply or once its job is cancelled. May wait
        for text still arriving. A source that sizes chunks for its caller calls ``limit()`` for (most pieces,
        most characters) as it takes one."""
        ...


class FixedPlan:
    """Chunks planned up front (the static policies): sizes were decided already, so ``limit`` is not used."""

    def __init__(self, chunks: Iterable[PlannedChunk]) -> None:
        self._chunks = iter(chunks)

    def next_chunk(self, limit: Callable[[], tuple[int, int]]) -> PlannedChunk | None:
        return next(self._chunks, None)


_END = object()


class Generation:
    """Synthesises the chunks of ``source`` for ``job`` in a producer thread; iterate it to receive Chunks in
    order. ``pacer`` sizes the chunks a source takes for its caller."""

    def __init__(
        self,
        job: Job,
        controller: Controller,
        engines: EngineManager,
        source: ChunkSource,
        total: int | None,
        voice: Voice | None,
        options: SynthesisOptions,
        heartbeat: float | None = None,
        on_finished: Callable[[Job], None] | None = None,
        priority: Priority = Priority.CONVERSATION,
        pacer: Pacer | None = None,
    ) -> None:
        self.job, self.controller, self.engines = job, controller, engines
        self.source, self.total, self.voice, self.options = source, total, voice, options
        self.heartbeat, self.priority = heartbeat, priority
        self.pacer = pacer or Pacer(1, 1 << 30)
        self.rate = SpeechRate()
        self.chunks_done = 0
        self.completed = False
        """True once the sink received the whole reply."""
        self._on_finished = on_finished
        self._holders = 2  # the producer thread and the sink
        self._holders_lock = threading.Lock()
        self._closed = False
        self._queue: queue.Queue = queue.Queue(maxsize=AHEAD)
        self._thread = threading.Thread(target=self._produce, name=f"vox-gen-{job.id}", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self.job.cancelled:
            try:
                self._queue.put(item, timeout=POLL)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            idx = 0
            while not self.job.cancelled:
                planned = self.source.next_chunk(self.pacer.limit)
                if planned is None or not self._speak_chunk(idx, planned):
                    break
                idx += 1
            self.job.engine_done.set()
            self._put(_END)
        except BaseException as e:  # surfaced to the sink as an error event
            self.job.engine_done.set()
            self._put(e)
        finally:
            self._release()

    def _release(self) -> None:
        """The job is finished when both the producer and the sink are done with it."""
        with self._holders_lock:
            self._holders -= 1
            last = self._holders == 0
        if last:
            self.job.engine_done.set()
            if self._on_finished is not None:
                self._on_finished(self.job)

    def close(self, reason: StopReason = StopReason.CLIENT_GONE) -> None:
        """Called by the sink when it stops reading; an unfinished reply is stopped for ``reason`` (the client
        went away, the sink failed)."""
        if self._closed:
            return
        self._closed = True
        if not self.completed:
            self.controller.stop(reason, job=self.job)
        self._release()

    def _speak_chunk(self, idx: int, planned: PlannedChunk) -> bool:
        """Synthesise one chunk and hand its audio to the sink; False once cancelled."""
        with self.engines.turn(self.job, self.priority) as engine:
            if engine is None:  # a reply replaced while it waits gives up without synthesising
                return False
            if not engine.capabilities.sentence_by_sentence:
                return self._streamed(engine, idx, planned)
            started = time.perf_counter()
            chunk = self._by_sentence(engine, idx, planned)
            self.pacer.synthesised(len(planned.text), time.perf_counter() - started)
        return chunk is not None and self._send(chunk)

    def _by_sentence(self, engine: Engine, idx: int, planned: PlannedChunk) -> Chunk | None:
        """The chunk said one sentence per call (the engine says each sentence on its own anyway), so each
        piece's start is exact; None once cancelled."""
        starts, audio = Starts(), []
        for _, run in groupby(planned.pieces, key=lambda p: p.sentence):
            pieces = list(run)
            pcm = self._say(engine, " ".join(p.text for p in pieces))
            if pcm is None:
                return None
            starts.add(pieces, len(pcm), engine.sample_rate)
            audio.append(pcm)
            pause = self._clause_pause(engine, pieces)
            if pause.size:
                starts.silence(pause.size)
                audio.append(pause)
        return Chunk(self.job.id, idx, self.total, planned.text, np.concatenate(audio), engine.sample_rate, 0,
                     planned.pieces, tuple(starts.starts))  # fmt: skip

    def _say(self, engine: Engine, text: str) -> np.ndarray | None:
        """All the audio of one engine call; None once cancelled."""
        parts = engine.synthesize(text, self.voice, self.options, self.job.cancel)
        try:
            pcm = [p for p in parts]
        finally:
            parts.close()
        if self.job.cancelled or not pcm:
            return None
        return np.concatenate(pcm)

    def _clause_pause(self, engine: Engine, said: Sequence[Piece]) -> np.ndarray:
        """Silence to add after ``said`` when it ends inside its sentence: the pause the engine would have made
        there reading the whole sentence, less the one it made alone (``Capabilities.clause_pause``)."""
        seconds = engine.capabilities.clause_pause / (self.options.speed or 1.0)
        if not said or not said[-1].continues or seconds <= 0:
            return np.zeros(0, np.float32)
        return np.zeros(round(seconds * engine.sample_rate), np.float32)

    def _streamed(self, engine: Engine, idx: int, planned: PlannedChunk) -> bool:
        """One call for the chunk, each part of audio handed out as it comes, the pieces' starts estimated
        (vox/reply/piece_timing.py); False once cancelled."""
        parts = engine.synthesize(planned.text, self.voice, self.options, self.job.cancel)
        rate, samples, compute, part = engine.sample_rate, 0, 0.0, 0
        starts: tuple[float, ...] = ()
        try:
            while True:
                started = time.perf_counter()
                pcm = next(parts, None)
                compute += time.perf_counter() - started
                if pcm is None:
                    break
                samples += len(pcm)
                starts = tuple(self.rate.starts(planned.pieces, samples / rate))
                chunk = Chunk(self.job.id, idx, self.total, planned.text, pcm, rate, part, planned.pieces, starts)
                if self.job.cancelled or not self._send(chunk):
                    return False
                part += 1
        finally:
            parts.close()
        self.pacer.synthesised(len(planned.text), compute)
        self.rate.add(len(planned.text), samples / rate)
        pause = self._clause_pause(engine, planned.pieces)
        if not pause.size or not samples:
            return not self.job.cancelled
        return self._send(Chunk(self.job.id, idx, self.total, planned.text, pause, rate, part, planned.pieces, starts))

    def _send(self, chunk: Chunk) -> bool:
        """Hand a chunk to the sink (the pacer counts its audio as buffered from now); False once cancelled."""
        if self.job.cancelled or not self._put(chunk):
            return False
        self.pacer.sent(len(chunk.audio) / chunk.sample_rate)
        return True

    def __iter__(self) -> Iterator[Chunk | None]:
        """Chunks in order; None as a heartbeat when ``heartbeat`` seconds pass with nothing to send.

        Ends quietly when the job is cancelled; raises what the producer raised.
        """
        last = time.monotonic()
        while not self.job.cancelled:
            try:
                item = self._queue.get(timeout=POLL)
            except queue.Empty:
                if self.heartbeat is not None and time.monotonic() - last >= self.heartbeat:
                    last = time.monotonic()
                    yield None
                continue
            if item is _END:
                self.completed = True
                return
            if isinstance(item, BaseException):
                raise item
            if self.job.cancelled:
                return
            self.chunks_done = item.idx + 1
            last = time.monotonic()
            yield item
