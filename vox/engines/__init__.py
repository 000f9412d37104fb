"""Engine registry and the one lazily loaded current engine.

``EngineManager.get()`` loads the configured engine on first use, once, behind a lock, so concurrent first
requests share one load. ``switch(name)`` loads another engine and makes it current only if that worked:
a failed load leaves the previous engine speaking.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable

from vox.config import Config
from vox.engines.base import Engine, EngineUnavailable, Voice
from vox.memory import trim_heap

log = logging.getLogger("vox.engines")

ENGINE_NAMES = ("piper", "turbo", "multilingual")

__all__ = [
    "ENGINE_NAMES", "Engine", "EngineManager", "EngineUnavailable", "Voice", "create_engine", "opens_with_clause"
]


def opens_with_clause(name: str) -> bool:
    """Whether a reply spoken by engine ``name`` may open with a clause as short as "Sure,". Piper says it
    cleanly and starts talking 3-10x sooner; Chatterbox babbles on very short prompts
    (resemble-ai/chatterbox#97) and starts early anyway by streaming token slices."""
    return name == "piper"


def create_engine(name: str, config: Config) -> Engine:
    """Build (not load) the engine called ``name``; cheap, imports nothing heavy."""
    if name == "piper":
        from vox.engines.piper import PiperEngine

        return PiperEngine()
    if name in ("turbo", "multilingual"):
        from vox.engines import chatterbox

        cls = chatterbox.ChatterboxTurboEngine if name == "turbo" else chatterbox.ChatterboxMultilingualEngine
        ckpt = config.engine.turbo_checkpoint if name == "turbo" else config.engine.multilingual_checkpoint
        return cls(
            checkpoint_dir=ckpt or None,
            device=config.engine.device,
            cache_dir=config.voices_dir / ".cache",
            max_chars=config.chunking.max_chars,
        )
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")


class EngineManager:
    """Holds the current engine and its load state; the only place engines are loaded or unloaded."""

    def __init__(self, config: Config, voices_for_warmup: Callable[[], list[Voice]] = list) -> None:
        self.config = config
        self.default_name = config.engine.name
        self.current: Engine | None = None
        self.synth_lock = threading.Lock()
        """One synthesis at a time: a replaced reply finishes its sentence before the next one starts."""
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
        return self.current.name if self.current is not None else self.default_name

    def _progress(self, fraction: float, message: str) -> None:
        self.progress, self.message = fraction, message

    def get(self) -> Engine:
        """The current engine, loading the configured default on first use."""
        engine = self.current
        if engine is not None and engine.loaded:
            return engine
        with self._load_lock:
            if self.current is not None and self.current.loaded:
                return self.current
            name = self.current.name if self.current is not None else self.default_name
            return self._load_locked(name)

    def switch(self, name: str) -> Engine:
        """Load ``name`` and make it current; on failure the previous engine stays current."""
        if name not in ENGINE_NAMES:
            raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
        with self._load_lock:
            if self.current is not None and self.current.name == name and self.current.loaded:
                return self.current
            return self._load_locked(name)

    def _load_locked(self, name: str) -> Engine:
        previous = self.current
        self.state, self.loading_name, self.error = "loading", name, ""
        self._progress(0.0, f"loading {name}")
        started = time.monotonic()
        try:
            engine = create_engine(name, self.config)
            engine.load(self._progress)
        except Exception as e:
            self.state = "ready" if previous is not None and previous.loaded else "error"
            self.error = str(e)
            self.loading_name = None
            log.warning("loading engine %s failed: %s", name, e)
            if isinstance(e, EngineUnavailable):
                raise
            raise EngineUnavailable(f"Loading the {name} engine failed: {e}") from e
        self.loads += 1
        if previous is not None and previous is not engine:
            with self.synth_lock:
                previous.unload()
            gc.collect()
        self.current, self.state, self.loading_name = engine, "ready", None
        self._progress(1.0, f"{name} ready in {time.monotonic() - started:.1f} s")
        warm = getattr(engine, "warm_voices", None)
        if warm is not None:
            voices = [v for v in self._voices_for_warmup() if name in v.engines and v.path is not None]
            threading.Thread(target=warm, args=(voices,), name="vox-warm-voices", daemon=True).start()
        return engine

    def unload(self) -> bool:
        """Free the current engine's memory; the next request loads the default again lazily."""
        with self._load_lock:
            engine, self.current = self.current, None
            if engine is None:
                return False
            with self.synth_lock:
                engine.unload()
            gc.collect()
            trim_heap()
            self.state, self.message = "unloaded", f"{engine.name} unloaded"
            return True

    def status(self) -> dict:
        engine = self.current
        return {
            "engine": self.loading_name or (engine.name if engine else self.default_name),
            "state": self.state,
            "loaded": bool(engine and engine.loaded),
            "progress": round(self.progress, 3),
            "message": self.message,
            "error": self.error,
            "sample_rate": engine.sample_rate if engine else None,
            "device": getattr(engine, "device", "cpu") if engine else None,
        }
