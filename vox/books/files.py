"""Writing a book's files so that a crash, a kill or a full disk never leaves half of one behind.

Every file is written beside its final name (a hidden ``.name.part-<random>``), flushed to the disk, and only
then renamed over the final name (``os.replace`` is atomic on one file system), and the folder is synced so the
rename itself survives a power cut. A reader therefore sees the old file or the new one, never a mix. Leftover
parts (the process died mid-write) are swept by ``sweep_parts``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vox.errors import StorageFailed

PART = ".part-"
"""What the name of a file still being written contains."""


def part_path(final: Path) -> Path:
    """Where ``final`` is written before it takes its name."""
    return final.with_name(f".{final.name}{PART}{secrets.token_hex(4)}")


def sync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: some file systems cannot sync a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def commit(part: Path, final: Path) -> None:
    """Move a finished part over its final name, durably."""
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, final)
    sync_dir(final.parent)


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """A path to write ``final`` at; it takes the final name only if the block ends without an error."""
    final.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(final)
    try:
        yield part
        commit(part, final)
    except OSError as e:
        raise StorageFailed(f"Vox could not write {final.name} in {final.parent}: {e.strerror or e}. Check the "
                            "free space and the folder's permissions.") from None  # fmt: skip
    finally:
        with contextlib.suppress(OSError):
            part.unlink()


def write_bytes(final: Path, data: bytes) -> None:
    with atomic_path(final) as part:
        part.write_bytes(data)


def write_json(final: Path, value: Any) -> None:
    write_bytes(final, json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8"))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def sweep_parts(folder: Path) -> int:
    """Delete what died mid-write under ``folder`` (its parts); returns how many."""
    swept = 0
    for path in folder.rglob(f".*{PART}*"):
        with contextlib.suppress(OSError):
            path.unlink()
            swept += 1
    return swept
