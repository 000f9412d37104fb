"""The Runtime: Vox's state (config, jobs, engines, voices, replies, chats) behind one facade of verbs.

Routes, the hotkeys, the speakers, the window, Wyoming, the books command line and ``clonevoice_turbo`` all
call these verbs and never reach into the Runtime's parts (tests/test_structure.py checks the routes). The
verbs of three rooms are written in those rooms and inherited here: the voice library (vox/voices/verbs.py),
books (vox/books/verbs.py) and listening (vox/listening/verbs.py).

Every reply takes one path (``speak``): text is made speakable and cut into pieces, given a Job (the Controller
decides what it replaces), and synthesised by a Generation that every sink iterates, in chunks it sizes as it
goes. Every stop is one Controller call with a reason.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from vox import text as speech_text
from vox.books import Books
from vox.books.verbs import BookVerbs
from vox.chat.conversation import ChatHistory, chat_turn
from vox.config import Config
from vox.engines import EngineManager, Priority, SynthesisOptions, describe, engine_class
from vox.engines.base import Voice
from vox.engines.memory import TrimWhenQuiet
from vox.errors import NoPageOpen, NothingToSay, ReplyStopped, TooLarge
from vox.jobs.controller import DEFAULT_SESSION, Controller, Job, JobKind, StopReason
from vox.listening.registry import ListenRegistry
from vox.listening.verbs import ListeningVerbs
from vox.reply.generation import Chunk, ChunkSource, Generation
from vox.reply.pacing import Pacer
from vox.reply.page_hub import LiveHub
from vox.reply.pushed import PushedReply, ReplyRegistry
from vox.reply.text_feed import TextFeed
from vox.stt import SttManager
from vox.text.verbalise import Verbaliser
from vox.text.verbalise import warm as warm_verbaliser
from vox.validate import SpeakRequest
from vox.voices import VoiceLibrary
from vox.voices.verbs import VoiceVerbs

if TYPE_CHECKING:
    from vox.speakers.playback import Playback

log = logging.getLogger("vox")

QUIESCE_TIMEOUT = 5.0
"""Seconds an engine switch or unload waits for the replies it stopped to leave the engine."""
NOTHING_TO_SAY = "There is nothing to say once markdown, code, emoji and punctuation are left out."


class Runtime(VoiceVerbs, BookVerbs, ListeningVerbs):
    def __init__(self, config: Config) -> None:
        self.config = config
        self.jobs = Controller(job_limit(config))
        self.voices = VoiceLibrary(config.voices_dir)
        self.engines = EngineManager(config, self.voices.list)
        self.hub = LiveHub()
        self.replies = ReplyRegistry()
        self.chats = ChatHistory()
        self.stt = SttManager(config)
        self.listening = ListenRegistry(self.jobs, self.stt, config.listen)
        self.jobs.on_stop.append(self.hub.tell_stop)
        self.trimmer = TrimWhenQuiet(config.server.release_memory_after_s, lambda: bool(self.jobs.running()))
        self.books = Books(self)
        """Book projects and their background renders (vox/books/)."""
        threading.Thread(target=warm_verbaliser, args=(config.engine.lang,), daemon=True, name="vox-text-warm").start()

    # --- speaking ------------------------------------------------------------------------------------

    def options(self, speed: float | None, lang: str | None, params: dict | None,
                engine: str | None = None) -> SynthesisOptions:  # fmt: skip
        """The options a reply is spoken with (config defaults filled in), refused up front when the engine
        that will speak (``engine``, by default the one that speaks next) cannot honour them."""
        options = SynthesisOptions(speed=speed if speed is not None else self.config.engine.speed,
                                   lang=lang or self.config.engine.lang, **(params or {}))  # fmt: skip
        engine_class(engine or self.engines.active_name).check_options(options)
        return options

    def planner(self, lang: str | None = None) -> speech_text.SpeechPlanner:
        """The text plan for one reply (whole or streamed): markdown made speakable, a short first chunk,
        capped sizes, and where every spoken piece came from in the reply; the Generation sizes each chunk as
        it takes it (vox/reply/pacing.py)."""
        c = self.config.chunking
        opening = self.engines.capabilities().opens_with_clause
        day_first = self.config.text.day_first
        return speech_text.SpeechPlanner(None, c.max_chars, c.first_chunk_chars, opening,
                                         lang=lang or self.config.engine.lang,
                                         verbaliser=partial(Verbaliser, day_first=day_first))  # fmt: skip

    def text_feed(self, lang: str | None = None) -> TextFeed:
        """A reply whose text arrives delta by delta (an LLM, another program, a Wyoming client)."""
        return TextFeed(self.planner(lang))

    def whole_reply(self, text: str, lang: str | None = None) -> tuple[ChunkSource, int | None]:
        """A whole reply as a chunk source, planned slice by slice as it is spoken, and its number of chunks
        when that is known before synthesis (never here: chunks are sized as they are taken); or NothingToSay
        when nothing in it is speakable (only punctuation, markdown marks, emoji, invisible characters)."""
        feed = self.text_feed(lang)
        feed.push_whole(text)
        if feed.silent:
            raise NothingToSay(NOTHING_TO_SAY)
        return feed, None

    def speak(
        self,
        text: str | ChunkSource,
        voice_id: str | None = None,
        speed: float | None = None,
        lang: str | None = None,
        params: dict | None = None,
        session: str = DEFAULT_SESSION,
        heartbeat: float | None = None,
        kind: JobKind = JobKind.SPEECH,
    ) -> Generation:
        """Start a reply: the one path for every sink. ``text`` may be a reply still arriving (a TextFeed),
        whose number of chunks is unknown; so is a whole reply's when its chunks are sized as it goes."""
        name = self.engines.active_name
        voice, options = self.resolve_voice(voice_id, name), self.options(speed, lang, params, name)
        engine = self.engines.get()  # a load that fails is this request's answer (503), not an error event later
        if engine.name != name:  # switched while this request was checked: check it against the engine that speaks
            voice, options = self.resolve_voice(voice_id, engine.name), self.options(speed, lang, params, engine.name)
        source, total = self.whole_reply(text, lang) if isinstance(text, str) else (text, None)
        job = self.jobs.start(kind, session)
        if isinstance(source, TextFeed):
            source.job = job
        priority = Priority.RENDER if kind == JobKind.RENDER else Priority.CONVERSATION
        c = self.config.chunking
        return Generation(job, self.jobs, self.engines, engine, source, total, voice, options, heartbeat,
                          self._finished, priority, Pacer(c.group_size, c.max_chars))  # fmt: skip

    def _finished(self, job: Job) -> None:
        """A reply is over: forget its job; once Vox is quiet, hand its freed buffers back to the OS (without
        this, RSS climbed ~90 MB over the first 100 replies and stayed there: glibc keeps freed heap)."""
        self.jobs.finish(job)
        self.trimmer.poke()

    def synthesize_all(self, text: str, client_gone: Callable[[], bool] | None = None,
                       **speak_args) -> tuple[np.ndarray, int]:  # fmt: skip
        """The whole reply as one array (for whole-WAV answers). ``client_gone`` is polled while it works: a
        client that hangs up stops the reply like any other stop."""
        gen = self.speak(text, heartbeat=0.05 if client_gone else None, **speak_args)
        pieces: list[np.ndarray] = []
        rate = 0
        try:
            for chunk in gen:
                if chunk is None:
                    if client_gone is not None and client_gone():
                        break
                    continue
                pieces.append(chunk.audio)
                rate = chunk.sample_rate
        finally:
            gen.close()
        if not gen.completed:
            raise ReplyStopped("The reply was stopped before it was complete.", reason=str(gen.job.reason or ""))
        return (np.concatenate(pieces) if pieces else np.zeros(0, np.float32)), rate or self.engines.get().sample_rate

    def preview(self, voice: Voice) -> tuple[np.ndarray, int]:
        """A short sample of a Piper voice, as a PREVIEW job: it never interrupts a reply that is speaking."""
        name = voice.name.split(" (")[0]
        gen = self.speak(f"Hello, this is {name}.", voice_id=voice.id, kind=JobKind.PREVIEW)
        pieces = []
        try:
            pieces = [c.audio for c in gen if c is not None]
        finally:
            gen.close()
        if not gen.completed:
            raise ReplyStopped("The preview was stopped.")
        return np.concatenate(pieces), gen.engines.get().sample_rate

    def is_speaking(self, session: str | None = None) -> bool:
        return bool(self.jobs.active(JobKind.SPEECH, session))

    # --- stopping ------------------------------------------------------------------------------------

    def stop(self, session: str | None = None) -> list[str]:
        """Stop what is speaking: browser streams, WAVs, speakers, pushed replies. In ``session`` and the shared
        default session (every client that names no session), or in every session when ``session`` is None."""
        return self._stop_in(StopReason.USER, session)

    def stop_all(self, reason: StopReason = StopReason.STOP_ALL, session: str | None = None) -> list[str]:
        """Stop everything: speech, speakers, LLM streams, pushed replies, recordings (not book renders); in
        ``session`` and the shared default one, or in every session (the desktop's hotkeys, an admin)."""
        return self._stop_in(reason, session)

    def _stop_in(self, reason: StopReason, session: str | None) -> list[str]:
        if session is None:
            return [j.id for j in self.jobs.stop(reason)]
        scopes = dict.fromkeys((session, DEFAULT_SESSION))
        return [j.id for scope in scopes for j in self.jobs.stop(reason, session=scope)]

    def _quiesce(self, reason: StopReason) -> None:
        """Stop every job that uses the engine and wait until none of them does."""
        stopped = self.jobs.stop(reason)
        if not self.jobs.wait_engine_idle(stopped, QUIESCE_TIMEOUT):
            log.warning("some replies did not leave the engine within %.0f s", QUIESCE_TIMEOUT)

    # --- engines -----------------------------------------------------------------------------------

    def load(self, name: str) -> dict:
        """Make ``name`` the current engine (the previous one keeps speaking until the new one is ready)."""
        self.engines.switch(name, lambda: self._quiesce(StopReason.ENGINE_SWITCH))
        return self.engines.status()

    def unload(self) -> bool:
        return self.engines.unload(lambda: self._quiesce(StopReason.UNLOAD))

    def engines_info(self) -> list[dict]:
        return describe(self.config)

    def current_engine(self) -> str:
        """The engine that speaks the next reply (loaded or not yet)."""
        return self.engines.active_name

    def engine_status(self) -> dict:
        """The engine's load state, as /api/status reports it."""
        return self.engines.status()

    def engine_languages(self) -> tuple[str, ...]:
        """Languages a request may name for the engine that speaks next (empty: the voice decides)."""
        return self.engines.capabilities().languages

    def sample_rate(self) -> int:
        """The sample rate of the engine that speaks next (loading it first)."""
        return self.engines.get().sample_rate

    def status(self) -> dict:
        """What Vox is doing: the engine's state, speech, the open pages, listening and speech recognition."""
        return {**self.engines.status(), "speaking": self.is_speaking(), "busy": self.engines.turns.busy,
                "engine_loads": self.engines.loads, "pages": self.hub.listeners, "stt": self.stt.status(),
                "listening": [stream.info() for stream in self.listening.streams()]}  # fmt: skip

    def serve_stats(self) -> dict:
        """Each engine replica's figures (``[serve] replicas``), or that there are none (Ray is not imported)."""
        from vox.serve import stats

        replicas, engine = self.config.serve.replicas, self.engines.current
        if replicas == 0 or engine is None or not engine.loaded:
            return stats.disabled(self.engines.active_name if replicas else None, replicas)
        from vox.engines.remote import RemoteEngine

        assert isinstance(engine, RemoteEngine)
        return engine.serve_stats(self.engines.turns.waiting)

    # --- pushed replies ----------------------------------------------------------------------------

    def push_reply(self, sink: str, request: SpeakRequest, session: str = DEFAULT_SESSION) -> PushedReply:
        """Open a reply whose text another program pushes; it plays in the open pages or on the speakers."""
        if sink == "page" and self.hub.listening(None if session == DEFAULT_SESSION else session) == 0:
            where = "" if session == DEFAULT_SESSION else f" for session {session} (open Vox with ?session={session})"
            raise NoPageOpen(f'No Vox page is open{where} to play this reply. Open Vox, or push it with "sink": '
                             '"speakers".')  # fmt: skip

        def make() -> PushedReply:
            feed = self.text_feed(request.lang)
            if sink == "speakers":
                from vox.speakers import playback as speakers

                gen = speakers.start(self, feed, session=session, **request.speak_args()).gen
            else:
                gen = self.speak(feed, session=session, **request.speak_args())
            reply = PushedReply(feed, gen, sink)
            if sink == "page":
                reply.play_in(self.hub, on_end=self.replies.remove)
            return reply

        return self.replies.add(make)

    def check_reply(self, reply_id: str) -> None:
        """UnknownReply unless ``reply_id`` is an open pushed reply."""
        self.replies.get(reply_id)

    def push_text(self, reply_id: str, delta: str) -> list[str]:
        """The next piece of a pushed reply; the sentences it completed. A reply stays within the text limit."""
        reply = self.replies.get(reply_id)
        if reply.gen.job.cancelled:
            raise ReplyStopped("This reply was stopped.")
        if len(reply.feed.text) + len(delta) > self.config.server.max_text_chars:
            raise TooLarge("The reply is longer than server.max_text_chars.")
        return reply.feed.push(delta)

    def end_reply(self, reply_id: str) -> list[str]:
        return self.replies.get(reply_id).feed.end()

    def cancel_reply(self, reply_id: str) -> None:
        self.stop_job(self.replies.get(reply_id).gen.job, StopReason.USER)

    def stop_job(self, job: Job, reason: StopReason) -> None:
        """Stop one job (a reply whose listener went away or was replaced) for ``reason``."""
        self.jobs.stop(reason, job=job)

    # --- pages and speakers ----------------------------------------------------------------------------

    def subscribe_pages(self, session: str | None) -> tuple[int, queue.Queue]:
        """A page's event queue (its session's events and the shared ones); give the key back to unsubscribe."""
        return self.hub.subscribe(session)

    def unsubscribe_pages(self, key: int) -> None:
        self.hub.unsubscribe(key)

    def speak_on_speakers(self, text: str, wait: bool = False, **speak_args) -> Playback:
        """Speak on the host's speakers; returns once playback started (``wait``: once it ended)."""
        from vox.speakers import playback

        return playback.speak(self, text, wait=wait, **speak_args)

    def audio_devices(self) -> dict:
        """The output devices, the system default and the one ``[speakers] device`` selects."""
        from vox.speakers import playback

        return playback.list_devices(self.config.speakers.device)

    # --- chat ----------------------------------------------------------------------------------------

    def chat(self, message: str, request: SpeakRequest, speak: bool, session: str = DEFAULT_SESSION
             ) -> Iterator[dict | Chunk]:  # fmt: skip
        return chat_turn(self, message, request, speak, session)

    def chat_history(self, session: str = DEFAULT_SESSION) -> list[dict]:
        return self.chats.messages(session)

    # --- listening -------------------------------------------------------------------------------------

    def push_to_talk(self, pressed: bool) -> None:
        """A global push-to-talk hotkey: the open pages start or end a turn (the microphone is theirs)."""
        self.hub.publish({"listen": "press" if pressed else "release"})

    def chat_heard(self, job: str, chars: int, session: str = DEFAULT_SESSION) -> dict:
        """An interrupted turn was heard up to ``chars`` characters: the history keeps only that part."""
        return self.chats.heard(session, job, chars)

    def clear_chat(self, session: str = DEFAULT_SESSION) -> None:
        self.chats.clear(session)

    # --- life --------------------------------------------------------------------------------------------

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop everything, let the job threads end, and free the engine."""
        self.jobs.stop(StopReason.SHUTDOWN)  # listening streams included
        if not self.jobs.wait_idle(timeout):
            log.warning("some jobs did not finish within %.0f s", timeout)
        self.engines.unload(lambda: None)
        self.stt.unload()


def job_limit(config: Config) -> int:
    """Replies at once before a 429: ``server.max_queued_jobs`` in one process; with replicas, one per replica
    plus ``serve.max_queued`` waiting for a free one."""
    if config.serve.replicas > 0:
        return config.serve.replicas + config.serve.max_queued
    return config.server.max_queued_jobs


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def get_runtime() -> Runtime:
    """The process's Runtime, created from the default config on first use (for the facade)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            from vox import config

            _runtime = Runtime(config.load())
        return _runtime


def set_runtime(runtime: Runtime) -> Runtime:
    global _runtime
    with _runtime_lock:
        _runtime = runtime
    return runtime
