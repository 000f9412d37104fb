"""Vox as a Wyoming text-to-speech service: the protocol Home Assistant's voice pipeline speaks.

``app.py --wyoming tcp://127.0.0.1:10200`` (or ``[wyoming] uri``) serves it beside the HTTP server, on the same
Runtime, with the maintained ``wyoming`` package's server. Per connection:

    describe                      -> info: the library's voices (those the loaded engine speaks are "installed"),
                                     the engines in the program's description, streaming supported
    synthesize {text, voice?}     -> audio-start, audio-chunk..., audio-stop
    synthesize-start {voice?}     -> the text arrives in synthesize-chunk events and goes through the same
    synthesize-chunk {text}...       streaming text path as a pushed reply (TextFeed + Runtime.speak), so speech
    synthesize-stop                  starts with the first sentence while the rest is still being written;
                                  -> audio-start, audio-chunk..., audio-stop, synthesize-stopped
                                     (Home Assistant also sends the whole text as a synthesize inside the
                                     stream, for older servers; it is ignored there)

Every Wyoming reply is a SPEECH job in the session ``wyoming``, so the usual rules apply: a new synthesize
(from any Wyoming client) replaces the one still speaking, a client that disconnects stops its reply, and
``/api/stop_all_vox`` (or Esc) stops it. A stopped reply ends early with audio-stop (and, for a stream,
synthesize-stopped once the client sends synthesize-stop), so the client finishes cleanly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped

from vox.audio.pcm import to_int16
from vox.engines import engine_class
from vox.engines.base import Voice
from vox.errors import NothingToSay, VoxError
from vox.jobs.controller import StopReason
from vox.reply.generation import Generation
from vox.reply.text_feed import TextFeed
from vox.runtime import Runtime
from vox.web.origin_guard import is_loopback

log = logging.getLogger("vox.wyoming")

SESSION = "wyoming"
SAMPLES_PER_CHUNK = 1024
"""Samples per audio-chunk event (what wyoming-piper sends too)."""
HEARTBEAT = 0.25
ATTRIBUTION = Attribution(name="Vox", url="")
_DONE = object()


def check_uri(uri: str, allow_remote: bool) -> str:
    """A problem with serving Wyoming at ``uri`` as a sentence, or "" when it is fine. Off loopback it needs
    ``allow_remote``: Wyoming has no keys, so anyone who can reach the port can make Vox speak."""
    parts = urlsplit(uri)
    if parts.scheme == "unix":
        return "" if parts.path else f"{uri!r} names no socket file (unix:///path/to/socket)."
    if parts.scheme != "tcp":
        return f"{uri!r} is not a Wyoming address Vox can serve; use tcp://127.0.0.1:10200 or unix:///path."
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        return f"{uri!r} needs a host and a port, like tcp://127.0.0.1:10200."
    if not is_loopback(parts.hostname) and not allow_remote:
        return (f"serving Wyoming on {parts.hostname} would let other machines make Vox speak with no key; "
                "set allow_remote = true under [wyoming] in config.toml, or use 127.0.0.1")  # fmt: skip
    return ""


def _piper_language(voice: Voice) -> list[str]:
    try:
        config = json.loads(Path(f"{voice.path}.json").read_text(encoding="utf-8"))
        return [str(config["language"]["code"])]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def info(runtime: Runtime) -> Info:
    """The voices, as Home Assistant lists them: a voice the loaded engine cannot speak is not "installed"."""
    current = runtime.engines.active_name
    voices = []
    for voice in runtime.voices.list():
        engine = current if current in voice.engines else voice.engines[0]
        languages = _piper_language(voice) if "piper" in voice.engines else \
            list(engine_class(engine).capabilities.languages) or ["en"]  # fmt: skip
        title = engine_class(engine).capabilities.title
        voices.append(TtsVoice(name=voice.id, attribution=ATTRIBUTION, installed=current in voice.engines,
                               description=f"{voice.name}, {title}", version=None, languages=languages))  # fmt: skip
    engines = ", ".join(f"{e['title']}{' (loaded)' if e['name'] == current else ''}"
                        for e in runtime.engines_info() if e["available"])  # fmt: skip
    program = TtsProgram(name="vox", attribution=ATTRIBUTION, installed=True, version=None, voices=voices,
                         description=f"Vox text to speech; engines: {engines}", supports_synthesize_streaming=True)
    return Info(tts=[program])


class Reply:
    """One reply being sent to a client: its Generation and the task that writes its audio."""

    def __init__(self, gen: Generation, feed: TextFeed | None) -> None:
        self.gen, self.feed = gen, feed
        self.task: asyncio.Task | None = None


def _next(chunks: Iterator) -> object:
    return next(chunks, _DONE)


class Handler(AsyncEventHandler):
    """One client connection."""

    def __init__(self, runtime: Runtime, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.runtime = runtime
        self.reply: Reply | None = None
        self.streaming = False
        """Between synthesize-start and synthesize-stop."""

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(info(self.runtime).event())
        elif Synthesize.is_type(event.type):
            if not self.streaming:  # inside a stream it repeats the chunks' text for older servers
                request = Synthesize.from_event(event)
                await self._start(request.text, request.voice)
        elif SynthesizeStart.is_type(event.type):
            self.streaming = True
            await self._start(None, SynthesizeStart.from_event(event).voice)
        elif SynthesizeChunk.is_type(event.type):
            reply = self.reply
            if self.streaming and reply is not None and reply.feed is not None and not reply.gen.job.cancelled:
                reply.feed.push(SynthesizeChunk.from_event(event).text)
        elif SynthesizeStop.is_type(event.type):
            await self._stop_stream()
        return True

    async def _start(self, text: str | None, voice) -> None:
        """Start a reply (the text whole, or None for a stream); the previous one on this connection ends
        first, so its audio-stop comes before the new audio-start."""
        await self._finish_current(StopReason.REPLACED)
        try:
            voice_id, lang = self._voice(voice)
            feed = self.runtime.text_feed(lang) if text is None else None
            gen = await asyncio.get_running_loop().run_in_executor(
                None, lambda: self.runtime.speak(feed if feed is not None else text, voice_id=voice_id, lang=lang,
                                                 session=SESSION, heartbeat=HEARTBEAT))  # fmt: skip
        except NothingToSay:
            await self._audio_start()
            await self.write_event(AudioStop().event())
            return
        except VoxError as e:
            await self.write_event(Error(text=e.message, code=type(e).__name__).event())
            return
        reply = Reply(gen, feed)
        reply.task = asyncio.create_task(self._send_audio(reply))
        self.reply = reply

    def _voice(self, voice) -> tuple[str | None, str | None]:
        """The library voice and language a request names (a voice name that is no library voice is refused
        by the Runtime with the list of voices; a language the engine cannot speak is left to the voice)."""
        if voice is None:
            return None, None
        languages = self.runtime.engines.capabilities().languages
        code = (voice.language or "").lower().replace("_", "-").split("-")[0] or None
        return voice.name or None, code if code in languages else None

    async def _audio_start(self, rate: int | None = None) -> None:
        rate = rate or self.runtime.engines.get().sample_rate
        await self.write_event(AudioStart(rate=rate, width=2, channels=1).event())

    async def _send_audio(self, reply: Reply) -> None:
        """Write the reply's audio as it is synthesised; audio-stop at the end, however it ends."""
        loop = asyncio.get_running_loop()
        chunks = iter(reply.gen)
        started = False
        reason = StopReason.CLIENT_GONE
        try:
            while (chunk := await loop.run_in_executor(None, _next, chunks)) is not _DONE:
                if chunk is None:
                    continue
                if not started:
                    await self._audio_start(chunk.sample_rate)
                    started = True
                pcm = to_int16(chunk.audio).tobytes()
                step = 2 * SAMPLES_PER_CHUNK
                for offset in range(0, len(pcm), step):
                    await self.write_event(AudioChunk(rate=chunk.sample_rate, width=2, channels=1,
                                                      audio=pcm[offset:offset + step]).event())  # fmt: skip
            if not started:
                await self._audio_start()
            await self.write_event(AudioStop().event())
        except (ConnectionError, OSError):
            log.info("a Wyoming client went away during a reply")
        except Exception as e:
            reason = StopReason.ERROR
            log.exception("a Wyoming reply failed")
            await self._try_write(Error(text=str(e) or "Speaking failed.", code="SpeakingFailed").event())
        finally:
            await loop.run_in_executor(None, reply.gen.close, reason)

    async def _try_write(self, event: Event) -> None:
        try:
            await self.write_event(event)
        except (ConnectionError, OSError):
            pass

    async def _stop_stream(self) -> None:
        """The client's text is complete: speak what is left, then say the stream is over."""
        reply, self.streaming = self.reply, False
        if reply is not None and reply.feed is not None:
            reply.feed.end()
            if reply.task is not None:
                await reply.task
        await self.write_event(SynthesizeStopped().event())

    async def _finish_current(self, reason: StopReason) -> None:
        reply, self.reply = self.reply, None
        if reply is None:
            return
        if reply.task is not None and not reply.task.done():
            self.runtime.jobs.stop(reason, job=reply.gen.job)
            await asyncio.gather(reply.task, return_exceptions=True)

    async def disconnect(self) -> None:
        """The client went away: its reply stops like any other whose listener left."""
        await self._finish_current(StopReason.CLIENT_GONE)


class WyomingService:
    """The Wyoming server on its own event loop thread, beside the HTTP server."""

    def __init__(self, runtime: Runtime, uri: str) -> None:
        self.runtime, self.uri = runtime, uri
        self._loop = asyncio.new_event_loop()
        self._server = AsyncServer.from_uri(uri)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="vox-wyoming", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        """Listen, or raise OSError (the address is taken, the socket folder is missing)."""
        self._thread.start()
        self._ready.wait(timeout)
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._server.start(lambda r, w: Handler(self.runtime, r, w)))
        except BaseException as e:
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        log.info("Vox serves Wyoming on %s", self.uri)
        self._loop.run_forever()

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop)
        try:
            future.result(timeout)
        except Exception as e:  # a handler that would not stop must not keep Vox from exiting
            log.warning("stopping the Wyoming server: %s", e)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
