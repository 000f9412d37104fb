"""Ray and Ray Serve as Vox uses them: a local Ray instance Vox starts (and stops), or an existing cluster.

Several engines may be deployed at once for a moment (an engine switch loads the new one before it unloads the
old), so the connection is shared and counted: the last engine to leave shuts down a Ray instance Vox started.
Serve's own HTTP proxy is never started (Vox calls the replicas through a DeploymentHandle), and a local Ray
instance binds to 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ray
from ray import serve

from vox.config import Config, Serve
from vox.engines.registry import HOOK_ENV
from vox.errors import EngineUnavailable

log = logging.getLogger("vox.serve")

_lock = threading.Lock()
_users = 0
_started_here = False
_ray_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vox-ray")
"""Ray is started and stopped on this one thread, which lives as long as Vox: Ray's processes die with the
thread that started them (PR_SET_PDEATHSIG), and a request's thread ends with its request."""


def _runtime_env() -> dict:
    """What every replica process needs from this one: the engine hook the tests use, when it is set."""
    env = {k: os.environ[k] for k in (HOOK_ENV,) if os.environ.get(k)}
    return {"env_vars": env} if env else {}


def connect(cfg: Serve, cpus_needed: float) -> None:
    """Start a local Ray instance (or attach to ``cfg.ray_address``) and Serve, once for all engines."""
    _ray_thread.submit(_connect, cfg, cpus_needed).result()


def disconnect() -> None:
    """One engine is done with Ray; the last one shuts down a Ray instance that Vox started."""
    _ray_thread.submit(_disconnect).result()


def _connect(cfg: Serve, cpus_needed: float) -> None:
    global _users, _started_here
    with _lock:
        if not ray.is_initialized():
            common = {"namespace": "vox", "log_to_driver": False, "configure_logging": False,
                      "runtime_env": _runtime_env()}  # fmt: skip
            if cfg.ray_address:
                try:
                    ray.init(address=cfg.ray_address, **common)
                except Exception as e:
                    raise EngineUnavailable(
                        f"Vox could not reach the Ray cluster at {cfg.ray_address} ({e}). Start it (ray start "
                        "--head on the head machine), or set [serve] ray_address to its address, or leave it empty "
                        "to run the replicas on this machine."
                    ) from e
                _started_here = False
            else:
                # Logical CPUs: the replicas' CPU shares must all fit, even where they add up to more than the cores,
                # twice over: an engine switch starts the new engine's replicas while the old ones finish.
                cpus = max(os.cpu_count() or 1, math.ceil(2 * cpus_needed))
                ray.init(num_cpus=cpus, include_dashboard=False, _node_ip_address="127.0.0.1", **common)
                _started_here = True
            serve.start(proxy_location="Disabled")
        _users += 1


def _disconnect() -> None:
    global _users
    with _lock:
        _users = max(0, _users - 1)
        if _users or not ray.is_initialized():
            return
        if _started_here:
            try:
                serve.shutdown()
            except Exception as e:  # Ray is going away anyway
                log.warning("stopping Ray Serve: %s", e)
        ray.shutdown()


def gpus_in_cluster() -> float:
    return float(ray.cluster_resources().get("GPU", 0))


def app_name(engine: str) -> str:
    return f"vox-{engine}"


def deploy(engine: str, config: Config, progress: Callable[[float, str], None]) -> tuple[Any, str]:
    """Deploy ``engine`` as ``config.serve.replicas`` replicas; returns its handle and what each replica runs on.

    One GPU per replica when the cluster has GPUs, otherwise a CPU share with as many synthesis threads.
    Waits until every replica runs (up to ``start_timeout_s``), reporting progress as they come up.
    """
    from vox.serve.replica import EngineReplica

    cfg = config.serve
    gpus = gpus_in_cluster()
    if gpus > 0:
        resources, threads, where = {"num_gpus": cfg.gpus_per_replica, "num_cpus": 1}, 0, "GPU"
    else:
        threads = max(1, math.ceil(cfg.cpus_per_replica))
        resources, where = {"num_cpus": cfg.cpus_per_replica}, f"CPU ({threads} thread{'s' * (threads > 1)})"
    deployment = serve.deployment(
        EngineReplica, name="engine", num_replicas=cfg.replicas, max_ongoing_requests=1,
        ray_actor_options=resources, graceful_shutdown_timeout_s=2, graceful_shutdown_wait_loop_s=0.5,
    )  # fmt: skip
    name = app_name(engine)
    started: dict[str, Any] = {}

    def run() -> None:
        try:
            started["handle"] = serve.run(deployment.bind(engine, config, threads), name=name, route_prefix=None)
        except Exception as e:
            started["error"] = e

    thread = threading.Thread(target=run, name="vox-serve-deploy", daemon=True)
    thread.start()
    deadline = time.monotonic() + cfg.start_timeout_s
    while thread.is_alive() and time.monotonic() < deadline:
        running = replica_states(engine).count("RUNNING")
        progress(0.2 + 0.7 * running / cfg.replicas, f"{running} of {cfg.replicas} replicas are running")
        thread.join(0.5)
    if thread.is_alive() or "error" in started:
        problem = started.get("error") or f"they were not all running after {cfg.start_timeout_s:.0f} s"
        try:
            serve.delete(name)
        except Exception:
            pass
        need = f"{cfg.gpus_per_replica:g} GPU" if gpus > 0 else f"{cfg.cpus_per_replica:g} CPU"
        raise EngineUnavailable(
            f"The {cfg.replicas} engine replicas could not start: {problem}. Each needs {need}; the cluster has "
            f"{ray.cluster_resources().get('CPU', 0):g} CPUs and {gpus:g} GPUs. Lower [serve] replicas, or add "
            "machines to the Ray cluster."
        )
    return started["handle"], where


def undeploy(engine: str) -> None:
    try:
        serve.delete(app_name(engine))
    except Exception as e:
        log.warning("removing the %s replicas: %s", engine, e)


def replica_details(engine: str) -> list[dict]:
    """Each replica of ``engine`` as Serve's controller sees it (id, state, pid, node); [] when unknown."""
    try:
        from ray.serve.context import _get_global_client

        details = _get_global_client().get_serve_details()
        deployment = details["applications"][app_name(engine)]["deployments"]["engine"]
        return list(deployment.get("replicas", []))
    except Exception:
        return []


def replica_states(engine: str) -> list[str]:
    return [str(r.get("state", "")) for r in replica_details(engine)]
