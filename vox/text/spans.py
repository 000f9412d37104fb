"""Offsets: what the planner hands out (Piece, Chunk) and how speech text maps back to the original reply.

Every stage after the raw reply passes text on as segments, ``(speech text, source start, source end)``:
the speech text was made from ``original[start:end]``. Concatenated, a stream's segments are its speech
text; the offset map built from them answers "where in the original did this speech character come from".
A stage that rewrites text (markdown normalisation today, verbalisation later: "$5" -> "five dollars")
keeps the source range of what it replaced, so offsets survive any number of stages.

Inside a segment, positions map in proportion: one to one when the text is as long as its source (a word
said as written, a CJK run holding two sentences), and a sentence that starts or ends at a segment's edge
starts or ends at its source's edge whatever the lengths ("$5" -> "five dollars"). Text a stage adds
(a space, a full stop after a heading) has an empty source (start == end) anchored where it belongs:
stages anchor it at the end of the source before it, so a position never depends on text that has not
arrived yet. Stages keep segments in source order, so spans mapped in speech order never overlap.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

Segment = tuple[str, int, int]
"""(speech text, source start, source end): the text was made from original[start:end]."""


@dataclass(frozen=True, slots=True)
class Piece:
    """A sentence, or part of one, as it is said, and where it came from in the original reply.

    ``original[start:end]`` is the source region: markdown around it (``**``, a link's target) may lie
    outside, a code block's note spans the whole block. Pieces of one reply never overlap and come in order.
    """

    text: str
    """What is said."""
    start: int
    """Offset of the first source character in the original reply (raw markdown, as the caller gave it)."""
    end: int
    """Offset just past the last source character."""
    sentence: int
    """The index of the sentence this piece belongs to, counted from 0 over the reply: an opening clause
    ("Sure,") and the rest of its sentence share one."""
    continues: bool = False
    """The piece ends inside its sentence (an opening clause, or a long sentence cut at max_chars): the next
    piece goes on with the same sentence. An engine said it alone, so the pause there may need restoring."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """What one synthesis call says: ``text``, the pieces joined by spaces, and the pieces with their spans."""

    text: str
    pieces: tuple[Piece, ...]

    @property
    def start(self) -> int:
        return self.pieces[0].start

    @property
    def end(self) -> int:
        return self.pieces[-1].end


class OffsetMap:
    """Speech-text positions to original offsets, built from segments as they stream (see the module doc)."""

    __slots__ = ("_at", "_segments", "length")

    def __init__(self) -> None:
        self._at: list[int] = []  # where each segment starts in the speech text
        self._segments: list[Segment] = []
        self.length = 0  # speech characters added so far

    def add(self, segments: list[Segment]) -> str:
        """Append segments; returns their speech text."""
        texts = [segment[0] for segment in segments]
        at = list(accumulate(map(len, texts), initial=self.length))
        self.length = at.pop()
        self._at += at
        self._segments += segments
        return "".join(texts)

    def start_of(self, x: int) -> int:
        """The original offset where the speech character at x begins."""
        k = bisect_right(self._at, x) - 1
        if k < 0:
            return 0
        text, s, e = self._segments[k]
        p, n = self._at[k], len(text)
        return e if x >= p + n else s + (x - p) * (e - s) // n

    def end_of(self, x: int) -> int:
        """The original offset just past the speech character before x (x > 0)."""
        k = bisect_right(self._at, x - 1) - 1
        if k < 0:
            return 0
        text, s, e = self._segments[k]
        p, n = self._at[k], len(text)
        return e if x >= p + n else s + (x - p) * (e - s) // n

    def span(self, a: int, b: int) -> tuple[int, int]:
        """The original span of the speech text [a, b) (a < b)."""
        return self.start_of(a), self.end_of(b)
