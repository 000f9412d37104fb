"""A test hook (``VOX_ENGINE_HOOK=tests.slow_engine:slow_load``) that makes the real engine's load take a few
seconds, reporting progress as it goes, as a big engine does on a slow disk: so the page's loading display can
be seen. The engine itself is untouched."""

from __future__ import annotations

import time

STEPS = 8
STEP_S = 0.35


def slow_load(engine):
    real_load = engine.load

    def load(progress=lambda fraction, message: None):
        for i in range(STEPS):
            progress(0.9 * i / STEPS, f"Reading the model, step {i + 1} of {STEPS}")
            time.sleep(STEP_S)
        real_load(progress)

    engine.load = load
    return engine
