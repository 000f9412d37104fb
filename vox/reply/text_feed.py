"""The text of a reply on its way to the Generation: whole, or still arriving (an LLM's stream, or deltas
another program pushes to Vox).

A TextFeed takes raw markdown deltas and hands the Generation planned chunks (text, and where each piece
came from in the reply) as soon as the text layer releases them (a sentence is released once the next one
visibly begins), so speech starts while the reply is still being written; the Generation sizes each chunk
as it takes it (vox/reply/pacing.py).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from functools import partial

from vox import text as speech_text
from vox.jobs.controller import Job
from vox.reply.generation import POLL

WHOLE_SLICE = 2048
"""Characters of a whole reply planned at a time (push_whole): about a millisecond of planning."""


class TextFeed:
    """Deltas in (``push``/``end``); planned chunks out (``next_chunk``, or iterating). A whole reply is a feed
    pushed once and ended. Chunks come out until ``end`` or a cancel.

    With a planner that leaves grouping to its caller (``group_size=None``), the consumer sizes each chunk as it
    takes it (``next_chunk(limit)``): whatever pieces are pending then, within the limit, so an engine that
    is free never waits for a group to fill.
    """

    def __init__(self, planner: speech_text.SpeechPlanner, idle_timeout: float = 120.0) -> None:
        self.idle_timeout = idle_timeout
        """A writer silent this long is taken to be done, so a forgotten reply cannot hold a job forever."""
        self.last_push = time.monotonic()
        self.job: Job | None = None
        """The speech job whose cancel ends iteration; set by whoever starts the Generation."""
        self._planner = planner
        self._ready: deque[speech_text.Chunk] = deque()  # chunks the planner released itself (the opening ...)
        self._changed = threading.Condition(threading.Lock())
        self._ended = False
        self._unplanned = ""  # the rest of a whole reply (push_whole), planned as chunks are taken
        self._slice = WHOLE_SLICE
        self.text = ""

    @property
    def sentences(self) -> list[str]:
        return [s.text for s in self._planner.sentences]

    @property
    def silent(self) -> bool:
        """The reply has ended with nothing to say (markdown, code and emoji only)."""
        with self._changed:
            return self._ended and not self._ready and not self._planner.pending

    def push(self, delta: str) -> list[str]:
        """Add raw reply text; returns the sentences it completed."""
        with self._changed:
            if self._ended:
                return []
            self.last_push = time.monotonic()
            self.text += delta
            return self._release(lambda: self._planner.feed(delta))

    def push_whole(self, text: str, slice_chars: int = WHOLE_SLICE) -> None:
        """A whole reply, planned as it is spoken: a slice of ``slice_chars`` characters is planned whenever the
        chunks taken run short, so a long reply's first chunk does not wait for the rest (planning 10,000 words
        with verbalisation takes tens of milliseconds; a slice, about one). Ends the feed."""
        with self._changed:
            self.text += text
            self._unplanned, self._slice = text, slice_chars
            self._plan_ahead(1)

    def _plan_ahead(self, pieces: int) -> None:
        """Plan slices of the whole reply until ``pieces`` pieces (or a released chunk) wait, or it is all planned."""
        while self._unplanned and not self._ready and len(self._planner.pending) < pieces:
            piece, self._unplanned = self._unplanned[: self._slice], self._unplanned[self._slice :]
            self._release(partial(self._planner.feed, piece))
        if not self._unplanned:
            self._end()

    def end(self) -> list[str]:
        """The reply is complete: release what is left."""
        with self._changed:
            return self._end()

    def _end(self) -> list[str]:
        if self._ended:
            return []
        self._ended = True
        return self._release(self._planner.end)

    def _release(self, plan: Callable[[], list[speech_text.Chunk]]) -> list[str]:
        before = len(self._planner.sentences)
        self._ready.extend(plan())
        self._changed.notify_all()
        return [s.text for s in self._planner.sentences[before:]]

    def next_chunk(self, limit: Callable[[], tuple[int, int]] | None = None) -> speech_text.Chunk | None:
        """The next chunk, waiting for text while the reply is open; None at its end or once the job is
        cancelled. ``limit()`` gives (most pieces, most characters) for a chunk this feed groups."""
        with self._changed:
            while self.job is None or not self.job.cancelled:
                wanted = limit() if limit is not None else None
                if self._unplanned:
                    self._plan_ahead(wanted[0] + 1 if wanted else 2)
                if self._ready:
                    return self._ready.popleft()
                if self._planner.group_size is None and self._planner.pending:
                    return self._planner.take(*wanted) if wanted is not None else self._planner.take()
                if self._ended:
                    return None
                if time.monotonic() - self.last_push > self.idle_timeout:
                    self._end()
                    continue
                self._changed.wait(POLL)
            return None

    def __iter__(self) -> Iterator[speech_text.Chunk]:
        while (chunk := self.next_chunk()) is not None:
            yield chunk
