"""The one path every reply takes from planned chunks to audio: a producer thread per job synthesises ahead of
the sink through a bounded queue; the sink (SSE, speakers, whole WAV, an encoder) iterates the Generation.

Every wait here watches the job's cancel signal, so a stop ends the producer at once (the engine's run is
interrupted) and the consumer within one poll interval. When the sink stops reading, it calls ``close`` with
why, and that goes to the Controller like every other stop.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from vox.engines import EngineManager, Priority, SynthesisOptions
from vox.engines.base import Voice
from vox.jobs import Controller, Job, StopReason
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


_END = object()


class Generation:
    """Synthesises ``plan`` for ``job`` in a producer thread; iterate it to receive Chunks in order."""

    def __init__(
        self,
        job: Job,
        controller: Controller,
        engines: EngineManager,
        plan: Iterable[PlannedChunk],
        total: int | None,
        voice: Voice | None,
        options: SynthesisOptions,
        heartbeat: float | None = None,
        on_finished: Callable[[Job], None] | None = None,
        priority: Priority = Priority.CONVERSATION,
    ) -> None:
        self.job, self.controller, self.engines = job, controller, engines
        self.plan, self.total, self.voice, self.options = plan, total, voice, options
        self.heartbeat, self.priority = heartbeat, priority
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
            for idx, planned in enumerate(self.plan):
                if self.job.cancelled or not self._speak_chunk(idx, planned):
                    break
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
        """Synthesise one chunk, sending each piece of audio the engine yields at once; False once cancelled."""
        with self.engines.turn(self.job, self.priority) as engine:
            if engine is None:  # a reply replaced while it waits gives up without synthesising
                return False
            pieces = engine.synthesize(planned.text, self.voice, self.options, self.job.cancel)
            try:
                for part, pcm in enumerate(pieces):
                    chunk = Chunk(self.job.id, idx, self.total, planned.text, pcm, engine.sample_rate, part,
                                  planned.pieces)  # fmt: skip
                    if self.job.cancelled or not self._put(chunk):
                        return False
            finally:
                pieces.close()
        return not self.job.cancelled

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
