"""The sampling settings one reply is generated with: the request's, else config.toml's, else the model's."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace

from vox.engines.base import SynthesisOptions

SEED_LIMIT = 2**32
"""Seeds drawn for a request without one are below this, like the seeds a request may send."""


@dataclass(frozen=True)
class Sampling:
    """T3's sampling parameters, the voice's emotion strength, and the seed of the reply's generator."""

    temperature: float
    top_p: float
    repetition_penalty: float
    cfg_weight: float = 0.0
    exaggeration: float = 0.0
    seed: int | None = None


def resolve(model: Sampling, configured: Mapping[str, float | int], options: SynthesisOptions,
            honoured: frozenset[str]) -> Sampling:  # fmt: skip
    """``model``'s defaults overridden, for each option the engine honours, by config.toml's value and then by
    the request's. Without a seed, each call draws a fresh one (reported in the engine's stats)."""
    changes: dict[str, float | int] = {}
    for name in honoured:
        requested = getattr(options, name, None)
        value = requested if requested is not None else configured.get(name)
        if value is not None:
            changes[name] = value
    sampling = replace(model, **changes)
    if sampling.seed is None:
        sampling = replace(sampling, seed=secrets.randbelow(SEED_LIMIT))
    return sampling
