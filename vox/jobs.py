"""The one cancellation mechanism: every reply, speaker playback, LLM stream or recording is a Job.

A Job is an id and a cancel event. The Controller knows the live jobs: starting a new reply cancels the
one speaking (replies replace each other, as assistants do), ``stop()`` cancels what is speaking, and
``stop_all()`` cancels everything. Whatever waits (the SSE writer, the speaker callback, the engine between
sentences or tokens, the LLM reader) watches its job's event, so every stop path works the same way.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SPEECH = "speech"
"""Jobs that make sound (browser stream, speakers, whole WAV); ``stop()`` cancels these."""


class TooManyJobs(Exception):
    """More jobs are still winding down than ``max_jobs`` allows."""


_ids = itertools.count(1)


@dataclass(eq=False)
class Job:
    kind: str = SPEECH
    number: int = field(default_factory=lambda: next(_ids))
    """Increases with every job, so a stop can say which jobs it is older than."""
    cancel: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    """Set once nothing works for this job any more (its threads have ended)."""
    started: float = field(default_factory=time.monotonic)
    stopped_at: float | None = None
    _on_cancel: list = field(default_factory=list, repr=False)

    @property
    def id(self) -> str:
        return f"j{self.number}"

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def stop(self) -> None:
        if not self.cancel.is_set():
            self.stopped_at = time.monotonic()
            self.cancel.set()
            for callback in self._on_cancel:
                callback()

    def on_cancel(self, callback) -> None:
        """Run ``callback`` when the job is cancelled (at once if it already is): for work that blocks in
        a read, like an LLM response, and must be interrupted rather than polled."""
        self._on_cancel.append(callback)
        if self.cancel.is_set():
            callback()


class Controller:
    """Owns the live jobs; the only place that decides what a stop cancels."""

    def __init__(self, max_jobs: int = 4) -> None:
        self.max_jobs = max_jobs
        self._lock = threading.Lock()
        self._jobs: list[Job] = []
        self.on_stop: list[Callable[[bool, int], None]] = []
        """Called after every stop with (stop-all?, number of the newest job it covers), e.g. to silence
        audio a page already holds without touching a reply started after the stop."""
        self.newest = 0

    def start(self, kind: str = SPEECH, replace: bool = True) -> Job:
        """Register a new job; a new speech job replaces (cancels) the one speaking."""
        with self._lock:
            self._jobs = [j for j in self._jobs if not j.finished.is_set()]
            if len(self._jobs) >= self.max_jobs:
                raise TooManyJobs(f"{len(self._jobs)} jobs are still running; try again in a moment")
            if replace and kind == SPEECH:
                for j in self._jobs:
                    if j.kind == SPEECH:
                        j.stop()
            job = Job(kind=kind)
            self.newest = job.number
            self._jobs.append(job)
            return job

    def finish(self, job: Job) -> None:
        job.finished.set()
        with self._lock:
            if job in self._jobs:
                self._jobs.remove(job)

    def stop(self) -> list[str]:
        """Cancel what is speaking; returns the ids cancelled."""
        return self._cancel(lambda j: j.kind == SPEECH, everything=False)

    def stop_all(self) -> list[str]:
        """Cancel every job: speech, speaker playback, LLM streams, recordings."""
        return self._cancel(lambda j: True, everything=True)

    def _cancel(self, which: Callable[[Job], bool], everything: bool) -> list[str]:
        with self._lock:
            hit = [j for j in self._jobs if which(j) and not j.cancelled]
            newest = self.newest
        for j in hit:
            j.stop()
        for listener in self.on_stop:
            listener(everything, newest)
        return [j.id for j in hit]

    def active(self, kind: str | None = None) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs if not j.cancelled and (kind is None or j.kind == kind)]

    def running(self) -> list[Job]:
        """Jobs not finished yet, cancelled or not (their threads may still be winding down)."""
        with self._lock:
            return [j for j in self._jobs if not j.finished.is_set()]

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every job has finished; True if it did in time."""
        deadline = time.monotonic() + timeout
        for j in self.running():
            if not j.finished.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True
