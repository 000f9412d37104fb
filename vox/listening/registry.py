"""The open listening streams, and the one clock thread that ends the ones a page abandoned."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from vox.config import Listen
from vox.errors import InvalidRequest, ListenEnded, UnknownListen
from vox.jobs.controller import Controller, JobKind
from vox.listening.streams import MODES, ListenStream
from vox.stt import SttManager


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

    def _tick(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            for stream in self.streams():
                stream.check_time(now)
