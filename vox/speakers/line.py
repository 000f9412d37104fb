"""The speakers' output stream, kept open and running between replies so a reply never waits for a device.

Opening an output stream is cheap on an awake sound server (a few ms here, through ALSA into PulseAudio),
but not on a user's machine with a real card: PulseAudio and PipeWire suspend an idle sink after ~5 s, and
waking the card can take 100 ms or more. So the stream a reply used is not closed at its end: the line keeps
it running for ``speakers.keep_open_s`` seconds, fed with silence by a small thread (which keeps the sink,
and the card behind it, awake), and the next reply takes it over. Taking over aborts and restarts the stream
(about 1 ms, measured), which drops the silence queued in its buffer, so the reply's first sample is the
next one the device plays. After ``keep_open_s`` of quiet the stream is closed and the device is free to
sleep; a reply after that opens a new one while its first chunk is being synthesised.

One reply holds the line at a time. A reply that replaces another waits (a few ms) for the old one to let
go; should two replies ever overlap for longer, the second gets a stream of its own, closed at its end.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from vox.speakers.devices import Device, SpeakersUnavailable, portaudio_lock, stream_closed, stream_opened

log = logging.getLogger("vox.speakers")

BLOCK_SECONDS = 0.01
"""Audio per write: a writer sees a stop within one block."""
HANDOVER_WAIT = 1.0
"""Seconds a reply waits for the reply it replaces to let go of the line (a stop takes a few ms)."""
LATENCY = {"low": 0.2, "high": 0.5}
"""Seconds of audio the stream buffers for ``speakers.latency`` low / high. A stop aborts the stream, which
drops the buffer (measured: silent within a few ms whatever its size), and the stream starts sounding with
its first block, so the buffer costs neither stop nor start latency; it only has to ride out scheduling
stalls. On a shared 2-core machine at load 8-9, PortAudio's own "low" (9 ms) and 0.1 s both left gaps of
up to 0.3 s; 0.2 s and 0.3 s left none in 8 replies."""


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


@dataclass(eq=False)
class Output:
    """An open output stream for audio at ``source_rate`` (the engine's) on ``device``."""

    stream: Any
    device: Device
    source_rate: int
    rate: int
    """The stream's rate: ``source_rate`` unless the device refused it (then audio is resampled)."""
    channels: int
    latency: float
    """The buffer asked for (``speakers.latency``); ``stream.latency`` is what PortAudio granted."""
    pooled: bool = True
    """False for a stream of one reply's own (the line was held by another)."""
    open_seconds: float = 0.0
    """How long opening took; 0 for a stream taken over warm."""
    warm: bool = False
    """True when taken over from the line rather than opened for this reply."""

    @property
    def key(self) -> tuple[int, int, float]:
        return self.device.index, self.source_rate, self.latency

    @property
    def block(self) -> int:
        """Frames per write: 10 ms, or less for a small buffer."""
        return max(1, int(self.rate * min(BLOCK_SECONDS, self.stream.latency / 4)))


def open_output(sd: ModuleType, device: Device, source_rate: int, latency: float, pooled: bool = True) -> Output:
    """A started stream on ``device``, at ``source_rate`` when the device takes it, mono if it can.

    Started at once, not at the first write: starting is a round trip to the sound server, better spent
    while the engine synthesises (with the start at the first write, the time from the first chunk to its
    first write went from 0.1-0.6 ms to 0.6-14 ms on the loaded 2-core machine). A started stream with
    nothing written yet plays nothing; ALSA reports no underrun for it.
    No separate ``check_output_settings``: on ALSA it opens the device once more just to ask.
    """
    t0 = time.monotonic()
    tried = []
    for rate in dict.fromkeys((source_rate, int(device.default_samplerate))):
        for channels in (1, 2):
            try:
                with portaudio_lock:
                    stream = sd.OutputStream(
                        samplerate=rate, device=device.index, channels=channels, dtype="float32", latency=latency
                    )
                    stream_opened()
                    try:
                        stream.start()
                    except BaseException:
                        stream.close()
                        stream_closed()
                        raise
            except (sd.PortAudioError, ValueError) as e:
                tried.append(f"{rate} Hz x{channels}: {e}")
                continue
            out = Output(stream, device, source_rate, rate, channels, latency, pooled)
            out.open_seconds = time.monotonic() - t0
            log.info(
                "speakers: opened %s at %d Hz, %d ch, %.0f ms buffer in %.0f ms", device.name, rate, channels,
                1000 * stream.latency, 1000 * out.open_seconds,
            )  # fmt: skip
            return out
    raise SpeakersUnavailable(f"cannot open output device {device.label()}: {'; '.join(tried)}")


def close_output(out: Output) -> None:
    """Abort (silence now: the buffer is dropped) and close."""
    try:
        with portaudio_lock:
            out.stream.abort()
            out.stream.close()
    except Exception as e:
        log.warning("closing the speaker stream: %s", e)
    finally:
        stream_closed()


class Line:
    """The pooled output: lent to one reply at a time, kept warm with silence for ``keep_open`` seconds."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        """A reply holds the pooled output (or is opening it)."""
        self._idle: Output | None = None
        """The pooled output nobody is using, running on silence until it is taken or its time is up."""
        self._filler: threading.Thread | None = None
        self._take = threading.Event()
        """Tells the idle output's filler to let go of it."""
        self._exit_hook = False

    def acquire(self, sd: ModuleType, device: Device, source_rate: int, latency: float) -> Output:
        """A started, empty output for one reply: the kept-open one when it fits, else a new one."""
        with self._cond:
            shared = self._cond.wait_for(lambda: not self._busy, HANDOVER_WAIT)
            if shared:
                self._busy = True
                idle, filler, take = self._idle, self._filler, self._take
                self._idle = self._filler = None
        if not shared:
            return open_output(sd, device, source_rate, latency, pooled=False)
        try:
            if idle is not None:
                take.set()
                if filler is not None:
                    filler.join()
                if self._restart(idle, (device.index, source_rate, latency)):
                    return idle
            out = open_output(sd, device, source_rate, latency)
        except BaseException:
            self._let_go()
            raise
        if not self._exit_hook:  # registered after sounddevice's own atexit hook, so it runs before it
            atexit.register(self.close)
            self._exit_hook = True
        return out

    @staticmethod
    def _restart(out: Output, key: tuple[int, int, float]) -> bool:
        """Restart the idle output empty when it fits ``key`` (else close it): the abort drops the silence
        queued in its buffer, so the reply's first sample is the next one the device plays."""
        if out.key == key:
            try:
                out.stream.abort()
                out.stream.start()
                out.warm, out.open_seconds = True, 0.0
                return True
            except Exception as e:
                log.info("speakers: the kept-open stream failed (%s); opening a new one", e)
        close_output(out)
        return False

    def _let_go(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def release(self, out: Output, healthy: bool, keep_open: float) -> None:
        """A reply is done with ``out``: keep it running on silence for ``keep_open`` s, or close it."""
        if not out.pooled:
            close_output(out)
            return
        keep = healthy and keep_open > 0
        if keep:
            try:
                with portaudio_lock:
                    if not out.stream.active:  # a stopped reply aborted it
                        out.stream.start()
            except Exception as e:
                log.info("speakers: cannot keep the stream open: %s", e)
                keep = False
        if not keep:
            close_output(out)
            self._let_go()
            return
        with self._cond:
            self._idle, self._take = out, threading.Event()
            self._filler = threading.Thread(
                target=self._fill, args=(out, self._take, keep_open), name="vox-speakers-warm", daemon=True
            )
            self._filler.start()
            self._busy = False
            self._cond.notify_all()

    def _fill(self, out: Output, take: threading.Event, keep_open: float) -> None:
        """Feed silence while idle (the sink and the card stay awake); close the stream after ``keep_open``."""
        silence = np.zeros((out.rate, out.channels) if out.channels > 1 else out.rate, np.float32)
        period = max(0.005, out.stream.latency / 4)
        until = time.monotonic() + keep_open
        try:
            while not take.wait(period) and time.monotonic() < until:
                room = min(out.stream.write_available, len(silence))
                if room >= out.block:
                    out.stream.write(silence[:room])
        except Exception as e:  # the device went away: close it; the next reply opens a new one
            log.info("speakers: the kept-open stream failed: %s", e)
        with self._cond:
            if self._idle is not out:
                return  # taken over (or closed): its new owner decides
            self._idle = self._filler = None
        close_output(out)
        log.info("speakers: closed the output after %.0f s of quiet", keep_open)

    def close_idle(self) -> bool:
        """Close the idle output now (before a device re-scan); False when a reply is using the line."""
        with self._cond:
            idle, filler, take = self._idle, self._filler, self._take
            self._idle = self._filler = None
            busy = self._busy
        take.set()
        if filler is not None:
            filler.join()
        if idle is not None:
            close_output(idle)
        return not busy

    def close(self) -> None:
        """At exit: close the idle output before PortAudio is terminated."""
        self.close_idle()


LINE = Line()
"""The process's one line (PortAudio's state is process-wide too)."""
