"""The voice library in ``voices/``: Piper models (``.onnx`` + ``.onnx.json``) and reference clips (``.wav``)
that Chatterbox clones. The bundled Piper voice Joe is always there.

Files, and why they look like this:

- ``<id>.wav``: a clip, mono 16-bit PCM at 24000 Hz when uploaded (Chatterbox's output rate, so the clip is
  stored once at the rate the cloning engine works at). Clips dropped in by hand are used as they are.
- ``<id>.onnx`` + ``<id>.onnx.json``: a Piper voice dropped in by hand.
- ``<id>.voice.json``: ``{"name": ...}``, the display name. Optional: without it the name comes from the id.
- Anything that is not a regular file (a FIFO, a socket, a device, a symlink to one) is skipped with a log
  line and never opened (``vox/voices/files.py``): nothing the library does under its lock can block.
- ``.tmp-<pid>-*``: a file being written. Every write goes to such a file in the same folder, is fsynced and
  then moved into place, so a crash leaves either the old state or the new one, plus at worst a temp file
  that the next start removes (when the process that wrote it is gone).

New voices are published with ``os.link``, which refuses to replace an existing file: two uploads under one
id cannot overwrite each other, even from two processes. A lock serialises changes within the process so
that "is this id free?" and "take it" are one step across all voice kinds.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil
import soundfile

from vox.audio.pcm import wav_bytes
from vox.engines.base import Voice
from vox.engines.piper import SAMPLE_RATE as PIPER_RATE
from vox.engines.piper import bundled_model
from vox.errors import BuiltinVoice, StorageFailed, UnknownVoice, VoiceTaken
from vox.voices.clips import CLIP_RATE
from vox.voices.files import is_regular, open_regular, read_small
from vox.voices.names import ID_PATTERN, check_voice_id, default_name

log = logging.getLogger("vox.voices")

BUNDLED_ID = "joe"
CLONE_ENGINES = ("turbo", "multilingual")
TMP_PREFIX = ".tmp-"
SIDECAR_SUFFIX = ".voice.json"

VoiceHook = Callable[[Voice], None]

def _pid_alive(pid: int) -> bool:
    return pid != os.getpid() and psutil.pid_exists(pid)


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable; not every platform can open a folder, which is fine."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _suffix(path: Path) -> str:
    """The part of a voice file's name after its id."""
    name = path.name.lower()
    for suffix in (".onnx.json", ".onnx", ".wav"):
        if name.endswith(suffix):
            return suffix
    return path.suffix


def _piper_rate(config: Path) -> int:
    try:
        return int(json.loads(read_small(config) or b"")["audio"]["sample_rate"])
    except (ValueError, KeyError, TypeError):
        return PIPER_RATE


def _clip_info(path: Path) -> tuple[int, float] | None:
    f = open_regular(path)
    if f is None:
        return None
    with f:
        try:
            info = soundfile.info(f)
        except (RuntimeError, OSError, TypeError, ValueError):
            return None
    return info.samplerate, info.frames / float(info.samplerate or 1)


class VoiceLibrary:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self.remove_leftovers()

    # reading

    def list(self) -> list[Voice]:
        """Joe, then the library's voices by id; files that are not a complete voice are left out."""
        voices: list[Voice] = []
        joe = bundled_model()
        if joe is not None:
            rate = _piper_rate(Path(f"{joe}.json"))
            extra = {"kind": "piper", "files": (), "builtin": True}
            voices.append(Voice(BUNDLED_ID, "Joe (built in)", ("piper",), joe, rate, extra=extra))
        seen = {BUNDLED_ID}
        found: list[Voice] = []
        try:
            entries = sorted(self.root.iterdir())
        except FileNotFoundError:
            entries = []
        for path in entries:
            voice = None if path.name.startswith(".") else self._voice_at(path)
            if voice is not None and voice.id not in seen:
                seen.add(voice.id)
                found.append(voice)
        return voices + sorted(found, key=lambda v: v.id)

    def _voice_at(self, path: Path) -> Voice | None:
        suffix = _suffix(path)
        voice_id = path.name[: -len(suffix)].lower() if suffix in (".onnx", ".wav") else ""
        if not ID_PATTERN.fullmatch(voice_id):
            return None
        if suffix == ".onnx":
            config = path.with_name(f"{path.name}.json")
            if not (is_regular(path) and is_regular(config)):
                return None
            extra = {"kind": "piper", "files": (path, config), "builtin": False}
            return Voice(voice_id, self._name(voice_id), ("piper",), path, _piper_rate(config), extra=extra)
        info = _clip_info(path)
        if info is None:
            return None
        extra = {"kind": "clip", "files": (path,), "builtin": False}
        return Voice(voice_id, self._name(voice_id), CLONE_ENGINES, path, info[0], round(info[1], 2), extra=extra)

    def _name(self, voice_id: str) -> str:
        try:
            name = json.loads(read_small(self._sidecar(voice_id)) or b"")["name"]
            return name if isinstance(name, str) and name.strip() else default_name(voice_id)
        except (ValueError, KeyError, TypeError):
            return default_name(voice_id)

    def _sidecar(self, voice_id: str) -> Path:
        return self.root / f"{voice_id}{SIDECAR_SUFFIX}"

    def ids(self) -> list[str]:
        return [v.id for v in self.list()]

    def get(self, voice_id: str) -> Voice:
        voices = self.list()
        for v in voices:
            if v.id == voice_id:
                return v
        raise UnknownVoice(voice_id, [v.id for v in voices])

    def check_free(self, voice_id: str) -> None:
        """409 when ``voice_id`` is taken (by any kind of voice)."""
        if voice_id in self.ids():
            raise VoiceTaken(f"a voice with id {voice_id!r} already exists; choose another name or id", id=voice_id)

    # writing

    def add_clip(self, voice_id: str, name: str, pcm: np.ndarray) -> Voice:
        """Store a decoded clip (see ``decode_clip``) as a new voice; 409 if the id is taken."""
        check_voice_id(voice_id)
        try:
            tmp = self._write_temp(wav_bytes(pcm, CLIP_RATE), ".wav")
        except OSError as e:
            raise StorageFailed(f"could not save the clip in {self.root}: {e.strerror or e}") from None
        try:
            with self._lock:
                self.check_free(voice_id)
                try:
                    self._place(tmp, self.root / f"{voice_id}.wav")
                except FileExistsError:
                    raise VoiceTaken(f"a voice with id {voice_id!r} already exists", id=voice_id) from None
                self._write_sidecar(voice_id, name)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(self.root)
        log.info("voice %s added (%s)", voice_id, name)
        return self.get(voice_id)

    def rename(self, voice_id: str, new_id: str | None = None, name: str | None = None) -> Voice:
        """Change the display name and/or the id. A new id is linked in first (409 if taken) and the old
        names removed after, so a crash in between leaves two copies, never none. Engines need not be told:
        the clip's bytes are unchanged, and Chatterbox keys its conditionals by content."""
        with self._lock:
            voice = self._mutable(voice_id, "renamed")
            name = name if name is not None else voice.name
            if new_id is None or new_id == voice.id:
                self._write_sidecar(voice.id, name)
                return self.get(voice.id)
            check_voice_id(new_id)
            self.check_free(new_id)
            moves = [(src, self.root / f"{new_id}{_suffix(src)}") for src in voice.extra["files"]]
            if any(dst.exists() for _, dst in moves):
                raise VoiceTaken(f"files for id {new_id!r} already exist in the voices folder", id=new_id)
            placed: list[Path] = []
            try:
                for src, dst in moves:
                    self._place(src, dst)
                    placed.append(dst)
            except FileExistsError:
                for dst in placed:
                    dst.unlink(missing_ok=True)
                raise VoiceTaken(f"a voice with id {new_id!r} already exists", id=new_id) from None
            self._write_sidecar(new_id, name)
            for src, _ in moves:
                src.unlink(missing_ok=True)
            self._sidecar(voice.id).unlink(missing_ok=True)
            _fsync_dir(self.root)
            log.info("voice %s renamed to %s (%s)", voice.id, new_id, name)
            return self.get(new_id)

    def delete(self, voice_id: str, before_remove: VoiceHook | None = None) -> Voice:
        """Remove a voice's files: the model or clip first (so it stops being listed), the sidecar last."""
        with self._lock:
            voice = self._mutable(voice_id, "deleted")
            _call(before_remove, voice)
            for path in voice.extra["files"]:
                path.unlink(missing_ok=True)
            self._sidecar(voice.id).unlink(missing_ok=True)
            _fsync_dir(self.root)
            log.info("voice %s deleted", voice.id)
            return voice

    def _mutable(self, voice_id: str, verb: str) -> Voice:
        voice = self.get(voice_id)
        if voice.extra.get("builtin"):
            raise BuiltinVoice(f"{voice.name} is built into Vox and cannot be {verb}", id=voice.id)
        return voice

    def _write_temp(self, data: bytes, suffix: str) -> Path:
        """``data`` in a fsynced temp file in the library folder (same filesystem, so the move is atomic)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=suffix, dir=self.root)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            path.chmod(0o644)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def _place(self, src: Path, dst: Path) -> None:
        """Give ``src`` the name ``dst``, never replacing an existing ``dst`` (FileExistsError). A hard link
        is atomic and exclusive; where links are not supported, the library lock makes check-then-move safe
        within this process. The caller removes ``src`` afterwards."""
        try:
            os.link(src, dst)
        except FileExistsError:
            raise
        except OSError:
            if dst.exists():
                raise FileExistsError(dst) from None
            os.replace(src, dst)

    def _write_sidecar(self, voice_id: str, name: str) -> None:
        data = json.dumps({"name": name}, ensure_ascii=False).encode("utf-8")
        tmp = self._write_temp(data, ".json")
        try:
            os.replace(tmp, self._sidecar(voice_id))
        finally:
            tmp.unlink(missing_ok=True)

    def remove_leftovers(self) -> list[str]:
        """Remove temp files whose writer is gone (an upload interrupted by a crash or SIGKILL). Temp files
        of a live process are kept: a second Vox process may be mid-upload. Returns the removed names."""
        removed = []
        for path in self.root.glob(f"{TMP_PREFIX}*"):
            pid = path.name[len(TMP_PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and _pid_alive(int(pid)):
                continue
            try:
                path.unlink()
                removed.append(path.name)
            except (IsADirectoryError, PermissionError, FileNotFoundError):
                continue
        if removed:
            log.info("removed %d unfinished file(s) from %s: %s", len(removed), self.root, ", ".join(removed))
        return removed


def _call(hook: VoiceHook | None, voice: Voice) -> None:
    """Run a cache-invalidation hook; a failing hook must not leave the library half changed."""
    if hook is None:
        return
    try:
        hook(voice)
    except Exception:
        log.exception("voice hook failed for %s", voice.id)
