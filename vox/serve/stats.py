"""What each replica did, counted where the calls are made (this Vox process), for ``GET /api/serve/stats``.

Every call's stream starts by naming the replica that took it and ends with what the synthesis cost, so Vox
knows per replica: calls in progress, requests served, audio seconds produced, compute seconds (real-time
factor = compute / audio; below 1 is faster than real time) and the last error. Serve's controller adds each
replica's state (STARTING, RUNNING, RECOVERING, ...) and where it runs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

KEEP_GONE = 4
"""Replicas that died and were replaced, still listed (with their figures and last error)."""


@dataclass
class ReplicaCounters:
    replica: str
    pid: int | None = None
    device: str = ""
    ongoing: int = 0
    served: int = 0
    audio_s: float = 0.0
    compute_s: float = 0.0
    errors: int = 0
    last_error: str = ""
    last_error_at: float | None = None


class ServeStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replicas: dict[str, ReplicaCounters] = {}
        self.routing = 0
        """Calls sent to Serve and not taken by a replica yet (its router is looking for a free one)."""
        self.retried = 0
        """Chunks sent again to another replica after theirs failed."""

    def _get(self, replica: str) -> ReplicaCounters:
        counters = self._replicas.get(replica)
        if counters is None:
            counters = self._replicas[replica] = ReplicaCounters(replica)
        return counters

    def sent(self) -> None:
        with self._lock:
            self.routing += 1

    def taken(self, replica: str, pid: int | None, device: str) -> None:
        with self._lock:
            self.routing -= 1
            counters = self._get(replica)
            counters.pid, counters.device = pid, device
            counters.ongoing += 1

    def ended(self, replica: str | None, audio_s: float = 0.0, compute_s: float = 0.0, served: bool = False,
              error: str = "") -> None:  # fmt: skip
        """A call is over: served (with what it produced and cost), cancelled, or failed with ``error``."""
        with self._lock:
            if replica is None:
                self.routing -= 1
                return
            counters = self._get(replica)
            counters.ongoing = max(0, counters.ongoing - 1)
            if served:
                counters.served += 1
                counters.audio_s += audio_s
                counters.compute_s += compute_s
            if error:
                counters.errors += 1
                counters.last_error, counters.last_error_at = error, time.time()

    def retry(self) -> None:
        with self._lock:
            self.retried += 1

    def snapshot(self, details: list[dict], waiting: int, engine: str, replicas: int) -> dict:
        """The JSON of ``/api/serve/stats``: ``details`` are Serve's replicas (state, pid, node); ``waiting``
        counts chunks waiting in Vox for a free replica."""
        with self._lock:
            known = {k: ReplicaCounters(**vars(v)) for k, v in self._replicas.items()}
            routing, retried = self.routing, self.retried
        rows = []
        for d in details:
            rid = str(d.get("replica_id", ""))
            c = known.pop(rid, None) or ReplicaCounters(rid)
            state = d.get("state", "")
            state = str(getattr(state, "value", state))  # an enum in Serve's details
            rows.append(_row(c, state, d.get("pid") or c.pid, str(d.get("node_ip") or "")))
        gone = sorted(known.values(), key=lambda c: c.last_error_at or 0)[-KEEP_GONE:]
        rows += [_row(c, "GONE", c.pid, "") for c in gone]  # replaced after dying: kept for their figures
        if len(known) > KEEP_GONE:
            with self._lock:
                for c in sorted(known.values(), key=lambda c: c.last_error_at or 0)[:-KEEP_GONE]:
                    self._replicas.pop(c.replica, None)
        audio = sum(r["audio_s"] for r in rows)
        compute = sum(r["compute_s"] for r in rows)
        return {
            "enabled": True,
            "engine": engine,
            "replicas": rows,
            "totals": {
                "replicas": replicas,
                "running": sum(1 for r in rows if r["state"] == "RUNNING"),
                "queue": waiting + max(0, routing),
                "ongoing": sum(r["ongoing"] for r in rows),
                "served": sum(r["served"] for r in rows),
                "audio_s": round(audio, 2),
                "compute_s": round(compute, 2),
                "rtf": round(compute / audio, 3) if audio else None,
                "errors": sum(r["errors"] for r in rows),
                "retried": retried,
            },
        }


def _row(c: ReplicaCounters, state: str, pid: int | None, node: str) -> dict:
    return {
        "id": c.replica, "state": state, "device": c.device, "node": node, "pid": pid,
        "queue": c.ongoing, "ongoing": c.ongoing, "served": c.served, "audio_s": round(c.audio_s, 2),
        "compute_s": round(c.compute_s, 2), "rtf": round(c.compute_s / c.audio_s, 3) if c.audio_s else None,
        "errors": c.errors, "last_error": c.last_error, "last_error_at": c.last_error_at,
    }  # fmt: skip


def disabled(engine: str | None = None, replicas: int = 0) -> dict:
    """The answer when Vox runs the engine in its own process (``[serve] replicas = 0``), or while the replicas
    of ``engine`` are not loaded."""
    return {"enabled": replicas > 0, "engine": engine, "replicas": [], "totals": {"replicas": replicas,
            "running": 0, "queue": 0, "ongoing": 0, "served": 0, "audio_s": 0.0, "compute_s": 0.0, "rtf": None,
            "errors": 0, "retried": 0}}  # fmt: skip

