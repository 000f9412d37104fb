"""Chat with a local LLM: the reply streams into the page token by token and is spoken as it is written.

A turn is two jobs: an LLM job (the reader thread pulling deltas from the LLM server) and, when the reply is
spoken, a speech job fed by the same deltas. One event stream carries both: ``{"token"}`` events for the
view, audio chunks for the player, then ``{"done", "reply"}``. Stop (Esc) silences the voice while the text
goes on; stop-all also cancels the LLM job, which closes its connection to the LLM server. A new turn in the
same session replaces the old one (the Controller's policy for LLM jobs).

A turn that is stopped before the LLM finished writing stays in the history, marked interrupted, with what was
written so far; the page then says how much of it was heard (``ChatHistory.heard``), and the model is told
where the user cut it off, so the next answer keeps the context without assuming the rest was heard.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any, Protocol

from vox.chat.llm_client import stream_chat
from vox.config import Config
from vox.errors import LlmUnavailable, TurnNotInterrupted, UnknownTurn, VoxError
from vox.jobs.controller import Controller, Job, JobKind, StopReason
from vox.reply.generation import POLL, Chunk, Generation
from vox.reply.text_feed import TextFeed
from vox.validate import SpeakRequest

_END = object()
log = logging.getLogger("vox.chat")


INTERRUPTED_NOTE = "[The user interrupted this reply here and did not hear the rest.]"
"""What the model reads at the end of an interrupted reply (the page shows the flag instead)."""


class ChatHistory:
    """Each session's conversation with the LLM, behind one lock. An assistant message may carry
    ``interrupted`` (the turn was stopped mid-reply) and the LLM job's id (so the page can say what was heard)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, list[dict]] = {}

    def messages(self, session: str) -> list[dict]:
        """The conversation as the page shows it: role, content, and ``interrupted`` where it applies."""
        with self._lock:
            return [{k: v for k, v in m.items() if k != "job"} for m in self._sessions.get(session, [])]

    def for_llm(self, session: str) -> list[dict]:
        """The conversation as the model reads it: plain role/content pairs, an interrupted reply ending with a
        note that says so."""
        with self._lock:
            out = []
            for m in self._sessions.get(session, []):
                content = m["content"]
                if m.get("interrupted"):
                    content = f"{content.rstrip()}\n\n{INTERRUPTED_NOTE}" if content.strip() else INTERRUPTED_NOTE
                out.append({"role": m["role"], "content": content})
            return out

    def add_turn(self, session: str, user: str, assistant: str, job: str | None = None,
                 interrupted: bool = False) -> None:  # fmt: skip
        reply: dict = {"role": "assistant", "content": assistant}
        if interrupted:
            reply["interrupted"] = True
        if job:
            reply["job"] = job
        with self._lock:
            self._sessions.setdefault(session, []).extend([{"role": "user", "content": user}, reply])

    def heard(self, session: str, job: str, chars: int) -> dict:
        """The user heard only the first ``chars`` characters (code points) of interrupted turn ``job``: keep
        that much. Only shortens; refuses a turn that was not interrupted or is not this session's."""
        with self._lock:
            for m in reversed(self._sessions.get(session, [])):
                if m.get("job") == job and m["role"] == "assistant":
                    if not m.get("interrupted"):
                        raise TurnNotInterrupted("That reply was not interrupted: it stays as it was written.")
                    m["content"] = _cut(m["content"], chars)
                    return {k: v for k, v in m.items() if k != "job"}
        raise UnknownTurn("There is no such reply in this conversation (it may have been cleared). Nothing to do.")

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


def _cut(text: str, chars: int) -> str:
    """The first ``chars`` characters of a reply, finishing the word in progress (a word cut in half was heard
    whole, or nearly)."""
    end = max(0, chars)
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[:end].rstrip()


def _read_llm(rt: Runtime, messages: list[dict], job: Job, feed: TextFeed, tokens: queue.Queue) -> None:
    """The LLM reader thread: every delta goes to the view and to the speech feed."""
    try:
        for delta in stream_chat(rt.config.llm, messages, job):
            tokens.put(delta)
            feed.push(delta)
    except LlmUnavailable as e:
        tokens.put(e)
    except Exception as e:  # an unexpected failure still ends the stream with a message
        tokens.put(LlmUnavailable("The LLM's reply could not be read. Try again; the Vox log says what happened."))
        log.warning("reading the LLM stream failed: %r", e)
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
    messages = [{"role": "system", "content": rt.config.llm.system_prompt}, *rt.chats.for_llm(session),
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
                    log.warning("speaking a chat reply failed: %r", e)
                    why = e.message if isinstance(e, VoxError) else "Speaking the reply failed."
                    yield {"error": f"{why} The text is still here; press Replay to hear it."}
                else:
                    yield {"keepalive": True} if chunk is None else chunk
        if not error:  # a stopped turn stays, marked: the model must know what the user was told
            rt.chats.add_turn(session, message, feed.text, llm_job.id, interrupted=llm_job.cancelled)
        yield {"done": True, "reply": feed.text, "stopped": llm_job.cancelled, "job": llm_job.id}
    finally:
        if not llm_done:
            rt.jobs.stop(StopReason.CLIENT_GONE, job=llm_job)
        if gen is not None:
            gen.close()
        reader.join(2)
        rt.jobs.finish(llm_job)
