"""Audio formats: streaming encoders from float32 PCM to WAV, raw PCM, MP3, Opus (Ogg), AAC (ADTS) and FLAC.

Every sink that hands audio to another program uses these: the OpenAI-compatible speech endpoint, the whole-file
answer of ``/api/vox_speak_wav``, and later downloads and book export. An encoder takes each chunk as it comes
(``feed(pcm) -> bytes``) and says what is left at the end (``finish() -> bytes``); a chunk's bytes come out of
``feed`` at once, less the few milliseconds the codec holds back for its next frame, so streaming adds at most one
chunk of delay. MP3, Opus, AAC and FLAC use PyAV (FFmpeg's encoders, bundled in its wheel: nothing to install
on the system); WAV and PCM are written here, WAV with the "length unknown" size (0xFFFFFFFF) that decoders
read to the end of the stream, since a streamed header is sent before the length is known.
"""

from __future__ import annotations

import io
import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from vox.audio.pcm import to_int16, wav_bytes


@dataclass(frozen=True)
class Format:
    name: str
    content_type: str
    extension: str
    codec: str = ""
    """FFmpeg encoder (PyAV formats only)."""
    container: str = ""
    """FFmpeg muxer (PyAV formats only)."""
    bit_rate: int = 0
    rates: tuple[int, ...] = ()
    """Sample rates the codec accepts; another rate is resampled to the nearest one at or above it."""
    options: tuple[tuple[str, str], ...] = ()
    """Muxer options (Ogg pages of 20 ms instead of 1 s, so Opus leaves the muxer as soon as it is encoded)."""


FORMATS: dict[str, Format] = {
    "wav": Format("wav", "audio/wav", "wav"),
    "pcm": Format("pcm", "audio/pcm", "pcm"),
    "mp3": Format("mp3", "audio/mpeg", "mp3", "libmp3lame", "mp3", 64_000,
                  (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)),
    "opus": Format("opus", "audio/ogg", "opus", "libopus", "ogg", 32_000, (8000, 12000, 16000, 24000, 48000),
                   (("page_duration", "20000"),)),
    "aac": Format("aac", "audio/aac", "aac", "aac", "adts", 64_000,
                  (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)),
    "flac": Format("flac", "audio/flac", "flac", "flac", "flac"),
}  # fmt: skip
"""Every format, by the name requests use (OpenAI's ``response_format`` names)."""
FORMAT_NAMES = tuple(FORMATS)
_BY_CONTENT_TYPE = {f.content_type: f.name for f in FORMATS.values()} | {
    "audio/x-wav": "wav", "audio/wave": "wav", "audio/mp3": "mp3", "audio/opus": "opus", "audio/x-flac": "flac",
    "audio/l16": "pcm",
}  # fmt: skip


def format_for_content_type(content_type: str) -> str | None:
    """The format an ``Accept`` media type names, or None."""
    return _BY_CONTENT_TYPE.get(content_type.split(";")[0].strip().lower())


def content_type(name: str, sample_rate: int) -> str:
    """The Content-Type of a reply in ``name``; raw PCM states its rate and layout."""
    fmt = FORMATS[name]
    if name == "pcm":
        return f"{fmt.content_type};rate={sample_rate};channels=1;bits=16;encoding=signed-int;endianness=little"
    return fmt.content_type


class Encoder(ABC):
    """One reply's audio in one format. Feed every chunk in order, then call ``finish`` once."""

    def __init__(self, fmt: Format, sample_rate: int) -> None:
        self.format, self.sample_rate = fmt, sample_rate

    @abstractmethod
    def feed(self, pcm: np.ndarray) -> bytes:
        """Encode float32 mono PCM at ``sample_rate``; the bytes ready to send now."""

    @abstractmethod
    def finish(self) -> bytes:
        """The remaining bytes (codec flush, trailer)."""

    def close(self) -> None:  # noqa: B027 - most encoders hold nothing to free
        """Free the encoder without finishing it (the reply was stopped); safe after ``finish``."""


class PcmEncoder(Encoder):
    def feed(self, pcm: np.ndarray) -> bytes:
        return to_int16(pcm).tobytes()

    def finish(self) -> bytes:
        return b""


STREAMING_SIZE = 0xFFFFFFFF
"""RIFF and data sizes of a WAV whose length is not known yet: decoders read to the end of the stream."""


def wav_header(sample_rate: int, data_bytes: int = STREAMING_SIZE) -> bytes:
    """A 44-byte header for 16-bit mono PCM."""
    riff = STREAMING_SIZE if data_bytes == STREAMING_SIZE else 36 + data_bytes
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVE" + b"fmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
            + b"data" + struct.pack("<I", data_bytes))  # fmt: skip


class WavEncoder(PcmEncoder):
    """A streamed WAV: the header first, sizes unknown."""

    def __init__(self, fmt: Format, sample_rate: int) -> None:
        super().__init__(fmt, sample_rate)
        self._header = wav_header(sample_rate)

    def feed(self, pcm: np.ndarray) -> bytes:
        header, self._header = self._header, b""
        return header + super().feed(pcm)

    def finish(self) -> bytes:
        header, self._header = self._header, b""  # an empty reply is still a valid (empty) file
        return header


class _Collector:
    """A write-only file for PyAV: what the muxer writes is taken after each packet (no seek, so muxers never
    go back to rewrite a header that has already been sent)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        self._buf += data
        return len(data)

    def take(self) -> bytes:
        data = bytes(self._buf)
        self._buf.clear()
        return data


class _WholeFile(io.BytesIO):
    """A seekable file for a whole reply: muxers go back and write the real length (FLAC's STREAMINFO, the MP3
    Xing header), so every decoder knows the duration. ``take`` gives nothing until the end."""

    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def take(self) -> bytes:
        return self.getvalue() if self.done else b""


class AvEncoder(Encoder):
    """A PyAV (FFmpeg) encoder and muxer writing into memory. PyAV converts the sample format, resamples to the
    codec's rate and cuts frames to the codec's frame size itself."""

    def __init__(self, fmt: Format, sample_rate: int, whole: bool = False) -> None:
        import av

        super().__init__(fmt, sample_rate)
        self._out: _Collector | _WholeFile = _WholeFile() if whole else _Collector()
        self._container = av.open(self._out, mode="w", format=fmt.container, options=dict(fmt.options))
        rate = codec_rate(fmt, sample_rate)
        self._stream = self._container.add_stream(fmt.codec, rate=rate, layout="mono")
        if fmt.bit_rate:
            self._stream.codec_context.bit_rate = fmt.bit_rate
        self._pts = 0
        self._finished = False

    def _frame(self, pcm: np.ndarray):
        import av

        samples = np.ascontiguousarray(pcm, dtype=np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
        frame.sample_rate, frame.pts = self.sample_rate, self._pts
        self._pts += samples.shape[1]
        return frame

    def feed(self, pcm: np.ndarray) -> bytes:
        if pcm.size:
            for packet in self._stream.encode(self._frame(pcm)):
                self._container.mux(packet)
        return self._out.take()

    def finish(self) -> bytes:
        if not self._finished:
            self._finished = True
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
            if isinstance(self._out, _WholeFile):
                self._out.done = True
        return self._out.take()

    def close(self) -> None:
        """Free the codec without finishing (a reply that was stopped)."""
        if not self._finished:
            self._finished = True
            self._container.close()


def codec_rate(fmt: Format, sample_rate: int) -> int:
    """The rate ``fmt`` encodes ``sample_rate`` audio at: the same when the codec accepts it, else the lowest
    accepted rate above it (Opus takes 22.05 kHz Piper audio at 24 kHz)."""
    if not fmt.rates or sample_rate in fmt.rates:
        return sample_rate
    return next((r for r in fmt.rates if r >= sample_rate), fmt.rates[-1])


def encoder(name: str, sample_rate: int) -> Encoder:
    """A streaming encoder for format ``name`` (one of FORMAT_NAMES)."""
    fmt = FORMATS[name]
    if name == "wav":
        return WavEncoder(fmt, sample_rate)
    if name == "pcm":
        return PcmEncoder(fmt, sample_rate)
    return AvEncoder(fmt, sample_rate)


def encode_whole(name: str, pcm: np.ndarray, sample_rate: int) -> bytes:
    """A whole reply as one file, its length in its header (for WAV the bytes ``wav_bytes`` always made)."""
    if name == "wav":
        return wav_bytes(pcm, sample_rate)
    if name == "pcm":
        return PcmEncoder(FORMATS[name], sample_rate).feed(pcm)
    enc = AvEncoder(FORMATS[name], sample_rate, whole=True)
    return enc.feed(pcm) + enc.finish()
