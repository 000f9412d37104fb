"""Talking to Vox: the page streams its microphone here (vox/listening/streams.py says why small POSTs).

    POST   /api/stt_load              load the recogniser now (the page asks when the Chat tab opens)
    POST   /api/listen                {"mode": "push"|"hands_free", "language"?}  -> {"id", "rate": 16000, ...}
    POST   /api/listen/<id>/audio     16-bit little-endian mono PCM at 16 kHz (application/octet-stream),
                                      ?level=<dBFS the page is playing>        -> {"events": [...], "speaking"}
    POST   /api/listen/<id>/end       push-to-talk released                    -> {"final": {"text", ...}}
    DELETE /api/listen/<id>           stop listening (the microphone was turned off or lost)
"""

from __future__ import annotations

import logging
import math

from flask import Blueprint, jsonify, request

from vox.errors import InvalidRequest
from vox.listening.turns import NO_PLAYBACK_DB
from vox.web.routes import body, runtime, session

bp = Blueprint("listen", __name__)
AUDIO_TYPES = ("application/octet-stream", "audio/l16", "audio/pcm")


class _QuietAudioPosts(logging.Filter):
    """A listening page posts audio 50 times a second: the access log keeps only the ones that failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("/api/listen/" in message and "/audio " in message and '" 200 ' in message)


logging.getLogger("werkzeug").addFilter(_QuietAudioPosts())


@bp.post("/api/stt_load")
def load_recogniser():
    rt = runtime()
    rt.stt.get()
    return jsonify(ok=True, **rt.stt.status())


@bp.post("/api/listen")
def open_stream():
    data = body(allow_empty=True)
    mode = data.get("mode", "push")
    language = data.get("language") or None
    if language is not None and (not isinstance(language, str) or not 2 <= len(language) <= 8
                                 or not language.replace("-", "").isalpha()):  # fmt: skip
        raise InvalidRequest("'language' must be a language code such as en or fr.")
    stream = runtime().listen(mode if isinstance(mode, str) else "", session(), language)
    return jsonify(**stream.info(), stt=runtime().stt.status())


def _level() -> float | None:
    raw = request.args.get("level")
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidRequest("'level' must be the playback level in dBFS, a number such as -30.") from None
    if not math.isfinite(value):
        return None
    return min(20.0, max(NO_PLAYBACK_DB, value))


@bp.post("/api/listen/<stream_id>/audio")
def audio(stream_id: str):
    stream = runtime().listening.get(stream_id)
    kind = (request.mimetype or "").lower()
    if kind not in AUDIO_TYPES:
        raise InvalidRequest("Send the microphone audio as application/octet-stream: 16-bit mono PCM at 16 kHz.")
    return jsonify(stream.feed(request.get_data(cache=False), _level()))


@bp.post("/api/listen/<stream_id>/end")
def end(stream_id: str):
    return jsonify(runtime().listening.get(stream_id).end_turn())


@bp.delete("/api/listen/<stream_id>")
def close(stream_id: str):
    stream = runtime().listening.get(stream_id)
    stream.close("stopped by the page")
    return jsonify(ok=True, **stream.info())
