"""What one language's abbreviations tell the sentence scanner (the shape every language module fills in)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Abbreviations:
    """Abbreviations in lower case without their final period ("e.g", "dr"), by what a "." after them means.

    The scanner asks these only for a full stop followed by a space and a word that is not lower case.
    """

    titles: frozenset[str]
    """Before a name ("Dr. Smith"): a capital after them ends the sentence only if it is a starter."""
    continuing: frozenset[str]
    """Never end a sentence ("e.g.", "vs.")."""
    final: frozenset[str]
    """Often end one ("etc.", "Inc."): a capital after them ends the sentence."""
    numbered: frozenset[str]
    """Before a number ("p. 55", "Jan. 5"): a digit after them does not end the sentence."""
    other: frozenset[str]
    """Other short forms ("Dept.", "approx"): like titles."""
    times: frozenset[str]
    """"a.m", "p.m": end a sentence before a capital unless the sentence opened with the time."""
    fronted_time: re.Pattern[str]
    """A sentence that opens with a time ("At 5 a.m"): the capital after it continues the sentence."""
    starters: frozenset[str]
    """Words that usually begin a sentence: after an ambiguous abbreviation ("U.S.", "E.") they mean a break."""
    before_number: frozenset[str] = field(init=False)
    """Every abbreviation that a number may follow inside a sentence (derived)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "before_number", self.titles | self.final | self.numbered | self.other)
