"""Helpers shared by the benchmarks: statistics and row formatting."""

from __future__ import annotations

import statistics


def spread(values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    """'median (min-max, n=N)' in ``unit``."""
    v = sorted(x * scale for x in values)
    return f"{statistics.median(v):.0f} {unit} ({v[0]:.0f}-{v[-1]:.0f}, n={len(v)})"


def p95(values: list[float]) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(0.95 * (len(v) - 1)))]


def not_measured(id_: str, what: str, why: str, target: str = "") -> dict:
    """A row a benchmark could not measure here (a missing part): the runner reports it as a failure."""
    return {**row(id_, what, f"not measured: {why}", target, ok=False), "not_measured": why}


def row(id_: str, what: str, value: str, target: str, measure: float | None = None,
        limit: float | None = None, ok: bool | None = None) -> dict:
    """A table row; ``measure <= limit`` decides ``ok`` when both are given (lower is better)."""
    if ok is None and measure is not None and limit is not None:
        ok = measure <= limit
    return {"id": id_, "what": what, "value": value, "target": target, "ok": ok, "measure": measure, "limit": limit}
