"""PortAudio for the host speakers: loading it safely, finding the output device, and doing both early.

PortAudio is optional: ``sounddevice`` is imported lazily and a missing library or device becomes a
``SpeakersUnavailable`` whose message says what to install or configure (the routes answer 503 with it).

Loading costs time a reply should not wait for (measured here: ~100 ms for the crash probe's child process,
~50 ms to import sounddevice and initialise PortAudio, more on a machine with several cards), so
``prepare`` does it in the background when Vox starts; a request that comes first waits for that one load
instead of starting another. No device is opened by preparing.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from vox.errors import SpeakersUnavailable

log = logging.getLogger("vox.speakers")

INSTALL_HINT = "sudo apt-get install libportaudio2"
BROWSER_NOTE = "browser playback still works"

portaudio_lock = threading.RLock()
"""Serialises PortAudio's global state: device queries, re-scans, opening and closing streams."""
_load_lock = threading.Lock()
"""One load at a time: a request arriving during ``prepare`` waits for it rather than probing again."""
_open_streams = 0
_probed = False


def stream_opened() -> None:
    global _open_streams
    with portaudio_lock:
        _open_streams += 1


def stream_closed() -> None:
    global _open_streams
    with portaudio_lock:
        _open_streams -= 1


def _portaudio_crash() -> str | None:
    """Initialise PortAudio once in a child process first: with a broken ALSA configuration (an empty or
    missing ALSA_CONFIG_PATH, measured) alsa-lib aborts the whole process, and that must not be Vox."""
    global _probed
    if _probed:
        return None
    code = "import sounddevice; sounddevice.query_devices()"
    try:
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None  # inconclusive: go on in-process
    if child.returncode < 0:
        name = signal.Signals(-child.returncode).name
        return (
            f"PortAudio crashed ({name}) while looking for audio devices: check the ALSA configuration "
            f"(ALSA_CONFIG_PATH, ~/.asoundrc, /etc/asound.conf); {BROWSER_NOTE}"
        )
    _probed = True
    return None


def load_sounddevice() -> ModuleType:
    """``sounddevice``, imported on first use: a missing PortAudio must never stop Vox from starting."""
    with _load_lock:
        if "sounddevice" not in sys.modules:
            crash = _portaudio_crash()
            if crash:
                raise SpeakersUnavailable(crash)
        try:
            import sounddevice
        except OSError as e:  # the wheel is installed but libportaudio is not
            raise SpeakersUnavailable(
                f"host speakers need the PortAudio library ({e}): {INSTALL_HINT}, then restart Vox; {BROWSER_NOTE}"
            ) from None
        except ImportError:
            raise SpeakersUnavailable(
                f"host speakers need the sounddevice package: .venv/bin/pip install -r requirements.txt; {BROWSER_NOTE}"
            ) from None
        return sounddevice


def prepare(spec: str) -> threading.Thread:
    """Load PortAudio and look up the configured device in the background (at start-up), so that the first
    reply on the speakers does not pay for it. Problems are left for that reply to report."""

    def run() -> None:
        t0 = time.monotonic()
        try:
            _, device = select_device(spec)
            log.info("speakers: PortAudio ready in %.0f ms, output device %s", 1000 * (time.monotonic() - t0),
                     device.label())  # fmt: skip
        except SpeakersUnavailable as e:
            log.info("speakers not available yet: %s", e)
        except Exception as e:  # never let preparation take anything else down
            log.warning("preparing the speakers: %s: %s", type(e).__name__, e)

    thread = threading.Thread(target=run, name="vox-speakers-prepare", daemon=True)
    thread.start()
    return thread


# --- devices ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    hostapi: str
    channels: int
    default_samplerate: float

    def label(self) -> str:
        return f"{self.index} {self.name!r}"


def rescan(sd: ModuleType) -> bool:
    """Re-enumerate devices (a headset plugged in, a sound server started); only while no stream is open,
    because PortAudio's re-initialisation invalidates open streams. True when it re-scanned."""
    with portaudio_lock:
        if _open_streams:
            return False
        sd._terminate()
        sd._initialize()
        return True


def output_devices(sd: ModuleType) -> list[Device]:
    with portaudio_lock:
        hostapis = sd.query_hostapis()
        return [
            Device(d["index"], d["name"], hostapis[d["hostapi"]]["name"], d["max_output_channels"],
                   d["default_samplerate"])
            for d in sd.query_devices()
            if d["max_output_channels"] > 0
        ]  # fmt: skip


def default_index(sd: ModuleType) -> int | None:
    with portaudio_lock:
        try:
            index = sd.default.device[1]
            if index is None or index < 0:
                index = sd.query_hostapis(0)["default_output_device"]
        except Exception:  # no host API at all
            return None
    return index if index is not None and index >= 0 else None


def _no_device_message(spec: str, devices: list[Device]) -> str:
    if not devices:
        return (
            "no audio output device found: connect speakers or headphones, start PulseAudio or PipeWire, "
            f"or set [speakers] device in config.toml; {BROWSER_NOTE}"
        )
    names = "; ".join(d.label() for d in devices)
    if spec:
        return (
            f"no output device matches speakers.device = {spec!r} in config.toml; choose a name (substring) "
            f"or index from GET /api/audio_devices: {names}; {BROWSER_NOTE}"
        )
    return f"there is no default output device: set [speakers] device in config.toml to one of: {names}; {BROWSER_NOTE}"


def find_device(sd: ModuleType, spec: str) -> Device:
    """The output device ``spec`` names (index, exact name or case-insensitive substring; empty: default)."""
    devices = output_devices(sd)
    spec = spec.strip()
    by_index = {d.index: d for d in devices}
    if not spec:
        index = default_index(sd)
        if index in by_index:
            return by_index[index]
    elif spec.lstrip("-").isdigit():
        if int(spec) in by_index:
            return by_index[int(spec)]
    else:
        exact = [d for d in devices if d.name == spec]
        partial = [d for d in devices if spec.lower() in d.name.lower()]
        if exact or partial:
            return (exact or partial)[0]
    raise SpeakersUnavailable(_no_device_message(spec, devices))


def select_device(spec: str, before_rescan: Callable[[], object] = lambda: None) -> tuple[ModuleType, Device]:
    """PortAudio and the configured device. Only when it is missing does this re-scan (tens of ms; after
    ``before_rescan``, which closes what would prevent it) and look once more, so a found device costs a
    query of PortAudio's list (well under a millisecond)."""
    sd = load_sounddevice()
    try:
        return sd, find_device(sd, spec)
    except SpeakersUnavailable:
        before_rescan()
        rescan(sd)
        return sd, find_device(sd, spec)


def describe(sd: ModuleType, spec: str) -> dict[str, Any]:
    """Output devices, the default and the one ``spec`` selects (``GET /api/audio_devices``)."""
    devices = output_devices(sd)
    default = default_index(sd)
    try:
        selected: int | None = find_device(sd, spec).index
        error = None
    except SpeakersUnavailable as e:
        selected, error = None, str(e)
    return {
        "available": selected is not None,
        "error": error,
        "configured": spec,
        "default": default,
        "selected": selected,
        "devices": [{**d.__dict__, "default": d.index == default, "selected": d.index == selected} for d in devices],
    }
