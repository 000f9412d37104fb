"""Reading files in ``voices/`` without ever blocking: only regular files are opened.

Anyone can drop anything into the voices folder. A FIFO (or a symlink to one) blocks ``open`` until a writer
appears, a device file can be endless, and the library reads its folder while it holds its lock, so one
such file would hang every request that touches the voices. Here a file is checked with ``stat`` (which
never blocks on these), opened with ``O_NONBLOCK``, and checked again on the open descriptor, so a file
swapped for a FIFO in between is caught too. Anything else is skipped with one log line per file.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger("vox.voices")

MAX_SMALL_FILE = 64 * 1024
"""A sidecar or a Piper voice's .onnx.json is read up to this many bytes (a real one is a few KB)."""

_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFDIR: "a folder"}  # fmt: skip
_reported: set[tuple[str, str]] = set()
_reported_lock = threading.Lock()


def _skip(path: Path, mode: int) -> None:
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    with _reported_lock:
        if (str(path), kind) in _reported:
            return
        _reported.add((str(path), kind))
    log.warning("%s is %s, not a regular file: skipped", path, kind)


def is_regular(path: Path) -> bool:
    """True for a regular file (or a symlink to one); False, with one log line, for anything else that
    exists (FIFOs, sockets, devices, folders, symlinks to those); False quietly when it does not exist."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if stat.S_ISREG(mode):
        return True
    if not stat.S_ISDIR(mode):
        _skip(path, mode)
    return False


def open_regular(path: Path) -> BinaryIO | None:
    """``path`` opened for reading if it is a regular file, else None; the open itself never blocks."""
    if not is_regular(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # swapped for something else since the stat
        os.close(fd)
        _skip(path, mode)
        return None
    return os.fdopen(fd, "rb")


def read_small(path: Path, limit: int = MAX_SMALL_FILE) -> bytes | None:
    """The first ``limit`` bytes of a regular file, or None."""
    f = open_regular(path)
    if f is None:
        return None
    with f:
        try:
            return f.read(limit)
        except OSError:
            return None
