"""Listening: microphone audio streamed from the page, cut into turns, recognised as it arrives, barge-in.

Transport: the page POSTs the microphone's 16 kHz 16-bit PCM every ~20 ms to its stream
(``/api/listen/<id>/audio``) and each answer carries what happened since the last one (speech started,
barge-in, words so far, a finished turn). Small POSTs over the one keep-alive connection work with Vox's
hardened werkzeug server as it is (no WebSocket upgrade, no second server, no half-open streaming upload,
which Chromium only sends over HTTP/2), every piece of audio is bounded by the server's request limits, and
a page that stops posting is noticed by the clock (``stall_timeout_s``).

A stream is a LISTEN job (vox/jobs/controller.py): a new stream in the same session replaces the old one, stop-all ends
it, and its barge-in stops speech and the LLM with ``StopReason.USER_SPOKE`` (what stop-all covers, except
the listener itself). The VAD runs in the request that brings the audio, so a barge-in is decided within
one POST of the onset; recognition runs on one worker thread per stream, which reads the turn so far after
each pause and every ``PARTIAL_EVERY_S`` of new speech, so the last read often covers the whole turn by the
time it ends. Every bound is here: audio per POST, audio faster than real time, turn length, idle
hands-free time, a page that goes silent, events nobody collects.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

import numpy as np

from vox.config import Listen
from vox.errors import AudioTooFast, InvalidRequest, ListenEnded, TooLarge, UnknownListen
from vox.jobs.controller import Controller, Job, JobKind, StopReason
from vox.listening.turns import NO_PLAYBACK_DB, TurnDetector, TurnSettings, level_db
from vox.listening.vad import StreamingVad
from vox.stt import RATE, FrameStream, SttManager

log = logging.getLogger("vox.listen")

MODES = ("push", "hands_free")
MAX_POST_S = 2.0
"""Audio in one POST (the page sends ~20 ms; a page that was busy may send a little more)."""
AHEAD_S = 10.0
"""Audio may arrive this far ahead of real time (counted from its first POST) before it is refused: a client
streaming a file or garbage. A page sends what it captured before the stream opened, and Chromium hands
over a burst of buffered audio when capture starts."""
PARTIAL_EVERY_S = 0.8
"""New speech after which the words so far are read again (each read is one Whisper window)."""
FINAL_TIMEOUT_S = 120.0
PLAYBACK_FRESH_S = 0.5
"""A playback level the page reported longer ago than this no longer counts (the page stopped saying)."""
_numbers = itertools.count(1)


class ListenStream:
    def __init__(self, job: Job, mode: str, language: str | None, settings: Listen, stt: SttManager,
                 jobs: Controller, on_close: Callable[[ListenStream], None]) -> None:  # fmt: skip
        self.job, self.mode, self.language, self.settings = job, mode, language, settings
        self.id = f"l{next(_numbers)}"
        self.stt, self.jobs, self._on_close = stt, jobs, on_close
        self.recogniser = stt.get()
        self.vad = StreamingVad()
        self.detector = TurnDetector(TurnSettings(
            threshold=settings.vad_threshold, onset_s=settings.barge_in_min_ms / 1000,
            silence_s=settings.silence_ms / 1000, min_speech_s=settings.min_speech_ms / 1000,
            echo_margin_db=settings.echo_margin_db, hands_free=mode == "hands_free"))  # fmt: skip
        self.events: deque[dict] = deque(maxlen=256)
        self._lock = threading.RLock()  # a stop's callbacks may close the stream from the thread feeding it
        self._work = threading.Condition()
        self.turn_no = 0
        self.turn: FrameStream | None = None
        self._turn_read_at = 0.0
        self._next_partial_at = 0.0
        self.read_cost = self.recogniser.last_cost
        """Seconds the last read took (at first: the recogniser's last one, e.g. its warm-up)."""
        self._pause = False
        self._ending: deque[tuple[int, FrameStream, bool]] = deque()
        self._finals: dict[int, dict] = {}
        self._final_ready = threading.Condition(self._work)
        self.opened = self.last_audio = self.last_speech = time.monotonic()
        self.received_s = 0.0
        self.first_audio = self.opened
        self.playback_db, self._playback_at = NO_PLAYBACK_DB, 0.0
        self.barge_ins = 0
        self.echo_windows = 0
        self.closed: str | None = None
        self.message = ""
        self.ending = False
        if mode == "push":
            self._new_turn()
        job.on_cancel(lambda: self.close(str(job.reason or "stopped")))
        self._worker = threading.Thread(target=self._recognise, name=f"vox-listen-{self.id}", daemon=True)
        self._worker.start()

    # --- audio in --------------------------------------------------------------------------------------

    def feed(self, data: bytes, playback_db: float | None) -> dict:
        """One POST of 16-bit PCM: run the VAD, cut turns, barge in; the events since the last POST."""
        if len(data) % 2:
            raise InvalidRequest("The audio must be 16-bit samples: the body has an odd number of bytes.")
        seconds = len(data) / 2 / RATE
        if seconds > MAX_POST_S:
            raise TooLarge(f"Send at most {MAX_POST_S:g} seconds of audio per request.")
        with self._lock:
            self._check_open()
            now = time.monotonic()
            if not self.received_s:
                self.first_audio = now
            if self.received_s + seconds > now - self.first_audio + AHEAD_S:
                raise AudioTooFast("Audio is arriving faster than a microphone records it. Send it as it is "
                                   "captured.", retry_after=1)  # fmt: skip
            self.received_s += seconds
            self.last_audio = now
            if playback_db is not None:
                self.playback_db, self._playback_at = playback_db, now
            playing = self.playback_db if now - self._playback_at < PLAYBACK_FRESH_S else NO_PLAYBACK_DB
            pcm = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
            for prob, window in self.vad.feed(pcm):
                self._step(prob, window, playing)
            if self.turn is not None and self.turn.seconds >= self.settings.max_turn_s:
                self.events.append({"notice": f"Vox stopped listening to this turn after "
                                              f"{self.settings.max_turn_s:g} seconds and sent it."})  # fmt: skip
                self._end_turn(send=True)
                if self.mode == "push":
                    self._close_locked("the turn reached its time limit")
                else:
                    self.detector.reset()  # hands-free: a monologue goes on as the next turn
            return self._answer()

    def _step(self, prob: float, window: np.ndarray, playing: float) -> None:
        step = self.detector.push(prob, window, playing)
        self.echo_windows += step.echo
        if step.start:
            self._new_turn()
            self.events.append({"speech": True, "turn": self.turn_no})
        if step.onset:
            self.last_speech = time.monotonic()
            self._barge_in(playing, level_db(window))
        if self.turn is not None and step.audio:
            for piece in step.audio:
                self.turn.feed(piece)
            if step.audio and self.detector.speaking:
                self.last_speech = time.monotonic()
            self._kick()
        if step.pause:
            log.debug("turn %d paused (%.1f s received)", self.turn_no, self.received_s)
            self._pause = True
            self._kick()
        if step.end:
            log.debug("turn %d ended by silence (%.1f s received)", self.turn_no, self.received_s)
            self._end_turn(send=not step.discard)

    def _barge_in(self, playing: float, level: float) -> None:
        """Speech began: stop what Vox is saying and what the LLM is writing (in this session). The page may
        still be playing a reply the server finished synthesising long ago (Piper runs ahead of real time):
        the event tells it to stop too."""
        if not self.settings.barge_in:
            return
        busy = self.jobs.active(JobKind.SPEECH, self.job.session) + self.jobs.active(JobKind.LLM, self.job.session)
        if not busy and playing <= NO_PLAYBACK_DB:
            return
        stopped = self.jobs.stop(StopReason.USER_SPOKE, session=self.job.session)
        self.barge_ins += 1
        self.events.append({"barge_in": True, "stopped": [j.id for j in stopped], "turn": self.turn_no,
                            "level": round(level, 1), "playback": round(playing, 1)})  # fmt: skip
        log.info("barge-in at %.1f dBFS (playing %.1f): stopped %s", level, playing,
                 ", ".join(f"{j.id} ({j.kind})" for j in stopped) or "nothing")  # fmt: skip

    def _new_turn(self) -> None:
        self.turn_no += 1
        self.turn = self.recogniser.stream(self.language)
        self._turn_read_at = 0.0

    def _end_turn(self, send: bool) -> None:
        turn, self.turn = self.turn, None
        if turn is None:
            return
        with self._work:
            self._ending.append((self.turn_no, turn, send))
            self._work.notify_all()
        if not send:
            self.events.append({"discarded": True, "turn": self.turn_no,
                                "message": "That was too short to be speech; nothing was sent."})  # fmt: skip

    def _kick(self) -> None:
        with self._work:
            self._work.notify_all()

    def _answer(self) -> dict:
        events = list(self.events)
        self.events.clear()
        return {"events": events, "speaking": self.detector.speaking, "turn": self.turn_no}

    def poll(self) -> dict:
        with self._lock:
            self._check_open()
            return self._answer()

    def end_turn(self) -> dict:
        """Push-to-talk released: the final words of the turn (waits for the recogniser), then the stream ends."""
        with self._lock:
            self._check_open()
            self.ending = True  # no more audio will come: the stall clock stops
            number = self.turn_no
            enough = self.detector.finish()
            self._end_turn(send=enough)
        final = self._wait_final(number)
        with self._lock:
            answer = self._answer()
            self._close_locked("turn ended")
        answer["final"] = final
        return answer

    def _wait_final(self, number: int) -> dict:
        deadline = time.monotonic() + FINAL_TIMEOUT_S
        with self._work:
            while number not in self._finals and self.closed is None and time.monotonic() < deadline:
                self._final_ready.wait(0.1)
            return self._finals.pop(number, {"text": "", "turn": number, "sent": False,
                                             "message": "The words could not be recognised in time."})  # fmt: skip

    # --- recognition (the worker thread) ----------------------------------------------------------------

    def _recognise(self) -> None:
        try:
            while True:
                with self._work:
                    while self.closed is None and not self._ending and not self._partial_due():
                        self._work.wait(0.25)
                    if self.closed is not None and not self._ending:
                        return
                    ending = self._ending.popleft() if self._ending else None
                    turn = self.turn
                    self._pause = False
                if ending is not None:
                    self._finish(*ending)
                elif turn is not None:
                    self._partial(turn)
        except Exception as e:  # the recogniser failed: say so, and stop listening
            log.exception("speech recognition failed")
            self.close(f"speech recognition failed ({e})")

    def _partial_due(self) -> bool:
        turn = self.turn
        if turn is None or not turn.seconds or self.detector.speech_s == 0:
            return False
        if self._pause:
            return True
        if self.read_cost > PARTIAL_EVERY_S:
            return False  # a slow machine: words so far only at pauses, so the turn's end never waits behind them
        return turn.seconds - self._turn_read_at >= PARTIAL_EVERY_S and time.monotonic() >= self._next_partial_at

    def _partial(self, turn: FrameStream) -> None:
        """The words so far. On a slow machine a read costs more than PARTIAL_EVERY_S: the next one then waits
        as long as this one took, so reads for words so far never take more than half the time and the read
        at the end of the turn does not queue behind them."""
        self._turn_read_at = turn.seconds
        started = time.monotonic()
        text = turn.read(self.job.cancel).text
        self.read_cost = time.monotonic() - started
        self._next_partial_at = time.monotonic() + self.read_cost
        if text and turn is self.turn:
            self.events.append({"partial": text, "turn": self.turn_no})

    def _finish(self, number: int, turn: FrameStream, send: bool) -> None:
        transcript = turn.read(self.job.cancel) if send else None
        text = transcript.text.strip() if transcript else ""
        final = {"final": text, "turn": number, "sent": bool(text),
                 "language": transcript.language if transcript else ""}  # fmt: skip
        if send and not text:
            final["message"] = "No words were recognised. Speak a little louder or closer to the microphone."
        self.events.append(final)
        log.debug("turn %d final: %r", number, text)
        with self._work:
            self._finals[number] = {"text": text, **final}
            while len(self._finals) > 8:
                self._finals.pop(next(iter(self._finals)))
            self._final_ready.notify_all()

    # --- the end --------------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed is not None:
            raise ListenEnded(self.message or "Listening has stopped. Turn the microphone on again to talk.",
                              reason=self.closed)  # fmt: skip

    def close(self, reason: str, message: str = "") -> None:
        with self._lock:
            self._close_locked(reason, message)

    def _close_locked(self, reason: str, message: str = "") -> None:
        if self.closed is not None:
            return
        self.closed, self.message = reason, message
        self.events.append({"ended": reason, **({"message": message} if message else {})})
        with self._work:
            self._work.notify_all()
        self.jobs.finish(self.job)
        self._on_close(self)

    def check_time(self, now: float) -> None:
        """The clock's bounds: a page that stopped sending audio, hands-free with nobody speaking."""
        if self.closed is not None:
            return
        if not self.ending and now - self.last_audio > self.settings.stall_timeout_s:
            self.close("no audio", "The microphone stopped sending audio, so Vox stopped listening. Check "
                                   "that it is connected, then turn it on again.")  # fmt: skip
        elif self.mode == "hands_free" and now - self.last_speech > self.settings.idle_timeout_s:
            self.close("idle", f"Hands-free listening turned itself off after {_duration(self.settings.idle_timeout_s)}"
                               " without speech. Turn it on again to talk.")  # fmt: skip

    def info(self) -> dict:
        return {"id": self.id, "mode": self.mode, "rate": RATE, "job": self.job.id, "turn": self.turn_no,
                "closed": self.closed, "barge_ins": self.barge_ins, "echo_windows": self.echo_windows,
                "echo_onsets": self.detector.echo_onsets,
                "loudest_over_playback_db": round(self.detector.loudest_over_playback, 1),
                "received_s": round(self.received_s, 3)}  # fmt: skip


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} seconds"


class ListenRegistry:
    """The open listening streams, and the one clock thread that ends the ones a page abandoned."""

    TICK = 0.5

    def __init__(self, jobs: Controller, stt: SttManager, settings: Listen) -> None:
        self.jobs, self.stt, self.settings = jobs, stt, settings
        self._lock = threading.Lock()
        self._open: dict[str, ListenStream] = {}
        self._ended: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._clock: threading.Thread | None = None

    def open(self, mode: str, session: str, language: str | None = None) -> ListenStream:
        if mode not in MODES:
            raise InvalidRequest(f"'mode' must be one of: {', '.join(MODES)}.")
        self.stt.get()  # a missing model is this request's answer (503), before any job starts
        job = self.jobs.start(JobKind.LISTEN, session)
        try:
            stream = ListenStream(job, mode, language, self.settings, self.stt, self.jobs, self._forget)
        except BaseException:
            self.jobs.finish(job)
            raise
        with self._lock:
            self._open[stream.id] = stream
            if self._clock is None:
                self._clock = threading.Thread(target=self._tick, name="vox-listen-clock", daemon=True)
                self._clock.start()
        return stream

    def get(self, stream_id: str) -> ListenStream:
        with self._lock:
            stream = self._open.get(stream_id)
            ended = self._ended.get(stream_id)
        if stream is not None:
            return stream
        if ended is not None:
            reason, message = ended
            raise ListenEnded(message or "Listening has stopped. Turn the microphone on again to talk.",
                              reason=reason)  # fmt: skip
        raise UnknownListen("This listening stream is not open. Turn the microphone on again to talk.")

    def _forget(self, stream: ListenStream) -> None:
        with self._lock:
            self._open.pop(stream.id, None)
            self._ended[stream.id] = (stream.closed or "stopped", stream.message)
            while len(self._ended) > 32:
                self._ended.popitem(last=False)

    def streams(self) -> list[ListenStream]:
        with self._lock:
            return list(self._open.values())

    def close_all(self, reason: str = "shutdown") -> None:
        for stream in self.streams():
            stream.close(reason)

    def _tick(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            for stream in self.streams():
                stream.check_time(now)
