"""The engine served by replicas on Ray Serve, behind the same contract as an engine in this process.

``load`` starts (or attaches to) Ray and deploys ``[serve] replicas`` replicas of the named engine
(vox/serve/); ``synthesize`` is one streaming call through a DeploymentHandle, whose pieces it yields as they
arrive; a stop cancels that call (``Cancel.on_set`` -> ``response.cancel()``), which cancels the synthesis in the
replica, so every stop path keeps its latency. ``concurrency`` is the number of replicas, so the EngineManager
lets that many chunks be synthesised at once; Serve's router spreads them over the replicas, preferring one
that has the request's voice warm.

Failover: when the replica working on a chunk dies (Ray restarts it), the chunk is sent again and another
replica takes it, if none of its audio was delivered yet; once some was (an engine that streams inside a
chunk), the reply ends with a plain error instead of repeating or skipping speech. A replica that sends nothing
for ``request_timeout_s`` is given up the same way, so nothing waits forever.

This module imports Ray; Vox imports it only when ``[serve] replicas`` is above 0.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import numpy as np
from ray import exceptions as ray_errors
from ray.serve.exceptions import BackPressureError, RequestCancelledError

from vox.config import Config
from vox.engines.base import Engine, Progress, SynthesisOptions, Voice, no_progress
from vox.engines.registry import engine_class
from vox.errors import EngineUnavailable, ReplicaFailed, TooManyJobs, VoxError
from vox.jobs.cancel import Cancel
from vox.serve import cluster
from vox.serve.stats import ServeStats

log = logging.getLogger("vox.serve")

FAILED = "The engine replicas could not speak this sentence. Try again; the server's log says what went wrong."
_REPLICA_GONE = (ray_errors.RayActorError,)
"""The replica's process died or cannot be reached (ActorDiedError, ActorUnavailableError)."""


class _Watchdog:
    """Cancels a call that sends nothing for ``timeout`` seconds."""

    def __init__(self, timeout: float, call) -> None:
        self.timeout, self.call, self.fired = timeout, call, False
        self._timer: threading.Timer | None = None
        self.reset()

    def _fire(self) -> None:
        self.fired = True
        self.call.cancel()

    def reset(self) -> None:
        self.stop()
        self._timer = threading.Timer(self.timeout, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class RemoteEngine(Engine):
    def __init__(self, name: str, config: Config) -> None:
        super().__init__()
        local = engine_class(name)
        self.name = name  # type: ignore[misc]  # the engine it serves, so the rest of Vox sees that engine
        self.capabilities = local.capabilities  # type: ignore[misc]
        self.sample_rate = 0
        """Set by ``load``: what the replicas' engine produces."""
        self.config = config
        self.replicas = config.serve.replicas
        self.stats = ServeStats()
        self._handle = None
        self._connected = False
        self.device = f"{self.replicas} replicas"

    @property
    def concurrency(self) -> int:
        return self.replicas

    @property
    def loaded(self) -> bool:
        return self._handle is not None

    def check_options(self, options: SynthesisOptions) -> None:  # type: ignore[override]
        engine_class(self.name).check_options(options)

    def load(self, progress: Progress = no_progress) -> None:
        cfg = self.config.serve
        where = f"the Ray cluster at {cfg.ray_address}" if cfg.ray_address else "a local Ray instance"
        progress(0.05, f"Starting {where} for {self.replicas} replicas of {self.capabilities.title}")
        cluster.connect(cfg, self.replicas * cfg.cpus_per_replica)
        self._connected = True
        try:
            handle, runs_on = cluster.deploy(self.name, self.config, progress)
        except BaseException:
            self._disconnect()
            raise
        try:
            info = handle.info.remote().result(timeout_s=cfg.request_timeout_s)
        except Exception as e:
            log.warning("the replicas of %s did not answer: %r", self.name, e)
            cluster.undeploy(self.name)
            self._disconnect()
            raise EngineUnavailable(f"The engine replicas started but did not answer within {cfg.request_timeout_s:.0f}"
                                    " s. Load the engine again; the server's log says more.") from e
        self.sample_rate = int(info["sample_rate"])
        self.device = f"{self.replicas} replicas, {runs_on}"
        self._handle = handle
        progress(1.0, f"{self.replicas} replicas of {self.capabilities.title} are ready")

    def _disconnect(self) -> None:
        if self._connected:
            self._connected = False
            cluster.disconnect()

    def _release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            cluster.undeploy(self.name)
        self._disconnect()

    def serve_stats(self, waiting: int) -> dict:
        return self.stats.snapshot(cluster.replica_details(self.name), waiting, self.name, self.replicas)

    def synthesize(
        self, text: str, voice: Voice | None, options: SynthesisOptions, cancel: Cancel
    ) -> Iterator[np.ndarray]:
        self.check_options(options)
        return self._stream(text, voice, options, cancel)

    def _stream(self, text: str, voice: Voice | None, options: SynthesisOptions, cancel: Cancel
                ) -> Iterator[np.ndarray]:  # fmt: skip
        handle = self._handle
        if handle is None:
            raise ReplicaFailed("The engine replicas are not running. Load the engine again.")
        handle = handle.options(stream=True, multiplexed_model_id=voice.id if voice is not None else "")
        attempts = 0
        while True:
            attempts += 1
            delivered = 0
            replica: str | None = None
            finished = False
            call = handle.synthesize.remote(text, voice, options)
            self.stats.sent()
            removers = [cancel.on_set(call.cancel), self.closing.on_set(call.cancel)]
            watchdog = _Watchdog(self.config.serve.request_timeout_s, call)
            try:
                for item in call:
                    watchdog.reset()
                    if isinstance(item, dict):
                        if "replica" in item:
                            replica = item["replica"]
                            self.stats.taken(replica, item.get("pid"), str(item.get("device", "")))
                        elif item.get("done"):
                            finished = True
                            self.stats.ended(replica, item["audio_s"], item["compute_s"], served=True)
                        continue
                    delivered += 1
                    yield item
                return
            except (RequestCancelledError, ray_errors.TaskCancelledError) as e:
                if self.stopping(cancel):
                    return
                if watchdog.fired:
                    error = f"sent nothing for {self.config.serve.request_timeout_s:.0f} s"
                    self.stats.ended(replica, error=error)
                    finished = True
                    raise ReplicaFailed(
                        f"No engine replica answered within {self.config.serve.request_timeout_s:.0f} s, so the reply "
                        "stopped here. Speak it again; if this repeats, see the replicas' state in the statistics "
                        "panel."
                    ) from e
                self.stats.ended(replica, error="cancelled by Ray")
                finished = True
                raise ReplicaFailed(FAILED) from e
            except _REPLICA_GONE as e:
                self.stats.ended(replica, error="the replica's process died during a reply")
                finished = True
                if delivered or attempts > self.replicas or self.stopping(cancel):
                    raise ReplicaFailed(
                        "The engine replica speaking this reply stopped working in the middle of a sentence, so the "
                        "reply stopped here. Speak it again: another replica will take it."
                    ) from e
                self.stats.retry()
                log.warning("replica %s died during a chunk; sending the chunk to another replica", replica)
                continue
            except BackPressureError as e:
                self.stats.ended(replica)
                finished = True
                raise TooManyJobs("Every engine replica is busy. Try again in a moment.", retry_after=1) from e
            except ray_errors.RayTaskError as e:
                self.stats.ended(replica, error=str(e.cause) if e.cause else type(e).__name__)
                finished = True
                if isinstance(e.cause, VoxError):
                    raise e.cause from None
                log.warning("replica %s failed on a chunk: %s", replica, e)
                raise ReplicaFailed(FAILED) from e
            except Exception as e:
                if self.stopping(cancel):
                    return
                self.stats.ended(replica, error=type(e).__name__)
                finished = True
                log.warning("a call to the replicas failed: %r", e)
                raise ReplicaFailed(FAILED) from e
            finally:
                watchdog.stop()
                for remove in removers:
                    remove()
                if not finished:
                    call.cancel()
                    self.stats.ended(replica)
