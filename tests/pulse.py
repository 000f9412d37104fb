"""A private PulseAudio server with a null sink, and a recorder of what that sink played.

Used by the speaker tests and ``bench/bench_speakers.py``: a null sink paces playback in real time and its
monitor can be recorded, so a test checks what the "speakers" actually received. Every helper process is
started here and stopped by its PID.

Two pulse behaviours shape this code (measured on Debian 12, pulseaudio 16):
- an idle null sink runs at 2 s latency, so a new stream stalls 1-1.7 s and a stop takes over a second;
  a silent low-latency ``pacat`` stream kept open holds the sink at a few tens of ms.
- the sink is float32, so an underrun (the sink mixing nothing from our stream) shows as exact zeros,
  which speech never contains: that is how a gap is told from a quiet sound.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 48000
SINK = "nullsink"
KEEPALIVE_MS = 30
RECORD_MS = 20


def available() -> str | None:
    """None when the pulse tools are installed, else what to install."""
    missing = [tool for tool in ("pulseaudio", "pacat", "parec", "pactl") if shutil.which(tool) is None]
    if missing:
        return f"missing {', '.join(missing)}: sudo apt-get install pulseaudio pulseaudio-utils libasound2-plugins"
    return None


def stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
    """Stop one process we started, by its PID; kill it if it does not go."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


class PulseServer:
    """``pulseaudio`` with one float32 null sink in private runtime/home folders under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime_dir = root / "run"
        self.home = root / "home"
        self.socket = self.runtime_dir / "pulse" / "native"
        self.log = root / "pulseaudio.log"
        self.daemon: subprocess.Popen | None = None
        self.keepalive: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        """What a client process needs to reach this server (PortAudio's ALSA ``default`` goes to pulse)."""
        return {
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_SINK": SINK,
        }

    def _client_env(self) -> dict[str, str]:
        return {**os.environ, **self.env, "HOME": str(self.home)}

    def start(self, timeout: float = 15.0) -> PulseServer:
        """Start the daemon and the keep-alive stream; stops both again if anything fails."""
        try:
            self._start(time.monotonic() + timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, deadline: float) -> None:
        for d in (self.runtime_dir, self.home):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        cmd = [
            "pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--log-target=stderr",
            "-L", "module-native-protocol-unix auth-anonymous=1",
            "-L", f"module-null-sink sink_name={SINK} rate={RATE} format=float32le channels=2",
            "-L", "module-always-sink",
        ]  # fmt: skip
        with self.log.open("w") as log:
            self.daemon = subprocess.Popen(
                cmd, env=self._client_env(), stdout=subprocess.DEVNULL, stderr=log, cwd=self.root
            )
        while not (self.socket.exists() and self.pactl("info").returncode == 0):
            if self.daemon.poll() is not None:
                raise RuntimeError(f"pulseaudio exited with {self.daemon.returncode}:\n{self.log.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"pulseaudio did not start:\n{self.log.read_text()}")
            time.sleep(0.05)
        with open("/dev/zero", "rb") as zeros:  # the child keeps its own copy of the descriptor
            self.keepalive = subprocess.Popen(
                ["pacat", "--playback", f"--latency-msec={KEEPALIVE_MS}", "--format=s16le", f"--rate={RATE}",
                 "--channels=2", f"--device={SINK}"],
                stdin=zeros, env=self._client_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        self._settle(deadline)

    def _settle(self, deadline: float) -> None:
        """Wait until the sink runs at the keep-alive stream's latency: it starts ~2 s ahead (its idle
        render), and a stream started before then stalls that long."""
        while time.monotonic() < deadline:
            latency = self.sink_latency()
            if latency is not None and latency[0] < 0.05:
                return
            time.sleep(0.05)
        raise RuntimeError(f"the null sink did not settle to a low latency: {self.sink_latency()}")

    def sink_latency(self) -> tuple[float, float] | None:
        """(current, configured) latency of the null sink in seconds: how far its rendering (what the
        monitor records) runs ahead of the moment a real device would sound it."""
        out = self.pactl("list", "sinks").stdout
        m = re.search(r"Latency: (\d+) usec, configured (\d+) usec", out)
        return (int(m.group(1)) / 1e6, int(m.group(2)) / 1e6) if m else None

    def pactl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env=self._client_env(), capture_output=True, text=True, timeout=10)

    def record(self) -> Recorder:
        """Start recording the sink's monitor; stop it with ``Recorder.stop()``."""
        return Recorder(self._client_env()).start()

    def stop(self) -> None:
        stop_process(self.keepalive)
        stop_process(self.daemon)
        self.keepalive = self.daemon = None


@contextmanager
def running(root: Path) -> Iterator[PulseServer]:
    """A started PulseServer for a ``with`` block (or a fixture), stopped by PID at the end."""
    server = PulseServer(root).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Recorder:
    """``parec`` of the null sink's monitor, read through a pipe so each block gets its arrival time.

    The arrival times let a test put recorded samples on the monotonic clock: sample ``n`` was played at
    about ``clock_offset + n / RATE``; see ``time_of``.
    """

    env: dict[str, str]
    proc: subprocess.Popen | None = None
    blocks: list[bytes] = field(default_factory=list)
    arrivals: list[tuple[int, float]] = field(default_factory=list)
    """(frames received so far, time.monotonic() when they arrived)."""
    _thread: threading.Thread | None = None

    def start(self) -> Recorder:
        self.proc = subprocess.Popen(
            ["parec", f"--latency-msec={RECORD_MS}", f"--device={SINK}.monitor", "--raw", "--format=float32le",
             f"--rate={RATE}", "--channels=1"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
        )  # fmt: skip
        self._thread = threading.Thread(target=self._read, name="parec-reader", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 5
        while not self.arrivals and time.monotonic() < deadline:  # recording has begun
            time.sleep(0.005)
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        fd, total = self.proc.stdout.fileno(), 0
        while True:
            data = os.read(fd, 65536)
            now = time.monotonic()
            if not data:
                return
            self.blocks.append(data)
            total += len(data)
            self.arrivals.append((total // 4, now))

    def recent_peak(self, seconds: float = 0.03) -> float:
        """Peak |sample| of the last ``seconds`` received: is the sink sounding right now?"""
        want, tail = int(seconds * RATE) * 4, b""
        for block in reversed(self.blocks[-64:]):
            tail = block + tail
            if len(tail) >= want:
                break
        tail = tail[len(tail) % 4 :][-want:]
        return float(np.abs(np.frombuffer(tail, dtype="<f4")).max()) if tail else 0.0

    def wait_for_sound(self, timeout: float = 10.0, level: float = 0.05) -> bool:
        """Block until the sink plays something louder than ``level`` (speech, not a pause)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.recent_peak(0.01) > level:
                return True
            time.sleep(0.002)
        return False

    def stop(self) -> np.ndarray:
        """Stop ``parec`` (SIGINT flushes it) and return the whole recording, float32 mono at RATE."""
        stop_process(self.proc, signal.SIGINT)
        if self._thread is not None:
            self._thread.join(5)
        return self.audio()

    def audio(self) -> np.ndarray:
        data = b"".join(self.blocks)
        return np.frombuffer(data[: len(data) // 4 * 4], dtype="<f4").copy()

    @property
    def clock_offset(self) -> float:
        """Monotonic time of recorded sample 0, from the block that arrived soonest after it was played.

        Each block arrives at least the capture delay after its last sample was played, so the smallest
        ``arrival - frames / RATE`` is the tightest estimate, and still a little late: times derived from it
        are upper bounds (honest for "silent within" checks).
        """
        return min(t - n / RATE for n, t in self.arrivals)

    def time_of(self, frame: int) -> float:
        return self.clock_offset + frame / RATE

    def frame_at(self, t: float) -> int:
        return max(0, round((t - self.clock_offset) * RATE))


# --- analysis of a recording ------------------------------------------------------------------------------

SPEECH_LEVEL = 1e-3
"""|sample| above this is sound (speech peaks are ~0.1-0.5; Piper's quietest noise floor is ~1e-5)."""
DIGITAL_SILENCE = 1e-6
"""|sample| at or below this is digital silence: what the sink plays when our stream has nothing."""


def sound_span(audio: np.ndarray, level: float = SPEECH_LEVEL) -> tuple[int, int] | None:
    """(first, last) frame above ``level``, or None if the recording is silent."""
    loud = np.flatnonzero(np.abs(audio) > level)
    return (int(loud[0]), int(loud[-1])) if loud.size else None


def silent_runs(audio: np.ndarray, level: float = DIGITAL_SILENCE) -> list[tuple[int, int]]:
    """(start, length) of every run of samples with |x| <= level."""
    quiet = np.concatenate(([False], np.abs(audio) <= level, [False]))
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    return [(int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)]


def gaps_inside(audio: np.ndarray, rate: int = RATE, level: float = DIGITAL_SILENCE) -> list[float]:
    """Lengths in seconds of the digital-silence runs between the first and last sound, longest first."""
    span = sound_span(audio)
    if span is None:
        return []
    inner = audio[span[0] : span[1] + 1]
    return sorted((n / rate for _, n in silent_runs(inner, level)), reverse=True)
