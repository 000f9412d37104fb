"""A long whole reply is planned as it is spoken: its first chunk does not wait for the rest (markdown,
sentences, verbalisation and chunks of 10,000 words took tens of milliseconds), it says exactly what the
whole plan says, and its chunk count is then unknown (null), as for a reply still streaming in."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.test_verbalise import numeric_text
from tests.text_strategies import PROPERTY, markdown, realistic_text
from vox.config import Config
from vox.errors import NothingToSay
from vox.runtime import LAZY_CHARS, Runtime
from vox.text import SpeechPlanner

_LONG = " ".join(f"Step {i}: pay $4.{i % 100:02d} on 03/{i % 28 + 1:02d}/2025 at 5 p.m., e.g. to Dr. Lee."
                 for i in range(120))  # fmt: skip


@PROPERTY
@given(st.one_of(numeric_text(), markdown().map(lambda case: case[0]), realistic_text()), st.integers(1, 300),
       st.integers(1, 4))  # fmt: skip
def test_planned_as_taken_is_planned_whole(text: str, step: int, group: int) -> None:
    settings = {"group_size": group, "max_chars": 80, "first_chunk_chars": 40}
    assert list(SpeechPlanner(**settings).chunks(text, step)) == SpeechPlanner(**settings).plan(text)


def test_a_long_reply_is_planned_as_it_is_spoken() -> None:
    assert len(_LONG) > LAZY_CHARS
    rt = Runtime(Config())
    lazy = rt.speakable_plan(_LONG)
    assert not isinstance(lazy, list)
    assert list(lazy) == rt.plan(_LONG)
    short = "Sure, it costs $5. Thanks."
    assert rt.speakable_plan(short) == rt.plan(short)
    with pytest.raises(NothingToSay):
        rt.speakable_plan("... " * LAZY_CHARS)


def test_the_first_chunk_of_a_long_reply_waits_for_one_slice_only() -> None:
    planner = SpeechPlanner()
    lazy = planner.chunks(_LONG)
    first = next(lazy)
    assert first.text.startswith("Step zero:")
    assert planner.sentences[-1].end < 2 * 2048 < len(_LONG), "only the first slice was planned"
    assert [first, *lazy] == SpeechPlanner().plan(_LONG)


def test_a_long_reply_says_how_many_chunks_only_when_known() -> None:
    """The real Piper engine: a long reply's chunks carry total None (planned as spoken), a short one's the count."""
    rt = Runtime(Config())
    short = "One sentence. And another one."
    for text, total in ((_LONG, None), (short, len(rt.plan(short)))):
        gen = rt.speak(text)
        try:
            first = next(c for c in gen if c is not None)
            assert first.total == total
        finally:
            gen.close()
        assert rt.jobs.wait_idle(10)
    assert list(itertools.islice(rt.speakable_plan(_LONG), 2)) == rt.plan(_LONG)[:2]
