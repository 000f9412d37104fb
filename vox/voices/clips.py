"""Decoding an uploaded voice clip: any common audio file in, 24 kHz mono float32 out, or a BadClip that
says what is wrong with the file. Whatever a file's header claims, decoding costs a few MB: the header is
checked first (sample rate, channels, length), then the clip is decoded a block at a time."""

from __future__ import annotations

import io
import math
import struct
import threading
from typing import BinaryIO

import numpy as np
import soundfile

from vox.errors import BadClip, TooManyJobs

CLIP_RATE = 24000
"""Uploaded clips are stored at Chatterbox's sample rate."""
MIN_CLIP_SECONDS = 5.0
"""Chatterbox Turbo refuses reference clips of 5 s or less."""
MAX_CLIP_SECONDS = 60.0
"""Cloning uses the first seconds only; a longer clip is almost always the wrong file."""
MIN_SOURCE_RATE = 8000
READABLE = "wav, flac, ogg, mp3"


MAX_SOURCE_RATE = 192_000
"""Clips above this sample rate are refused before decoding (a FLAC may claim 655,350 Hz)."""
MAX_CHANNELS = 8
"""Clips with more channels are refused before decoding."""
BLOCK_SECONDS = 1.0
"""Clips are decoded this much at a time, each block mixed down to mono and resampled before the next is
read, so memory stays a few MB whatever the file claims (a decompression bomb decodes to nothing big)."""
DECODES_AT_ONCE = 2
"""Uploads decoded at the same time; more wait up to ``DECODE_WAIT`` seconds, then get a 429."""
DECODE_WAIT = 10.0
_decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)

_WAV_BITS = {1: (8, 16, 24, 32), 3: (32, 64), 0xFFFE: (8, 16, 24, 32, 64)}
"""Bits per sample a WAV can hold, by format tag: PCM, IEEE float, extensible."""


def _check_riff(f: BinaryIO, size: int) -> None:
    """Refuse a WAV whose header cannot be true: libsndfile quietly plays what is left of a cut-off file, and
    accepts impossible fields (block align 0, 7 bits per sample). A data chunk that promises more bytes than
    the file holds is called truncated (0xFFFFFFFF is the streaming writers' "unknown")."""
    f.seek(0)
    head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    offset = 12
    while offset + 8 <= size:
        f.seek(offset)
        chunk = f.read(8)
        kind, length = chunk[:4], int.from_bytes(chunk[4:8], "little")
        if kind == b"fmt ":
            _check_wav_format(f.read(min(length, 40)))
        elif kind == b"data":
            available = size - offset - 8
            if length != 0xFFFFFFFF and length > available:
                raise BadClip(
                    f"the WAV file is truncated: its header promises {length} bytes of audio "
                    f"but only {available} are there",
                )
            return
        offset += 8 + length + (length & 1)


def _check_wav_format(fmt: bytes) -> None:
    if len(fmt) < 16:
        raise BadClip("the WAV header is damaged: its format chunk is too short")
    tag, channels, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", fmt[:16])
    problem = None
    if channels == 0 or rate == 0:
        problem = f"{channels} channels at {rate} Hz"
    elif tag in _WAV_BITS:
        if bits not in _WAV_BITS[tag]:
            problem = f"{bits} bits per sample"
        elif align != channels * bits // 8:
            problem = f"block align {align} for {channels} channel(s) of {bits}-bit samples"
        elif byte_rate != rate * align:
            problem = f"{byte_rate} bytes per second for {rate} Hz with block align {align}"
        elif tag == 0xFFFE and len(fmt) >= 20 and not 0 < int.from_bytes(fmt[18:20], "little") <= bits:
            problem = f"{int.from_bytes(fmt[18:20], 'little')} valid bits in {bits}-bit samples"
    elif align == 0:
        problem = "block align 0"
    if problem:
        raise BadClip(f"the WAV header is impossible ({problem}); the file is damaged or was not written as a WAV")


class _Resampler:
    """Band-limited (FFT) resampling of a clip that arrives block by block. Linear interpolation (fine for
    playback) would alias a 44.1/48 kHz clip into the cloned voice; one FFT over the whole clip would need the
    whole clip in memory at the source rate. So each segment of about a second is resampled together with a
    margin either side whose output is dropped: segment edges carry no wrap-around artefacts, and segments
    start on input samples that map exactly onto output samples."""

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        g = math.gcd(src_rate, dst_rate)
        self.step_in, self.step_out = src_rate // g, dst_rate // g
        self.margin = self.step_in * math.ceil(0.05 * src_rate / self.step_in)
        self.segment = self.step_in * math.ceil(src_rate / self.step_in)
        self._pending = np.zeros(self.margin, np.float64)  # the left margin of the first segment: silence
        self._received = 0

    def _out(self, n_in: int) -> int:
        return n_in * self.step_out // self.step_in

    def _window(self, window: np.ndarray, keep_from: int, keep: int) -> np.ndarray:
        n_out = self._out(window.size)
        spectrum = np.fft.rfft(window)
        out = np.zeros(n_out // 2 + 1, dtype=np.complex128)
        k = min(out.size, spectrum.size)
        out[:k] = spectrum[:k]
        return (np.fft.irfft(out, n_out) * (n_out / window.size))[keep_from : keep_from + keep].astype(np.float32)

    def feed(self, mono: np.ndarray) -> list[np.ndarray]:
        self._received += mono.size
        self._pending = np.concatenate([self._pending, mono.astype(np.float64)])
        pieces = []
        span = self.margin + self.segment + self.margin
        while self._pending.size >= span:
            pieces.append(self._window(self._pending[:span], self._out(self.margin), self._out(self.segment)))
            self._pending = self._pending[self.segment :]
        return pieces

    def flush(self) -> list[np.ndarray]:
        """What is left, padded with silence to whole steps; as many output samples as the input's length."""
        rest = self._pending.size - self.margin
        if rest <= 0:
            return []
        whole = self.step_in * math.ceil(rest / self.step_in)
        window = np.concatenate([self._pending, np.zeros(whole - rest + self.margin)])
        done = self._out(self._received - rest)
        total = round(self._received * self.step_out / self.step_in)
        return [self._window(window, self._out(self.margin), total - done)]


def decode_clip(data: bytes | BinaryIO) -> tuple[np.ndarray, float]:
    """An uploaded file (bytes or a binary file) as float32 mono PCM at ``CLIP_RATE`` and its length in
    seconds; or a 400 that says what is wrong (not audio, empty, truncated, impossible header, a sample
    rate, channel count or length beyond the limits, too short to clone, silent). At most
    ``DECODES_AT_ONCE`` uploads decode at a time (429 after ``DECODE_WAIT`` s)."""
    f = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    size = f.seek(0, io.SEEK_END)
    if not size:
        raise BadClip("the file is empty (0 bytes)")
    _check_riff(f, size)
    f.seek(0)
    if not _decoding.acquire(timeout=DECODE_WAIT):
        raise TooManyJobs("Vox is decoding other uploads right now. Try again in a moment.", retry_after=2)
    try:
        return _decode(f)
    finally:
        _decoding.release()


def _decode(file: BinaryIO) -> tuple[np.ndarray, float]:
    try:
        f = soundfile.SoundFile(file)
    except (RuntimeError, ValueError, TypeError, OSError, EOFError):
        raise BadClip(f"the file is not audio Vox can read ({READABLE})") from None
    with f:
        rate, channels, declared = f.samplerate, f.channels, max(f.frames, 0)
        if rate < MIN_SOURCE_RATE:
            raise BadClip(f"the clip's sample rate is {rate} Hz; a voice clip needs {MIN_SOURCE_RATE} Hz or more")
        if rate > MAX_SOURCE_RATE:
            raise BadClip(f"the clip's sample rate is {rate} Hz; Vox takes clips up to {MAX_SOURCE_RATE} Hz "
                          "(44.1 or 48 kHz is plenty for a voice)")  # fmt: skip
        if not 1 <= channels <= MAX_CHANNELS:
            raise BadClip(f"the clip has {channels} channels; Vox takes clips with 1 to {MAX_CHANNELS} "
                          "(a voice needs one)")  # fmt: skip
        limit = int((MAX_CLIP_SECONDS + 1) * rate)
        if declared > limit:
            raise BadClip(_too_long(declared / rate))
        resampler = _Resampler(rate, CLIP_RATE)
        pieces: list[np.ndarray] = []
        frames, peak, block = 0, 0.0, max(1, int(BLOCK_SECONDS * rate))
        while True:
            try:
                pcm = f.read(frames=min(block, limit + 1 - frames), dtype="float32", always_2d=True)
            except (RuntimeError, ValueError, OSError, EOFError) as e:
                raise BadClip(f"the file is truncated or damaged: {e}") from None
            if not pcm.shape[0]:
                break
            frames += pcm.shape[0]
            if frames > limit:
                raise BadClip(_too_long(frames / rate))
            mono = np.nan_to_num(pcm.mean(axis=1), nan=0.0, posinf=0.0, neginf=0.0)
            del pcm
            peak = max(peak, float(np.max(np.abs(mono))))
            pieces.extend(resampler.feed(mono))
        pieces.extend(resampler.flush())
    if declared and frames < declared - max(0.02 * declared, 0.05 * rate):
        raise BadClip(
            f"the file is truncated: its header promises {declared / rate:.1f} s but only "
            f"{frames / rate:.1f} s of audio is there",
        )
    if frames == 0:
        raise BadClip("the file contains no audio (it is empty or truncated)")
    seconds = frames / rate
    if seconds > MAX_CLIP_SECONDS:
        raise BadClip(_too_long(seconds))
    if seconds <= MIN_CLIP_SECONDS:
        raise BadClip(
            f"the clip is {seconds:.1f} s long; Chatterbox Turbo needs more than {MIN_CLIP_SECONDS:g} s of speech "
            "to clone a voice (10 to 20 s of clear speech works best)",
        )
    if peak < 1e-3:
        raise BadClip(f"the clip is silent ({seconds:.1f} s with no sound)")
    mono = np.concatenate(pieces)
    out_peak = float(np.max(np.abs(mono)))
    if out_peak > 0.999:
        mono = mono * (0.999 / out_peak)
    return mono, seconds


def _too_long(seconds: float) -> str:
    return (
        f"the clip is {seconds:.1f} s long; the limit is {MAX_CLIP_SECONDS:g} s "
        "(cloning uses the first seconds only: trim it to 10 to 30 s of clear speech)"
    )
