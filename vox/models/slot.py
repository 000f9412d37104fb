"""One lazily loaded model: ``get`` loads it on first use, once, behind a lock (concurrent first requests share
one load), keeps the load's progress and failure for the page, and ``unload`` frees it.

A failed load keeps its message (``error``) so the page can say what to do, and leaves a model that was already
loaded in place. A failure that is not the side's own Unavailable error (a bug, a library's surprise) is wrapped
in it, so the answer is still a 503 with a sentence, and logged.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from vox.errors import VoxError
from vox.models.base import Model

M = TypeVar("M", bound=Model)


class ModelSlot(Generic[M]):
    def __init__(self, unavailable: type[VoxError], log: logging.Logger) -> None:
        self.unavailable, self.log = unavailable, log
        self.current: M | None = None
        self.lock = threading.Lock()
        """Held while a model loads or unloads (and by the owner while it swaps one model for another)."""
        self.state = "unloaded"
        self.progress = 0.0
        self.message = ""
        self.error = ""
        self.loads = 0
        """How many loads have run; lets tests prove concurrent first requests load once."""

    def report(self, fraction: float, message: str) -> None:
        """The progress callback a loading model is given."""
        self.progress, self.message = fraction, message

    def get(self, load: Callable[[], M]) -> M:
        """The current model; on first use (or after an unload) ``load()`` gives it, called once with the lock
        held however many callers ask at the same time (usually ``lambda: slot.load(build, title)``)."""
        model = self.current
        if model is not None and model.loaded:
            return model
        with self.lock:
            if self.current is not None and self.current.loaded:
                return self.current
            self.current = load()
            return self.current

    def load(self, build: Callable[[], M], title: str) -> M:
        """Build and load a model (``title`` is what the page calls it), keeping the state the page shows up to
        date; the caller holds ``lock`` and decides what to do with the model (``get`` makes it current; an
        engine switch swaps it in)."""
        self.state, self.error = "loading", ""
        self.report(0.0, f"Loading {title}…")
        started = time.monotonic()
        try:
            model = build()
            model.load(self.report)
        except Exception as e:
            previous = self.current
            self.state = "ready" if previous is not None and previous.loaded else "error"
            self.error = str(e) if isinstance(e, self.unavailable) else f"{title} could not be loaded: {e}"
            self.log.warning("loading %s failed: %s", title, e)
            if isinstance(e, self.unavailable):
                raise
            raise self.unavailable(self.error) from e
        self.loads += 1
        self.state = "ready"
        self.report(1.0, f"{title} is ready ({time.monotonic() - started:.1f} s)")
        return model

    def unload(self, message: Callable[[M], str], before: Callable[[], None] = lambda: None,
               free: Callable[[M], None] = lambda model: model.unload()) -> M | None:  # fmt: skip
        """Free the current model (``before`` runs first, with the lock held: stop what uses it); the model that
        was freed, or None when none was loaded. ``free`` frees it (by default ``model.unload()``); ``message``
        says so on the page."""
        with self.lock:
            model = self.current
            if model is None:
                return None
            before()
            self.current = None
            free(model)
            gc.collect()
            self.state, self.message, self.error = "unloaded", message(model), ""
            return model

    def status(self) -> dict:
        """The load state the page shows (each side adds what names its model)."""
        model = self.current
        return {"state": self.state, "loaded": bool(model and model.loaded), "progress": round(self.progress, 3),
                "message": self.message, "error": self.error}  # fmt: skip
