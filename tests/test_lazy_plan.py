"""A long whole reply is planned as it is spoken: its first chunk does not wait for the rest (markdown,
sentences, verbalisation and chunks of 10,000 words took tens of milliseconds), and it says exactly the words
the whole plan says."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.test_verbalise import numeric_text
from tests.text_strategies import PROPERTY, markdown, realistic_text
from vox.config import Config
from vox.errors import NothingToSay
from vox.reply.text_feed import WHOLE_SLICE, TextFeed
from vox.runtime import Runtime
from vox.text import SpeechPlanner

_LONG = " ".join(f"Step {i}: pay $4.{i % 100:02d} on 03/{i % 28 + 1:02d}/2025 at 5 p.m., e.g. to Dr. Lee."
                 for i in range(400))  # fmt: skip


def drain(feed: TextFeed) -> list:
    """Every chunk, taken two pieces at a time at most."""
    taken = []
    while (chunk := feed.next_chunk(lambda: (2, 300))) is not None:
        taken.append(chunk)
    return taken


def test_a_whole_reply_fed_lazily_says_what_the_whole_plan_says() -> None:
    planner = SpeechPlanner(None, 300, 60)
    lazy = TextFeed(planner)
    lazy.push_whole(_LONG)
    assert planner.sentences[-1].end < 2 * WHOLE_SLICE < len(_LONG), "more than the first slice was planned"
    eager = TextFeed(SpeechPlanner(None, 300, 60))
    eager.push(_LONG)
    eager.end()
    assert drain(lazy) == drain(eager)


@PROPERTY
@given(st.one_of(numeric_text(), markdown().map(lambda case: case[0]), realistic_text()), st.integers(1, 300),
       st.integers(1, 4), st.integers(20, 200))  # fmt: skip
def test_any_reply_fed_lazily_is_planned_as_fed_whole(text: str, step: int, most_pieces: int, most_chars: int) -> None:
    """Slice boundaries (here down to one character) never change a word or a chunk."""
    def chunks(lazily: bool) -> list:
        feed = TextFeed(SpeechPlanner(None, 80, 40))
        if lazily:
            feed.push_whole(text, step)
        else:
            feed.push(text)
            feed.end()
        taken = []
        while (chunk := feed.next_chunk(lambda: (most_pieces, most_chars))) is not None:
            taken.append(chunk)
        return taken

    assert chunks(lazily=True) == chunks(lazily=False)


def test_the_first_chunk_of_a_long_reply_does_not_wait_for_the_rest() -> None:
    rt = Runtime(Config())
    long = _LONG * 4  # about 8,000 words

    def first_chunk_seconds(text: str) -> float:
        best = float("inf")
        for _ in range(3):
            t0 = time.process_time()
            source, _ = rt.whole_reply(text)
            source.next_chunk(lambda: (1, 300))
            best = min(best, time.process_time() - t0)
        return best

    short = first_chunk_seconds(long[:300])
    assert first_chunk_seconds(long) < 5 * short + 0.01, "the first chunk waited for the whole reply"


def test_nothing_speakable_is_found_out_before_the_reply_starts() -> None:
    rt = Runtime(Config())
    with pytest.raises(NothingToSay):
        rt.whole_reply("... *** ``` " * 2000)
