"""Character classes the text layer shares (what ends a sentence, what opens or closes one, emoji, CJK),
and the argument checks every public entry point makes.

The sentence scanner, the markdown normaliser and the chunk policy must agree on these (a character the
normaliser keeps as sentence-ending is one the scanner cuts at), so they live in one place.
"""

from __future__ import annotations

import re

LINE_BREAKS = frozenset("\n\r\u2028\u2029\x85")
LATIN_ENDS = frozenset(".!?…‽")
CJK_ENDS = frozenset("。！？｡")  # end a sentence with no space after them
CJK_RUN = CJK_ENDS | frozenset("!?")
BULLETS = frozenset("•◦▪‣⁃")
CLOSERS = frozenset("\"'”’»)]}」』】〉》*_`")
OPENERS = frozenset("\"'“‘«([{¿¡「『【〈《*_`")
INVISIBLE = frozenset(
    "\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)
SKIP_AHEAD = OPENERS | INVISIBLE

# Where a sentence may end. A "." inside a token ("3.14", "e.g", "a.py") never ends one, so it is not even
# a candidate.
CANDIDATE = re.compile(
    r"\.(?=[\s.!?…‽\"'”’»)\]}」』】〉》*_`]|\Z)|[!?…‽。！？｡\n\r\u2028\u2029\x85•◦▪‣⁃]|(?<=[0-9A-Za-z])\)(?=\s|\Z)"
)
TRIGGER = re.compile(r"[.!?…‽。！？｡\n\r\u2028\u2029\x85•◦▪‣⁃)]")  # a delta without one decides nothing
WORD = re.compile(r"[^\W_]")  # a letter or digit: something a listener hears

EMOJI_RANGES = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff"
EMOJI_START = re.compile(f"[{EMOJI_RANGES}]")
EMOJI_PART = re.compile(f"[{EMOJI_RANGES}\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f]")
CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def need_str(value: object, name: str = "text") -> str:
    """The value, if it is a str: the public functions say what was wrong instead of failing deep inside."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    return value


def need_count(value: object, name: str) -> int:
    """The value, if it is an int of at least 1 (bool excluded)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value
