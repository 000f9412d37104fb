"""Host speakers: speak on the machine's output device, and list the devices."""

from __future__ import annotations

import time

from flask import Blueprint, jsonify, request

from vox.speakers import playback as speakers
from vox.web.routes import runtime, session, speak_body

bp = Blueprint("speakers", __name__)


def _flag(name: str) -> bool:
    return request.args.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@bp.post("/api/vox_speak")
def speak():
    """Answers once playback has started (``?wait=true``: once it ended); 503 when the host cannot play."""
    req = speak_body()
    t0 = time.monotonic()
    playback = speakers.speak(runtime(), req.text, wait=_flag("wait"), session=session(), **req.speak_args())
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
