"""Host speakers: speak on the machine's output device, and list the devices."""

from __future__ import annotations

import time

from flask import Blueprint, jsonify, request

from vox import speakers
from vox.engines.base import EngineUnavailable
from vox.routes import body, runtime
from vox.validate import ApiError, speak_request

bp = Blueprint("speakers", __name__)


@bp.record_once
def _prepare(state) -> None:
    """When the app is made: PortAudio loads in the background, so the first reply does not wait for it."""
    speakers.prepare(state.app.extensions["vox"].config)


def _flag(name: str) -> bool:
    return request.args.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@bp.post("/api/vox_speak")
def speak():
    """Answers once playback has started (``?wait=true``: once it ended); 503 when the host cannot play."""
    rt = runtime()
    req = speak_request(body(), rt.config.server.max_text_chars)
    t0 = time.monotonic()
    try:
        playback = speakers.speak(rt, req.text, req.voice, wait=_flag("wait"), speed=req.speed, lang=req.lang)
    except speakers.SpeakersUnavailable as e:
        raise ApiError(503, str(e), speakers=False) from None
    except EngineUnavailable as e:
        raise ApiError(503, str(e), engine=rt.engines.active_name) from None
    started, chunk = playback.first_audio_at, playback.first_chunk_at
    return jsonify(
        ok=True,
        **playback.summary(),
        started_ms=round(1000 * (started - t0), 1) if started is not None else None,
        first_chunk_ms=round(1000 * (chunk - t0), 1) if chunk is not None else None,
    )


@bp.get("/api/audio_devices")
def audio_devices():
    """Output devices, the system default and the one ``[speakers] device`` selects (``available``)."""
    return jsonify(speakers.list_devices(runtime().config.speakers.device))
