"""The Controller: which jobs each stop reason covers, sessions, replacement, the limit, listeners."""

from __future__ import annotations

import threading

import pytest

from vox.errors import TooManyJobs
from vox.jobs.cancel import Cancel
from vox.jobs.controller import POLICIES, Controller, JobKind, StopEvent, StopReason

ALL_KINDS = list(JobKind)

# reason -> kinds it stops (in every session)
COVERS = [
    (StopReason.USER, {JobKind.SPEECH}),
    (StopReason.STOP_ALL, {JobKind.SPEECH, JobKind.LLM, JobKind.LISTEN, JobKind.PREVIEW}),
    (StopReason.USER_SPOKE, {JobKind.SPEECH, JobKind.LLM, JobKind.PREVIEW}),  # the listener that heard it goes on
    (StopReason.ENGINE_SWITCH, {JobKind.SPEECH, JobKind.RENDER, JobKind.PREVIEW}),
    (StopReason.UNLOAD, {JobKind.SPEECH, JobKind.RENDER, JobKind.PREVIEW}),
    (StopReason.SHUTDOWN, set(JobKind)),
]


@pytest.mark.parametrize(("reason", "kinds"), COVERS, ids=[str(r) for r, _ in COVERS])
def test_each_reason_stops_exactly_the_kinds_its_policy_covers(reason, kinds):
    c = Controller(max_jobs=100)
    jobs = {kind: c.start(kind) for kind in ALL_KINDS}
    stopped = c.stop(reason)
    assert {j.kind for j in stopped} == kinds
    for kind, job in jobs.items():
        assert job.cancelled == (kind in kinds)
        assert job.reason == (reason if kind in kinds else None)


def test_a_render_survives_stop_all_and_replies_but_not_an_engine_switch():
    c = Controller(max_jobs=10)
    render = c.start(JobKind.RENDER)
    c.start(JobKind.SPEECH)
    c.start(JobKind.SPEECH)
    c.stop(StopReason.STOP_ALL)
    assert not render.cancelled
    c.stop(StopReason.ENGINE_SWITCH)
    assert render.cancelled and render.reason == StopReason.ENGINE_SWITCH


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_new_job_replaces_its_own_kind_in_its_own_session_only(kind):
    c = Controller(max_jobs=10)
    mine, theirs = c.start(kind, "a"), c.start(kind, "b")
    other_kind = [c.start(k, "a") for k in ALL_KINDS if k != kind]
    newer = c.start(kind, "a")
    assert mine.cancelled == POLICIES[kind].replaces
    if mine.cancelled:
        assert mine.reason == StopReason.REPLACED
    assert not theirs.cancelled and not newer.cancelled
    assert not any(j.cancelled for j in other_kind)


def test_a_user_stop_in_one_session_leaves_the_others_speaking():
    c = Controller(max_jobs=10)
    a, b = c.start(JobKind.SPEECH, "a"), c.start(JobKind.SPEECH, "b")
    assert c.stop(StopReason.USER, session="a") == [a]
    assert a.cancelled and not b.cancelled
    c.stop(StopReason.STOP_ALL)
    assert b.cancelled


def test_stopping_one_job_names_it_and_reasons_that_need_a_job_refuse_to_guess():
    c = Controller()
    job, other = c.start(JobKind.LLM), c.start(JobKind.SPEECH)
    assert c.stop(StopReason.CLIENT_GONE, job=job) == [job]
    assert job.reason == StopReason.CLIENT_GONE and not other.cancelled
    assert c.stop(StopReason.CLIENT_GONE, job=job) == []  # a second stop changes nothing
    assert job.reason == StopReason.CLIENT_GONE
    with pytest.raises(ValueError):
        c.stop(StopReason.CLIENT_GONE)


def test_listeners_hear_the_reason_the_jobs_and_the_session():
    c = Controller(max_jobs=10)
    heard: list[StopEvent] = []
    c.on_stop.append(heard.append)
    first = c.start(JobKind.SPEECH, "tab-1")
    second = c.start(JobKind.SPEECH, "tab-1")
    c.stop(StopReason.USER, session="tab-1")
    assert [(e.reason, e.jobs, e.session) for e in heard] == [
        (StopReason.REPLACED, (first,), "tab-1"),
        (StopReason.USER, (second,), "tab-1"),
    ]
    assert heard[-1].newest == second.number and not heard[-1].everything
    c.stop(StopReason.STOP_ALL)
    assert heard[-1].everything and heard[-1].jobs == ()


def test_cancelled_jobs_stop_counting_once_they_leave_the_engine():
    c = Controller(max_jobs=2)
    first = c.start(JobKind.SPEECH, "a")
    c.start(JobKind.SPEECH, "b")
    with pytest.raises(TooManyJobs) as refused:
        c.start(JobKind.SPEECH, "c")
    assert refused.value.details["retry_after"] >= 1
    c.stop(StopReason.USER, session="a")
    with pytest.raises(TooManyJobs):  # stopped, but its producer still holds the engine
        c.start(JobKind.SPEECH, "c")
    first.engine_done.set()  # its producer has ended; only a slow client keeps the stream open
    assert not first.finished.is_set()
    c.start(JobKind.SPEECH, "c")


def test_wait_engine_idle_waits_for_the_jobs_it_is_given():
    c = Controller()
    job = c.start(JobKind.SPEECH)
    assert not c.wait_engine_idle([job], 0.05)
    threading.Timer(0.05, job.engine_done.set).start()
    assert c.wait_engine_idle([job], 5)


def test_a_cancel_runs_its_callbacks_once_and_cannot_be_undone():
    cancel = Cancel()
    calls = []
    remove = cancel.on_set(lambda: calls.append("a"))
    cancel.on_set(lambda: calls.append("b"))
    remove()
    cancel.set()
    cancel.set()
    assert calls == ["b"]
    cancel.on_set(lambda: calls.append("late"))  # already set: runs at once
    assert calls == ["b", "late"]
    with pytest.raises(RuntimeError):
        cancel.clear()


def test_a_reply_that_replaces_takes_the_place_of_the_one_it_replaces():
    """A session at the limit can still replace its own reply (a tab whose stream stalled speaks again)."""
    c = Controller(max_jobs=1)
    first = c.start(JobKind.SPEECH, "tab")
    with pytest.raises(TooManyJobs):
        c.start(JobKind.SPEECH, "other")
    second = c.start(JobKind.SPEECH, "tab")
    assert first.cancelled and first.reason == StopReason.REPLACED and not second.cancelled
    with pytest.raises(TooManyJobs):  # the replaced job still holds the engine; the new one counts
        c.start(JobKind.SPEECH, "other")
    first.engine_done.set()
    with pytest.raises(TooManyJobs):
        c.start(JobKind.SPEECH, "other")
    c.finish(second)
    c.start(JobKind.SPEECH, "other")
