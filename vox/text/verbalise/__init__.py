"""Verbalisation: written forms said the way a careful person says them ("$42.99" -> "forty-two dollars and
ninety-nine cents", "Dr." -> "Doctor", "v2.1.3" -> "version two point one point three").

Where it runs: the planner verbalises each piece of a sentence after the sentence scanner has found it, so
the scanner still sees "Dr. Smith" and "$3.50." as written (its abbreviation tables decide where sentences
end) and the verbaliser knows that a period inside a piece never ends a sentence. A piece's verbalisation
depends on the piece alone, so a reply streamed token by token says exactly what it says whole.

One module per rule family, each a table of (pattern -> spoken form) rules, tried in this order (the
first that matches at a place wins; ``ORDER`` below):

    words.py      paralinguistic tags kept verbatim, fixed phrases ("24/7"), abbreviations ("Dr.", "e.g."),
                  dotted initialisms ("U.S."), initials; later Roman numerals ("Vol. III", "Henry VIII"),
                  capitals ("FBI", "NASA"), words glued to numbers ("mp3", "H2O", "A380")
    addresses.py  house numbers, street types ("Pkwy"), directions, state codes and ZIP codes, postcodes
    ids.py        phone numbers, hexadecimal codes, MAC and IPv6 addresses, a host's port, order and tracking
                  numbers and serials in groups, flight numbers, IP addresses
    code.py       emails, versions, "#42"; later environment variables, dotted names and repository paths,
                  paths and dotfiles, flags, snake_case and camelCase identifiers
    symbols.py    keyboard shortcuts, symbols before a number ("~4%", ">10%"), alone ("="), glued between
                  words ("R&D", "Mon–Fri"), hashtags, @mentions
    dates.py      dates, decades, times of day, durations
    numbers.py    money, percentages, units, dimensions, ratios, ranges, fractions, ordinals, numbers
    code_reading.py  a token inside a code span, read as a developer reads code aloud (not a rule: the
                  markdown stage says where code is, and the engine hands it each token there)
    engine.py     the rule engine: segments with source ranges, what a rule said kept for the next time;
                  places.py says where rules are tried (the tokens that need one, and at a place only the
                  rules firsts.py finds can start there and go on with what follows its run of digits or
                  letters)
    language.py   a language and its locales: tables (en.py, en_more.py; en_gb.py changes what British
                  English says differently) and number words (en_numbers.py for English, num2words for others)

Said once means said: a piece whose rewrite left something a rule would take ("0:0x0" -> "zero to zero
x0") is said again until nothing changes (``Verbaliser.segments``), so no digit is ever left and saying
the result again changes nothing (tests/test_verbalise.py checks both on hostile input).

Languages without tables (every one but English today) are left as written. To add one: copy en.py's
names into xx.py, register it in language.py, and give it table tests like tests/test_verbalise.py.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate

from vox.text.verbalise import addresses, code, code_reading, dates, ids, numbers, symbols, words
from vox.text.verbalise.engine import Rules, Segment
from vox.text.verbalise.language import Language, for_language

ORDER = (
    "tag", "special", "email", "shortcut", "weekday", "month day", "month year", "abbreviation", "dated abbreviation",
    "abbreviation before a name", "abbreviation before a number", "abbreviation in context", "street type",
    "address unit", "dotted initialism", "direction", "initial", "state zip", "state", "postcode", "house number",
    "hex", "mac", "ipv6", "host port", "iso date", "numeric date", "day month", "decade", "hour range", "ratio",
    "clock", "hour", "glued duration", "phone", "dashed id", "long id", "flight", "version", "dotted number",
    "hash number", "cents", "currency before", "code before", "currency after", "before number", "percent",
    "dimensions after a", "dimensions", "unit after a", "unit", "range", "fraction", "vulgar fraction",
    "slashed numbers", "ordinal", "negative", "scaled", "glued", "number", "variable", "dotted name", "path", "flag",
    "snake case", "camel case", "hashtag", "mention", "roman", "capitals", "symbol", "glued symbol", "power", "per",
    "point", "digits",
)  # fmt: skip
"""Which rule wins where several match at one place: the more specific first."""


@lru_cache(maxsize=8)
def _rules(language: Language) -> Rules:
    modules = (words, addresses, ids, code, symbols, dates, numbers)
    by_name = {r.name: r for module in modules for r in module.rules(language)}
    if set(by_name) != set(ORDER):
        raise RuntimeError(f"rules without a place in ORDER, or ORDER naming none: {set(by_name) ^ set(ORDER)}")
    t = language.t
    names = frozenset(t.MONTHS) | {k.capitalize() for k in [*t.MONTH_ABBREVIATIONS, *t.WEEKDAYS]}
    abbreviations = frozenset([*t.ABBREVIATIONS, *t.MONTH_ABBREVIATIONS, *t.WEEKDAYS])
    wanted = frozenset([*t.STREETS, *t.UNITS_IN_ADDRESSES, *(d for d in t.DIRECTIONS if len(d) > 1), *t.MODIFIERS])
    numbered = frozenset(w.capitalize() for w in t.ROMAN_AFTER if w.isalpha()) | t.REGNAL_NAMES
    return Rules([by_name[name] for name in ORDER], language, names, abbreviations, wanted, numbered,
                 code_reading.reader(language))  # fmt: skip


_AGAIN = 3
"""How many times a piece is said again at most; one settles every case the property tests find."""


def compose(text: str, first: list[Segment], second: list[Segment]) -> list[Segment]:
    """``second`` (segments over what ``first`` says) as segments over text. Text the second pass kept is
    kept as the first pass segmented it (a kept run over several first rewrites stays several segments, so
    offsets keep their grain); a second rewrite spans the first segments it touches, a boundary inside text
    the first pass kept mapping exactly. Segments that then share source text are merged, so the result
    stays in order and never says a source character twice."""
    starts = list(accumulate((len(seg[0]) for seg in first), initial=0))
    kept = [said == text[s:e] for said, s, e in first]
    said_first = "".join(seg[0] for seg in first)
    out: list[Segment] = []

    def add(said: str, s: int, e: int) -> None:
        if out and s < out[-1][2]:
            prev, ps, pe = out.pop()
            out.append((prev + said, ps, max(pe, e)))
        else:
            out.append((said, s, max(s, e)))

    def where(x: int, closing: bool) -> int:
        k = bisect_right(starts, x - 1 if closing else x) - 1
        k = min(max(k, 0), len(first) - 1)
        _, s, e = first[k]
        if kept[k]:
            return s + min(max(x - starts[k], 0), e - s)
        return e if closing else s

    for said, a, b in second:
        if b <= a:
            add(said, where(a, False), where(a, False))
        elif said != said_first[a:b]:  # rewritten again
            add(said, where(a, False), where(b, True))
        else:  # kept: the first pass's segments, cut where this one starts and ends
            k = bisect_right(starts, a) - 1
            while k < len(first) and starts[k] < b:
                x, y = max(a, starts[k]), min(b, starts[k + 1])
                if y > x:
                    _, s, e = first[k]
                    if kept[k]:
                        add(said_first[x:y], s + x - starts[k], s + y - starts[k])
                    else:
                        add(said_first[x:y], s, e)
                k += 1
    return out


def tidy(segments: list[Segment]) -> list[Segment]:
    """Segments whose joined text has single spaces and no space at either end (rewrites can leave two)."""
    said = "".join([seg[0] for seg in segments])
    if "  " not in said and said[:1] != " " and said[-1:] != " " and all([seg[0] for seg in segments]):
        return segments  # the usual case
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

    ``lang``: a language, or a locale where its readings differ ("en-GB": en_gb.py). ``day_first``: an
    all-number date whose order is ambiguous ("03/04/2025") is day-first, and dates are said "the fourth of
    March"; None: as the locale says (month-first, "April third", in the US; day-first in the UK).
    """

    def __init__(self, lang: str = "en", *, day_first: bool | None = None) -> None:
        self.lang = lang
        language = for_language(lang)
        self.day_first = bool(language.t.DAY_FIRST if day_first is None and language else day_first)
        self._rules = _rules(language) if language is not None else None

    def segments(self, text: str, code: Sequence[tuple[int, int]] = ()) -> list[Segment]:
        """What a piece (single spaces, no space at its ends) is said as: segments (spoken, start, end) over
        text, in order, covering it; joined they have single spaces too. ``code``: the ranges of text inside
        a code span (the markdown stage knows them), in order: read as a developer reads code aloud.

        Said once means said: where a rewrite is glued to text kept as written ("0:0x0" -> "zero to zero x0"),
        the result is said again (at most a few times) until saying it changes nothing, with each segment
        mapped back to the text it came from."""
        if self._rules is None or not text:
            return [(text, 0, len(text))]
        segments, unsettled, untidy = self._rules.segments(text, self.day_first, code)
        if untidy:
            segments = tidy(segments)
        for _ in range(_AGAIN):
            if not unsettled:
                break
            said = "".join(seg[0] for seg in segments)
            again, unsettled, _ = self._rules.segments(said, self.day_first)
            if len(again) == 1 and again[0][0] == said:
                break
            segments = compose(text, segments, tidy(again))
        return segments

    def say(self, text: str) -> str:
        """The piece as it is said."""
        return "".join(segment[0] for segment in self.segments(text))


def warm(lang: str = "en") -> None:
    """Compile a language's rules now (tenths of a second on a slow machine) rather than on a first reply."""
    language = for_language(lang)
    if language is not None:
        _rules(language).warm()


def verbalise(text: str, lang: str = "en", *, day_first: bool | None = None) -> str:
    """``text`` (one sentence, or part of one) as it is said; see Verbaliser."""
    return Verbaliser(lang, day_first=day_first).say(" ".join(text.split()))


__all__ = ["ORDER", "Verbaliser", "verbalise", "warm"]
