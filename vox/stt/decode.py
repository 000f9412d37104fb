"""Any audio file a client uploads for transcription, decoded to 16 kHz mono float32 with bounded cost.

PyAV (FFmpeg; installed with faster-whisper) reads WAV, FLAC, MP3, OGG/Opus, WebM, M4A and the rest. The
decoded audio is capped at ``max_seconds`` while decoding (a small file that decodes to hours is refused
at the cap, not after filling memory), and a file FFmpeg cannot read is a 400 that says which formats work.
"""

from __future__ import annotations

import io

import numpy as np

from vox.errors import BadClip, TooLarge
from vox.stt.base import RATE

FORMATS = "WAV, FLAC, MP3, OGG, Opus, WebM, M4A or MP4 audio"


def decode_audio(data: bytes, max_seconds: float) -> np.ndarray:
    import av

    limit = int(max_seconds * RATE)
    pieces: list[np.ndarray] = []
    total = 0
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise BadClip(f"The file has no audio in it. Send {FORMATS}.")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pcm = out.to_ndarray().reshape(-1)
                    total += pcm.size
                    if total > limit:
                        raise TooLarge(f"The audio is longer than {max_seconds / 60:g} minutes; send a shorter "
                                       "file or split it.")  # fmt: skip
                    pieces.append(pcm)
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
    except (BadClip, TooLarge):
        raise
    except Exception:  # av.error.*: not audio, truncated, an unknown codec
        raise BadClip(f"The file could not be read as audio. Send {FORMATS}.") from None
    if not pieces:
        raise BadClip(f"The file holds no audio samples. Send {FORMATS}.")
    return (np.concatenate(pieces)[:limit].astype(np.float32) / 32768.0).astype(np.float32)
