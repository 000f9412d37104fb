"""Let another program stream a reply into Vox while its own LLM writes it.

    POST   /api/replies                 {"sink": "page"|"speakers", "voice"?, "speed"?}  -> 201 {"id"}
    POST   /api/replies/<id>/text       {"text": "next delta"}                           -> 202
    POST   /api/replies/<id>/end        the reply is complete                            -> 200
    DELETE /api/replies/<id>            cancel it (as stop does)
    GET    /api/live                    SSE for the Vox page: audio of replies pushed to "page"

Speech starts with the first complete sentence; chunks follow as sentences complete.
"""

from __future__ import annotations

import queue
import threading

from flask import Blueprint, Response, jsonify

from vox.live import PushedReply, TextFeed, sse
from vox.routes import body, runtime
from vox.routes.speech import HEARTBEAT, chunk_message
from vox.validate import ApiError

bp = Blueprint("live", __name__)
SINKS = ("page", "speakers")


def _to_page(rt, reply: PushedReply) -> None:
    """Publish a pushed reply's chunks to every open page, then its end."""
    gen = reply.gen
    try:
        for chunk in gen:
            if chunk is not None:
                rt.hub.publish(chunk_message(chunk))
        rt.hub.publish(sse({"done": True, "chunks": gen.chunks_done, "stopped": not gen.completed, "job": reply.id}))
    except Exception as e:
        rt.hub.publish(sse({"error": str(e), "job": reply.id}))
    finally:
        gen.close()
        rt.replies.pop(reply.id, None)


def _reply(reply_id: str) -> PushedReply:
    reply = runtime().replies.get(reply_id)
    if reply is None or reply.gen.job.finished.is_set():
        raise ApiError(404, f"no open reply {reply_id!r} (it ended, was stopped, or never existed)")
    return reply


@bp.post("/api/replies")
def create_reply():
    rt = runtime()
    data = body(allow_empty=True)
    sink = data.get("sink", "page")
    if sink not in SINKS:
        raise ApiError(400, f"'sink' must be one of {', '.join(SINKS)}")
    speed = data.get("speed")
    if speed is not None and (not isinstance(speed, int | float) or isinstance(speed, bool) or not 0.5 <= speed <= 2):
        raise ApiError(400, "'speed' must be a number between 0.5 and 2.0")
    voice = data.get("voice")
    if voice is not None and not isinstance(voice, str):
        raise ApiError(400, "'voice' must be a voice id string")
    if sink == "page" and rt.hub.listeners == 0:
        raise ApiError(409, "no Vox page is open to play this reply; open Vox or use \"sink\": \"speakers\"")
    for old_id in [k for k, r in rt.replies.items() if r.gen.job.finished.is_set()]:
        rt.replies.pop(old_id, None)
    feed = TextFeed(rt.chunk_stream())
    if sink == "speakers":
        from vox import speakers

        try:
            gen = speakers.start(rt, feed, voice, speed=speed).gen
        except speakers.SpeakersUnavailable as e:
            raise ApiError(503, str(e), speakers=False) from None
    else:
        gen = rt.speak(feed, voice, speed)
    feed.job = gen.job
    reply = PushedReply(feed, gen, sink)
    rt.replies[reply.id] = reply
    if sink == "page":
        reply.thread = threading.Thread(target=_to_page, args=(rt, reply), daemon=True, name=f"vox-push-{reply.id}")
        reply.thread.start()
    return jsonify(id=reply.id, sink=sink), 201


@bp.post("/api/replies/<reply_id>/text")
def push_text(reply_id: str):
    reply = _reply(reply_id)
    delta = body().get("text")
    if not isinstance(delta, str):
        raise ApiError(400, "'text' must be a string: the next piece of the reply")
    if "\x00" in delta:
        raise ApiError(400, "'text' contains a NUL character")
    if len(reply.feed.text) + len(delta) > runtime().config.server.max_text_chars:
        raise ApiError(413, "the reply is longer than server.max_text_chars")
    if reply.gen.job.cancelled:
        raise ApiError(409, "this reply was stopped")
    released = reply.feed.push(delta)
    return jsonify(ok=True, sentences=released), 202


@bp.post("/api/replies/<reply_id>/end")
def end_reply(reply_id: str):
    reply = _reply(reply_id)
    released = reply.feed.end()
    return jsonify(ok=True, sentences=released)


@bp.delete("/api/replies/<reply_id>")
def cancel_reply(reply_id: str):
    reply = _reply(reply_id)
    reply.gen.job.stop()
    return jsonify(ok=True)


@bp.get("/api/live")
def live():
    rt = runtime()
    key, messages = rt.hub.subscribe()

    def events():
        try:
            yield ": connected\n\n"
            while True:
                try:
                    yield messages.get(timeout=HEARTBEAT * 4)
                except queue.Empty:
                    yield ": keep-alive\n\n"
        finally:
            rt.hub.unsubscribe(key)

    return Response(events(), mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})
