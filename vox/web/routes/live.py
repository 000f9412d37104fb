"""Let another program stream a reply into Vox while its own LLM writes it.

    POST   /api/replies                 {"sink": "page"|"speakers", "voice"?, "speed"?, "lang"?}  -> 201 {"id"}
    POST   /api/replies/<id>/text       {"text": "next delta"}                                     -> 202
    POST   /api/replies/<id>/end        the reply is complete                                      -> 200
    DELETE /api/replies/<id>            cancel it (as stop does)
    GET    /api/live[?session=ID]       SSE for the Vox page: audio of replies pushed to "page" (the shared
                                        session's, and its own session's), stops

Speech starts with the first complete sentence; chunks follow as sentences complete.
"""

from __future__ import annotations

import queue

from flask import Blueprint, Response, jsonify

from vox.errors import InvalidRequest, TooLarge
from vox.web.routes import body, named_session, runtime, session, speak_body, sse
from vox.web.routes.speech import HEARTBEAT

bp = Blueprint("live", __name__)
SINKS = ("page", "speakers")


@bp.post("/api/replies")
def create_reply():
    data = body(allow_empty=True)
    sink = data.get("sink", "page")
    if sink not in SINKS:
        raise InvalidRequest(f"'sink' must be one of {', '.join(SINKS)}.")
    req = speak_body({**data, "text": "-"})  # the text comes later, delta by delta
    reply = runtime().push_reply(sink, req, session())
    return jsonify(id=reply.id, sink=sink), 201


@bp.post("/api/replies/<reply_id>/text")
def push_text(reply_id: str):
    rt = runtime()
    reply = rt.replies.get(reply_id)
    delta = body().get("text")
    if not isinstance(delta, str):
        raise InvalidRequest("'text' must be a string: the next piece of the reply.")
    if "\x00" in delta:
        raise InvalidRequest("'text' contains a NUL character.")
    if len(reply.feed.text) + len(delta) > rt.config.server.max_text_chars:
        raise TooLarge("The reply is longer than server.max_text_chars.")
    return jsonify(ok=True, sentences=rt.push_text(reply_id, delta)), 202


@bp.post("/api/replies/<reply_id>/end")
def end_reply(reply_id: str):
    return jsonify(ok=True, sentences=runtime().end_reply(reply_id))


@bp.delete("/api/replies/<reply_id>")
def cancel_reply(reply_id: str):
    runtime().cancel_reply(reply_id)
    return jsonify(ok=True)


@bp.get("/api/live")
def live():
    rt = runtime()
    key, messages = rt.hub.subscribe(named_session())

    def events():
        try:
            yield ": connected\n\n"
            while True:
                try:
                    yield sse(messages.get(timeout=HEARTBEAT * 4))
                except queue.Empty:
                    yield ": keep-alive\n\n"
        finally:
            rt.hub.unsubscribe(key)

    return Response(events(), mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})
