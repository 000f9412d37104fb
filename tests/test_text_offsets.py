"""vox.text.SpeechPlanner: chunks with the span of every piece in the original reply, whole or streamed.

These tests pin markdown, sentences, pieces and offsets, so they plan without verbalisation (each piece said
as written); tests/test_verbalise.py tests the planner with it."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.baselines import ChunkStream, SpeechStream, speech_chunks, split_sentences
from tests.text_strategies import ODD, PROPERTY, cut, markdown, realistic_text, words
from vox.text import CODE_BLOCK_NOTE, Piece, normalize_for_speech, speakable
from vox.text import SpeechPlanner as VerbalisingPlanner
from vox.text.markdown import _LANGUAGES
from vox.text.spans import Segment
from vox.text.verbalise import Verbaliser


class SpeechPlanner(VerbalisingPlanner):
    """The planner saying every piece as written (verbaliser=None) unless a test gives a verbaliser."""

    def __init__(self, *args: object, verbaliser: object = None, **settings: object) -> None:
        super().__init__(*args, verbaliser=verbaliser, **settings)  # type: ignore[arg-type]


# (id, markdown, [(piece text, the original text its span covers)]) with the default planner
OFFSETS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("heading", "# Plan\n\nDo **it** now.", [("Plan.", "Plan"), ("Do it now.", "Do **it** now.")]),
    ("heading-bold", "### **Bold heading**\n\nText", [("Bold heading.", "Bold heading"), ("Text.", "Text")]),
    ("bullets", "- one\n- two, three\n  - nested *item*",
     [("one.", "one"), ("two, three.", "two, three"), ("nested item.", "nested *item")]),
    ("tasks", "- [x] done task\n- [ ] open task", [("done task.", "done task"), ("open task.", "open task")]),
    ("numbered", "1. First.\n2) Second", [("1. First.", "1. First."), ("2. Second.", "2) Second")]),
    ("quote", "> Quoted line.\n> Another.", [("Quoted line.", "Quoted line."), ("Another.", "Another.")]),
    ("link", "Read [the docs](https://x.org/a). Then go.",
     [("Read the docs.", "Read [the docs](https://x.org/a)."), ("Then go.", "Then go.")]),
    ("link-inside", "See [docs](https://x.org) now.", [("See docs now.", "See [docs](https://x.org) now.")]),
    ("bare-url", "See https://www.example.com/a?b=1 now.",
     [("See example.com now.", "See https://www.example.com/a?b=1 now.")]),
    ("url-first", "https://www.example.com/a is up.", [("example.com is up.", "example.com/a is up.")]),
    ("inline-code", "Text with `inline code` end", [("Text with inline code end.", "Text with `inline code` end")]),
    ("escapes", "Use \\*stars\\* here.", [("Use *stars* here.", "Use \\*stars\\* here.")]),
    ("html-break", "a<br>b. c", [("a b. c.", "a<br>b. c")]),
    ("footnote", "Footnote[^1] here.", [("Footnote here.", "Footnote[^1] here.")]),
    ("code-block", "Code:\n```python\nprint(1)\n```\nDone.",
     [("Code.", "Code:"), ("Here is some Python code.", "```python\nprint(1)\n```"), ("Done.", "Done.")]),
    ("code-indented", "  ~~~\n  x\n\n  ~~~~\n", [("Here is some code.", "~~~\n  x\n\n  ~~~~")]),
    ("code-unclosed", "```js\nlet a\n\n", [("Here is some JavaScript code.", "```js\nlet a")]),
    ("table", "| Name | Age |\n|---|:-:|\n| Alice, x | 30 |",
     [("Name,", "Name"), ("Age.", "Age"), ("Alice, x, 30.", "Alice, x | 30")]),
    ("emoji", "Done 🎉! Next 👍🏽.", [("Done!", "Done 🎉!"), ("Next.", "Next 👍🏽.")]),
    ("emoji-only-line", "Hi.\n\n🎉\n\nBye.", [("Hi.", "Hi."), ("Bye.", "Bye.")]),
    ("cjk", "日本語の文。中文句子！한국어 문장? ok",
     [("日本語の文。", "日本語の文。"), ("中文句子！", "中文句子！"), ("한국어 문장? ok.", "한국어 문장? ok")]),
    ("cjk-comma-opening", "你好，世界。再见。", [("你好，", "你好，"), ("世界。", "世界。"), ("再见。", "再见。")]),
    ("abbreviations", "Ask Dr. Patel about it. She works for the U.S. Government. At 5 p.m. Mr. Lee left.",
     [("Ask Dr. Patel about it.", "Ask Dr. Patel about it."),
      ("She works for the U.S. Government.", "She works for the U.S. Government."),
      ("At 5 p.m. Mr. Lee left.", "At 5 p.m. Mr. Lee left.")]),
    ("opening-clause", "Sure, here is the plan. Step one.",
     [("Sure,", "Sure,"), ("here is the plan.", "here is the plan."), ("Step one.", "Step one.")]),
    ("bold-opening", "**Sure,** here it is.", [("Sure,", "Sure,"), ("here it is.", "here it is.")]),
    ("crlf", "One.\r\nTwo.", [("One.", "One."), ("Two.", "Two.")]),
    ("colon-ends-block", "Note:", [("Note.", "Note:")]),
    ("spaces", "Wide   spaced\ttext.  Next.", [("Wide spaced text.", "Wide   spaced\ttext."), ("Next.", "Next.")]),
    ("nbsp-and-zwsp", "One\u00a0two\u200bthree. Four.",
     [("One two three.", "One\u00a0two\u200bthree."), ("Four.", "Four.")]),
]  # fmt: skip


def pieces(chunks: list) -> list[Piece]:
    return [p for c in chunks for p in c.pieces]


def planned(pieces_in: list[str], **settings: object) -> tuple[list, list[list[str]]]:
    """The planner fed deltas: its chunks, and the chunk texts each delta released (the last: end())."""
    planner = SpeechPlanner(**settings)
    per_delta = [planner.feed(d) for d in pieces_in] + [planner.end()]
    return [c for got in per_delta for c in got], [[c.text for c in got] for got in per_delta]


def legacy(pieces_in: list[str], group_size=3, max_chars=300, first_chunk_chars=120, opening_clause=True):
    """What live.TextFeed released per delta with SpeechStream + ChunkStream before the planner."""
    speech, chunks = SpeechStream(), ChunkStream(group_size, max_chars, first_chunk_chars, opening_clause)
    per_delta = []
    for d in pieces_in:
        out = [c for s in speech.feed(d) for c in chunks.feed(s)]
        if chunks.awaits_opening:
            out += chunks.open_early(speech.unfinished())
        per_delta.append(out)
    per_delta.append([c for s in speech.flush() for c in chunks.feed(s)] + chunks.flush())
    return per_delta


_NOTES = [CODE_BLOCK_NOTE, *(CODE_BLOCK_NOTE.replace("some", f"some {name}") for name in _LANGUAGES.values())]


def generated(piece: Piece) -> bool:
    """Said for something rather than read from it: (part of) a code block's note."""
    return any(piece.text in note for note in _NOTES)


def _in_order(word: str, text: str) -> bool:
    """Every character of word is in text, in order."""
    it = iter(text)
    return all(ch in it for ch in word)


def check_spans(original: str, got: list[Piece]) -> None:
    """In order, not overlapping, inside the text; a piece's span starts at its first letter or digit and
    holds every word it says (unless it says a code block's note)."""
    at, sentence = 0, -1
    for p in got:
        assert at <= p.start <= p.end <= len(original), (p, at)
        assert sentence <= p.sentence <= sentence + 1, p
        at, sentence = p.end, p.sentence
        said = words(p.text)
        if not said or generated(p):
            continue
        source = original[p.start : p.end]
        assert source[:1] == p.text[0] or not p.text[0].isalnum(), (p, source)  # "," may be said "."
        heard = "".join(words(source))  # "0`0" is said "00"; "HTTP://0/1。0" (a URL's path dropped) "00"
        assert all(_in_order(w, heard) for w in said), (p, source)
    assert not got or got[0].sentence == 0


# -- the table ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("md", "expected"), [c[1:] for c in OFFSETS], ids=[c[0] for c in OFFSETS])
def test_offsets(md: str, expected: list[tuple[str, str]]) -> None:
    chunks = SpeechPlanner().plan(md)
    assert [(p.text, md[p.start : p.end]) for p in pieces(chunks)] == expected
    assert [c.text for c in chunks] == speech_chunks(normalize_for_speech(md))
    assert planned(list(md))[0] == chunks  # the same, streamed a character at a time
    check_spans(md, pieces(chunks))


def test_table_size() -> None:
    assert len(OFFSETS) >= 25


def test_chunk_holds_its_pieces() -> None:
    reply = "Sure, here it is. One. Two. Three. Four. Five."
    chunks = SpeechPlanner().plan(reply)
    assert [c.text for c in chunks] == ["Sure,", "here it is.", "One. Two.", "Three. Four. Five."]
    for c in chunks:
        assert c.text == " ".join(p.text for p in c.pieces)
        assert reply[c.start : c.end] == c.text  # plain text: the span is exactly what is said
    assert [p.sentence for p in pieces(chunks)] == [0, 0, 1, 2, 3, 4, 5]


def test_sentences_come_whole_as_they_complete() -> None:
    """For a caller that reports progress by sentence (POST /api/replies/<id>/text answers with them)."""
    reply = "Sure, **one** two. Three "
    planner = SpeechPlanner()
    planner.feed(reply[:12])
    assert planner.sentences == []
    planner.feed(reply[12:])
    assert [(s.text, reply[s.start : s.end], s.sentence) for s in planner.sentences] == [
        ("Sure, one two.", "Sure, **one** two.", 0)
    ]
    planner.end()
    assert [s.text for s in planner.sentences] == ["Sure, one two.", "Three."]


def test_long_sentence_pieces_get_their_own_spans() -> None:
    reply = "Intro. " + "This sentence is long, and it goes on and on; it never ends - until it does."
    chunks = SpeechPlanner(max_chars=30).plan(reply)
    got = pieces(chunks)
    assert [p.text for p in got] == [
        "Intro.", "This sentence is long,", "and it goes on and on;", "it never ends - until it does.",
    ]  # fmt: skip
    assert all(reply[p.start : p.end] == p.text for p in got)
    assert {p.sentence for p in got[1:]} == {1}
    assert all(len(c.text) <= 30 for c in chunks)


def test_code_note_waits_for_the_end_of_its_block() -> None:
    """The note's span is the whole block, so it is released when the block closes, not when it opens."""
    reply = "Look:\n```python\nx = 1\n```\n"
    planner = SpeechPlanner(group_size=1)
    assert [c.text for c in planner.feed("Look:\n```python\nx = 1\n")] == ["Look."]
    assert [c.text for c in planner.feed("```\n")] == ["Here is some Python code."]
    assert planner.end() == []
    note = SpeechPlanner().plan(reply)[1].pieces[0]
    assert reply[note.start : note.end] == "```python\nx = 1\n```"


# -- the caller's grouping ------------------------------------------------------------------------------------


def test_caller_takes_chunks_with_its_own_limit() -> None:
    reply = "Sure, first one here. Two. Three. Four. Five. Six."
    planner = SpeechPlanner(group_size=None)
    opening = planner.feed(reply)
    assert [c.text for c in opening] == ["Sure,", "first one here."]  # the opening does not wait
    assert [p.text for p in planner.pending] == ["Two.", "Three.", "Four."]  # "Six." may be "Six.5"
    assert not planner.done
    assert planner.end() == []
    assert [p.text for p in planner.pending] == ["Two.", "Three.", "Four.", "Five.", "Six."]
    assert planner.take(1).text == "Two."
    assert planner.take(3).text == "Three. Four. Five."
    assert planner.take(2, max_chars=3).text == "Six."  # at least one piece, whatever the limit
    assert planner.take() is None and planner.done


def test_take_hands_an_idle_synthesiser_a_part_filled_chunk() -> None:
    planner = SpeechPlanner(group_size=3)
    assert [c.text for c in planner.feed("One. Two. Three. Fo")] == ["One."]  # "Three." waits for a word
    assert [c.text for c in planner.feed("ur. Five. Six ")] == ["Two. Three."]
    assert planner.take().text == "Four. Five."
    assert [c.text for c in planner.end()] == ["Six."]


def test_take_respects_max_chars() -> None:
    planner = SpeechPlanner(group_size=None)
    planner.plan("First. Alpha beta. Gamma delta. Epsilon.")
    assert planner.take(max_chars=25).text == "Alpha beta. Gamma delta."
    assert planner.take(max_chars=5).text == "Epsilon."


# -- the verbalisation stage ---------------------------------------------------------------------------------


class Dollars(Verbaliser):
    """A verbaliser of one rule: "$5" is said "five dollars", and its offsets stay "$5"'s."""

    def segments(self, text: str, code: object = ()) -> list[Segment]:
        out: list[Segment] = []
        pos = 0
        while (at := text.find("$5", pos)) >= 0:
            out += [(text[pos:at], pos, at), ("five dollars", at, at + 2)]
            pos = at + 2
        return [seg for seg in [*out, (text[pos:], pos, len(text))] if seg[0]]


def test_a_verbaliser_keeps_offsets_on_the_original() -> None:
    reply = "It costs **$5**. That is $5 more, sure."
    chunks = SpeechPlanner(verbaliser=Dollars).plan(reply)
    got = [(p.text, reply[p.start : p.end]) for p in pieces(chunks)]
    assert got == [
        ("It costs five dollars.", "It costs **$5**."),
        ("That is five dollars more, sure.", "That is $5 more, sure."),
    ]
    assert planned(list(reply), verbaliser=Dollars)[0] == chunks


# -- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [42, None, b"bytes"])
def test_planner_rejects_non_str(value: object) -> None:
    with pytest.raises(TypeError, match="must be str"):
        SpeechPlanner().feed(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be str"):
        SpeechPlanner().plan(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: SpeechPlanner(group_size=0), "group_size must be at least 1"),
        (lambda: SpeechPlanner(max_chars="300"), "max_chars must be int, not str"),
        (lambda: SpeechPlanner(first_chunk_chars=True), "first_chunk_chars must be int, not bool"),
        (lambda: SpeechPlanner().take(0), "max_pieces must be at least 1"),
        (lambda: SpeechPlanner().take(2, max_chars=0), "max_chars must be at least 1"),
        (lambda: SpeechPlanner(lang=None), "lang must be str"),
    ],
)
def test_planner_bad_numbers(call, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        call()


def test_feed_after_end_is_an_error_and_plan_starts_over() -> None:
    planner = SpeechPlanner()
    planner.feed("One. Two.")
    planner.end()
    assert planner.end() == []
    with pytest.raises(RuntimeError, match="new SpeechPlanner"):
        planner.feed("More.")
    assert [c.text for c in planner.plan("Again. Yes.")] == ["Again.", "Yes."]


@pytest.mark.parametrize("text", ["", " ", "\n\t \u3000\r\n", "---\n**\n", "🎉"])
def test_nothing_to_say(text: str) -> None:
    assert SpeechPlanner().plan(text) == []
    assert planned(list(text))[0] == []


def test_other_languages_fall_back_to_english_abbreviations() -> None:
    reply = "Dr. Weber kommt um 5 Uhr. Gut."
    assert SpeechPlanner(lang="de-DE").plan(reply) == SpeechPlanner().plan(reply)


# -- linear time -----------------------------------------------------------------------------------------------


def test_one_megabyte_reply_is_linear() -> None:
    text = "Hello **there**, [world](https://x.org). " * ((1 << 20) // 40)
    t0 = time.process_time()
    chunks = SpeechPlanner().plan(text)
    assert time.process_time() - t0 < 5
    assert chunks[-1].end == len(text) - 1  # the last piece ends at its "."


def test_streamed_long_first_sentence_stays_linear() -> None:
    """An LLM's endless first sentence: the planner's look for an opening clause stops early, so twice the
    words cost about twice the time (a rescan per delta would make it four times)."""

    def cpu_seconds(words: int) -> float:
        text = "word " * words + "end."
        deltas = [text[i : i + 5] for i in range(0, len(text), 5)]
        best = float("inf")
        for _ in range(2):  # the better of two: a shared machine only ever adds time
            t0 = time.process_time()
            chunks, _ = planned(deltas)
            best = min(best, time.process_time() - t0)
        assert [c.text for c in chunks] == speech_chunks(normalize_for_speech(text))
        return best

    small, large = cpu_seconds(20_000), cpu_seconds(40_000)
    assert large < 3 * small + 0.05, (small, large)


# -- properties ---------------------------------------------------------------------------------------------

_TEXTS = st.one_of(markdown().map(lambda case: case[0]), realistic_text(), ODD, st.text(max_size=80))
_SETTINGS = st.fixed_dictionaries(
    {
        "group_size": st.integers(1, 4),
        "max_chars": st.integers(12, 120),
        "first_chunk_chars": st.integers(5, 120),
        "opening_clause": st.booleans(),
    }
)


@PROPERTY
@given(_TEXTS, st.lists(st.integers(0, 400), max_size=12), _SETTINGS)
def test_planner_is_todays_chunks_streamed_or_whole(text: str, points: list[int], settings: dict) -> None:
    planner = SpeechPlanner(**settings)
    whole = planner.plan(text)
    assert [c.text for c in whole] == speech_chunks(normalize_for_speech(text), **settings)
    said = [" ".join(s.split()) for s in split_sentences(normalize_for_speech(text), 1)]
    sentences = [s for s in said if speakable(s)]  # "...", "!!" are not said
    assert [s.text for s in planner.sentences] == sentences
    assert [s.sentence for s in planner.sentences] == list(range(len(sentences)))
    for p in pieces(whole):
        assert planner.sentences[p.sentence].start <= p.start <= p.end <= planner.sentences[p.sentence].end
    deltas = cut(text, points)
    chunks, per_delta = planned(deltas, **settings)
    assert chunks == whole  # texts and offsets
    assert per_delta == legacy(deltas, **settings)  # released exactly when TextFeed released them
    assert planned(list(text), **settings)[0] == whole
    check_spans(text, pieces(whole))


@PROPERTY
@given(_TEXTS, _SETTINGS, st.lists(st.integers(1, 5), min_size=1, max_size=6))
def test_caller_grouping_says_the_same_pieces(text: str, settings: dict, limits: list[int]) -> None:
    static = pieces(SpeechPlanner(**settings).plan(text))
    planner = SpeechPlanner(**(settings | {"group_size": None}))
    chunks = planner.plan(text)
    assert all(len(c.pieces) == 1 for c in chunks)  # only the opening, a piece per chunk
    k = 0
    while (chunk := planner.take(limits[k % len(limits)])) is not None:
        assert len(chunk.pieces) <= limits[k % len(limits)]
        assert len(chunk.pieces) == 1 or len(chunk.text) <= settings["max_chars"]
        chunks.append(chunk)
        k += 1
    assert planner.done and pieces(chunks) == static


def test_streamed_chinese_is_released_sentence_by_sentence() -> None:
    """No spaces in Chinese or Japanese: a sentence end inside a word is a word boundary, so a streamed reply is
    spoken as it arrives (a sentence once the next is complete), not held to its end."""
    text = "你好。今天天气很好。我们去公园吧！明天见。"
    planner = SpeechPlanner(1, lang="zh")
    released = [(i, c.text) for i, ch in enumerate(text) for c in planner.feed(ch)]
    rest = [c.text for c in planner.end()]
    assert released[:2] == [(text.index("我"), "你好。"), (text.index("明"), "今天天气很好。")], released
    assert [t for _, t in released] + rest == [c.text for c in SpeechPlanner(1, lang="zh").plan(text)]
    assert normalize_for_speech(text) == text  # and nothing is added between the sentences
