"""Shared by the text tests: hypothesis strategies for realistic replies and markdown, and small helpers."""

from __future__ import annotations

import itertools
import os
import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bench.baselines import ChunkStream, SpeechStream
from vox.text import CODE_BLOCK_NOTE

PROPERTY = settings(max_examples=int(os.environ.get("VOX_PROPERTY_EXAMPLES", "200")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
"""VOX_PROPERTY_EXAMPLES=5000 runs every property test harder (once in a while, or after changing a rule)."""
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


# -- strategies ----------------------------------------------------------------------------------------

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
ODD = st.lists(st.sampled_from(_ODD_PIECES), max_size=60).map("".join)


@st.composite
def text_and_cuts(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> tuple[str, list[int]]:
    text = draw(texts)
    return text, draw(st.lists(st.integers(0, max(len(text), 1)), max_size=12))


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
