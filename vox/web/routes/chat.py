"""Chat with a local LLM (vox/chat/conversation.py): one SSE stream carries the reply's tokens and its audio."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from vox.errors import InvalidRequest
from vox.reply.generation import Chunk
from vox.reply.stream_events import chunk_event
from vox.web.routes import body, runtime, session, speak_body, sse

bp = Blueprint("chat", __name__)


def _frame(events):
    try:
        for event in events:
            if isinstance(event, Chunk):
                yield sse(chunk_event(event))
            elif event.get("keepalive"):
                yield ": keep-alive\n\n"
            else:
                yield sse(event)
    finally:
        events.close()  # the client went away: the turn stops


@bp.post("/api/chat")
def chat():
    data = body()
    if "message" in data and "text" not in data:
        data = {**data, "text": data["message"]}
    req = speak_body(data)
    speak = data.get("speak", True)
    if not isinstance(speak, bool):
        raise InvalidRequest("'speak' must be true or false.")
    events = runtime().chat(req.text, req, speak, session())
    return Response(_frame(events), mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})


@bp.get("/api/chat/history")
def history():
    return jsonify(messages=runtime().chat_history(session()))


@bp.post("/api/chat/heard")
def heard():
    """The page stopped a reply mid-way: ``{"job", "heard"}`` says how much of it (characters of the reply, as
    the server counts them in chunk ``pieces``) the user heard; the history keeps that part, marked."""
    data = body()
    job, chars = data.get("job"), data.get("heard")
    if not isinstance(job, str) or not job:
        raise InvalidRequest("'job' is required: the id of the interrupted reply (its done event says it).")
    if not isinstance(chars, int) or isinstance(chars, bool) or chars < 0:
        raise InvalidRequest("'heard' must be a whole number of characters, 0 or more.")
    return jsonify(ok=True, message=runtime().chat_heard(job, chars, session()))


@bp.delete("/api/chat/history")
def clear_history():
    runtime().clear_chat(session())
    return jsonify(ok=True, messages=[])
