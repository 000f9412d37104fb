"""Replies another program pushes into Vox delta by delta, played in the open pages or on the speakers.

The registry is the only owner of the open replies: creation, lookup and removal happen under its lock, and
readers get a snapshot, so a reply ending in its own thread never races a request iterating the list.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vox.errors import UnknownReply
from vox.reply.generation import Generation
from vox.reply.text_feed import TextFeed


@dataclass
class PushedReply:
    feed: TextFeed
    gen: Generation
    sink: str
    """"page" (the open pages play it) or "speakers"."""
    thread: threading.Thread | None = None
    created: float = field(default_factory=time.monotonic)

    @property
    def id(self) -> str:
        return self.gen.job.id

    @property
    def open(self) -> bool:
        return not self.gen.job.finished.is_set()


class ReplyRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: dict[str, PushedReply] = {}

    def add(self, make: Callable[[], PushedReply]) -> PushedReply:
        """Register the reply ``make`` builds; replies that have ended are forgotten first."""
        with self._lock:
            for reply_id in [k for k, r in self._replies.items() if not r.open]:
                del self._replies[reply_id]
        reply = make()
        with self._lock:
            self._replies[reply.id] = reply
        return reply

    def get(self, reply_id: str) -> PushedReply:
        """An open reply, or UnknownReply."""
        with self._lock:
            reply = self._replies.get(reply_id)
        if reply is None or not reply.open:
            raise UnknownReply(f"There is no open reply {reply_id!r}: it ended, was stopped, or never existed.")
        return reply

    def remove(self, reply_id: str) -> None:
        with self._lock:
            self._replies.pop(reply_id, None)

    def snapshot(self) -> list[PushedReply]:
        with self._lock:
            return list(self._replies.values())
