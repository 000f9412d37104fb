"""The events a reply produces for the page and for API clients, as JSON-able dicts.

One shape everywhere: ``/api/vox_speak_wav_stream``, the chat stream and ``/api/live`` all carry these, so the
page has one parser. The routes frame them (Server-Sent Events); nothing here knows about HTTP.
"""

from __future__ import annotations

import base64

from vox.audio.pcm import wav_bytes
from vox.reply.generation import Chunk, Generation


def chunk_event(chunk: Chunk) -> dict:
    """One chunk of audio: a base64 16-bit WAV and what it says. Each of ``pieces`` has its span in the reply
    (``start``, ``end``), its sentence's index, and ``at``: the seconds from the start of this chunk's audio
    (its part 0) to where the piece starts; exact for Piper, estimated for engines that stream a chunk in
    parts (every part repeats the pieces, the later ones better estimated)."""
    return {
        "idx": chunk.idx,
        "total": chunk.total,
        "part": chunk.part,
        "text": chunk.text,
        "sample_rate": chunk.sample_rate,
        "job": chunk.job_id,
        "pieces": [{"text": p.text, "start": p.start, "end": p.end, "sentence": p.sentence, "at": round(at, 3)}
                   for p, at in zip(chunk.pieces, chunk.starts, strict=True)],
        "audio": base64.b64encode(wav_bytes(chunk.audio, chunk.sample_rate)).decode("ascii"),
    }


def done_event(gen: Generation, job_id: str | None = None) -> dict:
    """The reply ended: how many chunks were sent, and whether it was stopped (and why)."""
    job = gen.job
    return {"done": True, "chunks": gen.chunks_done, "stopped": not gen.completed, "job": job_id or job.id,
            "reason": str(job.reason) if job.reason else None}  # fmt: skip


def error_event(error: BaseException, job_id: str) -> dict:
    return {"error": str(error) or "Speaking failed. Try again.", "job": job_id}
