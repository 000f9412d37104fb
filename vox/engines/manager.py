"""The one lazily loaded current engine, and whose turn it is to use it.

``get()`` loads the engine on first use, once, behind a lock, so concurrent first requests share one load.
``switch(name, quiesce)`` loads another engine while the current one keeps speaking; only once the new one is
ready does it call ``quiesce`` (the Runtime stops every job that uses the engine and waits until none does),
swap, and unload the old one. A failed load leaves the previous engine current. ``unload(quiesce)`` frees the
engine; the next request loads the same engine again, not the configured default.

Engines synthesise one chunk at a time, or as many at once as the engine's ``concurrency`` says (one per
replica for an engine served by replicas): ``turn(job, priority)`` waits for a free turn (giving up at once if the
job is cancelled while it waits) and serves conversation before long-form renders, so a render continues at
the next chunk boundary after a reply has taken its turn. A render may hold its turn *preemptibly* (``preempt``:
a Cancel it also gives the engine): a conversational reply that then asks for the engine sets it, the engine's
run ends within milliseconds, and the render says that chunk again after the reply's turn. Without this a reply
waited for the rest of the render's chunk (a sentence: 0.2-2 s of CPU), several times its own first audio.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from enum import IntEnum

from vox.config import Config
from vox.engines.base import Engine, EngineUnavailable, Voice
from vox.engines.memory import trim_heap
from vox.engines.registry import create_engine, engine_class
from vox.jobs.cancel import Cancel
from vox.jobs.controller import Job

log = logging.getLogger("vox.engines")

POLL = 0.02
"""Seconds between cancel checks while a job waits for its turn."""


class Priority(IntEnum):
    CONVERSATION = 0
    RENDER = 1


class TurnLock:
    """Up to ``slots`` holders at once (an engine's ``concurrency``: 1 in-process, one per replica), served
    lowest priority number first, in arrival order within a priority. A holder that passed ``preempt`` is asked
    to let go (it is set) while a more urgent priority waits and every slot is taken."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holders: dict[int, tuple[int, Cancel | None]] = {}
        """ticket number -> (priority, preempt signal) of each turn being held."""
        self._waiting: list[tuple[int, int]] = []
        self._tickets = 0

    @property
    def busy(self) -> bool:
        return bool(self._holders)

    @property
    def holders(self) -> int:
        return len(self._holders)

    @property
    def waiting(self) -> int:
        """Turns asked for and not given yet (chunks waiting for a free engine or replica)."""
        with self._cond:
            return len(self._waiting)

    def acquire(self, priority: int, give_up: Callable[[], bool], slots: int = 1,
                preempt: Cancel | None = None) -> int | None:  # fmt: skip
        """Wait for one of ``slots`` turns: its ticket, to give to ``release``; None (without a turn) once
        ``give_up()`` is true."""
        with self._cond:
            self._tickets += 1
            ticket = (priority, self._tickets)
            self._waiting.append(ticket)
            try:
                while len(self._holders) >= slots or min(self._waiting) != ticket:
                    if len(self._holders) >= slots:
                        self._preempt_for(priority)
                    if give_up():
                        return None
                    self._cond.wait(POLL)
                self._holders[ticket[1]] = (priority, preempt)
                return ticket[1]
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()

    def _preempt_for(self, priority: int) -> None:
        """Ask the least urgent holder that may be preempted, and is less urgent than ``priority``, to let go."""
        takeable = [(p, c) for p, c in self._holders.values() if c is not None and priority < p]
        if takeable:
            max(takeable, key=lambda held: held[0])[1].set()

    def release(self, ticket: int) -> None:
        with self._cond:
            self._holders.pop(ticket, None)
            self._cond.notify_all()


class EngineManager:
    """Holds the current engine and its load state; the only place engines are loaded or unloaded."""

    def __init__(self, config: Config, voices_for_warmup: Callable[[], list[Voice]] = list) -> None:
        self.config = config
        self.wanted = config.engine.name
        """The engine the next request loads when none is loaded: the configured one, or the last one used."""
        self.current: Engine | None = None
        self.turns = TurnLock()
        self._load_lock = threading.Lock()
        self._voices_for_warmup = voices_for_warmup
        self.state = "unloaded"
        self.loading_name: str | None = None
        self.progress = 0.0
        self.message = ""
        self.error = ""
        self.loads = 0
        """How many engine loads have run; lets tests prove concurrent first requests load once."""

    @property
    def active_name(self) -> str:
        """The engine that will speak the next request (loaded or not yet)."""
        return self.current.name if self.current is not None else self.wanted

    def capabilities(self, name: str | None = None):
        return engine_class(name or self.active_name).capabilities

    def _progress(self, fraction: float, message: str) -> None:
        self.progress, self.message = fraction, message

    def get(self) -> Engine:
        """The current engine, loading the wanted one on first use."""
        engine = self.current
        if engine is not None and engine.loaded:
            return engine
        with self._load_lock:
            if self.current is not None and self.current.loaded:
                return self.current
            engine = self._load(self.wanted)
            self.current = engine
            return engine

    @contextlib.contextmanager
    def turn(self, job: Job, priority: Priority = Priority.CONVERSATION,
             preempt: Cancel | None = None) -> Iterator[Engine | None]:  # fmt: skip
        """The engine for one chunk of ``job``; None if the job was cancelled while it waited. With ``preempt``
        the turn may be taken: a more urgent job that waits sets it (see the module docstring)."""
        engine = self.get()
        ticket = self.turns.acquire(priority, lambda: job.cancelled, engine.concurrency, preempt)
        if ticket is None:
            yield None
            return
        try:
            yield None if job.cancelled else engine
        finally:
            self.turns.release(ticket)

    def switch(self, name: str, quiesce: Callable[[], None]) -> Engine:
        """Load ``name`` and make it current; on failure the previous engine stays current."""
        engine_class(name)
        with self._load_lock:
            previous = self.current
            if previous is not None and previous.name == name and previous.loaded:
                self.state, self.error = "ready", ""  # what was asked for is ready: an older failure is moot
                self._progress(1.0, f"{previous.capabilities.title} is ready")
                return previous
            engine = self._load(name)
            if previous is not None:
                quiesce()
                self._unload(previous)
            self.current, self.wanted = engine, name
            return engine

    def unload(self, quiesce: Callable[[], None]) -> bool:
        """Free the current engine's memory; the next request loads the same engine again."""
        with self._load_lock:
            engine = self.current
            if engine is None:
                return False
            quiesce()
            self.current, self.wanted = None, engine.name
            self._unload(engine)
            trim_heap()
            self.state, self.message, self.error = "unloaded", f"{engine.capabilities.title} was unloaded", ""
            return True

    def _unload(self, engine: Engine) -> None:
        """Called with every job off the engine; waits until no turn is held, so no chunk is mid-synthesis."""
        ticket = self.turns.acquire(Priority.CONVERSATION, lambda: False, slots=1)
        try:
            engine.unload()
        finally:
            if ticket is not None:
                self.turns.release(ticket)
        gc.collect()

    def _load(self, name: str) -> Engine:
        """Build and load ``name`` (the load lock is held); keeps the state the page shows up to date."""
        previous = self.current
        title = engine_class(name).capabilities.title
        self.state, self.loading_name = "loading", name
        self._progress(0.0, f"Loading {title}…")
        started = time.monotonic()
        try:
            engine = self._build(name)
            engine.load(self._progress)
        except Exception as e:
            self.state = "ready" if previous is not None and previous.loaded else "error"
            self.error = str(e) if isinstance(e, EngineUnavailable) else f"{title} could not be loaded: {e}"
            self.loading_name = None
            log.warning("loading engine %s failed: %s", name, e)
            if isinstance(e, EngineUnavailable):
                raise
            raise EngineUnavailable(self.error) from e
        self.loads += 1
        self.state, self.loading_name, self.error = "ready", None, ""
        self._progress(1.0, f"{title} is ready ({time.monotonic() - started:.1f} s)")
        voices = [v for v in self._voices_for_warmup() if name in v.engines and v.path is not None]
        if voices:
            threading.Thread(target=engine.warm_voices, args=(voices,), name="vox-warm-voices", daemon=True).start()
        return engine

    def _build(self, name: str) -> Engine:
        """The engine in this process, or with ``[serve] replicas`` the same engine served by replicas on Ray
        (vox/engines/remote.py: Ray is imported only then)."""
        if self.config.serve.replicas > 0:
            try:
                from vox.engines.remote import RemoteEngine
            except ImportError as e:
                raise EngineUnavailable(
                    "Engine replicas ([serve] replicas) need Ray Serve, which is not installed. Run `make serve` (or "
                    "`.venv/bin/pip install -r requirements-serve.txt`) and start Vox again, or set [serve] replicas "
                    "= 0."
                ) from e
            return RemoteEngine(name, self.config)
        return create_engine(name, self.config)

    def status(self) -> dict:
        engine = self.current
        return {
            "engine": self.loading_name or (engine.name if engine else self.wanted),
            "state": self.state,
            "loaded": bool(engine and engine.loaded),
            "progress": round(self.progress, 3),
            "message": self.message,
            "error": self.error,
            "sample_rate": engine.sample_rate if engine else None,
            "device": engine.device if engine else None,
        }
