"""Chat with a local LLM: the reply streams into the page token by token and is spoken as it is written.

A turn is two jobs: an LLM job (the reader thread pulling deltas from the LLM server) and, when the reply is
spoken, a speech job fed by the same deltas. One event stream carries both: ``{"token"}`` events for the
view, audio chunks for the player, then ``{"done", "reply"}``. Stop (Esc) silences the voice while the text
goes on; stop-all also cancels the LLM job, which closes its connection to the LLM server. A new turn in the
same session replaces the old one (the Controller's policy for LLM jobs).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, Protocol

from vox.config import Config
from vox.errors import LlmUnavailable
from vox.jobs import Controller, Job, JobKind, StopReason
from vox.live import TextFeed
from vox.llm import stream_chat
from vox.pipeline import POLL, Chunk, Generation
from vox.validate import SpeakRequest

_END = object()


class ChatHistory:
    """Each session's conversation with the LLM, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, list[dict]] = {}

    def messages(self, session: str) -> list[dict]:
        with self._lock:
            return [dict(m) for m in self._sessions.get(session, [])]

    def add_turn(self, session: str, user: str, assistant: str) -> None:
        with self._lock:
            self._sessions.setdefault(session, []).extend(
                [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
            )

    def clear(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)


class Runtime(Protocol):
    """What a chat turn needs from the Runtime (which owns the chat history and calls ``chat_turn``)."""

    config: Config
    jobs: Controller
    chats: ChatHistory

    def text_feed(self, lang: str | None = None) -> TextFeed: ...

    def speak(self, text: Any, **kwargs: Any) -> Generation: ...


def _read_llm(rt: Runtime, messages: list[dict], job: Job, feed: TextFeed, tokens: queue.Queue) -> None:
    """The LLM reader thread: every delta goes to the view and to the speech feed."""
    try:
        for delta in stream_chat(rt.config.llm, messages, job):
            tokens.put(delta)
            feed.push(delta)
    except LlmUnavailable as e:
        tokens.put(e)
    except Exception as e:  # an unexpected failure still ends the stream with a message
        tokens.put(LlmUnavailable(f"The LLM stream failed ({e}). Try again."))
    finally:
        feed.end()
        tokens.put(_END)


def chat_turn(rt: Runtime, message: str, request: SpeakRequest, speak: bool, session: str) -> Iterator[dict | Chunk]:
    """Start a chat turn; iterate the result for its events (dicts) and audio (Chunks). Closing the iterator
    before the end (the client went away) stops the turn."""
    llm_job = rt.jobs.start(JobKind.LLM, session)
    feed = rt.text_feed(request.lang)
    try:
        gen = rt.speak(feed, session=session, heartbeat=POLL, **request.speak_args()) if speak else None
    except Exception:
        rt.jobs.finish(llm_job)
        raise
    feed.job = gen.job if gen else llm_job
    messages = [{"role": "system", "content": rt.config.llm.system_prompt}, *rt.chats.messages(session),
                {"role": "user", "content": message}]  # fmt: skip
    tokens: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_read_llm, args=(rt, messages, llm_job, feed, tokens), daemon=True,
                              name=f"vox-llm-{llm_job.id}")  # fmt: skip
    reader.start()
    return _events(rt, message, session, llm_job, gen, feed, tokens, reader)


def _events(rt: Runtime, message, session, llm_job, gen, feed, tokens, reader) -> Iterator[dict | Chunk]:
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
                elif isinstance(item, LlmUnavailable):
                    error = str(item)
                    yield {"error": error, "llm": True}
                else:
                    yield {"token": item}
            if not speech_done:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    speech_done = True
                except Exception as e:
                    speech_done = True
                    yield {"error": f"Speaking the reply failed ({e}); the text is still here."}
                else:
                    yield {"keepalive": True} if chunk is None else chunk
        if not error and not llm_job.cancelled:
            rt.chats.add_turn(session, message, feed.text)
        yield {"done": True, "reply": feed.text, "stopped": llm_job.cancelled, "job": llm_job.id}
    finally:
        if not llm_done:
            rt.jobs.stop(StopReason.CLIENT_GONE, job=llm_job)
        if gen is not None:
            gen.close()
        reader.join(2)
        rt.jobs.finish(llm_job)
