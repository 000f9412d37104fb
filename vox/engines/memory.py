"""Keeping the process's memory flat on glibc: fewer malloc arenas, and freed heap given back to the OS."""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
from collections.abc import Callable

M_ARENA_MAX = -8


def _libc():
    return ctypes.CDLL("libc.so.6") if sys.platform.startswith("linux") else None


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Call before threads start. glibc gives each busy thread its own arena and keeps it: a burst of
    concurrent requests grew RSS by ~80 MB for good (the soak test); two arenas kept it to ~25 MB."""
    with contextlib.suppress(OSError, AttributeError):
        libc = _libc()
        if libc is not None:
            libc.mallopt(M_ARENA_MAX, arenas)


def trim_heap() -> None:
    """Give freed heap pages back to the OS, so unloading a model shows up in RSS."""
    with contextlib.suppress(OSError, AttributeError):
        libc = _libc()
        if libc is not None:
            libc.malloc_trim(0)


class TrimWhenQuiet:
    """Calls trim_heap once nothing has run for ``delay`` seconds (``poke()`` at the end of each reply).

    Trimming after every reply handed back ~70 MB of a reply's freed buffers, but the next reply paid ~10 ms
    of page faults on its first chunk; waiting for quiet keeps a burst of replies fast and still leaves RSS
    flat between conversations.
    """

    def __init__(self, delay: float, busy: Callable[[], bool]) -> None:
        self.delay, self._busy = delay, busy
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def poke(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        if not self._busy():  # a reply still running pokes again when it ends
            trim_heap()
