"""vox.text: sentence splitting, streaming, markdown normalisation and the chunk policy (pure, fast)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.baselines import ChunkStream, SentenceStream, SpeechStream, speech_chunks, split_sentences
from tests.text_cases import CHUNKS, NORMALIZE, SENTENCES
from tests.text_strategies import (
    ODD,
    PROPERTY,
    cut,
    markdown,
    realistic_text,
    stream,
    streamed_chunks,
    text_and_cuts,
    words,
)
from vox.config import Config
from vox.config import Engine as EngineSettings
from vox.runtime import Runtime
from vox.text import normalize_for_speech, speakable
from vox.text.markdown import MarkdownStream

GOLDEN_FILE = Path(__file__).parent / "data" / "golden_rules_en.json"  # a copy of shared/benchmarks/
GOLDEN = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))["cases"]
# -- English Golden Rules -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", GOLDEN, ids=[f"golden-{i}" for i in range(len(GOLDEN))])
def test_golden_rule(case: dict) -> None:
    assert [s.strip() for s in split_sentences(case["text"], 1)] == case["sentences"]


def test_golden_rules_all_48_and_streamed() -> None:
    assert len(GOLDEN) == 48
    for case in GOLDEN:
        assert stream(SentenceStream, list(case["text"])) == case["sentences"]


# -- the tables -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in SENTENCES], ids=[c[0] for c in SENTENCES])
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text, 1) == expected
    assert stream(SentenceStream, list(text)) == expected
    assert words(" ".join(expected)) == words(text)


@pytest.mark.parametrize(("markdown", "expected"), [c[1:] for c in NORMALIZE], ids=[c[0] for c in NORMALIZE])
def test_normalize_for_speech(markdown: str, expected: str) -> None:
    assert normalize_for_speech(markdown) == expected
    assert stream(MarkdownStream, list(markdown)) == expected


@pytest.mark.parametrize(("text", "kwargs", "expected"), [c[1:] for c in CHUNKS], ids=[c[0] for c in CHUNKS])
def test_speech_chunks(text: str, kwargs: dict, expected: list[str]) -> None:
    assert speech_chunks(text, **kwargs) == expected
    assert all(len(c) <= kwargs.get("max_chars", 300) for c in expected)


def test_table_sizes() -> None:
    assert len(SENTENCES) >= 60 and len(NORMALIZE) >= 20 and len(CHUNKS) >= 10


# -- groups (the predecessor's split_sentences) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "group_size", "sizes"),
    [
        (0, 3, []),
        (1, 3, [1]),
        (3, 3, [3]),  # three sentences or fewer make one group
        (4, 3, [4]),  # a short tail merges into the group before
        (5, 3, [3, 2]),
        (7, 3, [3, 4]),
        (9, 3, [3, 3, 3]),
        (5, 2, [2, 2, 1]),  # half a group is not short
        (9, 4, [4, 5]),
        (4, 1, [1, 1, 1, 1]),
    ],
)
def test_groups(count: int, group_size: int, sizes: list[int]) -> None:
    text = " ".join(f"Sentence number {i}." for i in range(count))
    groups = split_sentences(text, group_size)
    assert [g.count(".") for g in groups] == sizes
    assert " ".join(groups) == text


def test_default_group_is_three() -> None:
    assert split_sentences("One. Two. Three. Four. Five. Six.") == ["One. Two. Three.", "Four. Five. Six."]


# -- streaming: as soon as possible, same result ------------------------------------------------------------


def test_sentence_released_when_next_begins() -> None:
    s = SentenceStream()
    assert s.feed("Hello world.") == []
    assert s.feed(" ") == []
    assert s.feed("H") == ["Hello world."]
    assert s.feed("ow are you? I") == ["How are you?"]
    assert s.flush() == ["I"]


def test_abbreviation_waits_for_the_next_word_only() -> None:
    s = SentenceStream()
    assert s.feed("I live in the U.S. Ho") == []
    assert s.feed("w ") == ["I live in the U.S."]
    s = SentenceStream()
    assert s.feed("I work for the U.S. Government ") == []
    assert s.feed("now. Yes") == ["I work for the U.S. Government now."]


def test_stream_is_reusable_after_flush() -> None:
    s = SentenceStream()
    s.feed("One. Two")
    assert s.flush() == ["Two"]
    assert s.feed("Three. Four") == ["Three."]
    assert s.flush() == ["Four"]


def test_speech_stream_serves_an_llm_reply() -> None:
    reply = "# Plan\n\nSure! Here's the plan:\n\n1. **Install** it.\n2. Run `vox --say hi`.\n\n"
    reply += "```sh\nmake\n```\nDone."
    speech, chunks, spoken = SpeechStream(), ChunkStream(), []
    first_at = None
    for i, ch in enumerate(reply):
        for sentence in speech.feed(ch):
            got = chunks.feed(sentence)
            if got and first_at is None:
                first_at = i
            spoken += got
    for sentence in speech.flush():
        spoken += chunks.feed(sentence)
    spoken += chunks.flush()
    assert spoken == speech_chunks(normalize_for_speech(reply))
    assert spoken[0] == "Plan."
    assert first_at is not None and first_at < reply.index("Sure") + 2  # the first chunk did not wait
    assert "Here is some shell code." in " ".join(spoken) and "make" not in " ".join(spoken)


@pytest.mark.parametrize(
    ("reply", "first", "said_by"),
    [
        ("Sure, here is **the** plan for tomorrow. Step one.", "Sure,", "Sure, here "),
        ("Well, Dr. Smith will call. Then more.", "Well,", "Well, Dr. "),
        ("Wait. No, not that. Then more.", "Wait.", "Wait. No, "),  # a sentence first: no clause to open with
        ("Sure, ... Then more.", "Sure,...", "Sure, ... Then "),  # nothing said after the comma
        ("One, two", "One,", None),  # "two" may go on: the first chunk waits for the end
    ],
)
def test_streamed_reply_opens_before_its_first_sentence_ends(reply: str, first: str, said_by: str | None) -> None:
    """A streamed reply's chunks are speech_chunks' and the first comes once the text shows where it ends."""
    chunks, at = streamed_chunks(list(reply))
    assert chunks == speech_chunks(normalize_for_speech(reply))
    assert chunks[0] == first
    assert (reply[: at + 1] if at is not None else None) == said_by


def test_chunk_stream_releases_first_sentence_at_once_then_groups() -> None:
    c = ChunkStream(group_size=3)
    assert c.feed("First.") == ["First."]
    assert c.feed("Second.") == []
    assert c.feed("Third.") == ["Second. Third."]
    assert c.feed("Fourth.") == [] and c.feed("Fifth.") == []
    assert c.drain() == ["Fourth. Fifth."]  # the synthesiser went idle: take what there is
    assert c.feed("Sixth.") == []
    assert c.flush() == ["Sixth."]
    assert c.feed("New reply.") == ["New reply."]


def test_chunk_stream_first_sentence_comes_in_pieces_at_once() -> None:
    c = ChunkStream(first_chunk_chars=40)
    first = c.feed("This opening sentence is rather long, so the start is just its first clause.")
    assert first == ["This opening sentence is rather long,", "so the start is just its first clause."]
    assert c.feed("Then.") == [] and c.feed("More.") == ["Then. More."]
    assert c.flush() == []


def test_reply_opens_with_a_clause_only_for_piper() -> None:
    """Chatterbox babbles on prompts as short as "Sure," (resemble-ai/chatterbox#97); Piper says them cleanly."""
    reply = "Sure, here is the plan. Step one."
    for engine, first in (("piper", "Sure,"), ("turbo", "Sure, here is the plan.")):
        rt = Runtime(Config(engine=EngineSettings(name=engine)))
        assert rt.planner().plan(reply)[0].text == first
        assert rt.planner().feed("Sure, here is the plan. Step one. ")[0].text == first


# -- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\t \u3000\r\n"])
def test_empty(text: str) -> None:
    assert split_sentences(text) == [] and split_sentences(text, 1) == []
    assert normalize_for_speech(text) == ""
    assert speech_chunks(text) == []
    assert stream(SentenceStream, [text]) == [] and stream(SpeechStream, [text]) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda v: split_sentences(v),
        lambda v: split_sentences(v, 1),
        lambda v: normalize_for_speech(v),
        lambda v: speech_chunks(v),
        lambda v: SentenceStream().feed(v),
        lambda v: SpeechStream().feed(v),
        lambda v: MarkdownStream().feed(v),
        lambda v: ChunkStream().feed(v),
    ],
)
@pytest.mark.parametrize("value", [42, None, b"bytes", ["a."]])
def test_non_str_raises_type_error(call, value) -> None:
    with pytest.raises(TypeError, match=rf"must be str, not {type(value).__name__}"):
        call(value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: split_sentences("a", 0), "group_size must be at least 1"),
        (lambda: split_sentences("a", "3"), "group_size must be int, not str"),
        (lambda: speech_chunks("a", max_chars=0), "max_chars must be at least 1"),
        (lambda: speech_chunks("a", first_chunk_chars=1.5), "first_chunk_chars must be int, not float"),
        (lambda: ChunkStream(group_size=True), "group_size must be int, not bool"),
    ],
)
def test_bad_numbers(call, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        call()


@pytest.mark.parametrize(
    "text",
    [
        "No final punctuation here",
        "Control\x00 chars\x07 and\x1b[0m escapes. Still\x7f fine\x85 here.",
        "Zero\u200bwidth\u200c and\u200d joiners. Bidi \u202eevil\u202c and \u2066isolates\u2069 too.",
        "\ufeffBOM first. Soft\u00adhyphen.",
        "مرحبا بالعالم. كيف حالك؟ \u200fنعم.",
        "日本語の文。中文句子！한국어 문장? 混合 text。End",
        "Lone surrogates are impossible in str, but odd marks: \u0301\u20e3. Fine.",
        "Line\u2028separator and\u2029paragraph separator. Done",
    ],
)
def test_odd_characters_keep_every_word(text: str) -> None:
    sentences = split_sentences(text, 1)
    assert sentences and words(" ".join(sentences)) == words(text)
    assert stream(SentenceStream, list(text)) == sentences
    assert words(" ".join(speech_chunks(text))) == words(text)
    spoken = normalize_for_speech(text)
    assert words(spoken) == words(text)
    assert stream(SpeechStream, list(text)) == split_sentences(spoken, 1)


def test_text_without_final_punctuation_keeps_last_sentence() -> None:
    assert split_sentences("First one. And the last", 1) == ["First one.", "And the last"]
    assert stream(SentenceStream, ["First one. And", " the last"]) == ["First one.", "And the last"]


_MB = 1 << 20
_SPLIT, _NORMALIZE, _CHUNKS = (lambda t: split_sentences(t, 1)), normalize_for_speech, speech_chunks


@pytest.mark.parametrize(
    ("call", "text"),
    [
        pytest.param(_SPLIT, "Hello there, world. " * (_MB // 20), id="split-sentences"),
        pytest.param(_SPLIT, "Mr. " * (_MB // 4), id="split-abbreviations"),
        pytest.param(_SPLIT, "a." * (_MB // 2), id="split-dots"),
        pytest.param(_SPLIT, "x." + " " * _MB + "Y", id="split-spaces"),
        pytest.param(_SPLIT, "你好。" * (_MB // 3), id="split-cjk"),
        pytest.param(_SPLIT, "x" * _MB, id="split-one-token"),
        pytest.param(_NORMALIZE, "Hello **there**, `world`. " * (_MB // 26), id="normalize-sentences"),
        pytest.param(_NORMALIZE, "<b" * (_MB // 2), id="normalize-unclosed-tags"),
        pytest.param(_NORMALIZE, "[^" * (_MB // 2), id="normalize-unclosed-footnotes"),
        pytest.param(_NORMALIZE, "https://x.y/" + ")" * _MB, id="normalize-url-parens"),
        pytest.param(_CHUNKS, "word " * (_MB // 5), id="chunks-one-sentence"),
        pytest.param(_CHUNKS, "x" * _MB, id="chunks-one-token"),
    ],
)
def test_one_megabyte_single_line_is_linear(call, text: str) -> None:
    """A generous bound on CPU time (not wall time: the machine is shared); these take well under 2 s."""
    t0 = time.process_time()
    result = call(text)
    assert time.process_time() - t0 < 5
    assert result


def test_one_megabyte_streamed_in_pieces_is_linear() -> None:
    text = "Hello there, world. " * (_MB // 20) + "y" * _MB
    t0 = time.process_time()
    got = stream(SentenceStream, [text[i : i + 997] for i in range(0, len(text), 997)])
    assert time.process_time() - t0 < 5
    assert got == split_sentences(text, 1)


def test_long_first_sentence_streamed_stays_linear() -> None:
    """An LLM's endless first sentence: the look for an opening clause stops early instead of each delta."""
    text = "word " * 100_000 + "end."
    pieces = [text[i : i + 5] for i in range(0, len(text), 5)]
    t0 = time.process_time()
    stream(SpeechStream, pieces)
    sentences_only = time.process_time() - t0
    t0 = time.process_time()
    chunks, _ = streamed_chunks(pieces)
    with_chunks = time.process_time() - t0
    assert with_chunks < 3 * sentences_only + 0.2, (with_chunks, sentences_only)  # was ~11x before the fix
    assert chunks == speech_chunks(normalize_for_speech(text))


# -- properties ---------------------------------------------------------------------------------------------


@PROPERTY
@given(text_and_cuts(st.one_of(realistic_text(), ODD)))
def test_stream_equals_split_for_any_cuts(case: tuple[str, list[int]]) -> None:
    text, points = case
    expected = split_sentences(text, 1)
    assert stream(SentenceStream, cut(text, points)) == expected
    assert stream(SentenceStream, list(text)) == expected
    assert stream(SentenceStream, [text]) == expected
    chunks = speech_chunks(normalize_for_speech(text))
    assert streamed_chunks(cut(text, points))[0] == chunks
    assert streamed_chunks(list(text))[0] == chunks


@PROPERTY
@given(st.one_of(realistic_text(), ODD, st.text(max_size=80)))
def test_no_word_is_lost(text: str) -> None:
    sentences = split_sentences(text, 1)
    assert all(s and s == s.strip() for s in sentences)
    assert words(" ".join(sentences)) == words(text)
    assert words(" ".join(split_sentences(text))) == words(text)
    chunks = speech_chunks(text, max_chars=40, first_chunk_chars=20)
    assert words(" ".join(chunks)) == words(text) or _hard_cut(chunks, (20, 40))
    assert all(0 < len(c) <= 40 for c in chunks)


def _hard_cut(chunks: list[str], limits: tuple[int, ...]) -> bool:
    """A giant token is cut anywhere, which splits its word in two: allowed, and only then."""
    return any(len(c) in limits and " " not in c for c in chunks)


@PROPERTY
@given(realistic_text())
def test_sentence_released_within_bounded_lookahead(text: str) -> None:
    """Each sentence comes out before the text has gone 24 characters past the start of the next one."""
    sentences = split_sentences(text, 1)
    starts, at = [], 0
    for s in sentences:
        at = text.index(s, at)
        starts.append(at)
        at += len(s)
    s_stream, released = SentenceStream(), []
    for i, ch in enumerate(text):
        released += [i] * len(s_stream.feed(ch))
    released += [len(text)] * len(s_stream.flush())  # "Dr. The": "Dr." waits for the word after "The"
    for k in range(len(sentences) - 1):
        assert released[k] <= starts[k + 1] + 24


@PROPERTY
@given(
    st.lists(st.lists(st.sampled_from([*"abc ,;—.!?", "xyzxyzxyz"]), max_size=30).map("".join), max_size=8),
    st.integers(1, 4),
    st.integers(12, 80),
    st.integers(5, 120),
)
def test_chunk_policy(sentences: list[str], group_size: int, max_chars: int, first: int) -> None:
    feed = ChunkStream(group_size, max_chars, first)
    got = [c for s in sentences for c in feed.feed(s)] + feed.flush()
    assert all(0 < len(c) <= max_chars and speakable(c) for c in got)
    # every word arrives, in order; only punctuation with no word to go with it ("...", "!!") is left out
    words = "".join(" ".join(s.split()) for s in sentences if s.strip())
    assert "".join(c for c in "".join(got) if c.isalnum()) == "".join(c for c in words if c.isalnum())
    if got:
        assert len(got[0]) <= min(first, max_chars)


@PROPERTY
@given(markdown(), st.lists(st.integers(0, 400), max_size=12))
def test_markdown_every_word_stays_and_streams(case: tuple[str, list[str]], points: list[int]) -> None:
    md, expected = case
    spoken = normalize_for_speech(md)
    assert words(spoken) == expected
    assert stream(MarkdownStream, cut(md, points)) == spoken
    assert stream(MarkdownStream, list(md)) == spoken
    assert not re.search(r"[*`#|]|https?:|\]\(", spoken)  # no markdown syntax, no URL is said
    sentences = split_sentences(spoken, 1)
    assert all("\n" not in s for s in sentences)  # every heading, item and line is a sentence of its own
    assert stream(SpeechStream, cut(md, points)) == sentences
    assert stream(SpeechStream, list(md)) == sentences
    chunks = speech_chunks(spoken)
    assert streamed_chunks(cut(md, points))[0] == chunks
    assert streamed_chunks(list(md))[0] == chunks


@PROPERTY
@given(markdown())
def test_normalize_is_line_local_outside_code_fences(case: tuple[str, list[str]]) -> None:
    md = case[0]
    if "```" not in md:
        per_line = [normalize_for_speech(line) for line in md.split("\n")]
        assert "\n".join(line for line in per_line if line) == normalize_for_speech(md)
