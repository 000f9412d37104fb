"""The engines Vox knows: one table from name to class, and the one place engines are constructed.

Engine modules import nothing heavy at import time (torch and chatterbox load in ``load()``), so the table
can hold the classes themselves and the page can be told every engine's capabilities at once.

Tests and experiments can adjust every engine as it is built: ``VOX_ENGINE_HOOK=module:function`` names a
function that receives the new engine and returns it (the tests use it to shrink Chatterbox to their small
random checkpoint). Production code carries no test switches.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from vox.config import Config
from vox.engines.base import Engine
from vox.engines.chatterbox import ChatterboxMultilingualEngine, ChatterboxTurboEngine
from vox.engines.piper import PiperEngine

ENGINES: dict[str, type[Engine]] = {
    "piper": PiperEngine,
    "turbo": ChatterboxTurboEngine,
    "multilingual": ChatterboxMultilingualEngine,
}
ENGINE_NAMES = tuple(ENGINES)
HOOK_ENV = "VOX_ENGINE_HOOK"


class UnknownEngine(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"There is no engine called {name!r}. Choose one of: {', '.join(ENGINE_NAMES)}.")


def all_languages() -> tuple[str, ...]:
    """Every language some engine speaks (a request's ``lang`` must be one of them)."""
    return tuple(sorted({lang for cls in ENGINES.values() for lang in cls.capabilities.languages}))


def engine_class(name: str) -> type[Engine]:
    try:
        return ENGINES[name]
    except KeyError:
        raise UnknownEngine(name) from None


def create_engine(name: str, config: Config) -> Engine:
    """Build (not load) the engine called ``name`` in this process; cheap, imports nothing heavy. (With
    ``[serve] replicas`` the EngineManager builds vox/engines/remote.py instead, and each replica builds its
    engine here.)"""
    engine = engine_class(name).from_config(config)
    hook = os.environ.get(HOOK_ENV)
    if hook:
        module, _, function = hook.partition(":")
        engine = getattr(importlib.import_module(module), function)(engine)
    return engine


def describe(config: Config) -> list[dict[str, Any]]:
    """Every engine with its capabilities and whether it can run here (installed, weights present), cheaply:
    nothing is imported or loaded."""
    out = []
    for name, cls in ENGINES.items():
        caps = cls.capabilities
        problem = cls.unavailable_reason(config)
        out.append({
            "name": name,
            "title": caps.title,
            "badge": caps.badge,
            "available": not problem,
            "reason": problem,
            "voice_kinds": list(caps.voice_kinds),
            "options": sorted(caps.options),
            "languages": list(caps.languages),
            "speed": caps.speed,
            "gpu": caps.gpu,
            "paralinguistic_tags": caps.paralinguistic_tags,
        })  # fmt: skip
    return out
