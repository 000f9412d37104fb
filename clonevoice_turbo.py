"""The engine facade, with the predecessor's names, for programs that import Vox.

    import clonevoice_turbo as vox
    wav = vox.generate_tts_wav("Hello there.")              # one WAV, bytes
    for idx, total, wav in vox.generate_tts_wav_streamed(reply): ...
    vox.speak_sentences_grouped(reply)                      # host speakers
    vox.stop_current_tts(); vox.shutdown_tts()

Everything here goes through the same Runtime as the HTTP server (vox/runtime.py), so a stop from any
side cancels the same job.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from vox.audio.pcm import wav_bytes
from vox.engines.base import Engine
from vox.runtime import get_runtime
from vox.text import SentenceStream, normalize_for_speech, speech_chunks, split_sentences

__all__ = [
    "SentenceStream",
    "_get_model",
    "generate_tts_wav",
    "generate_tts_wav_streamed",
    "is_speaking",
    "normalize_for_speech",
    "shutdown_tts",
    "speak_sentences_grouped",
    "speech_chunks",
    "split_sentences",
    "stop_current_tts",
]


def _get_model() -> Engine:
    """The current engine, loaded lazily and once, whatever the number of threads asking."""
    return get_runtime().engines.get()


def generate_tts_wav(text: str, voice: str | None = None, **opts) -> bytes:
    """The whole reply as one WAV. ``opts``: speed, lang."""
    pcm, rate = get_runtime().synthesize_all(text, voice_id=voice, **opts)
    return wav_bytes(pcm, rate)


def generate_tts_wav_streamed(text: str, voice: str | None = None, **opts) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(idx, total, wav_bytes)`` per chunk as it is synthesised; stops when the reply is cancelled.
    ``total`` is 0: chunks are sized as synthesis goes (``chunking.adaptive = false`` gives the count)."""
    gen = get_runtime().speak(text, voice, **opts)
    try:
        idx, parts, rate = 0, [], 0
        for chunk in gen:
            if chunk is None:
                continue
            if chunk.idx != idx and parts:
                yield idx, gen.total or 0, wav_bytes(np.concatenate(parts), rate)
                parts = []
            idx, rate = chunk.idx, chunk.sample_rate
            parts.append(chunk.audio)
        if parts and gen.completed:
            yield idx, gen.total or 0, wav_bytes(np.concatenate(parts), rate)
    finally:
        gen.close()


def speak_sentences_grouped(text: str, voice: str | None = None, wait: bool = True, **opts) -> None:
    """Speak on the host's speakers: generation runs ahead of one continuous output stream."""
    from vox.speakers import playback as speakers

    speakers.speak(get_runtime(), text, voice_id=voice, wait=wait, **opts)


def stop_current_tts() -> list[str]:
    """Stop what is speaking (browser stream, whole WAV or speakers); returns the cancelled job ids."""
    return get_runtime().stop()


def shutdown_tts() -> None:
    """Stop everything and free the engine's memory."""
    get_runtime().shutdown()


def is_speaking() -> bool:
    return get_runtime().is_speaking()
