"""Replies whose text is still arriving (an LLM's stream, or deltas another program pushes to Vox), and the
fan-out of events to the open pages.

A TextFeed takes raw markdown deltas and hands the Generation planned chunks (text, and where each piece
came from in the reply) as soon as the text layer releases them (a sentence is released once the next one
visibly begins), so speech starts while the reply is still being written. The LiveHub carries events (audio
of pushed replies, stops) to every open page.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Iterator

from vox import text as speech_text
from vox.jobs import Job
from vox.pipeline import POLL

_END = object()


class TextFeed:
    """Deltas in (``push``/``end``); planned chunks out, by iterating. Iteration ends at ``end`` or a cancel."""

    def __init__(self, planner: speech_text.SpeechPlanner, idle_timeout: float = 120.0) -> None:
        self.idle_timeout = idle_timeout
        """A writer silent this long is taken to be done, so a forgotten reply cannot hold a job forever."""
        self.last_push = time.monotonic()
        self.job: Job | None = None
        """The speech job whose cancel ends iteration; set by whoever starts the Generation."""
        self._planner = planner
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._ended = False
        self.text = ""

    @property
    def sentences(self) -> list[str]:
        return [s.text for s in self._planner.sentences]

    def push(self, delta: str) -> list[str]:
        """Add raw reply text; returns the sentences it completed."""
        with self._lock:
            if self._ended:
                return []
            self.last_push = time.monotonic()
            self.text += delta
            return self._release(lambda: self._planner.feed(delta))

    def end(self) -> list[str]:
        """The reply is complete: release what is left."""
        with self._lock:
            if self._ended:
                return []
            self._ended = True
            sentences = self._release(self._planner.end)
            self._queue.put(_END)
            return sentences

    def _release(self, plan) -> list[str]:
        before = len(self._planner.sentences)
        for chunk in plan():
            self._queue.put(chunk)
        return [s.text for s in self._planner.sentences[before:]]

    def __iter__(self) -> Iterator[speech_text.Chunk]:
        while self.job is None or not self.job.cancelled:
            try:
                item = self._queue.get(timeout=POLL)
            except queue.Empty:
                if time.monotonic() - self.last_push > self.idle_timeout:
                    self.end()
                continue
            if item is _END:
                return
            yield item


class LiveHub:
    """Fan-out of events (JSON-able dicts) to the open Vox pages (``GET /api/live``). Each page listens for its
    session (one per tab): it gets that session's events and the events for every page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[int, tuple[queue.Queue, str | None]] = {}
        self._ids = itertools.count()

    def subscribe(self, session: str | None = None) -> tuple[int, queue.Queue]:
        q: queue.Queue = queue.Queue(maxsize=256)
        with self._lock:
            key = next(self._ids)
            self._subscribers[key] = (q, session)
        return key, q

    def unsubscribe(self, key: int) -> None:
        with self._lock:
            self._subscribers.pop(key, None)

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def listening(self, session: str | None) -> int:
        """Pages that hear events for ``session`` (None: every page)."""
        with self._lock:
            return sum(1 for _, listens in self._subscribers.values() if session is None or listens == session)

    def publish(self, message: dict, session: str | None = None) -> None:
        """Send ``message`` to the pages of ``session``, or to every page when it is None."""
        with self._lock:
            subscribers = [q for q, listens in self._subscribers.values() if session is None or listens == session]
        for q in subscribers:
            try:
                q.put_nowait(message)
            except queue.Full:  # a page that stopped reading loses messages, not the server
                pass
