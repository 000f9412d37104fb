"""The events for the open Vox pages (``GET /api/live``): audio of pushed replies, stops, push-to-talk.

The runtime publishes; each page's event stream subscribes for its session. Nothing here knows about HTTP.
"""

from __future__ import annotations

import itertools
import queue
import threading


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
