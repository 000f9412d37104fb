"""The rule engine: a table of (pattern -> spoken form) rules run over one piece of a sentence.

Rules are tried only where a token (a run of non-spaces) needs one: a digit, a symbol, a dot or a capital
inside it, a month name. At such a token the rules' patterns, joined into one alternation in table order,
are matched at the token's start and after each punctuation mark inside it; the first rule that matches
wins, and a match may run on over the next tokens ("5 p.m.", "Jan. 5, 2025"). Text no rule matches is
kept as written. Each rewrite is one segment ``(spoken, start, end)`` over the piece, so the planner can
map what is said back to where it was written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from vox.text.verbalise.language import Language

Segment = tuple[str, int, int]
_LETTERS = re.compile(r"[^\W\d_]+")
_UPPER = re.compile(r"[A-Z]+")
_NEXT = re.compile(r"\s*(\S+)")
_ENDS = frozenset(".!?…")
_FILLERS = frozenset("to is at of the was as be = : is".split())
_CLOSERS = "\"'”’»)]}"
_TRIGGERS = r"[\d$€£¥₹₩₽₿₺₪₱₦#&@_/\\~+=×÷±≈<>≤≥→%°¢\[]|\w\.|[a-z][A-Z]|(?<!\S)[(\"'“‘]?[A-Z]{2}|(?<!\S)-"
"""Where a rule may have something to do: a digit or symbol, a dot after a letter, a capital inside a word or
two at its start, a dash starting one (and the language's month and weekday names)."""


@dataclass(frozen=True)
class Rule:
    """One family member: ``pattern`` (numbered groups only) and ``say(match, context) -> spoken text``."""

    name: str
    pattern: str
    say: Callable[[re.Match[str], Context], str]


class Context:
    """What a rule may look at besides its match: the piece, the language and the reply's settings."""

    __slots__ = ("_shouting", "day_first", "lang", "text")

    def __init__(self, text: str, lang: Language, day_first: bool) -> None:
        self.text = text
        self.lang = lang
        self.day_first = day_first
        self._shouting: bool | None = None

    @property
    def shouting(self) -> bool:
        """Whether the piece is written in capitals ("THIS IS GREAT"): its capitals are words, not letters."""
        if self._shouting is None:
            letters = _LETTERS.findall(self.text)
            upper = sum(map(len, _UPPER.findall(self.text)))
            self._shouting = sum(map(len, letters)) > 12 and upper > 0.7 * sum(map(len, letters))
        return self._shouting

    def prev_word(self, at: int) -> str:
        """The word before position at, without punctuation around it ("" at the start)."""
        text = self.text
        end = at
        while end > 0 and text[end - 1] == " ":
            end -= 1
        start = text.rfind(" ", 0, end) + 1
        return text[start:end].strip(".,;:!?\"'()[]{}")

    def after_word(self, at: int, words: frozenset[str]) -> bool:
        """Whether the word before at, or the one before that across a filler ("port to 8080"), is in words."""
        before = self.prev_word(at).lower()
        if before in words:
            return True
        if before in _FILLERS:
            start = self.text.rfind(before, 0, at)
            return start > 0 and self.prev_word(start).lower() in words
        return False

    def next_word(self, at: int) -> str:
        m = _NEXT.match(self.text, at)
        return m.group(1).strip(".,;:!?\"'()[]{}") if m else ""

    def at_end(self, at: int) -> bool:
        """Whether only closing quotes or brackets follow position at: the match ends the piece."""
        return not self.text[at:].strip().strip(_CLOSERS)


class Rules:
    """A language's rule table, compiled once (see the module docstring)."""

    def __init__(self, rules: list[Rule], lang: Language, words: frozenset[str]) -> None:
        self.rules = rules
        self.lang = lang
        names = "|".join(sorted(words, key=len, reverse=True))
        self._needs = re.compile(f"{_TRIGGERS}|\\b(?:{names})\\b")
        self._own = [re.compile(r.pattern) for r in rules]
        self._any = re.compile("|".join(f"(?P<r{i}>{r.pattern})" for i, r in enumerate(rules)))

    def needs(self, token: str) -> bool:
        return self._needs.search(token) is not None

    def segments(self, text: str, day_first: bool = False) -> list[Segment]:
        """The piece as said: segments over text, in order, covering it; identity where nothing applies."""
        out: list[Segment] = []
        pos = 0  # text before this is said
        ctx: Context | None = None
        said = ""  # the end of what has been said, for spacing
        for hit in self._needs.finditer(text):  # tokens with something a rule may want
            h = hit.start()
            if h < pos:
                continue
            s = text.rfind(" ", 0, h) + 1
            e = text.find(" ", h)
            if e < 0:
                e = len(text)
            c = max(s, pos)
            while c < e:
                m = self._any.match(text, c)
                if m is None:
                    c = self._next_start(text, c, e)
                    continue
                if ctx is None:
                    ctx = Context(text, self.lang, day_first)
                k = int(m.lastgroup[1:])  # type: ignore[index]
                own = self._own[k].match(text, c)
                assert own is not None
                spoken = self.rules[k].say(own, ctx)
                end = own.end()
                if end == c:  # an empty match says nothing: move on
                    c = self._next_start(text, c, e)
                    continue
                if own.group().endswith(".") and ctx.at_end(end) and spoken[-1:] not in _ENDS:
                    spoken += "."  # the abbreviation's period also ended the sentence: keep one
                if c > pos:
                    out.append((text[pos:c], pos, c))
                    said = text[c - 1]
                if spoken and said and (said[-1].isalnum() or said[-1] in "%$") and spoken[0].isalnum():
                    spoken = " " + spoken
                if spoken and end < len(text) and text[end].isalnum() and spoken[-1].isalnum():
                    spoken += " "
                out.append((spoken, c, end))
                said = spoken or said
                pos = c = end
        if not out:
            return [(text, 0, len(text))]
        if pos < len(text):
            out.append((text[pos:], pos, len(text)))
        return out

    @staticmethod
    def _next_start(text: str, c: int, e: int) -> int:
        """The next place inside a token where a rule may match: where letters or digits begin or end
        ("(555)" after its bracket, "R&D" at its "&"); "mp3" is matched whole at its start."""
        c += 1
        while c < e and text[c - 1].isalnum() == text[c].isalnum():
            c += 1
        return c


def spaced(parts: list[str]) -> str:
    """Words joined by one space, empty parts left out."""
    return " ".join(p for p in parts if p)
