"""Listening streams in process: every way a stream ends is one Controller call with a reason (or the stream's
own completion), its job leaves the Controller once its worker is done, and no event a stream produces is lost
while a request collects them. Real Whisper (tiny.en, packaged weights), real VAD, a real Controller."""

from __future__ import annotations

import contextlib
import sys
import threading
import time

import numpy as np
import pytest

from tests.speech_clips import clip16k
from tests.whisper_weights import whisper_model_dir
from vox.config import Config
from vox.errors import UNEXPECTED, ListenEnded
from vox.jobs.controller import Controller, JobKind, StopEvent, StopReason
from vox.listening.registry import ListenRegistry
from vox.stt import SttManager


@pytest.fixture(scope="module")
def stt():
    config = Config()
    config.stt.model, config.stt.language = str(whisper_model_dir("tiny.en")), "en"
    manager = SttManager(config)
    manager.get()
    yield manager
    manager.unload()


@pytest.fixture
def listening(stt):
    """A Controller that records every stop, and a registry of listening streams on it."""
    jobs = Controller(max_jobs=8)
    stops: list[StopEvent] = []
    jobs.on_stop.append(stops.append)
    settings = Config().listen
    settings.stall_timeout_s, settings.idle_timeout_s = 60.0, 120.0  # the tests move the clock themselves
    return jobs, stops, ListenRegistry(jobs, stt, settings)


def wait_finished(jobs: Controller, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while any(j.kind == JobKind.LISTEN for j in jobs.running()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


STOPS = [
    # how the stream ends, the reason the Controller hears, what the page is told
    ("the page turns the microphone off", StopReason.CLIENT_GONE, "stopped by the page"),
    ("the page stops sending audio", StopReason.CLIENT_GONE, "no audio"),
    ("hands-free hears nobody", StopReason.IDLE, "idle"),
    ("stop-all", StopReason.STOP_ALL, "stop all"),
    ("a newer stream in the session", StopReason.REPLACED, "replaced"),
    ("shutdown", StopReason.SHUTDOWN, "shutdown"),
]


@pytest.mark.parametrize(("how", "reason", "said"), STOPS, ids=[s[0] for s in STOPS])
def test_every_stop_of_a_stream_is_one_controller_call_with_its_reason(listening, how, reason, said):
    jobs, stops, registry = listening
    stream = registry.open("hands_free", "s1")
    if how == "the page turns the microphone off":
        stream.stop(StopReason.CLIENT_GONE, "stopped by the page")
    elif how == "the page stops sending audio":
        stream.check_time(time.monotonic() + 61)
    elif how == "hands-free hears nobody":
        stream.last_audio = time.monotonic() + 200  # audio keeps coming, silent
        stream.check_time(time.monotonic() + 121)
    elif how == "stop-all":
        jobs.stop(StopReason.STOP_ALL)
    elif how == "a newer stream in the session":
        registry.open("push", "s1")
    else:
        jobs.stop(StopReason.SHUTDOWN)
    mine = [e for e in stops if stream.job in e.jobs]
    assert [e.reason for e in mine] == [reason]
    assert stream.closed == said and stream.job.reason == reason
    with pytest.raises(ListenEnded) as ended:
        registry.get(stream.id).poll()
    assert ended.value.details["reason"] == said
    if how != "a newer stream in the session":
        assert wait_finished(jobs), "the stopped stream's job never left the Controller"


def test_a_completed_turn_ends_the_stream_without_a_stop(listening):
    jobs, stops, registry = listening
    stream = registry.open("push", "s1")
    answer = stream.end_turn()  # push-to-talk released with nothing said
    assert answer["final"]["sent"] is False and stream.closed == "turn ended"
    assert stops == [] and stream.job.reason is None
    assert wait_finished(jobs)


def test_a_recogniser_that_fails_stops_the_stream_with_an_error(listening, monkeypatch):
    jobs, stops, registry = listening
    stream = registry.open("push", "s1")

    def broken(*args, **kwargs):
        raise RuntimeError("the model is gone")

    monkeypatch.setattr(stream.recogniser, "transcribe", broken)
    speech = (np.clip(clip16k("question"), -1, 1) * 32767).astype("<i2").tobytes()
    with contextlib.suppress(ListenEnded):  # the worker's first read (words so far, or the last) fails
        for i in range(0, len(speech), 3200):  # 100 ms per request, as fast as the stream takes it
            stream.feed(speech[i : i + 3200], None)
        stream.end_turn()
    assert stream.closed == "speech recognition failed" and stream.message == UNEXPECTED  # the log has the rest
    assert [e.reason for e in stops] == [StopReason.ERROR]
    assert wait_finished(jobs)


def test_no_event_is_lost_while_the_recogniser_adds_them_and_requests_collect_them(listening):
    """The recogniser's thread adds a final per turn while the page's requests take what is there: every final
    arrives, once. (Copying the queue and then clearing it, as before, lost the ones added in between.)"""
    _, _, registry = listening
    stream = registry.open("hands_free", "s1")
    turns, collected, done = 4000, [], threading.Event()

    def recogniser() -> None:
        deadline = time.monotonic() + 10
        for n in range(turns):
            stream._finish(n, None, send=False)  # the worker's own step: a turn's final event
            while n - len(collected) > 64 and time.monotonic() < deadline:  # stay within the queue's bound
                time.sleep(0)
        done.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, inside every step
    try:
        thread = threading.Thread(target=recogniser)
        thread.start()
        while not done.is_set():
            collected += [e["turn"] for e in stream.poll()["events"] if "final" in e]
        thread.join()
        collected += [e["turn"] for e in stream.poll()["events"] if "final" in e]
    finally:
        sys.setswitchinterval(interval)
    assert sorted(collected) == list(range(turns)), f"{turns - len(set(collected))} finals were lost"
