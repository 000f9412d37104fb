"""Per-voice conditionals: the LRU-over-disk cache keyed by clip content, file hashing, and the checks a
reference clip must pass."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vox.engines.base import Voice
from vox.engines.chatterbox.constants import MIN_REFERENCE_SECONDS
from vox.errors import BadClip

log = logging.getLogger("vox.engines.chatterbox")  # one logger name for the whole package, as before


def reference_seconds(path: Path) -> float:
    """Duration of a reference clip, read from its header."""
    import soundfile

    try:
        return float(soundfile.info(str(path)).duration)
    except Exception as exc:  # soundfile raises its own error types, and RuntimeError
        raise BadClip(f"The reference clip {path.name} cannot be read as audio ({exc}). Replace it with a WAV, "
                      "FLAC or MP3 recording in the Voices panel.") from exc  # fmt: skip


def check_reference(voice: Voice, title: str) -> None:
    """A clip ``title`` can clone: there, readable, and longer than the model's minimum; else BadClip."""
    path = Path(voice.path)
    if not path.is_file():
        raise BadClip(
            f"The reference clip of the voice {voice.name} is gone from the voices folder. Upload it again in the "
            "Voices panel, or choose another voice.", voice=voice.id,
        )  # fmt: skip
    seconds = reference_seconds(path)
    if seconds <= MIN_REFERENCE_SECONDS:
        raise BadClip(
            f"{title} needs a reference clip longer than {MIN_REFERENCE_SECONDS:g} seconds; this one is "
            f"{seconds:.1f} s. Record or upload a longer clip for the voice {voice.name}.", voice=voice.id,
        )  # fmt: skip


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _ConditionalsCache:
    """Per-voice conditionals: a bounded LRU in memory over a content-addressed cache on disk.

    Keyed by the sha256 of the clip's bytes, so an edited clip misses (and its old entry is dropped) and
    two copies of one clip share an entry. Disk files live under a folder named after the engine and the
    checkpoint's fingerprint, since conditionals from one checkpoint do not fit another.
    """

    def __init__(self, folder: Path | None, capacity: int) -> None:
        self.folder = folder
        self.capacity = capacity
        self.memory: OrderedDict[str, Any] = OrderedDict()
        self.hashes: dict[str, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, sha256)
        self.voice_hash: dict[str, str] = {}  # voice id -> sha256 last seen
        self.hits = {"memory": 0, "disk": 0, "computed": 0}

    def digest(self, path: Path) -> str:
        stat = path.stat()
        known = self.hashes.get(str(path))
        if known and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        sha = file_sha256(path)
        self.hashes[str(path)] = (stat.st_mtime_ns, stat.st_size, sha)
        return sha

    def file(self, sha: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{sha}.pt"

    def get(self, voice: Voice, sha: str, load: Callable[[Path], Any]) -> Any | None:
        old = self.voice_hash.get(voice.id)
        if old is not None and old != sha:
            self.drop(old)
        self.voice_hash[voice.id] = sha
        if sha in self.memory:
            self.memory.move_to_end(sha)
            self.hits["memory"] += 1
            return self.memory[sha]
        disk = self.file(sha)
        if disk is not None and disk.exists():
            try:
                conds = load(disk)
            except Exception as exc:  # a truncated or foreign file: recompute it
                log.warning("ignoring unreadable conditionals %s: %s", disk, exc)
            else:
                self.hits["disk"] += 1
                self.remember(sha, conds)
                return conds
        return None

    def put(self, sha: str, conds: Any, save: Callable[[Path], None]) -> None:
        self.hits["computed"] += 1
        self.remember(sha, conds)
        disk = self.file(sha)
        if disk is None:
            return
        disk.parent.mkdir(parents=True, exist_ok=True)
        partial = disk.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            save(partial)
            os.replace(partial, disk)
        except OSError as exc:
            log.warning("could not cache conditionals in %s: %s", disk, exc)
            partial.unlink(missing_ok=True)

    def remember(self, sha: str, conds: Any) -> None:
        self.memory[sha] = conds
        self.memory.move_to_end(sha)
        while len(self.memory) > self.capacity:
            self.memory.popitem(last=False)

    def drop(self, sha: str) -> None:
        self.memory.pop(sha, None)
        disk = self.file(sha)
        if disk is not None:
            disk.unlink(missing_ok=True)

    def forget(self, voice: Voice) -> None:
        shas = {self.voice_hash.pop(voice.id, None)}
        if voice.path is not None:
            path = Path(voice.path)
            self.hashes.pop(str(path), None)
            if path.exists():
                shas.add(file_sha256(path))
        for sha in shas - {None}:
            self.drop(sha)
