"""Decoding an uploaded voice clip: any common audio file in, 24 kHz mono float32 out, or a BadClip that
says what is wrong with the file."""

from __future__ import annotations

import io

import numpy as np
import soundfile

from vox.errors import BadClip

CLIP_RATE = 24000
"""Uploaded clips are stored at Chatterbox's sample rate."""
MIN_CLIP_SECONDS = 5.0
"""Chatterbox Turbo refuses reference clips of 5 s or less."""
MAX_CLIP_SECONDS = 60.0
"""Cloning uses the first seconds only; a longer clip is almost always the wrong file."""
MIN_SOURCE_RATE = 8000
READABLE = "wav, flac, ogg, mp3"


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
                raise BadClip(
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
        raise BadClip("the file is empty (0 bytes)")
    _check_riff(data)
    try:
        f = soundfile.SoundFile(io.BytesIO(data))
    except (RuntimeError, ValueError, TypeError, OSError, EOFError):
        raise BadClip(f"the file is not audio Vox can read ({READABLE})") from None
    with f:
        rate, declared = f.samplerate, max(f.frames, 0)
        if rate < MIN_SOURCE_RATE:
            raise BadClip(f"the clip's sample rate is {rate} Hz; a voice clip needs {MIN_SOURCE_RATE} Hz or more")
        if declared > (MAX_CLIP_SECONDS + 1) * rate:
            raise BadClip(_too_long(declared / rate))
        try:
            pcm = f.read(frames=int((MAX_CLIP_SECONDS + 1) * rate), dtype="float32", always_2d=True)
        except (RuntimeError, ValueError, OSError, EOFError) as e:
            raise BadClip(f"the file is truncated or damaged: {e}") from None
    frames = pcm.shape[0]
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
    mono = np.nan_to_num(pcm.mean(axis=1), nan=0.0, posinf=0.0, neginf=0.0)
    if float(np.max(np.abs(mono))) < 1e-3:
        raise BadClip(f"the clip is silent ({seconds:.1f} s with no sound)")
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
