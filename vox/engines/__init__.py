"""Speech engines: one contract (``base``), one table of engines (``registry``), and the manager that loads
the current one and hands out turns on it (``manager``)."""

from __future__ import annotations

from vox.engines.base import Capabilities, Engine, EngineUnavailable, SynthesisOptions, Voice
from vox.engines.manager import EngineManager, Priority
from vox.engines.registry import (
    ENGINE_NAMES,
    ENGINES,
    UnknownEngine,
    all_languages,
    create_engine,
    describe,
    engine_class,
)  # fmt: skip

__all__ = [
    "ENGINES", "ENGINE_NAMES", "Capabilities", "Engine", "EngineManager", "EngineUnavailable", "Priority",
    "SynthesisOptions", "UnknownEngine", "Voice", "all_languages", "create_engine", "describe", "engine_class",
]  # fmt: skip
