"""Verbalisation: written forms said the way a careful person says them ("$42.99" -> "forty-two dollars and
ninety-nine cents", "Dr." -> "Doctor", "v2.1.3" -> "version two point one point three").

Where it runs: the planner verbalises each piece of a sentence after the sentence scanner has found it, so
the scanner still sees "Dr. Smith" and "$3.50." as written (its abbreviation tables decide where sentences
end) and the verbaliser knows that a period inside a piece never ends a sentence. A piece's verbalisation
depends on the piece alone, so a reply streamed token by token says exactly what it says whole.

One module per rule family, each a table of (pattern -> spoken form) rules, tried in this order (the
first that matches at a place wins; ``ORDER`` below):

    words.py      paralinguistic tags kept verbatim, fixed phrases ("24/7"), abbreviations ("Dr.", "e.g."),
                  dotted initialisms ("U.S."), initials; later Roman numerals, capitals ("FBI", "NASA"),
                  words glued to numbers ("mp3", "H2O"), symbols ("&", "+")
    code.py       emails, phone numbers, versions, "#42"; later dotted names and URLs' hosts, paths, flags,
                  snake_case and camelCase identifiers
    dates.py      dates, decades, times of day, durations
    numbers.py    money, percentages, units, dimensions, ratios, ranges, fractions, ordinals, numbers
    engine.py     the rule engine: where rules are tried, segments with source ranges
    language.py   a language: its tables (en.py) and number words (num2words)

Languages without tables (every one but English today) are left as written. To add one: copy en.py's
names into xx.py, register it in language.py, and give it table tests like tests/test_verbalise.py.
"""

from __future__ import annotations

from functools import lru_cache

from vox.text.verbalise import code, dates, numbers, words
from vox.text.verbalise.engine import Rules, Segment
from vox.text.verbalise.language import Language, for_language

ORDER = (
    "tag", "special", "email", "weekday", "month day", "month year", "abbreviation", "dotted initialism",
    "initial", "iso date", "numeric date", "day month", "decade", "hour range", "clock", "hour", "glued duration",
    "phone", "version", "dotted number", "hash number", "cents", "currency before", "code before",
    "currency after", "percent", "dimensions", "unit", "ratio", "range", "fraction", "slashed numbers", "ordinal",
    "negative", "scaled", "glued", "number", "dotted name", "path", "flag", "snake case", "camel case", "roman",
    "capitals", "symbol", "ampersand", "about", "point", "digits",
)  # fmt: skip
"""Which rule wins where several match at one place: the more specific first."""


@lru_cache(maxsize=8)
def _rules(language: Language) -> Rules:
    by_name = {r.name: r for module in (words, code, dates, numbers) for r in module.rules(language)}
    if set(by_name) != set(ORDER):
        raise RuntimeError(f"rules without a place in ORDER, or ORDER naming none: {set(by_name) ^ set(ORDER)}")
    t = language.t
    names = frozenset(t.MONTHS) | {k.capitalize() for k in [*t.MONTH_ABBREVIATIONS, *t.WEEKDAYS]}
    return Rules([by_name[name] for name in ORDER], language, names)


def tidy(segments: list[Segment]) -> list[Segment]:
    """Segments whose joined text has single spaces and no space at either end (rewrites can leave two)."""
    out: list[Segment] = []
    space = True  # the text so far ends with a space (or is empty)
    for text, s, e in segments:
        if "  " in text:
            text = " ".join(text.split(" ")).replace("  ", " ")
            while "  " in text:
                text = text.replace("  ", " ")
        if space:
            text = text.lstrip(" ")
        if text:
            space = text[-1] == " "
            out.append((text, s, e))
        else:
            out.append(("", s, e))
    while out and out[-1][0].endswith(" "):
        text, s, e = out.pop()
        out.append((text.rstrip(" "), s, e))
        if text.strip():
            break
    return [seg for seg in out if seg[0]] or [("", 0, 0)]


class Verbaliser:
    """The verbalisation of one reply's pieces in one language (identity where the language has no tables).

    ``day_first``: an all-number date whose order is ambiguous ("03/04/2025") is day-first, and dates are
    said "the fourth of March"; the default is month-first ("April third"), as in the US.
    """

    def __init__(self, lang: str = "en", *, day_first: bool = False) -> None:
        self.lang = lang
        self.day_first = bool(day_first)
        language = for_language(lang)
        self._rules = _rules(language) if language is not None else None

    def segments(self, text: str) -> list[Segment]:
        """What a piece (single spaces, no space at its ends) is said as: segments (spoken, start, end) over
        text, in order, covering it; joined they have single spaces too."""
        if self._rules is None or not text:
            return [(text, 0, len(text))]
        return tidy(self._rules.segments(text, self.day_first))

    def say(self, text: str) -> str:
        """The piece as it is said."""
        return "".join(segment[0] for segment in self.segments(text))


def verbalise(text: str, lang: str = "en", *, day_first: bool = False) -> str:
    """``text`` (one sentence, or part of one) as it is said; see Verbaliser."""
    return Verbaliser(lang, day_first=day_first).say(" ".join(text.split()))


__all__ = ["ORDER", "Verbaliser", "verbalise"]
