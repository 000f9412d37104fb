"""``tests/.cache/``: what the tests build once and keep (Whisper weights, speech clips, random checkpoints).

The suite runs in several pytest-xdist workers, so two of them may want the same entry at once: ``locked(name)``
lets the first build it while the others wait, then find it built; files are written whole (``write_atomic``).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


@contextmanager
def locked(name: str) -> Iterator[Path]:
    """Hold ``tests/.cache/NAME.lock`` (across processes) and yield ``tests/.cache/NAME``."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield CACHE / name
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_atomic(path: Path, write) -> None:
    """``write(tmp_path)`` then rename onto ``path``: a reader in another worker never sees half a file."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")  # np.save keeps a .npy suffix
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
