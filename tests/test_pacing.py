"""No holes (issue 14): chunk sizes follow how far synthesis runs ahead of playback, each piece of a chunk
says where it starts in the chunk's audio, and an opening clause keeps the pause of the whole sentence."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from tests.conftest import decode_chunk, start_server
from tests.slow_engine import slow_env
from tests.speech_timing import onset_after, silent_before
from vox.audio.pcm import to_int16
from vox.engines.piper import CLAUSE_PAUSE
from vox.reply.pacing import SHARE, Pacer
from vox.reply.piece_timing import SECONDS_PER_CHAR, SpeechRate, Starts, by_characters
from vox.text import Piece, SpeechPlanner

REPLY = (
    "Sure, here is the plan for tomorrow. We start at nine with a short meeting. After that, the design team "
    "reviews the new screens. Lunch is booked for half past twelve. In the afternoon we test the release on "
    "all three platforms. Marketing needs the final screenshots by four."
)
SHORT = " ".join(f"Point {n} is short." for n in ("one", "two", "three", "four", "five", "six", "seven", "eight",
                                                  "nine", "ten", "eleven", "twelve"))  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def piece(text: str, sentence: int = 0, continues: bool = False) -> Piece:
    return Piece(text, 0, len(text), sentence, continues)


# --- the pacing rule, on a clock the test moves ------------------------------------------------------------


def test_before_any_chunk_is_measured_the_next_is_one_piece():
    assert Pacer(3, 300, Clock()).limit() == (1, 300)


def test_the_next_chunk_may_spend_a_share_of_the_buffered_audio():
    clock = Clock()
    pacer = Pacer(3, 300, clock)
    pacer.synthesised(50, 0.5)  # 10 ms of compute per character
    pacer.sent(4.0)
    assert pacer.ahead() == 4.0
    assert pacer.limit() == (3, int(SHARE * 4.0 / 0.01))  # 200 characters
    clock.now += 3.0  # three seconds played: one left
    assert pacer.ahead() == pytest.approx(1.0)
    assert pacer.limit() == (3, int(SHARE * 1.0 / 0.01))
    pacer.synthesised(1000, 100.0)  # the engine turned slow: 100 ms per character over the reply
    assert pacer.limit()[1] < 20


def test_a_fast_engine_grows_chunks_to_the_cap():
    pacer = Pacer(3, 300, Clock())
    pacer.synthesised(40, 0.02)
    pacer.sent(3.0)
    assert pacer.limit() == (3, 300)


def test_buffered_audio_restarts_from_now_after_a_hole():
    clock = Clock()
    pacer = Pacer(3, 300, clock)
    pacer.sent(1.0)
    clock.now += 5.0  # played out four seconds ago: the listener heard silence since
    assert pacer.ahead() == 0.0
    pacer.sent(2.0)
    assert pacer.ahead() == pytest.approx(2.0)


# --- where pieces start ------------------------------------------------------------------------------------


def test_starts_in_proportion_to_characters():
    assert by_characters(["abc", "defg", "h"], 1.0) == pytest.approx([0.0, 4 / 10, 9 / 10])
    assert by_characters(["only"], 2.0) == [0.0]


def test_exact_starts_add_up_each_call_and_the_silence_after_it():
    starts = Starts()
    starts.add([piece("One.", 0)], 22050, 22050)
    starts.silence(2205)
    starts.add([piece("Two parts,", 1, True), piece("of one sentence.", 1)], 44100, 22050)
    assert starts.starts == pytest.approx([0.0, 1.1, 1.1 + 2.0 * 11 / 27])


def test_a_streamed_chunk_is_estimated_from_the_reply_rate():
    rate = SpeechRate()
    pieces = [piece("Hello there."), piece("General Kenobi.", 1)]
    first = rate.starts(pieces, 0.1)
    assert first == pytest.approx([0.0, 13 * SECONDS_PER_CHAR])  # no chunk finished yet: the prior
    rate.add(100, 10.0)  # this voice says 10 characters a second
    assert rate.starts(pieces, 0.1) == pytest.approx([0.0, 1.3])
    assert rate.starts(pieces, 5.6) == pytest.approx([0.0, 5.6 * 13 / 28])  # longer than expected: stretched


# --- the real server with the real Piper voice ---------------------------------------------------------------


@pytest.fixture(scope="module")
def static_server(tmp_path_factory) -> Iterator:
    """Chunks of 1, 2, 3 sentences whatever the machine does, so several pieces share a chunk."""
    s = start_server(tmp_path_factory.mktemp("static"), config="[chunking]\nadaptive = false\n")
    assert s.post("/api/tts_load", {"engine": "piper"}).status_code == 200
    yield s
    s.stop()


def audio_chunks(server, text: str, **kw) -> list[dict]:
    messages = list(server.stream({"text": text, **kw}))
    assert messages[-1].get("done") and not messages[-1]["stopped"], messages[-1]
    return [m for m in messages if "audio" in m]


def test_each_piece_starts_where_its_speech_starts(static_server):
    chunks = audio_chunks(static_server, REPLY)
    assert max(len(m["pieces"]) for m in chunks) >= 2
    checked = 0
    for m in chunks:
        pcm, rate = decode_chunk(m)
        starts = [p["at"] for p in m["pieces"]]
        assert starts[0] == 0.0 and starts == sorted(starts) and starts[-1] < len(pcm) / rate
        for at in starts[1:]:  # a sentence boundary: the last sentence's trailing silence, then speech
            assert silent_before(pcm, rate, at, 0.1), f"speech just before {at} s in {m['text']!r}"
            onset = onset_after(pcm, rate, at)  # Piper's lead-in is 5-90 ms, now and then ~400 ms
            assert onset is not None and onset < 0.5, f"no speech within 500 ms of {at} s in {m['text']!r}"
            checked += 1
    assert checked >= 3


def test_a_whole_reply_says_every_piece_once_in_order(server):
    chunks = audio_chunks(server, REPLY)
    said = [p["text"] for m in chunks for p in m["pieces"]]
    assert said == [p.text for c in SpeechPlanner().plan(REPLY) for p in c.pieces]
    assert all(m["text"] == " ".join(p["text"] for p in m["pieces"]) for m in chunks)
    spans = [(p["start"], p["end"]) for m in chunks for p in m["pieces"]]
    assert spans == sorted(spans) and all(a < b for a, b in spans)


def trailing_zeros(pcm: np.ndarray) -> int:
    loud = np.flatnonzero(to_int16(pcm))
    return len(pcm) - 1 - int(loud[-1])


@pytest.mark.parametrize("speed", [1.0, 2.0])
def test_an_opening_clause_ends_with_the_pause_piper_leaves_out(server, speed):
    chunks = audio_chunks(server, "Well, that depends on the weather. We will see tomorrow.", speed=speed)
    assert [m["text"] for m in chunks][:2] == ["Well,", "that depends on the weather."]
    assert chunks[0]["pieces"][0]["text"] == "Well,"
    pad = round(CLAUSE_PAUSE / speed * chunks[0]["sample_rate"])
    assert trailing_zeros(decode_chunk(chunks[0])[0]) >= pad, "the restored pause"
    # Sentences said whole get nothing added. Piper's own audio may end in zero samples too (its quietest
    # tail rounds to 0: usually under 10 samples, once 845), so only "not every one" is certain.
    assert min(trailing_zeros(decode_chunk(m)[0]) for m in chunks[1:]) < pad


def test_chunks_grow_when_synthesis_runs_far_ahead_and_stay_small_when_it_does_not(server, tmp_path):
    fast = []  # on an idle machine the third chunk has grown; a busy one may take longer to get ahead
    for m in server.stream({"text": " ".join([SHORT] * 3)}):
        if "audio" in m:
            fast.append(len(m["pieces"]))
            if fast[-1] > 1:
                assert server.post("/api/vox_stop").status_code == 200
    assert max(fast) >= 2, f"chunk sizes {fast}"
    slow = start_server(tmp_path, env=slow_env(15))  # synthesis barely faster than speech, if at all
    try:
        assert slow.post("/api/tts_load", {"engine": "piper"}).status_code == 200
        sizes = []
        for m in slow.stream({"text": SHORT}):
            if "audio" in m:
                sizes.append(len(m["pieces"]))
                if len(sizes) == 4:
                    assert slow.post("/api/vox_stop").status_code == 200
        assert sizes[:4] == [1] * 4
    finally:
        slow.stop()
