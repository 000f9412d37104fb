"""The streaming encoders (vox/audio/encoders.py) on real Piper speech, decoded again with PyAV and soundfile."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest
import soundfile

from vox.audio.encoders import FORMAT_NAMES, FORMATS, content_type, encode_whole, encoder, format_for_content_type
from vox.audio.pcm import rms, wav_bytes
from vox.engines import SynthesisOptions
from vox.engines.piper import PiperEngine
from vox.jobs.cancel import Cancel

CONTAINERS = {"mp3": "mp3", "opus": "ogg", "aac": "aac", "flac": "flac", "wav": "wav"}


@pytest.fixture(scope="module")
def speech() -> tuple[list[np.ndarray], int]:
    """Three chunks of real speech, as the pipeline hands them to a sink."""
    engine = PiperEngine()
    engine.load()
    texts = ["Sure,", "here is the plan for tomorrow morning.", "We start at nine, then review the new screens."]
    chunks = [np.concatenate(list(engine.synthesize(t, None, SynthesisOptions(), Cancel()))) for t in texts]
    engine.unload()
    return chunks, engine.sample_rate


def decode(data: bytes, name: str, rate: int) -> tuple[np.ndarray, int]:
    """Float mono samples and their rate, decoded independently of the encoder."""
    if name == "pcm":
        return np.frombuffer(data, "<i2").astype(np.float32) / 32768, rate
    with av.open(io.BytesIO(data), format=CONTAINERS[name]) as container:
        frames = [f.to_ndarray().astype(np.float32).reshape(-1) for f in container.decode(audio=0)]
        out_rate = container.streams.audio[0].rate
    pcm = np.concatenate(frames) if frames else np.zeros(0, np.float32)
    return (pcm / 32768 if np.abs(pcm).max(initial=0) > 2 else pcm), out_rate


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_streamed_chunks_decode_to_the_whole_reply(speech, name):
    chunks, rate = speech
    enc = encoder(name, rate)
    parts = [enc.feed(c) for c in chunks] + [enc.finish()]
    pcm, out_rate = decode(b"".join(parts), name, rate)
    expected = sum(len(c) for c in chunks) / rate
    assert abs(len(pcm) / out_rate - expected) < 0.15, f"{name}: {len(pcm) / out_rate:.2f} s vs {expected:.2f} s"
    assert rms(pcm) > 0.02, f"{name} decoded to silence"


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_a_chunk_leaves_the_encoder_before_the_next_one_arrives(speech, name):
    """At most one chunk of delay: what feed() returns for the first chunk already decodes to most of it."""
    chunks, rate = speech
    enc = encoder(name, rate)
    first = enc.feed(chunks[1])
    pcm, out_rate = decode(first, name, rate)
    assert len(pcm) / out_rate > 0.7 * len(chunks[1]) / rate, name
    enc.close()


def test_whole_wav_is_what_vox_always_sent(speech):
    chunks, rate = speech
    pcm = np.concatenate(chunks)
    assert encode_whole("wav", pcm, rate) == wav_bytes(pcm, rate)
    with wave.open(io.BytesIO(encode_whole("wav", pcm, rate))) as w:
        assert w.getnframes() == len(pcm) and w.getframerate() == rate


def test_streamed_wav_reads_to_the_end_in_soundfile(speech):
    chunks, rate = speech
    enc = encoder("wav", rate)
    data = b"".join(enc.feed(c) for c in chunks) + enc.finish()
    pcm, got_rate = soundfile.read(io.BytesIO(data), dtype="float32")
    assert got_rate == rate and len(pcm) == sum(len(c) for c in chunks)


def test_flac_and_opus_read_in_soundfile(speech):
    chunks, rate = speech
    for name in ("flac", "opus"):
        pcm, got_rate = soundfile.read(io.BytesIO(encode_whole(name, np.concatenate(chunks), rate)), dtype="float32")
        assert abs(len(pcm) / got_rate - sum(len(c) for c in chunks) / rate) < 0.1 and rms(pcm) > 0.02


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_a_reply_stopped_before_any_audio_finishes_cleanly(name):
    """Every encoder finishes (or closes) with nothing fed; WAV is then a bare header."""
    data = encoder(name, 22050).finish()
    if name == "wav":
        assert data == encoder("wav", 22050).feed(np.zeros(0, np.float32))
        assert len(data) == 44
    encoder(name, 22050).close()
    assert isinstance(encode_whole(name, np.zeros(0, np.float32), 22050), bytes)


def test_content_types_and_accept_names():
    assert content_type("mp3", 22050) == "audio/mpeg"
    assert "rate=22050" in content_type("pcm", 22050)
    for name in FORMAT_NAMES:
        assert format_for_content_type(FORMATS[name].content_type) == name
    assert format_for_content_type("audio/x-wav") == "wav" and format_for_content_type("text/html") is None
