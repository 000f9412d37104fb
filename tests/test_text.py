"""vox.text: sentence splitting, streaming, markdown normalisation and the chunk policy (pure, fast)."""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.text_cases import CHUNKS, NORMALIZE, SENTENCES
from vox.config import Config
from vox.config import Engine as EngineSettings
from vox.runtime import Runtime
from vox.text import (
    CODE_BLOCK_NOTE,
    ChunkStream,
    MarkdownStream,
    SentenceStream,
    SpeechStream,
    normalize_for_speech,
    speakable,
    speech_chunks,
    split_sentences,
)

GOLDEN_FILE = Path(__file__).parent / "data" / "golden_rules_en.json"  # a copy of shared/benchmarks/
GOLDEN = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))["cases"]
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_WORD = re.compile(r"[^\W_]+")
_DELETED = re.compile("[\u00ad\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def words(text: str) -> list[str]:
    """Words as a listener hears them: letters and digits; ZWSP separates, bidi and joiner marks vanish."""
    return _WORD.findall(_DELETED.sub("", text.replace("\u200b", " ")))


def stream(cls: type, pieces: list[str]) -> list[str] | str:
    s = cls()
    out = [s.feed(p) for p in pieces] + [s.flush()]
    return "".join(out) if isinstance(out[0], str) else [x for part in out for x in part]


def cut(text: str, points: list[int]) -> list[str]:
    bounds = sorted({0, len(text), *(min(p, len(text)) for p in points)})
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


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


def streamed_chunks(pieces: list[str]) -> tuple[list[str], int | None]:
    """What live.TextFeed does with an LLM's deltas: the chunks, and the piece that released the first."""
    speech, chunks, out, first = SpeechStream(), ChunkStream(), [], None
    for i, piece in enumerate(pieces):
        for sentence in speech.feed(piece):
            out += chunks.feed(sentence)
        if chunks.awaits_opening:
            out += chunks.open_early(speech.unfinished())
        if out and first is None:
            first = i
    for sentence in speech.flush():
        out += chunks.feed(sentence)
    return out + chunks.flush(), first


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
        assert rt.chunk_texts(reply)[0] == first
        assert rt.chunk_stream().feed("Sure, here is the plan.")[0] == first


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

_TOKENS = [
    "the", "model", "runs", "fast", "Python", "The", "It", "He", "How", "we", "I", "U.S.", "U.K.", "e.g.",
    "i.e.", "Dr.", "Mr.", "Mrs.", "St.", "etc.", "vs.", "Inc.", "co.", "No.", "p.", "Jan.", "a.m.", "p.m.",
    "Ph.D.",
    "J.", "A.", "$3.50", "3.14", "v1.2.3", "10:30", "55", "2024", "1.", "2.", "a)", "b.", "•", "-", "—",
    "https://example.com/a.b?c=d", "jane@example.org", "file.py", "(see", "above)", '"quoted', 'text."',
    "'single'", "...", "…", ". . .", "?!", "Sure,", "well;", "so:", "，",
    "你好", "世界。", "🎉", "😀!", "[...]", "Yahoo!", "(1)", "N°.",
]  # fmt: skip
_ENDS = [".", ".", "!", "?", "...", "?!", ". . . .", "。", "！", ".)", '."', "…", "", "!!"]
_SEPS = [" ", " ", " ", "  ", "\n", "\n\n", "\t", ""]


@st.composite
def realistic_text(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 7))):
        toks = draw(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=8))
        if draw(st.booleans()):
            toks[0] = toks[0][:1].upper() + toks[0][1:]
        parts.append(" ".join(toks) + draw(st.sampled_from(_ENDS)) + draw(st.sampled_from(_SEPS)))
    return "".join(parts)


_ODD_PIECES = [*"aZ9 .!?…。！)(\"'\n•⁃-:;,[]", "\u200b", "\u200e", "🎉", "你", "\x00", "\r", "\t", "\u2029"]
_ODD_PIECES += ["Mr", "U.S"]
_ODD = st.lists(st.sampled_from(_ODD_PIECES), max_size=60).map("".join)


@st.composite
def text_and_cuts(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> tuple[str, list[int]]:
    text = draw(texts)
    return text, draw(st.lists(st.integers(0, max(len(text), 1)), max_size=12))


@PROPERTY
@given(text_and_cuts(st.one_of(realistic_text(), _ODD)))
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
@given(st.one_of(realistic_text(), _ODD, st.text(max_size=80)))
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


# markdown made of parts whose spoken words are known
_PLAIN = ["alpha", "Beta", "gamma", "U.S.", "e.g.", "3.5", "v2", "Dr.", "you", "I", "it's", "café", "你好"]
_PLAIN += ["ok,", "why?"]


@st.composite
def inline(draw: st.DrawFn) -> tuple[str, list[str]]:
    w = draw(st.sampled_from(_PLAIN))
    w2 = draw(st.sampled_from(_PLAIN))
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return f"**{w}**", words(w)
    if kind == 1:
        return f"*{w}*", words(w)
    if kind == 2:
        return f"`{w} {w2}`", words(f"{w} {w2}")
    if kind == 3:
        return f"[{w} {w2}](https://example.com/a_b/{w})", words(f"{w} {w2}")
    if kind == 4:
        return "https://www.host-name.org/path/to?x=1", words("host-name.org")
    if kind == 5:
        return draw(st.sampled_from(["🎉", "👍🏽", "🇫🇷", "✅"])), []
    if kind == 6:
        return f"_{w}_", words(w)
    return w, words(w)


@st.composite
def markdown(draw: st.DrawFn) -> tuple[str, list[str]]:
    lines, expected = [], []
    for _ in range(draw(st.integers(0, 6))):
        parts = draw(st.lists(inline(), min_size=1, max_size=6))
        text = draw(st.sampled_from([" ", "  ", "\t"])).join(p[0] for p in parts)
        said = [w for p in parts for w in p[1]]
        kind = draw(st.integers(0, 8))
        if kind == 0:
            lines.append("#" * draw(st.integers(1, 6)) + " " + text)
        elif kind == 1:
            lines.append(draw(st.sampled_from(["- ", "* ", "+ ", "  - ", "- [x] "])) + text)
        elif kind == 2:
            n = draw(st.integers(1, 20))
            lines.append(f"{n}{draw(st.sampled_from(['.', ')']))} {text}")
            said = [str(n), *said]
        elif kind == 3:
            lines.append("> " + text)
        elif kind == 4:
            lang = draw(st.sampled_from(["", "python", "weird"]))
            lines += [f"```{lang}", "def f(x):", "    return x * 2  # not said", "```"]
            note = CODE_BLOCK_NOTE.replace("some", "some Python") if lang == "python" else CODE_BLOCK_NOTE
            said = words(note)
        elif kind == 5:
            lines += ["| a | b |", "|---|:-:|", f"| {text.replace('|', '')} | cell |"]
            said = ["a", "b", *said, "cell"]
        elif kind == 6:
            lines += ["", "---", ""]
            said = []
        else:
            lines.append(text + draw(st.sampled_from(["", " ", "  "])))
        expected += said
    return "\n".join(lines), expected


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
