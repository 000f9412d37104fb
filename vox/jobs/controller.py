"""Jobs and the Controller: the one place that decides what a stop cancels.

Every reply, speaker playback, LLM stream, book render or microphone turn is a Job: an id, a kind, a session
and a ``Cancel``. Whatever works for a job (the producer thread, the SSE writer, the speaker callback, the
ONNX run, the LLM socket) watches or hooks that one signal, so every stop path behaves the same.

A stop is always one call, ``Controller.stop(reason, ...)``. The reason decides which jobs it covers, through
each kind's ``Policy``:

    reason          covers
    USER            the session's jobs whose policy says ``user_stop`` (speech: Esc)
    STOP_ALL        every job whose policy says ``stop_all`` (speech, LLM, listen; not renders)
    REPLACED        the session's jobs of the new job's kind, when that kind ``replaces`` (start() does it)
    ENGINE_SWITCH,  every job that uses the engine (speech, renders), before the engine changes
    UNLOAD
    SHUTDOWN        everything
    CLIENT_GONE,    one job, named by the caller (``job=``)
    ERROR
    USER_SPOKE      barge-in: what STOP_ALL covers except the listening streams (vox/listening/streams.py)

``on_stop`` listeners receive a ``StopEvent`` (the reason, what was stopped, the newest job it covers), e.g. to
silence audio a page already holds without touching a reply started after the stop.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from vox.errors import TooManyJobs
from vox.jobs.cancel import Cancel

DEFAULT_SESSION = "default"


class StopReason(StrEnum):
    USER = "user stop"
    STOP_ALL = "stop all"
    REPLACED = "replaced"
    CLIENT_GONE = "client gone"
    UNLOAD = "unload"
    ENGINE_SWITCH = "engine switch"
    ERROR = "error"
    SHUTDOWN = "shutdown"
    USER_SPOKE = "user spoke"


class JobKind(StrEnum):
    SPEECH = "speech"
    """A reply being spoken: browser stream, speakers, whole WAV, pushed reply."""
    LLM = "llm"
    """An LLM writing a chat reply."""
    RENDER = "render"
    """A long-form render (a book chapter to a file): never replaced by conversation."""
    LISTEN = "listen"
    """A microphone turn."""
    PREVIEW = "preview"
    """A voice preview: short, and never interrupts speech."""


@dataclass(frozen=True)
class Policy:
    replaces: bool
    """Starting one cancels the session's running jobs of the same kind."""
    user_stop: bool
    """Esc (stop) covers it."""
    stop_all: bool
    """Stop-all (Shift+Esc, the global hotkey, an admin stop) covers it."""
    uses_engine: bool
    """An engine switch or unload cancels it first."""


POLICIES: dict[JobKind, Policy] = {
    JobKind.SPEECH: Policy(replaces=True, user_stop=True, stop_all=True, uses_engine=True),
    JobKind.LLM: Policy(replaces=True, user_stop=False, stop_all=True, uses_engine=False),
    JobKind.RENDER: Policy(replaces=False, user_stop=False, stop_all=False, uses_engine=True),
    JobKind.LISTEN: Policy(replaces=True, user_stop=False, stop_all=True, uses_engine=False),
    JobKind.PREVIEW: Policy(replaces=False, user_stop=False, stop_all=True, uses_engine=True),
}

_ids = itertools.count(1)


@dataclass(eq=False)
class Job:
    kind: JobKind = JobKind.SPEECH
    session: str = DEFAULT_SESSION
    number: int = field(default_factory=lambda: next(_ids))
    """Increases with every job, so a stop can say which jobs it is older than."""
    cancel: Cancel = field(default_factory=Cancel)
    finished: threading.Event = field(default_factory=threading.Event)
    """Set once nothing works for this job any more (its threads have ended)."""
    engine_done: threading.Event = field(default_factory=threading.Event)
    """Set once the job will not use the engine again: a cancelled job past this point costs nobody anything,
    even while a slow client still holds its stream open."""
    started: float = field(default_factory=time.monotonic)
    stopped_at: float | None = None
    reason: StopReason | None = None
    """Why it was stopped; None while it runs (or when it completed)."""

    @property
    def id(self) -> str:
        return f"j{self.number}"

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def on_cancel(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Run ``callback`` when the job is cancelled (at once if it already is): for work that blocks, like
        an LLM socket read, and must be interrupted rather than polled."""
        return self.cancel.on_set(callback)

    def _stop(self, reason: StopReason) -> bool:
        """Only the Controller stops jobs (see the module docstring)."""
        if self.cancel.is_set():
            return False
        self.stopped_at, self.reason = time.monotonic(), reason
        self.cancel.set()
        return True


@dataclass(frozen=True)
class StopEvent:
    reason: StopReason
    jobs: tuple[Job, ...]
    session: str | None
    """The session the stop was for; None for every session."""
    newest: int
    """The number of the newest job at the time of the stop."""

    @property
    def everything(self) -> bool:
        return self.reason in (StopReason.STOP_ALL, StopReason.SHUTDOWN, StopReason.USER_SPOKE)


class Controller:
    """Owns the live jobs; the only place that decides what a stop cancels."""

    def __init__(self, max_jobs: int = 4) -> None:
        self.max_jobs = max_jobs
        self._lock = threading.Lock()
        self._jobs: list[Job] = []
        self.on_stop: list[Callable[[StopEvent], None]] = []
        self.newest = 0

    def start(self, kind: JobKind = JobKind.SPEECH, session: str = DEFAULT_SESSION) -> Job:
        """Register a new job; its kind's policy decides whether it replaces the session's running ones."""
        with self._lock:
            self._jobs = [j for j in self._jobs if not j.finished.is_set()]
            replaced = [j for j in self._jobs if j.kind == kind and j.session == session] if POLICIES[kind].replaces \
                else []  # fmt: skip
            # The jobs this one replaces hand it their place: a tab whose reply is stalled (its client stopped
            # reading) can always speak again, whatever the limit.
            load = self._load(excluding=replaced)
            if load >= self.max_jobs:
                raise TooManyJobs(f"Too many replies are running at once ({load}). Try again in a moment.",
                                  retry_after=1)  # fmt: skip
            job = Job(kind=kind, session=session)
            self.newest = job.number
            self._jobs.append(job)
        if replaced:
            self._stop_jobs(StopReason.REPLACED, replaced, session)
        return job

    def _load(self, excluding: Iterable[Job] = ()) -> int:
        """Jobs that count against ``max_jobs``: running ones, and stopped ones still using the engine."""
        skip = set(excluding)
        return sum(1 for j in self._jobs if j not in skip and (not j.cancelled or not j.engine_done.is_set()))

    def finish(self, job: Job) -> None:
        job.engine_done.set()
        job.finished.set()
        with self._lock:
            if job in self._jobs:
                self._jobs.remove(job)

    def stop(self, reason: StopReason, *, job: Job | None = None, session: str | None = None) -> list[Job]:
        """The one way to stop anything: cancel what ``reason`` covers (see the module docstring), limited to
        ``session`` when given, or exactly ``job``. Returns the jobs it cancelled."""
        if job is not None:
            return self._stop_jobs(reason, [job], job.session)
        with self._lock:
            covered = [j for j in self._jobs if _covers(reason, j) and (session is None or j.session == session)]
        return self._stop_jobs(reason, covered, session)

    def _stop_jobs(self, reason: StopReason, jobs: Iterable[Job], session: str | None) -> list[Job]:
        hit = [j for j in jobs if j._stop(reason)]
        event = StopEvent(reason, tuple(hit), session, self.newest)
        for listener in self.on_stop:
            listener(event)
        return hit

    def active(self, kind: JobKind | None = None, session: str | None = None) -> list[Job]:
        """Jobs running and not cancelled, of ``kind`` and ``session`` when given."""
        with self._lock:
            return [j for j in self._jobs if not j.cancelled and (kind is None or j.kind == kind)
                    and (session is None or j.session == session)]  # fmt: skip

    def running(self) -> list[Job]:
        """Jobs not finished yet, cancelled or not (their threads may still be winding down)."""
        with self._lock:
            return [j for j in self._jobs if not j.finished.is_set()]

    def wait_engine_idle(self, jobs: Iterable[Job], timeout: float) -> bool:
        """Wait until none of ``jobs`` uses the engine any more; True if that happened in time."""
        deadline = time.monotonic() + timeout
        return all(j.engine_done.wait(max(0.0, deadline - time.monotonic())) for j in jobs)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every job has finished; True if it did in time."""
        deadline = time.monotonic() + timeout
        return all(j.finished.wait(max(0.0, deadline - time.monotonic())) for j in self.running())


def _covers(reason: StopReason, job: Job) -> bool:
    policy = POLICIES[job.kind]
    if reason == StopReason.USER:
        return policy.user_stop
    if reason == StopReason.STOP_ALL:
        return policy.stop_all
    if reason == StopReason.USER_SPOKE:  # the listener that heard the user keeps listening
        return policy.stop_all and job.kind != JobKind.LISTEN
    if reason in (StopReason.ENGINE_SWITCH, StopReason.UNLOAD):
        return policy.uses_engine
    if reason == StopReason.SHUTDOWN:
        return True
    raise ValueError(f"a stop for {reason} names the job it stops (job=...)")
