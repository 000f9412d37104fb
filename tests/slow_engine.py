"""Engine hooks for tests (``VOX_ENGINE_HOOK=module:function``, see vox/engines/registry.py); the engine's own
code is untouched:

- ``tests.slow_engine:slow``: every engine ``VOX_TEST_SLOWDOWN`` times slower than it is: after each piece of
  audio the engine computes, it waits (factor - 1) times the seconds that piece took, so a chunk takes
  ``factor`` times its measured compute time. It stands for a machine whose CPU is shared with other programs,
  without taking the CPU from the test's own processes (the wait sleeps; a stop ends it at once, as a stop ends
  a real run).
- ``tests.slow_engine:slow_load``: the real engine's load takes a few seconds, reporting progress as it goes,
  as a big engine does on a slow disk: so the page's loading display can be seen.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import numpy as np

from vox.engines.base import Engine
from vox.jobs.cancel import Cancel

STEPS = 8
STEP_S = 0.35
HOOK = "tests.slow_engine:slow"
FACTOR_ENV = "VOX_TEST_SLOWDOWN"


def slow_env(factor: float) -> dict[str, str]:
    """Environment for a server process whose engine runs ``factor`` times slower."""
    return {"VOX_ENGINE_HOOK": HOOK, FACTOR_ENV: str(factor)}


def _slowed(pieces: Iterator[np.ndarray], factor: float, cancel: Cancel, engine: Engine) -> Iterator[np.ndarray]:
    try:
        while True:
            started = time.perf_counter()
            try:
                piece = next(pieces)
            except StopIteration:
                return
            if cancel.wait((factor - 1.0) * (time.perf_counter() - started)) or engine.closing.is_set():
                return
            yield piece
    finally:
        pieces.close()


def slow(engine: Engine) -> Engine:
    """The hook: ``engine`` with its synthesis slowed by ``VOX_TEST_SLOWDOWN`` (default 3)."""
    factor = float(os.environ.get(FACTOR_ENV, "3"))
    synthesize = engine.synthesize

    def slowed(text, voice, options, cancel):
        return _slowed(synthesize(text, voice, options, cancel), factor, cancel, engine)

    engine.synthesize = slowed  # type: ignore[method-assign]
    return engine


def slow_load(engine):
    real_load = engine.load

    def load(progress=lambda fraction, message: None):
        for i in range(STEPS):
            progress(0.9 * i / STEPS, f"Reading the model, step {i + 1} of {STEPS}")
            time.sleep(STEP_S)
        real_load(progress)

    engine.load = load
    return engine
