"""Host-speaker playback: one reply, one continuous ``sounddevice.OutputStream``.

The structure is the pipeline's, with the speakers as the sink::

    generate_worker   the Generation's producer thread: engine -> bounded queue (AHEAD chunks ahead)
    playback_worker   this module's thread: chunk after chunk into ONE OutputStream, 10 ms blocks

Generation runs ahead of playback, so chunk n+1 is ready before chunk n has played and the stream never
waits at a chunk boundary. The worker only writes what fits in the stream's buffer and otherwise waits on
the job's cancel event, so a stop (``/api/vox_stop``, ``/api/stop_all_vox``, a global hotkey, a new reply:
all through ``vox.jobs.controller.Controller``) wakes it at once; it aborts the stream, which drops the buffered
audio, and leaves the Generation's queued chunks unplayed. The job ends only when the last sample has been
played, so ``/api/tts_is_speaking`` covers speaker playback.

Time to first audio is the first chunk's synthesis and nothing else: PortAudio is loaded and the device
found at start-up (``vox.speakers.devices.prepare``), the output stream of the previous reply is still
running (``vox.speakers.line``: kept open for ``speakers.keep_open_s``), and when it is not, the worker opens
one while the Generation synthesises the first chunk instead of after it.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import numpy as np

from vox.audio.pcm import resample
from vox.errors import EngineUnavailable, SpeakersUnavailable, VoxError
from vox.jobs.controller import StopReason
from vox.reply.generation import Chunk, Generation
from vox.speakers.devices import (  # noqa: F401  (the speakers' public names live here)
    BROWSER_NOTE,
    INSTALL_HINT,
    Device,
    describe,
    find_device,
    load_sounddevice,
    rescan,
    select_device,
)
from vox.speakers.devices import prepare as prepare_devices
from vox.speakers.line import LATENCY, LINE, Line, Output, parse_latency  # noqa: F401

log = logging.getLogger("vox.speakers")

ROOM_POLL = 0.004
"""Seconds between looks at the stream's free space while it is full (a stop wakes the wait at once)."""
GAP_SLACK = 0.002
"""Lateness below this is clock jitter, not a gap."""
TAIL_MARGIN = 0.03
"""Silence written past the stream's buffer at the end, so the last word reaches the device before stop."""


def list_devices(spec: str) -> dict[str, Any]:
    """What ``GET /api/audio_devices`` answers: output devices, the default and the configured one.

    It re-scans first (a headset plugged in since), which PortAudio allows only with no stream open: an idle
    kept-open stream is closed for it; while a reply plays, the list is the one from the last scan.
    """
    try:
        sd = load_sounddevice()
    except SpeakersUnavailable as e:
        return {"available": False, "error": str(e), "configured": spec, "default": None, "selected": None,
                "devices": []}  # fmt: skip
    if LINE.close_idle():
        rescan(sd)
    return describe(sd, spec)


def prepare(config) -> None:
    """At start-up: load PortAudio and find the device in the background (``speakers.prepare_at_start``)."""
    if config.speakers.prepare_at_start:
        prepare_devices(config.speakers.device)


# --- playback ---------------------------------------------------------------------------------------------


class Playback:
    """One reply on the speakers: ``playback_worker`` feeds one output stream from the Generation."""

    def __init__(
        self,
        gen: Generation,
        sd: ModuleType,
        device: Device,
        latency: float,
        keep_open: float = 0.0,
        rate_hint: int | None = None,
        line: Line = LINE,
    ) -> None:
        self.gen, self.job, self.sd, self.device, self.latency = gen, gen.job, sd, device, latency
        self.keep_open, self.rate_hint, self.line = keep_open, rate_hint, line
        """``rate_hint``: the engine's rate when known before its first chunk, to get the stream meanwhile."""
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
        self.warm: bool | None = None
        """True when the reply took over the kept-open stream, False when it opened one."""
        self.open_seconds: float | None = None
        self.first_chunk_at: float | None = None
        """When the first chunk came from the Generation: until then the reply waited for the engine, after
        it (to ``first_audio_at``) for the speakers."""
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
        out: Output | None = None
        try:
            if self.rate_hint:  # the stream is ready by the time the first chunk is
                out = self._acquire(self.rate_hint)
            for chunk in self.gen:  # returns within the Generation's poll (20 ms) of a cancel
                if chunk is None or chunk.job_id != self.job.id:
                    continue
                self.first_chunk_at = self.first_chunk_at or time.monotonic()
                if out is None or out.source_rate != chunk.sample_rate:
                    if out is not None:  # the hint was wrong: not a stream to keep
                        self.line.release(out, healthy=False, keep_open=0)
                        out = None
                    out = self._acquire(chunk.sample_rate)
                if not self._write_chunk(out, chunk):
                    break
            if out is not None and self.gen.completed and not self.job.cancelled:
                self._write_tail(out)
        except BaseException as e:  # reported to the caller (503 / 500) and logged
            self.error = e
        finally:
            if out is not None:
                self._end(out)
            self.ended_at = time.monotonic()
            self.started.set()
            self.done.set()
            self.gen.close(StopReason.ERROR)  # an unfinished reply stops; is_speaking covered playback
            if self.error is not None and not isinstance(self.error, SpeakersUnavailable | EngineUnavailable):
                log.error("speaker playback failed: %s: %s", type(self.error).__name__, self.error)

    def _acquire(self, rate: int) -> Output:
        """The line's stream for audio at ``rate`` (warm, or opened now)."""
        out = self.line.acquire(self.sd, self.device, rate, self.latency)
        self.sample_rate, self.stream_rate, self.channels, self._block = rate, out.rate, out.channels, out.block
        self.warm, self.open_seconds = out.warm, out.open_seconds
        return out

    def _end(self, out: Output) -> None:
        """A stopped reply (or a failed one) is silenced at once; then the stream goes back to the line."""
        if self.job.cancelled or self.error is not None:
            try:
                out.stream.abort()  # drops the buffered audio: silence now
            except Exception as e:
                log.warning("aborting the speaker stream: %s", e)
            if self.job.stopped_at is not None:
                self.stop_seconds = time.monotonic() - self.job.stopped_at
        self.line.release(out, healthy=self.error is None, keep_open=self.keep_open)

    def _frames(self, audio: np.ndarray) -> np.ndarray:
        if self.stream_rate != self.sample_rate:
            audio = resample(audio, self.sample_rate, self.stream_rate)
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        return np.repeat(audio[:, None], self.channels, axis=1) if self.channels > 1 else audio

    def _write_chunk(self, out: Output, chunk: Chunk) -> bool:
        """Write one chunk block by block; False once cancelled."""
        frames = self._frames(chunk.audio)
        for start in range(0, len(frames), self._block):
            block = frames[start : start + self._block]
            if not self._wait_for_room(out.stream, len(block)):
                return False
            self._account(len(block), at_chunk_start=start == 0 and chunk.part == 0)
            out.stream.write(block)
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

    def _write_tail(self, out: Output) -> None:
        """Silence past the stream's buffer: once it is written, the last speech sample has been played
        (and the stream, kept open, goes on with the line's silence)."""
        pad = math.ceil(self.stream_rate * (1.5 * out.stream.latency + TAIL_MARGIN))
        shape = (self._block, self.channels) if self.channels > 1 else (self._block,)
        silence = np.zeros(shape, np.float32)
        for _ in range(0, pad, self._block):
            if not self._wait_for_room(out.stream, self._block):
                return
            out.stream.write(silence)

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
            "stream": None if self.warm is None else "warm" if self.warm else "opened",
            "open_ms": round(1000 * self.open_seconds, 1) if self.open_seconds is not None else None,
        }


def generate_worker(runtime, text: str | Iterable[str], voice_id: str | None = None, **opts: Any) -> Generation:
    """Producer: the one pipeline's Generation (a SPEECH job in the Controller, synthesising ahead)."""
    return runtime.speak(text, voice_id, **opts)


def start(runtime, text: str | Iterable[str], voice_id: str | None = None, **opts: Any) -> Playback:
    """Start playing ``text`` (or chunk texts still arriving, for pushed replies) without waiting."""
    cfg = runtime.config.speakers
    if isinstance(text, str):  # bad input (nothing to say) is the answer before a missing device is
        text, _ = runtime.whole_reply(text, opts.get("lang"))
    sd, device = select_device(cfg.device, before_rescan=LINE.close_idle)
    latency = parse_latency(cfg.latency)
    gen = generate_worker(runtime, text, voice_id, **opts)
    return Playback(gen, sd, device, latency, cfg.keep_open_s, _engine_rate(runtime))


def _engine_rate(runtime) -> int | None:
    """The rate the reply's audio will have, when the engine is loaded already (else its first chunk says)."""
    engine = runtime.engines.current
    return engine.sample_rate if engine is not None and engine.loaded else None


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
