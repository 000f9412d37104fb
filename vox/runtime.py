"""The Runtime: Vox's state (config, jobs, engines, voices, replies, chats) behind one facade of verbs.

Routes, the hotkeys, the speakers, the window and ``clonevoice_turbo`` all call these verbs; none of them
mutates the Runtime's registries. Every reply takes one path (``speak``): text is made speakable and cut into
pieces, given a Job (the Controller decides what it replaces), and synthesised by a Generation that every sink
iterates, in chunks it sizes as it goes. Every stop is one Controller call with a reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from functools import partial

import numpy as np

from vox import text as speech_text
from vox.books import Books
from vox.chat.conversation import ChatHistory, chat_turn
from vox.config import Config
from vox.engines import EngineManager, Priority, SynthesisOptions, describe, engine_class
from vox.engines.base import Voice
from vox.engines.memory import TrimWhenQuiet
from vox.errors import NoPageOpen, NothingToSay, ReplyStopped, VoiceNeedsEngine
from vox.jobs.controller import DEFAULT_SESSION, Controller, Job, JobKind, StopEvent, StopReason
from vox.listening.streams import ListenRegistry, ListenStream
from vox.reply.generation import Chunk, ChunkSource, FixedPlan, Generation
from vox.reply.pacing import Pacer
from vox.reply.page_hub import LiveHub
from vox.reply.pushed import PushedReply, ReplyRegistry
from vox.reply.stream_events import chunk_event, done_event, error_event
from vox.reply.text_feed import TextFeed
from vox.stt import SttManager, Transcript
from vox.text.verbalise import Verbaliser
from vox.text.verbalise import warm as warm_verbaliser
from vox.validate import SpeakRequest
from vox.voices import VoiceLibrary

log = logging.getLogger("vox")

QUIESCE_TIMEOUT = 5.0
"""Seconds an engine switch or unload waits for the replies it stopped to leave the engine."""
NOTHING_TO_SAY = "There is nothing to say once markdown, code, emoji and punctuation are left out."


class Runtime:
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
        self.jobs.on_stop.append(self._tell_pages)
        self.trimmer = TrimWhenQuiet(config.server.release_memory_after_s, lambda: bool(self.jobs.running()))
        self.books = Books(self)
        """Book projects and their background renders (vox/books/)."""
        threading.Thread(target=warm_verbaliser, args=(config.engine.lang,), daemon=True, name="vox-text-warm").start()

    def _tell_pages(self, event: StopEvent) -> None:
        """Pages silence audio they already hold for a stop (replacements and single-job stops excepted): a stop
        of every session reaches every page; a session's stop reaches that session's pages; a stop of the shared
        default session (whose pushed replies play in every page) names the jobs it stopped, so each page silences
        only those."""
        if event.reason in (StopReason.USER, StopReason.STOP_ALL, StopReason.USER_SPOKE, StopReason.SHUTDOWN,
                            StopReason.ENGINE_SWITCH, StopReason.UNLOAD):  # fmt: skip
            message = {"stop": True, "all": event.everything, "newest": event.newest, "reason": str(event.reason)}
            if event.session is None:
                self.hub.publish(message)
            elif event.session == DEFAULT_SESSION:
                self.hub.publish({**message, "jobs": [j.id for j in event.jobs]})
            else:
                self.hub.publish(message, session=event.session)

    # --- speaking ------------------------------------------------------------------------------------

    def resolve_voice(self, voice_id: str | None) -> Voice | None:
        """The voice to use, checked against the engine that will speak; None means the engine's default."""
        voice_id = voice_id or self.config.engine.voice or None
        if voice_id is None:
            return None
        voice = self.voices.get(voice_id)
        engine = self.engines.active_name
        if engine not in voice.engines:
            loaded = engine_class(engine).capabilities.title
            needs = " or ".join(engine_class(e).capabilities.title for e in voice.engines)
            raise VoiceNeedsEngine(
                f"The voice {voice.name} needs {needs}, but {loaded} is loaded. Choose another voice, or load "
                f"{needs} in the Voices panel.", voice=voice.id, engines=list(voice.engines), loaded=engine,
            )  # fmt: skip
        return voice

    def options(self, speed: float | None, lang: str | None, params: dict | None) -> SynthesisOptions:
        """The options a reply is spoken with (config defaults filled in), refused up front when the engine
        that will speak cannot honour them."""
        options = SynthesisOptions(speed=speed if speed is not None else self.config.engine.speed,
                                   lang=lang or self.config.engine.lang, **(params or {}))  # fmt: skip
        engine_class(self.engines.active_name).check_options(options)
        return options

    def planner(self, lang: str | None = None, group_size: int | None = None) -> speech_text.SpeechPlanner:
        """The text plan for one reply (whole or streamed): markdown made speakable, a short first chunk,
        capped sizes, and where every spoken piece came from in the reply. ``group_size`` None: the
        Generation sizes chunks as it takes them (vox/reply/pacing.py)."""
        c = self.config.chunking
        opening = self.engines.capabilities().opens_with_clause
        day_first = self.config.text.day_first
        return speech_text.SpeechPlanner(group_size, c.max_chars, c.first_chunk_chars, opening,
                                         lang=lang or self.config.engine.lang,
                                         verbaliser=partial(Verbaliser, day_first=day_first))  # fmt: skip

    @property
    def adaptive(self) -> bool:
        """Chunks are sized as synthesis goes (``chunking.adaptive``), not by the static policy."""
        return self.config.chunking.adaptive and self.config.chunking.quick_start

    def plan(self, text: str, lang: str | None = None) -> list[speech_text.Chunk]:
        """The chunks of a whole reply under the static policy (``chunking.adaptive = false``)."""
        if not self.config.chunking.quick_start:  # the predecessor's policy, kept for comparison
            spoken = speech_text.normalize_for_speech(text)
            groups = speech_text.split_sentences(spoken, self.config.chunking.group_size)
            return [speech_text.Chunk(g, (speech_text.Piece(g, 0, len(text), i),)) for i, g in enumerate(groups)]
        return self.planner(lang, self.config.chunking.group_size).plan(text)

    def text_feed(self, lang: str | None = None) -> TextFeed:
        """A reply whose text arrives delta by delta (an LLM, another program, a Wyoming client)."""
        return TextFeed(self.planner(lang, None if self.adaptive else self.config.chunking.group_size))

    def whole_reply(self, text: str, lang: str | None = None) -> tuple[ChunkSource, int | None]:
        """A whole reply as a chunk source, and its number of chunks when that is known before synthesis; or
        NothingToSay when nothing in it is speakable (only punctuation, markdown marks, emoji, invisible
        characters)."""
        if self.adaptive:
            feed = self.text_feed(lang)
            feed.push_whole(text)
            if feed.silent:
                raise NothingToSay(NOTHING_TO_SAY)
            return feed, None
        chunks = self.plan(text, lang)
        if not chunks:
            raise NothingToSay(NOTHING_TO_SAY)
        return FixedPlan(chunks), len(chunks)

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
        voice = self.resolve_voice(voice_id)
        options = self.options(speed, lang, params)
        self.engines.get()  # a load that fails is this request's answer (503), not an error event later
        source, total = self.whole_reply(text, lang) if isinstance(text, str) else (text, None)
        job = self.jobs.start(kind, session)
        if isinstance(source, TextFeed):
            source.job = job
        priority = Priority.RENDER if kind == JobKind.RENDER else Priority.CONVERSATION
        c = self.config.chunking
        return Generation(job, self.jobs, self.engines, source, total, voice, options, heartbeat, self._finished,
                          priority, Pacer(c.group_size, c.max_chars))  # fmt: skip

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
                reply.thread = threading.Thread(target=self._play_in_pages, args=(reply,), daemon=True,
                                                name=f"vox-push-{reply.id}")  # fmt: skip
                reply.thread.start()
            return reply

        return self.replies.add(make)

    def _play_in_pages(self, reply: PushedReply) -> None:
        """Publish a pushed reply's chunks to the open pages, then its end: every page for a reply in the shared
        default session, the session's own pages for a reply that named one."""
        gen = reply.gen
        pages = None if gen.job.session == DEFAULT_SESSION else gen.job.session
        try:
            for chunk in gen:
                if chunk is not None:
                    self.hub.publish(chunk_event(chunk), session=pages)
            self.hub.publish(done_event(gen, reply.id), session=pages)
        except Exception as e:
            self.hub.publish(error_event(e, reply.id), session=pages)
        finally:
            gen.close(StopReason.ERROR)
            self.replies.remove(reply.id)

    def push_text(self, reply_id: str, delta: str) -> list[str]:
        reply = self.replies.get(reply_id)
        if reply.gen.job.cancelled:
            raise ReplyStopped("This reply was stopped.")
        return reply.feed.push(delta)

    def end_reply(self, reply_id: str) -> list[str]:
        return self.replies.get(reply_id).feed.end()

    def cancel_reply(self, reply_id: str) -> None:
        self.jobs.stop(StopReason.USER, job=self.replies.get(reply_id).gen.job)

    # --- chat ----------------------------------------------------------------------------------------

    def chat(self, message: str, request: SpeakRequest, speak: bool, session: str = DEFAULT_SESSION
             ) -> Iterator[dict | Chunk]:  # fmt: skip
        return chat_turn(self, message, request, speak, session)

    def chat_history(self, session: str = DEFAULT_SESSION) -> list[dict]:
        return self.chats.messages(session)

    # --- listening -------------------------------------------------------------------------------------

    def listen(self, mode: str, session: str = DEFAULT_SESSION, language: str | None = None) -> ListenStream:
        """Open a microphone stream (push-to-talk or hands-free); it replaces the session's previous one."""
        return self.listening.open(mode, session, language)

    def transcribe(self, pcm: np.ndarray, language: str | None = None) -> Transcript:
        """The words in a whole clip (16 kHz mono float32)."""
        return self.stt.get().transcribe(pcm, language)

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
        self.jobs.stop(StopReason.SHUTDOWN)
        self.listening.close_all()
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
