"""Speaking: SSE stream, whole WAV, stop, stop-all, engine load/unload and status."""

from __future__ import annotations

import base64
import threading
import time

import psutil
from flask import Blueprint, Response, jsonify

from vox.audio import wav_bytes
from vox.engines.base import EngineUnavailable
from vox.live import sse
from vox.pipeline import Chunk, Generation
from vox.routes import body, runtime
from vox.validate import ApiError, speak_request

bp = Blueprint("speech", __name__)
HEARTBEAT = 0.25
"""Seconds between SSE keep-alive comments: a write is how a vanished client is noticed."""
STARTED = time.time()


def chunk_message(chunk: Chunk) -> str:
    """The SSE message of one chunk of audio: a base64 WAV and what it says."""
    return sse({
        "idx": chunk.idx,
        "total": chunk.total,
        "part": chunk.part,
        "text": chunk.text,
        "sample_rate": chunk.sample_rate,
        "job": chunk.job_id,
        "audio": base64.b64encode(wav_bytes(chunk.audio, chunk.sample_rate)).decode("ascii"),
    })


def sse_events(gen: Generation):
    """One message per chunk, then ``done`` (or ``error``); closing the stream cancels the reply."""
    job = gen.job
    try:
        for chunk in gen:
            yield ": keep-alive\n\n" if chunk is None else chunk_message(chunk)
        yield sse({"done": True, "chunks": gen.chunks_done, "stopped": not gen.completed, "job": job.id})
    except Exception as e:
        yield sse({"error": str(e) or type(e).__name__, "job": job.id})
    finally:
        gen.close()


@bp.post("/api/vox_speak_wav_stream")
def speak_stream():
    rt = runtime()
    req = speak_request(body(), rt.config.server.max_text_chars)
    gen = rt.speak(req.text, req.voice, req.speed, req.lang, heartbeat=HEARTBEAT)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Vox-Job": gen.job.id}
    return Response(sse_events(gen), mimetype="text/event-stream", headers=headers)


@bp.post("/api/vox_speak_wav")
def speak_wav():
    rt = runtime()
    req = speak_request(body(), rt.config.server.max_text_chars)
    pcm, rate = rt.synthesize_all(req.text, voice_id=req.voice, speed=req.speed, lang=req.lang)
    return Response(wav_bytes(pcm, rate), mimetype="audio/wav")


@bp.post("/api/vox_stop")
@bp.post("/api/vox_stop_speak")
def stop():
    rt = runtime()
    return jsonify(ok=True, stopped=rt.jobs.stop(), speaking=rt.is_speaking())


@bp.post("/api/stop_all_vox")
def stop_all():
    rt = runtime()
    return jsonify(ok=True, stopped=rt.jobs.stop_all(), speaking=rt.is_speaking())


@bp.get("/api/tts_is_speaking")
def is_speaking():
    return jsonify(speaking=runtime().is_speaking())


def _load(name: str):
    rt = runtime()
    try:
        rt.engines.switch(name)
    except EngineUnavailable as e:
        raise ApiError(503, str(e), engine=name, current=rt.engines.active_name) from None
    return jsonify(ok=True, **rt.engines.status())


@bp.post("/api/tts_load")
def load_engine():
    name = body(allow_empty=True).get("engine", runtime().config.engine.name)
    if name not in ("piper", "turbo", "multilingual"):
        raise ApiError(400, f"unknown engine {name!r}; choose piper, turbo or multilingual")
    return _load(name)


@bp.post("/api/tts_load_turbo")
def load_turbo():
    return _load("turbo")


@bp.post("/api/tts_load_multilingual")
def load_multilingual():
    return _load("multilingual")


@bp.post("/api/unload_tts")
@bp.post("/api/tts_unload")
def unload():
    rt = runtime()
    rt.jobs.stop()
    return jsonify(ok=True, unloaded=rt.engines.unload(), **rt.engines.status())


@bp.get("/api/status")
def status():
    rt = runtime()
    rss = psutil.Process().memory_info().rss
    return jsonify(
        **rt.engines.status(),
        speaking=rt.is_speaking(),
        busy=rt.engines.synth_lock.locked(),
        memory_mb=round(rss / 2**20, 1),
        uptime_s=round(time.time() - STARTED, 1),
        engine_loads=rt.engines.loads,
        threads=threading.active_count(),
        pages=rt.hub.listeners,
    )


@bp.get("/health")
def health():
    return jsonify(ok=True)
