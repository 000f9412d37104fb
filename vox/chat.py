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
    """Each session's conversation with the LLM, behind one lock.

    A reply the user interrupted by speaking (barge-in) stays in the history up to what was heard: the turn
    is kept with the text of the chunks sent to be played, and the page then says how far playback really
    got (``heard``), which cuts the reply there (at the end of the word being said). A report may arrive
    before the turn is stored; it waits for it, keyed by the reply's speech job.
    """

    MAX_PENDING = 16

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, list[dict]] = {}
        self._by_job: dict[tuple[str, str], dict] = {}
        self._pending: dict[tuple[str, str], int] = {}

    def messages(self, session: str) -> list[dict]:
        """The conversation as the LLM gets it (role and content only)."""
        with self._lock:
            return [{"role": m["role"], "content": m["content"]} for m in self._sessions.get(session, [])]

    def history(self, session: str) -> list[dict]:
        """The conversation as the page shows it (interrupted replies say so)."""
        with self._lock:
            return [dict(m) for m in self._sessions.get(session, [])]

    def add_turn(self, session: str, user: str, assistant: str, speech_job: str | None = None,
                 interrupted: bool = False) -> None:  # fmt: skip
        reply = {"role": "assistant", "content": assistant}
        if interrupted:
            reply["interrupted"] = True
        with self._lock:
            self._sessions.setdefault(session, []).extend([{"role": "user", "content": user}, reply])
            if speech_job is not None:
                key = (session, speech_job)
                self._by_job[key] = reply
                while len(self._by_job) > self.MAX_PENDING:
                    self._by_job.pop(next(iter(self._by_job)))
                if key in self._pending:
                    _cut(reply, self._pending.pop(key))

    def heard(self, session: str, speech_job: str, chars: int) -> bool:
        """The user interrupted the reply spoken by ``speech_job`` after hearing its first ``chars``
        characters: keep that much of it. True when the turn was found (else the cut waits for it)."""
        key = (session, speech_job)
        with self._lock:
            reply = self._by_job.get(key)
            if reply is None:
                self._pending[key] = chars
                while len(self._pending) > self.MAX_PENDING:
                    self._pending.pop(next(iter(self._pending)))
                return False
            _cut(reply, chars)
            return True

    def clear(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)
            for key in [k for k in self._by_job if k[0] == session]:
                del self._by_job[key]


def _cut(reply: dict, chars: int) -> None:
    """Shorten a reply to its first ``chars`` characters, finishing the word in progress."""
    text = reply["content"]
    if chars < len(text):
        end = chars
        while end < len(text) and not text[end].isspace():
            end += 1
        reply["content"] = text[:end].rstrip()
    reply["interrupted"] = True


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
    sent_upto = 0
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
                    if chunk is not None and chunk.pieces:
                        sent_upto = max(sent_upto, max(p.end for p in chunk.pieces))
                    yield {"keepalive": True} if chunk is None else chunk
        spoke = StopReason.USER_SPOKE in (llm_job.reason, gen.job.reason if gen else None)
        if spoke:  # barge-in: keep what was sent to be heard (the page then says how much it played)
            text = feed.text[:sent_upto] if gen is not None else feed.text
            rt.chats.add_turn(session, message, text, gen.job.id if gen else None, interrupted=True)
        elif not error and not llm_job.cancelled:
            rt.chats.add_turn(session, message, feed.text, gen.job.id if gen else None)
        yield {"done": True, "reply": feed.text, "stopped": llm_job.cancelled, "job": llm_job.id}
    finally:
        if not llm_done:
            rt.jobs.stop(StopReason.CLIENT_GONE, job=llm_job)
        if gen is not None:
            gen.close()
        reader.join(2)
        rt.jobs.finish(llm_job)
