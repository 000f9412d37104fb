"""A language for the verbaliser: its word tables (``en.py``) and its number words (num2words), cached.

num2words (LGPL-2.1, pinned in requirements.txt) speaks numbers in some fifty languages, so a language
needs only its tables here. Numbers too long for it, or for a listener (more than 15 digits), are read
digit by digit.
"""

from __future__ import annotations

from types import ModuleType

from num2words import num2words

import vox.text.verbalise.en as en_tables
import vox.text.verbalise.en_gb as en_gb_tables

MAX_DIGITS = 15  # longer integers are read digit by digit: nobody says "one quadrillion ..." and means it
_LIMIT = 10**MAX_DIGITS


class Language:
    """The tables of one language (module attributes, see en.py) and its number words: the tables' own
    ``NUMBER_WORDS`` (a module with cardinal, ordinal and year, as en_numbers.py) where they have one, else
    num2words."""

    def __init__(self, tables: ModuleType) -> None:
        self.t = tables
        self.code: str = tables.CODE
        self.w: dict[str, str] = tables.WORDS
        self._own = getattr(tables, "NUMBER_WORDS", None)
        self._words: dict[tuple[int, str], str] = {}
        self._numbers: dict[str, str] = {}
        self._digit_words = [self.cardinal(d) for d in range(10)]

    def _n2w(self, n: int, to: str) -> str:
        said = self._words.get((n, to))
        if said is None:
            if self._own is not None:
                said = getattr(self._own, to)(n)
            else:
                said = num2words(n, lang=self.code, to=to).replace(",", "")
                if self.t.DROP_AND:
                    said = said.replace(" and ", " ")
                said = said.replace("oh-", "oh ")
            if len(self._words) < 4096:  # kept for the process: replies repeat their numbers
                self._words[(n, to)] = said
        return said

    def cardinal(self, n: int) -> str:
        if n < 0:
            return f"{self.w['minus']} {self.cardinal(-n)}"
        if n >= _LIMIT:
            return self.digits(str(n))
        return self._n2w(n, "cardinal")

    def ordinal(self, n: int) -> str:
        if n >= _LIMIT:
            return self.digits(str(n))
        return self._n2w(n, "ordinal")

    def year(self, n: int) -> str:
        """1998 "nineteen ninety-eight", 2007 "two thousand seven", 2025 "twenty twenty-five"."""
        if not 0 < n < 10000:
            return self.cardinal(n)
        return self._n2w(n, "year")

    def digits(self, s: str) -> str:
        """Each digit of s (digits only) on its own: "0199" -> "zero one nine nine"."""
        return " ".join(self._digit_words[int(c)] for c in s if c.isdecimal())

    def spelled(self, chars: str) -> str:
        """Each character said alone: digits as digit words (zero as the locale says it in a code: "zero" or
        "oh"), letters as capitals: "1Z9" -> "one Z nine"."""
        zero, words = self.t.ZERO, self._digit_words
        return " ".join(zero if c == "0" else words[int(c)] if "0" <= c <= "9" else c.upper() for c in chars)

    def grouped(self, chars: str) -> str:
        """chars spelled in the groups a reader makes (see groups), with a pause between them."""
        return ", ".join(self.spelled(g) for g in groups(chars))

    def pairs(self, s: str) -> str:
        """A number that names (a flight, a house, a port, a model) in pairs: "901" "nine oh one", "123" "one
        twenty-three", "2490" "twenty-four ninety", "1600" "sixteen hundred"; longer ones digit by digit."""
        if len(s) <= 2 or (len(s) == 3 and s[1:] == "00"):
            return self.integer(s)
        if s[0] == "0" or len(s) > 4:
            return self.spelled(s)
        if len(s) == 4:
            return self.year(int(s))
        tail = f"{self.w['oh']} {self._digit_words[int(s[2])]}" if s[1] == "0" else self.cardinal(int(s[1:]))
        return f"{self._digit_words[int(s[0])]} {tail}"

    def integer(self, s: str) -> str:
        """An integer as written (digits, maybe with "," or "_" between groups of three)."""
        s = s.replace(",", "").replace("_", "")
        if len(s) > 1 and s[0] == "0":  # "007": a code, not a quantity
            return self.digits(s)
        return self.cardinal(int(s)) if len(s) <= MAX_DIGITS else self.digits(s)

    def number(self, s: str) -> str:
        """An unsigned number as written: "1,234", "3.14", ".5" -> words."""
        said = self._numbers.get(s)
        if said is None:
            whole, _, frac = s.partition(".")
            head = self.integer(whole) if whole else self.cardinal(0)
            said = f"{head} {self.w['point']} {self.digits(frac)}" if frac else head
            if len(self._numbers) < 4096:  # kept for the process, as number words are
                self._numbers[s] = said
        return said

    def fraction(self, num: int, den: int) -> str:
        """3/4 "three quarters", 1/2 "one half", 2/3 "two thirds"."""
        names = self.t.FRACTIONS.get(den)
        if names is None:
            one = self.ordinal(den)
            names = (one, one + "s")
        return f"{self.cardinal(num)} {names[0] if num == 1 else names[1]}"


def groups(s: str) -> list[str]:
    """A run cut into the groups a reader says it in: up to five characters whole, longer ones into groups of
    three or four, the shorter first ("1234567" -> "123", "4567"; eighteen characters: 3, 3, 4, 4, 4)."""
    n = len(s)
    if n <= 5:
        return [s]
    k = -(-n // 4)
    base, extra = divmod(n, k)
    out, at = [], 0
    for size in [base] * (k - extra) + [base + 1] * extra:
        out.append(s[at : at + size])
        at += size
    return out


_BRITISH = Language(en_gb_tables)
_LANGUAGES: dict[str, Language] = {"en": Language(en_tables), "en-gb": _BRITISH, "en-uk": _BRITISH,
                                   "en-ie": _BRITISH, "en-au": _BRITISH, "en-nz": _BRITISH}  # fmt: skip
"""By language, and by locale where its readings differ (the language's own serves every other region)."""


def for_language(lang: str | None) -> Language | None:
    """The verbaliser's language for a code ("en", "en-GB", "en_US"), or None where it has no tables yet (the
    text is then left as written: the engine reads it as it can)."""
    code = (lang or "en").replace("_", "-").lower()
    return _LANGUAGES.get(code) or _LANGUAGES.get(code.split("-", 1)[0])
