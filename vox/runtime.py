"""The process-wide state of Vox (config, jobs, engines, voices) and the one way a reply is started.

The Flask routes and the ``clonevoice_turbo`` facade both call ``Runtime.speak``: text is normalised,
cut into speech chunks, given a Job, and synthesised by a Generation that every sink iterates.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import numpy as np

from vox import text as speech_text
from vox.config import Config
from vox.engines import EngineManager, opens_with_clause
from vox.engines.base import Voice
from vox.jobs import SPEECH, Controller, Job, TooManyJobs
from vox.live import LiveHub, PushedReply, sse
from vox.memory import TrimWhenQuiet
from vox.pipeline import Generation
from vox.validate import ApiError
from vox.voices import UnknownVoice, VoiceLibrary

log = logging.getLogger("vox")


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.jobs = Controller(config.server.max_queued_jobs)
        self.voices = VoiceLibrary(config.voices_dir)
        self.engines = EngineManager(config, self.voices.list)
        self.chat_history: list[dict] = []
        """The LLM conversation of this session (cleared by DELETE /api/chat/history)."""
        self.hub = LiveHub()
        self.jobs.on_stop.append(
            lambda everything, newest: self.hub.publish(sse({"stop": True, "all": everything, "newest": newest}))
        )
        self.replies: dict[str, PushedReply] = {}
        self.trimmer = TrimWhenQuiet(config.server.release_memory_after_s, lambda: bool(self.jobs.running()))

    def resolve_voice(self, voice_id: str | None) -> Voice | None:
        """The voice to use, checked against the engine that will speak; None means the engine's default."""
        voice_id = voice_id or self.config.engine.voice or None
        if voice_id is None:
            return None
        try:
            voice = self.voices.get(voice_id)
        except UnknownVoice as e:
            raise ApiError(404, str(e), voices=e.valid) from None
        engine = self.engines.active_name
        if engine not in voice.engines:
            hint = "load it with POST /api/tts_load_turbo" if "turbo" in voice.engines else "load Piper"
            raise ApiError(
                409, f"voice {voice.id!r} works with {', '.join(voice.engines)}, not {engine}: {hint}", voice=voice.id
            )
        return voice

    def chunk_texts(self, text: str) -> list[str]:
        """The chunks a whole reply is synthesised in: markdown made speakable, short first chunk, capped size."""
        c = self.config.chunking
        spoken = speech_text.normalize_for_speech(text)
        if not c.quick_start:  # the predecessor's policy, kept for comparison
            return speech_text.split_sentences(spoken, c.group_size)
        opening = opens_with_clause(self.engines.active_name)
        return speech_text.speech_chunks(spoken, c.group_size, c.max_chars, c.first_chunk_chars, opening)

    def chunk_stream(self) -> speech_text.ChunkStream:
        """The chunk policy for a reply whose sentences arrive one by one (a streamed LLM reply)."""
        c = self.config.chunking
        opening = opens_with_clause(self.engines.active_name)
        return speech_text.ChunkStream(c.group_size, c.max_chars, c.first_chunk_chars, opening)

    def speak(
        self,
        text: str | Iterable[str],
        voice_id: str | None = None,
        speed: float | None = None,
        lang: str | None = None,
        heartbeat: float | None = None,
        job: Job | None = None,
    ) -> Generation:
        """Start a reply: the one path for SSE, speakers and whole WAVs. ``text`` may be chunk texts already
        (an iterable, for streamed LLM replies), in which case ``total`` is unknown."""
        voice = self.resolve_voice(voice_id)
        if isinstance(text, str):
            chunks: Iterable[str] = self.chunk_texts(text)
            total: int | None = len(chunks)
            if not total:
                raise ApiError(400, "there is nothing to say once markdown, code and emoji are left out")
        else:
            chunks, total = text, None
        if job is None:
            try:
                job = self.jobs.start(SPEECH)
            except TooManyJobs as e:
                raise ApiError(413, f"too many replies at once: {e}") from None
        speed = speed if speed is not None else self.config.engine.speed
        lang = lang or self.config.engine.lang
        return Generation(
            job, self.engines, chunks, total, voice, speed, lang, heartbeat, lambda: self._finished(job)
        )

    def _finished(self, job: Job) -> None:
        """A reply is over: forget its job; once Vox is quiet, hand its freed buffers back to the OS (without
        this, RSS climbed ~90 MB over the first 100 replies and stayed there: glibc keeps freed heap)."""
        self.jobs.finish(job)
        self.trimmer.poke()

    def synthesize_all(self, text: str, **opts) -> tuple[np.ndarray, int]:
        """The whole reply as one array (for /api/vox_speak_wav and generate_tts_wav)."""
        gen = self.speak(text, **opts)
        pieces: list[np.ndarray] = []
        rate = 0
        try:
            for chunk in gen:
                if chunk is not None:
                    pieces.append(chunk.audio)
                    rate = chunk.sample_rate
        finally:
            gen.close()
        if gen.job.cancelled and not gen.completed:
            raise ApiError(409, "stopped before the reply was complete")
        return (np.concatenate(pieces) if pieces else np.zeros(0, np.float32)), rate or self.engines.get().sample_rate

    def is_speaking(self) -> bool:
        return bool(self.jobs.active(SPEECH))

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop everything, let the job threads end, and free the engine."""
        self.jobs.stop_all()
        if not self.jobs.wait_idle(timeout):
            log.warning("some jobs did not finish within %.0f s", timeout)
        self.engines.unload()


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
