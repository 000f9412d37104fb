"""The cancel signal a job hands to everything that works for it.

A ``threading.Event`` that can also run callbacks when it is set: waiting code polls or waits on it, and
work that blocks inside a library call (an ONNX run, a socket read from an LLM server) registers a
callback that interrupts it, so a stop takes effect at once instead of at the next check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Cancel(threading.Event):
    def __init__(self) -> None:
        super().__init__()
        self._callbacks: list[Callable[[], object]] = []
        self._callbacks_lock = threading.Lock()

    def set(self) -> None:
        with self._callbacks_lock:
            if self.is_set():
                return
            super().set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def clear(self) -> None:
        """A cancel is final; re-arming one would let stopped work start again."""
        raise RuntimeError("a Cancel cannot be cleared; make a new one")

    def on_set(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Run ``callback`` when this is set (at once if it already is). Returns a function that removes it,
        for work that finished before any cancel."""
        with self._callbacks_lock:
            if not self.is_set():
                self._callbacks.append(callback)
                return lambda: self._remove(callback)
        callback()
        return lambda: None

    def _remove(self, callback: Callable[[], object]) -> None:
        with self._callbacks_lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)
