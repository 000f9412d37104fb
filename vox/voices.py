"""The voice library in ``voices/``: Piper models (``.onnx`` + ``.onnx.json``) and reference clips (``.wav``)
that Chatterbox clones. The bundled Piper voice Joe is always there.

Files, and why they look like this:

- ``<id>.wav``: a clip, mono 16-bit PCM at 24000 Hz when uploaded (Chatterbox's output rate, so the clip is
  stored once at the rate the cloning engine works at). Clips dropped in by hand are used as they are.
- ``<id>.onnx`` + ``<id>.onnx.json``: a Piper voice dropped in by hand.
- ``<id>.voice.json``: ``{"name": ...}``, the display name. Optional: without it the name comes from the id.
- ``.tmp-<pid>-*``: a file being written. Every write goes to such a file in the same folder, is fsynced and
  then moved into place, so a crash leaves either the old state or the new one, plus at worst a temp file
  that the next start removes (when the process that wrote it is gone).

New voices are published with ``os.link``, which refuses to replace an existing file: two uploads under one
id cannot overwrite each other, even from two processes. A lock serialises changes within the process so
that "is this id free?" and "take it" are one step across all voice kinds.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil
import soundfile

from vox.audio import wav_bytes
from vox.engines.base import Voice
from vox.engines.piper import SAMPLE_RATE as PIPER_RATE
from vox.engines.piper import bundled_model
from vox.validate import ApiError

log = logging.getLogger("vox.voices")

BUNDLED_ID = "joe"
CLONE_ENGINES = ("turbo", "multilingual")
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
RESERVED_IDS = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})
"""Names Windows cannot use as file names."""
MAX_NAME_CHARS = 80
CLIP_RATE = 24000
"""Uploaded clips are stored at Chatterbox's sample rate."""
MIN_CLIP_SECONDS = 5.0
"""Chatterbox Turbo refuses reference clips of 5 s or less."""
MAX_CLIP_SECONDS = 60.0
"""Cloning uses the first seconds only; a longer clip is almost always the wrong file."""
MIN_SOURCE_RATE = 8000
TMP_PREFIX = ".tmp-"
SIDECAR_SUFFIX = ".voice.json"
READABLE = "wav, flac, ogg, mp3"

VoiceHook = Callable[[Voice], None]


class UnknownVoice(LookupError):
    def __init__(self, voice_id: str, valid: list[str]) -> None:
        super().__init__(f"unknown voice {voice_id!r}; valid voices: {', '.join(valid)}")
        self.voice_id, self.valid = voice_id, valid


# --- ids and names ------------------------------------------------------------------------------------------


def check_voice_id(voice_id: str) -> str:
    """An id as given, or a 400: ids become file names, so only a small safe alphabet is accepted."""
    if isinstance(voice_id, str) and voice_id in RESERVED_IDS:
        raise ApiError(400, f"{voice_id!r} is a reserved file name on Windows; choose another id")
    if not isinstance(voice_id, str) or not ID_PATTERN.fullmatch(voice_id):
        raise ApiError(
            400,
            f"{voice_id!r} is not a valid voice id: use 1 to 64 of a-z, 0-9, '-' and '_', "
            "starting with a letter or digit",
        )
    return voice_id


def check_display_name(name: str) -> str:
    """A display name, trimmed; control and bidi-formatting characters are refused so a name cannot
    reorder or hide text in the UI."""
    if not isinstance(name, str):
        raise ApiError(400, f"'name' must be a string, not {type(name).__name__}")
    name = name.strip()
    if not name:
        raise ApiError(400, "the voice name is empty")
    if len(name) > MAX_NAME_CHARS:
        raise ApiError(400, f"the voice name is {len(name)} characters; the limit is {MAX_NAME_CHARS}")
    odd = [c for c in name if unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp")]
    if odd:
        raise ApiError(400, f"the voice name contains invisible or control characters ({''.join(odd)!a})")
    return name


def voice_id_from_name(name: str) -> str:
    """The id a display name gives: "Grandpa Jürgen" -> "grandpa-jurgen".

    Anything that looks like a path or an encoding trick is refused rather than cleaned up, so that what
    is stored is never a surprise: separators, "..", "%", look-alike characters (full-width letters,
    ligatures) and names with no ASCII letters or digits answer 400 and ask for an explicit id."""
    name = check_display_name(name)
    if any(c in name for c in "/\\%:") or ".." in name or name.startswith("."):
        raise ApiError(400, f"the voice name {name!r} looks like a path; use letters, digits, spaces, - and _")
    if unicodedata.normalize("NFKC", name) != unicodedata.normalize("NFC", name):
        raise ApiError(
            400,
            f"the voice name {name!a} uses look-alike characters (full-width letters, ligatures, "
            "superscripts); use plain letters, or send an 'id'",
        )
    folded = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).lower()
    if not folded.isascii():
        raise ApiError(400, f"cannot make a file name from {name!r}; send an 'id' (a-z, 0-9, - and _)")
    slug = re.sub(r"[^a-z0-9_]+", "-", folded).strip("-_")[:64].strip("-_")
    if not slug:
        raise ApiError(400, f"cannot make a file name from {name!r}; send an 'id' (a-z, 0-9, - and _)")
    return check_voice_id(slug)


def default_name(voice_id: str) -> str:
    return voice_id.replace("_", " ").replace("-", " ").strip().title() or voice_id


# --- decoding uploads ---------------------------------------------------------------------------------------


def _check_riff(data: bytes) -> None:
    """libsndfile quietly plays what is left of a cut-off WAV; here a data chunk that promises more bytes
    than the file holds is called what it is (0xFFFFFFFF is the streaming writers' "unknown")."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = data[offset : offset + 4], int.from_bytes(data[offset + 4 : offset + 8], "little")
        if chunk == b"data":
            available = len(data) - offset - 8
            if size != 0xFFFFFFFF and size > available:
                raise ApiError(
                    400,
                    f"the WAV file is truncated: its header promises {size} bytes of audio "
                    f"but only {available} are there",
                )
            return
        offset += 8 + size + (size & 1)


def _resample(pcm: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited (FFT) resampling: a reference clip should not carry aliasing into the cloned voice,
    which the linear interpolation used for playback would add when going down from 44.1/48 kHz."""
    if src_rate == dst_rate or pcm.size == 0:
        return pcm.astype(np.float32, copy=False)
    n = max(1, round(pcm.size * dst_rate / src_rate))
    spectrum = np.fft.rfft(pcm.astype(np.float64))
    out = np.zeros(n // 2 + 1, dtype=np.complex128)
    keep = min(out.size, spectrum.size)
    out[:keep] = spectrum[:keep]
    return (np.fft.irfft(out, n) * (n / pcm.size)).astype(np.float32)


def decode_clip(data: bytes) -> tuple[np.ndarray, float]:
    """An uploaded file as float32 mono PCM at ``CLIP_RATE`` and its length in seconds; or a 400 that says
    what is wrong (not audio, empty, truncated, too short to clone, too long, silent)."""
    if not data:
        raise ApiError(400, "the file is empty (0 bytes)")
    _check_riff(data)
    try:
        f = soundfile.SoundFile(io.BytesIO(data))
    except (RuntimeError, ValueError, TypeError, OSError, EOFError):
        raise ApiError(400, f"the file is not audio Vox can read ({READABLE})") from None
    with f:
        rate, declared = f.samplerate, max(f.frames, 0)
        if rate < MIN_SOURCE_RATE:
            raise ApiError(400, f"the clip's sample rate is {rate} Hz; a voice clip needs {MIN_SOURCE_RATE} Hz or more")
        if declared > (MAX_CLIP_SECONDS + 1) * rate:
            raise ApiError(400, _too_long(declared / rate))
        try:
            pcm = f.read(frames=int((MAX_CLIP_SECONDS + 1) * rate), dtype="float32", always_2d=True)
        except (RuntimeError, ValueError, OSError, EOFError) as e:
            raise ApiError(400, f"the file is truncated or damaged: {e}") from None
    frames = pcm.shape[0]
    if declared and frames < declared - max(0.02 * declared, 0.05 * rate):
        raise ApiError(
            400,
            f"the file is truncated: its header promises {declared / rate:.1f} s but only "
            f"{frames / rate:.1f} s of audio is there",
        )
    if frames == 0:
        raise ApiError(400, "the file contains no audio (it is empty or truncated)")
    seconds = frames / rate
    if seconds > MAX_CLIP_SECONDS:
        raise ApiError(400, _too_long(seconds))
    if seconds <= MIN_CLIP_SECONDS:
        raise ApiError(
            400,
            f"the clip is {seconds:.1f} s long; Chatterbox Turbo needs more than {MIN_CLIP_SECONDS:g} s of speech "
            "to clone a voice (10 to 20 s of clear speech works best)",
        )
    mono = np.nan_to_num(pcm.mean(axis=1), nan=0.0, posinf=0.0, neginf=0.0)
    if float(np.max(np.abs(mono))) < 1e-3:
        raise ApiError(400, f"the clip is silent ({seconds:.1f} s with no sound)")
    mono = _resample(mono, rate, CLIP_RATE)
    peak = float(np.max(np.abs(mono)))
    if peak > 0.999:
        mono = mono * (0.999 / peak)
    return mono, seconds


def _too_long(seconds: float) -> str:
    return (
        f"the clip is {seconds:.1f} s long; the limit is {MAX_CLIP_SECONDS:g} s "
        "(cloning uses the first seconds only: trim it to 10 to 30 s of clear speech)"
    )


# --- files --------------------------------------------------------------------------------------------------


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
        return int(json.loads(config.read_text(encoding="utf-8"))["audio"]["sample_rate"])
    except (OSError, ValueError, KeyError, TypeError):
        return PIPER_RATE


def _clip_info(path: Path) -> tuple[int, float] | None:
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, OSError):
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
            if not (path.is_file() and config.is_file()):
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
            name = json.loads(self._sidecar(voice_id).read_text(encoding="utf-8"))["name"]
            return name if isinstance(name, str) and name.strip() else default_name(voice_id)
        except (OSError, ValueError, KeyError, TypeError):
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
            raise ApiError(409, f"a voice with id {voice_id!r} already exists; choose another name or id", id=voice_id)

    # writing

    def add_clip(self, voice_id: str, name: str, pcm: np.ndarray) -> Voice:
        """Store a decoded clip (see ``decode_clip``) as a new voice; 409 if the id is taken."""
        check_voice_id(voice_id)
        try:
            tmp = self._write_temp(wav_bytes(pcm, CLIP_RATE), ".wav")
        except OSError as e:
            raise ApiError(507, f"could not save the clip in {self.root}: {e.strerror or e}") from None
        try:
            with self._lock:
                self.check_free(voice_id)
                try:
                    self._place(tmp, self.root / f"{voice_id}.wav")
                except FileExistsError:
                    raise ApiError(409, f"a voice with id {voice_id!r} already exists", id=voice_id) from None
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
                raise ApiError(409, f"files for id {new_id!r} already exist in the voices folder", id=new_id)
            placed: list[Path] = []
            try:
                for src, dst in moves:
                    self._place(src, dst)
                    placed.append(dst)
            except FileExistsError:
                for dst in placed:
                    dst.unlink(missing_ok=True)
                raise ApiError(409, f"a voice with id {new_id!r} already exists", id=new_id) from None
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
            raise ApiError(403, f"{voice.name} is built into Vox and cannot be {verb}", id=voice.id)
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
