"""Speaking: SSE stream, whole WAV, stop, stop-all, engines (load, unload, list) and status."""

from __future__ import annotations

import threading
import time

import psutil
from flask import Blueprint, Response, jsonify, request

from vox.audio.encoders import FORMAT_NAMES, FORMATS, content_type, encode_whole
from vox.engines import ENGINE_NAMES
from vox.errors import InvalidRequest
from vox.jobs.controller import StopReason
from vox.reply.generation import Generation
from vox.reply.stream_events import chunk_event, done_event, error_event
from vox.web.routes import body, client_gone_probe, named_session, runtime, session, speak_body, sse

bp = Blueprint("speech", __name__)
HEARTBEAT = 0.25
"""Seconds between SSE keep-alive comments: a write is how a vanished client is noticed."""
STARTED = time.time()


def sse_events(gen: Generation):
    """One message per chunk, then ``done`` (or ``error``); closing the stream stops the reply."""
    reason = StopReason.CLIENT_GONE
    try:
        for chunk in gen:
            yield ": keep-alive\n\n" if chunk is None else sse(chunk_event(chunk))
        yield sse(done_event(gen))
    except Exception as e:
        reason = StopReason.ERROR
        yield sse(error_event(e, gen.job.id))
    finally:
        gen.close(reason)


@bp.post("/api/vox_speak_wav_stream")
def speak_stream():
    req = speak_body()
    gen = runtime().speak(req.text, session=session(), heartbeat=HEARTBEAT, **req.speak_args())
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Vox-Job": gen.job.id}
    return Response(sse_events(gen), mimetype="text/event-stream", headers=headers)


def audio_format(data: dict) -> str:
    """The file format a request asks for: its ``format`` field, else the best audio type its ``Accept`` header
    names, else WAV."""
    fmt = data.get("format")
    if fmt is not None:
        if fmt not in FORMAT_NAMES:
            raise InvalidRequest(f"'format' must be one of {', '.join(FORMAT_NAMES)}, not {fmt!r}.")
        return fmt
    types = [FORMATS[name].content_type for name in FORMAT_NAMES]  # wav first: what */* gets
    best = request.accept_mimetypes.best_match(types)
    return next((name for name in FORMAT_NAMES if FORMATS[name].content_type == best), "wav")


@bp.post("/api/vox_speak_wav")
def speak_wav():
    data = body()
    req = speak_body(data)
    fmt = audio_format(data)
    pcm, rate = runtime().synthesize_all(req.text, client_gone=client_gone_probe(), session=session(),
                                         **req.speak_args())  # fmt: skip
    return Response(encode_whole(fmt, pcm, rate), content_type=content_type(fmt, rate),
                    headers={"X-Sample-Rate": str(rate)})  # fmt: skip


@bp.post("/api/vox_stop")
@bp.post("/api/vox_stop_speak")
def stop():
    """Stop speaking in the request's session and the shared default one; with no session named, everywhere."""
    rt = runtime()
    return jsonify(ok=True, stopped=rt.stop(named_session()), speaking=rt.is_speaking())


@bp.post("/api/stop_all_vox")
def stop_all():
    """Stop everything in the request's session and the shared default one; with no session named, in every
    session (the desktop's scripts; a server's administrator has /api/admin/stop_all)."""
    rt = runtime()
    return jsonify(ok=True, stopped=rt.stop_all(session=named_session()), speaking=rt.is_speaking())


@bp.get("/api/tts_is_speaking")
def is_speaking():
    return jsonify(speaking=runtime().is_speaking())


def _load(name: str):
    return jsonify(ok=True, **runtime().load(name))


@bp.post("/api/tts_load")
def load_engine():
    name = body(allow_empty=True).get("engine", runtime().config.engine.name)
    if name not in ENGINE_NAMES:
        raise InvalidRequest(f"There is no engine called {name!r}. Choose one of: {', '.join(ENGINE_NAMES)}.")
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
    return jsonify(ok=True, unloaded=rt.unload(), **rt.engines.status())


@bp.get("/api/engines")
def engines():
    """Every engine: what it can do and whether it can run here, before anyone tries to load it."""
    rt = runtime()
    return jsonify(engines=rt.engines_info(), current=rt.engines.active_name)


@bp.get("/api/status")
def status():
    rt = runtime()
    rss = psutil.Process().memory_info().rss
    return jsonify(
        **rt.engines.status(),
        speaking=rt.is_speaking(),
        busy=rt.engines.turns.busy,
        memory_mb=round(rss / 2**20, 1),
        uptime_s=round(time.time() - STARTED, 1),
        engine_loads=rt.engines.loads,
        threads=threading.active_count(),
        pages=rt.hub.listeners,
        stt=rt.stt.status(),
        listening=[stream.info() for stream in rt.listening.streams()],
    )


@bp.get("/health")
def health():
    return jsonify(ok=True)
