"""Chat with a local LLM: the reply streams into the page token by token and is spoken as it is written.

One SSE response carries both: ``{"token": "..."}`` messages for the view, audio chunk messages (the same
shape as /api/vox_speak_wav_stream) for the player, then ``{"done": true, "reply": text}``. Esc (stop)
silences the voice while the text goes on; stop-all also cancels the LLM request and closes its connection.
"""

from __future__ import annotations

import queue
import threading

from flask import Blueprint, Response, jsonify

from vox.live import TextFeed, sse
from vox.llm import LlmError, stream_chat
from vox.pipeline import POLL
from vox.routes import body, runtime
from vox.routes.speech import chunk_message
from vox.validate import ApiError, speak_request

bp = Blueprint("chat", __name__)
LLM = "llm"
_END = object()


def _read_llm(rt, messages: list[dict], job, feed: TextFeed, tokens: queue.Queue) -> None:
    """The LLM reader thread: every delta goes to the view and to the speech feed."""
    try:
        for delta in stream_chat(rt.config.llm, messages, job):
            tokens.put(delta)
            feed.push(delta)
    except LlmError as e:
        tokens.put(e)
    except Exception as e:  # an unexpected failure still ends the stream with a message
        tokens.put(LlmError(f"the LLM stream failed: {e}"))
    finally:
        feed.end()
        tokens.put(_END)


def chat_events(rt, message: str, voice: str | None, speed: float | None, speak: bool):
    for old in rt.jobs.active(LLM):
        old.stop()
    llm_job = rt.jobs.start(LLM, replace=False)
    feed = TextFeed(rt.chunk_stream())
    try:
        gen = rt.speak(feed, voice, speed, heartbeat=POLL) if speak else None
    except Exception:
        rt.jobs.finish(llm_job)
        raise
    feed.job = gen.job if gen else llm_job
    messages = [{"role": "system", "content": rt.config.llm.system_prompt}, *rt.chat_history,
                {"role": "user", "content": message}]
    tokens: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_read_llm, args=(rt, messages, llm_job, feed, tokens), daemon=True,
                              name=f"vox-llm-{llm_job.id}")
    reader.start()

    def events():
        chunks = iter(gen) if gen else iter(())
        llm_done, speech_done = False, gen is None
        error = None
        try:
            while not (llm_done and speech_done):
                while not llm_done:
                    try:
                        item = tokens.get_nowait() if not speech_done else tokens.get(timeout=POLL)
                    except queue.Empty:
                        break
                    if item is _END:
                        llm_done = True
                    elif isinstance(item, LlmError):
                        error = str(item)
                        yield sse({"error": error, "llm": True})
                    else:
                        yield sse({"token": item})
                if not speech_done:
                    try:
                        chunk = next(chunks)
                    except StopIteration:
                        speech_done = True
                    except Exception as e:
                        speech_done = True
                        yield sse({"error": f"speech failed: {e}"})
                    else:
                        yield ": keep-alive\n\n" if chunk is None else chunk_message(chunk)
            if not error and not llm_job.cancelled:
                rt.chat_history += [{"role": "user", "content": message}, {"role": "assistant", "content": feed.text}]
            yield sse({"done": True, "reply": feed.text, "stopped": llm_job.cancelled, "job": llm_job.id})
        finally:
            llm_job.stop()
            if gen is not None:
                gen.close()
            reader.join(2)
            rt.jobs.finish(llm_job)

    return events()


@bp.post("/api/chat")
def chat():
    rt = runtime()
    data = body()
    if "message" in data and "text" not in data:
        data = {**data, "text": data["message"]}
    req = speak_request(data, rt.config.server.max_text_chars)
    speak = data.get("speak", True)
    if not isinstance(speak, bool):
        raise ApiError(400, "'speak' must be true or false")
    events = chat_events(rt, req.text, req.voice, req.speed, speak)
    return Response(events, mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})


@bp.get("/api/chat/history")
def history():
    return jsonify(messages=runtime().chat_history)


@bp.delete("/api/chat/history")
def clear_history():
    rt = runtime()
    rt.chat_history.clear()
    return jsonify(ok=True, messages=[])
