"""Host-speaker playback: one reply, one continuous ``sounddevice.OutputStream``.

The structure is the pipeline's, with the speakers as the sink::

    generate_worker   the Generation's producer thread: engine -> bounded queue (AHEAD chunks ahead)
    playback_worker   this module's thread: chunk after chunk into ONE OutputStream, 10 ms blocks

Generation runs ahead of playback, so chunk n+1 is ready before chunk n has played and the stream never
waits at a chunk boundary. The worker only writes what fits in the stream's buffer and otherwise waits on
the job's cancel event, so a stop (``/api/vox_stop``, ``/api/stop_all_vox``, a global hotkey, a new reply:
all through ``vox.jobs.Controller``) wakes it at once; it aborts the stream, which drops the buffered
audio, and leaves the Generation's queued chunks unplayed. The job ends only when the last sample has been
played, so ``/api/tts_is_speaking`` covers speaker playback.

PortAudio is optional: ``sounddevice`` is imported lazily and a missing library or device becomes a
``SpeakersUnavailable`` whose message says what to install or configure (the routes answer 503 with it).
"""

from __future__ import annotations

import logging
import math
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from vox.audio import resample
from vox.errors import EngineUnavailable, SpeakersUnavailable, VoxError
from vox.jobs import StopReason
from vox.pipeline import Chunk, Generation

log = logging.getLogger("vox.speakers")

BLOCK_SECONDS = 0.01
"""Audio per write: the worker sees a stop within one block (plus the Generation's 20 ms poll when idle)."""
ROOM_POLL = 0.004
"""Seconds between looks at the stream's free space while it is full (a stop wakes the wait at once)."""
GAP_SLACK = 0.002
"""Lateness below this is clock jitter, not a gap."""
TAIL_MARGIN = 0.03
"""Silence written past the stream's buffer at the end, so the last word reaches the device before stop."""
LATENCY = {"low": 0.2, "high": 0.5}
"""Seconds of audio the stream buffers for ``speakers.latency`` low / high. A stop aborts the stream, which
drops the buffer (measured: silent within a few ms whatever its size), and the stream starts sounding with
its first block, so the buffer costs neither stop nor start latency; it only has to ride out scheduling
stalls. On a shared 2-core machine at load 8-9, PortAudio's own "low" (9 ms) and 0.1 s both left gaps of
up to 0.3 s; 0.2 s and 0.3 s left none in 8 replies."""
INSTALL_HINT = "sudo apt-get install libportaudio2"
BROWSER_NOTE = "browser playback still works"

_lock = threading.RLock()
"""Serialises PortAudio's global state: device queries, re-scans and stream opening."""
_open_streams = 0
_probed = False


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
    if "sounddevice" not in sys.modules:
        with _lock:
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


# --- devices ----------------------------------------------------------------------------------------------


@dataclass
class Device:
    index: int
    name: str
    hostapi: str
    channels: int
    default_samplerate: float

    def label(self) -> str:
        return f"{self.index} {self.name!r}"


def _rescan(sd: ModuleType) -> None:
    """Re-enumerate devices (a headset plugged in, a sound server started) unless a stream is open."""
    with _lock:
        if _open_streams == 0:
            sd._terminate()
            sd._initialize()


def output_devices(sd: ModuleType) -> list[Device]:
    with _lock:
        hostapis = sd.query_hostapis()
        return [
            Device(d["index"], d["name"], hostapis[d["hostapi"]]["name"], d["max_output_channels"],
                   d["default_samplerate"])
            for d in sd.query_devices()
            if d["max_output_channels"] > 0
        ]  # fmt: skip


def _default_index(sd: ModuleType) -> int | None:
    with _lock:
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
        index = _default_index(sd)
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


def select_device(spec: str) -> tuple[ModuleType, Device]:
    """PortAudio and the configured device; re-scans once before concluding there is none."""
    sd = load_sounddevice()
    try:
        return sd, find_device(sd, spec)
    except SpeakersUnavailable:
        _rescan(sd)
        return sd, find_device(sd, spec)


def list_devices(spec: str) -> dict[str, Any]:
    """What ``GET /api/audio_devices`` answers: output devices, the default and the configured one."""
    try:
        sd = load_sounddevice()
    except SpeakersUnavailable as e:
        return {"available": False, "error": str(e), "configured": spec, "default": None, "selected": None,
                "devices": []}  # fmt: skip
    _rescan(sd)
    devices = output_devices(sd)
    default = _default_index(sd)
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


def parse_latency(value: str) -> float:
    """``speakers.latency``: ``low`` (0.2 s), ``high`` (0.5 s) or seconds such as ``"0.1"``."""
    value = str(value).strip().lower()
    if value in LATENCY:
        return LATENCY[value]
    try:
        seconds = float(value.removesuffix("s"))
    except ValueError:
        seconds = -1.0
    if not 0.005 <= seconds <= 2.0:
        raise SpeakersUnavailable(f"speakers.latency = {value!r} in config.toml: use low, high or seconds (0.1)")
    return seconds


# --- playback ---------------------------------------------------------------------------------------------


class Playback:
    """One reply on the speakers: ``playback_worker`` feeds one OutputStream from the Generation."""

    def __init__(self, gen: Generation, sd: ModuleType, device: Device, latency: float) -> None:
        self.gen, self.job, self.sd, self.device, self.latency = gen, gen.job, sd, device, latency
        self.started = threading.Event()
        """Set once the first audio was written to the stream (or playback ended without any)."""
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.sample_rate = 0
        """The engine's rate; the stream runs at ``stream_rate`` (the same unless the device refuses it)."""
        self.stream_rate = 0
        self.channels = 1
        self.frames_written = 0
        """Speech frames written (at ``stream_rate``), tail padding excluded."""
        self.chunks = 0
        self.underruns = 0
        """Times the stream ran dry mid-reply (the device played silence), by the worker's clock."""
        self.late_chunks = 0
        """Of those, the ones before a chunk: the engine was slower than real time, not a playback gap."""
        self.starved_seconds = 0.0
        self._dry_at = 0.0
        self._block = 1
        self.first_audio_at: float | None = None
        self.stop_seconds: float | None = None
        """From the job's cancel to the stream aborted: this path's share of a stop's latency."""
        self.ended_at: float | None = None
        self._thread = threading.Thread(target=self.playback_worker, name=f"vox-playback-{self.job.id}", daemon=True)
        self._thread.start()

    @property
    def completed(self) -> bool:
        """True when the whole reply was played (not stopped, no error)."""
        return self.done.is_set() and self.gen.completed and not self.job.cancelled and self.error is None

    @property
    def seconds(self) -> float:
        return self.frames_written / self.stream_rate if self.stream_rate else 0.0

    def playback_worker(self) -> None:
        """Consumer: chunk after chunk into one stream; ends the job only once the audio has been heard."""
        stream = None
        try:
            for chunk in self.gen:  # returns within the Generation's poll (20 ms) of a cancel
                if chunk is None or chunk.job_id != self.job.id:
                    continue
                if stream is None:
                    stream = self._open(chunk.sample_rate)
                if not self._write_chunk(stream, chunk):
                    break
            if stream is not None and self.gen.completed and not self.job.cancelled:
                self._write_tail(stream)
        except BaseException as e:  # reported to the caller (503 / 500) and logged
            self.error = e
        finally:
            if stream is not None:
                self._close(stream)
            self.ended_at = time.monotonic()
            self.started.set()
            self.done.set()
            self.gen.close(StopReason.ERROR)  # an unfinished reply stops; is_speaking covered playback
            if self.error is not None and not isinstance(self.error, SpeakersUnavailable | EngineUnavailable):
                log.error("speaker playback failed: %s: %s", type(self.error).__name__, self.error)

    def _open(self, rate: int) -> Any:
        """One output stream for the whole reply, at the engine's rate when the device takes it."""
        global _open_streams
        sd, device = self.sd, self.device
        self.sample_rate = rate
        tried = []
        for stream_rate in dict.fromkeys((rate, int(device.default_samplerate))):
            for channels in (1, 2):
                try:
                    with _lock:
                        sd.check_output_settings(device.index, channels, "float32", samplerate=stream_rate)
                        stream = sd.OutputStream(
                            samplerate=stream_rate, device=device.index, channels=channels, dtype="float32",
                            latency=self.latency,
                        )  # fmt: skip
                        stream.start()
                        _open_streams += 1
                except (sd.PortAudioError, ValueError) as e:
                    tried.append(f"{stream_rate} Hz x{channels}: {e}")
                    continue
                self.stream_rate, self.channels = stream_rate, channels
                self._block = max(1, int(stream_rate * min(BLOCK_SECONDS, stream.latency / 4)))
                log.info(
                    "speakers: %s at %d Hz, %d ch, %.0f ms buffer", device.name, stream_rate, channels,
                    1000 * stream.latency,
                )  # fmt: skip
                return stream
        raise SpeakersUnavailable(f"cannot open output device {device.label()}: {'; '.join(tried)}")

    def _frames(self, audio: np.ndarray) -> np.ndarray:
        if self.stream_rate != self.sample_rate:
            audio = resample(audio, self.sample_rate, self.stream_rate)
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        return np.repeat(audio[:, None], self.channels, axis=1) if self.channels > 1 else audio

    def _write_chunk(self, stream: Any, chunk: Chunk) -> bool:
        """Write one chunk block by block; False once cancelled."""
        frames = self._frames(chunk.audio)
        for start in range(0, len(frames), self._block):
            block = frames[start : start + self._block]
            if not self._wait_for_room(stream, len(block)):
                return False
            self._account(len(block), at_chunk_start=start == 0 and chunk.part == 0)
            stream.write(block)
            if self.first_audio_at is None:
                self.first_audio_at = time.monotonic()
                self.started.set()
        self.chunks += chunk.part == 0
        return not self.job.cancelled

    def _wait_for_room(self, stream: Any, frames: int) -> bool:
        """Wait until ``frames`` fit without blocking; False at once when the job is cancelled.

        A blocking write would return only when the device frees a whole period (up to ~75 ms with a 0.3 s
        buffer), which is how long a stop could go unnoticed; the cancel event's wait wakes at once instead.
        """
        while not self.job.cancelled:
            if stream.write_available >= frames:
                return True
            self.job.cancel.wait(ROOM_POLL)
        return False

    def _account(self, frames: int, at_chunk_start: bool) -> None:
        """Keep a clock of when the stream runs dry, to see (and report) a gap before it is written into.

        PortAudio's own underflow flag is unreliable on ALSA-through-pulse (missed most underruns here).
        """
        now = time.monotonic()
        if self.frames_written and now > self._dry_at + GAP_SLACK:
            self.underruns += 1
            self.late_chunks += at_chunk_start
            self.starved_seconds += now - self._dry_at
            log.debug("speakers: %.0f ms gap at %.2f s", 1000 * (now - self._dry_at), self.seconds)
        self._dry_at = max(self._dry_at, now) + frames / self.stream_rate
        self.frames_written += frames

    def _write_tail(self, stream: Any) -> None:
        """Silence past the stream's buffer: once it is written, the last speech sample has been played.

        (On ALSA through PulseAudio, Pa_StopStream drops what is buffered instead of draining it.)
        """
        pad = math.ceil(self.stream_rate * (1.5 * stream.latency + TAIL_MARGIN))
        shape = (self._block, self.channels) if self.channels > 1 else (self._block,)
        silence = np.zeros(shape, np.float32)
        for _ in range(0, pad, self._block):
            if not self._wait_for_room(stream, self._block):
                return
            stream.write(silence)

    def _close(self, stream: Any) -> None:
        global _open_streams
        try:
            if self.job.cancelled or self.error is not None:
                stream.abort()  # drops the buffered audio: silence now
                if self.job.stopped_at is not None:
                    self.stop_seconds = time.monotonic() - self.job.stopped_at
            else:
                stream.stop()
            stream.close()
        except Exception as e:
            log.warning("closing the speaker stream: %s", e)
        with _lock:
            _open_streams -= 1

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def summary(self) -> dict[str, Any]:
        return {
            "job": self.job.id,
            "device": self.device.name,
            "sample_rate": self.sample_rate,
            "stream_rate": self.stream_rate,
            "playing": not self.done.is_set(),
            "completed": self.completed,
            "stopped": self.done.is_set() and self.job.cancelled,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "underruns": self.underruns,
            "late_chunks": self.late_chunks,
            "starved_ms": round(1000 * self.starved_seconds, 1),
            "stop_ms": round(1000 * self.stop_seconds, 1) if self.stop_seconds is not None else None,
        }


def generate_worker(runtime, text: str | Iterable[str], voice_id: str | None = None, **opts: Any) -> Generation:
    """Producer: the one pipeline's Generation (a SPEECH job in the Controller, synthesising ahead)."""
    return runtime.speak(text, voice_id, **opts)


def start(runtime, text: str | Iterable[str], voice_id: str | None = None, **opts: Any) -> Playback:
    """Start playing ``text`` (or chunk texts still arriving, for pushed replies) without waiting."""
    cfg = runtime.config.speakers
    if isinstance(text, str):
        runtime.speakable_plan(text)  # bad input (nothing to say) is the answer before a missing device is
    sd, device = select_device(cfg.device)
    return Playback(generate_worker(runtime, text, voice_id, **opts), sd, device, parse_latency(cfg.latency))


def speak(runtime, text: str, voice_id: str | None = None, wait: bool = False, **opts: Any) -> Playback:
    """Speak ``text`` on the configured output device.

    Returns once the first audio has been written (``wait=True``: once playback ended). Raises
    ``SpeakersUnavailable`` (no PortAudio, no device, the device would not open), ``VoxError`` for bad
    input, ``EngineUnavailable`` when the engine cannot load. ``opts``: speed, lang.
    """
    playback = start(runtime, text, voice_id, **opts)
    (playback.done if wait else playback.started).wait()
    if playback.error is not None:
        raise playback.error
    return playback


def say(runtime, text: str) -> int:
    """``app.py --say TEXT``: speak on the speakers and return an exit code (0 when it was all played)."""
    try:
        playback = speak(runtime, text, wait=True)
        return 0 if playback.completed else 1
    except (SpeakersUnavailable, EngineUnavailable) as e:
        print(f"Vox cannot speak: {e}", file=sys.stderr)
        return 3
    except VoxError as e:
        print(f"Vox cannot speak: {e.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        runtime.stop_all()
        return 130
    finally:
        runtime.shutdown()
