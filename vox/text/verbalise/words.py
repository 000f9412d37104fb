"""Abbreviations, initialisms, Roman numerals and words glued to numbers: "Dr.", "St.", "e.g.", "U.S.", "FBI",
"NASA", "Henry VIII", "Chapter IV", "Vol. III", "Super Bowl LVIII", "mp3", "H2O", "A380".

A Roman numeral is a number where it cannot be a word or letters: after a word that numbers things
("Chapter four", "Vol. three", "Part two", en.py's ROMAN_AFTER) a cardinal; after a monarch's or pope's
name, or a name after a title ("Henry the Eighth", "Pope Benedict the Sixteenth", "King Charles the Third";
en_more.py) an ordinal with "the"; after another capitalised name, a title's number ("Final Fantasy seven",
"Rocky four"). "I", "V", "X" alone, "CD" or "MIX" elsewhere stay words and letters. A model number glued
to letters is said in pairs ("A380" is "A three eighty").

Every abbreviation loses its period inside a sentence ("Dr." -> "Doctor"): Piper's phonemiser ends a
sentence at "Dr." or "Mr." (a pause and a falling pitch before the name). A period that also ends the
sentence stays (the engine adds it back when the match ends the piece). Paralinguistic tags ("[laugh]")
are kept exactly as written for the engine to perform or remove.
"""

from __future__ import annotations

import re
from functools import lru_cache

from vox.text.tags import TAG_PATTERN
from vox.text.verbalise.code import words_of
from vox.text.verbalise.engine import Context, Rule, spaced
from vox.text.verbalise.language import Language
from vox.text.verbalise.places import choice

_ROMAN = re.compile(r"(?=[IVXLCDM])(M{0,3})(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_NOT_NAMES = frozenset("The A An This That These Those My Our Your His Her Its Their In On At For With By From To Of "
                       "And Or But If So Is Are Was Were Be Size Type".split())  # fmt: skip
"""Capitalised words before a Roman numeral that are no title's name ("The IV drip", "Size XL")."""
_VOWEL = re.compile(r"[AEIOUY]")


@lru_cache(maxsize=1024)
def roman_value(s: str) -> int:
    if not _ROMAN.fullmatch(s):
        return 0
    total = 0
    for a, b in zip(s, s[1:] + " ", strict=True):
        v = _ROMAN_VALUES[a]
        total += -v if b != " " and _ROMAN_VALUES[b] > v else v
    return total


def initialism(lang: Language, word: str, shouting: bool = False) -> str:
    """A word in capitals: said as a word when that is how people say it ("NASA"), else spelled ("F B I")."""
    t = lang.t
    said = t.SAID_AS.get(word)
    if said:
        return said
    if word in t.ACRONYM_WORDS:
        return word.lower()
    if shouting or (len(word) > 4 and _VOWEL.search(word) and word not in ("HTTPS", "HTTP")):
        return word.lower()  # a word in capitals, not letters
    return " ".join(word)


def rules(lang: Language) -> list[Rule]:
    t = lang.t
    contextual = frozenset([*t.MONTH_ABBREVIATIONS, *t.WEEKDAYS, *t.BEFORE_NUMBER, "st", "dr"])
    """Abbreviations said by what is around them ("St." Saint or Street, "p. 55" page, "Jan." January)."""
    plain_ones = choice(set(t.ABBREVIATIONS) - contextual, fold=True)
    in_context = choice(contextual, fold=True)
    dated = choice([*t.MONTH_ABBREVIATIONS, *t.WEEKDAYS], fold=True)
    numbered = choice(t.BEFORE_NUMBER, fold=True)
    after = r"(?=\s*[.,;:!?\"'()\[\]{}]*"  # the next word's first letter or digit, as Context.next_word reads it
    specials = choice(t.SPECIALS)

    def tag(m: re.Match[str], ctx: Context) -> str:
        return m.group()

    def special(m: re.Match[str], ctx: Context) -> str:
        return t.SPECIALS[m.group()]

    def abbreviation(m: re.Match[str], ctx: Context) -> str:  # the usual one: said the same wherever it is
        return t.ABBREVIATIONS[m.group()[:-1].lower()]

    def dated_abbreviation(m: re.Match[str], ctx: Context) -> str:  # "Jan.", "Tue." capitalised
        key = m.group()[:-1].lower()
        return t.MONTHS[t.MONTH_ABBREVIATIONS[key] - 1] if key in t.MONTH_ABBREVIATIONS else t.WEEKDAYS[key]

    def abbreviation_in_context(m: re.Match[str], ctx: Context) -> str:
        written = m.group()[:-1]
        key = written.lower()
        end = ctx.at_end(m.end())
        after = ctx.next_word(m.end())
        if key in t.MONTH_ABBREVIATIONS and written[0].isupper():
            return t.MONTHS[t.MONTH_ABBREVIATIONS[key] - 1]
        if key in t.WEEKDAYS and written[0].isupper():
            return t.WEEKDAYS[key]
        if key in t.BEFORE_NUMBER and not after[:1].isdecimal() and not roman_value(after):
            return written  # a word that happens to end a sentence, or an initial: said as written
        said = t.ABBREVIATIONS.get(key, written)
        capital_before = ctx.prev_word(m.start())[:1].isupper() or ctx.prev_word(m.start())[:1].isdecimal()
        capital_after = after[:1].isupper()
        if key == "st" and ((capital_before and not capital_after) or (not capital_after and not end)):
            return t.STREET
        if key == "dr" and capital_before and not capital_after and ctx.prev_word(m.start()) != "the":
            return t.DRIVE
        if key in t.MONTH_ABBREVIATIONS or key in t.WEEKDAYS:
            return written
        return said

    def acronym(m: re.Match[str], ctx: Context) -> str:
        return " ".join(c.upper() for c in m.group() if c.isalpha())

    def initial(m: re.Match[str], ctx: Context) -> str:
        return m.group(1)

    def roman(m: re.Match[str], ctx: Context) -> str:
        numeral = m.group(1)
        value = roman_value(numeral)
        before = ctx.prev_word(m.start())
        if value and before.lower() in t.ROMAN_AFTER:
            return lang.cardinal(value)
        name_at = ctx.text.rfind(before, 0, m.start()) if before else -1
        title = ctx.prev_word(name_at) if name_at > 0 else ""
        if value and (before in t.REGNAL_NAMES or (title in t.REGNAL_TITLES and before[:1].isupper())):
            return f"{lang.w['the']} {lang.ordinal(value)}"
        if (value and len(numeral) > 1 and numeral.strip("IVXL") == "" and numeral not in ("XL", "XXL", "LI")
                and before[:1].isupper() and before[1:].islower() and before not in _NOT_NAMES):
            return lang.cardinal(value)  # a title's number: "Rocky four", "Final Fantasy seven"
        if value and len(numeral) >= 4:  # no word: "MMXXIV" is a year, "XVII" a number
            return lang.year(value) if value >= 1100 else lang.cardinal(value)
        return numeral if len(numeral) == 1 else initialism(lang, numeral, ctx.shouting)

    def capitals(m: re.Match[str], ctx: Context) -> str:
        word, plural = m.group(1), m.group(2)
        said = initialism(lang, word, ctx.shouting)
        if plural:
            said += "'s" if said[-1:].isupper() else "s"
        return said

    def glued(m: re.Match[str], ctx: Context) -> str:
        out = []
        for run in re.findall(r"\d+|[A-Za-z]+", m.group()):
            if run.isdecimal():
                out.append(lang.pairs(run))
            elif run.upper() in t.ACRONYM_WORDS and len(run) > 1:
                out.append(run.lower())
            elif len(run) <= 3 or run.isupper():
                out.append(" ".join(run.upper()))
            else:
                out.append(words_of(lang, run))
        return spaced(out)

    return [
        Rule("tag", f"(?i:{TAG_PATTERN.pattern})", tag),
        Rule("special", rf"(?<![\w/])(?:{specials})(?![\w/])", special),
        Rule("abbreviation", rf"(?<![\w.]){plain_ones}\.", abbreviation),
        Rule("dated abbreviation", rf"(?<![\w.])(?=[A-Z]){dated}\.", dated_abbreviation),
        Rule("abbreviation before a name", rf"(?<![\w.])[SsDd][tr](?<=[Ss]t|[Dd]r)\.{after}[A-Z])", abbreviation),
        Rule("abbreviation before a number", rf"(?<![\w.]){numbered}\.{after}\d)", abbreviation),
        Rule("abbreviation in context", rf"(?<![\w.]){in_context}\.", abbreviation_in_context),
        Rule("dotted initialism", r"(?<![\w.])(?:[A-Za-z]\.){2,}(?:[A-Za-z](?![\w.]))?", acronym),
        Rule("initial", r"(?<![\w.])([A-Z])\.(?=\s+[A-Z])", initial),
        Rule("roman", r"(?<![\w.'’-])([IVXLCDM]+)(?![\w'’-]|\.\w)", roman),
        Rule("capitals", r"(?<![\w.'’-])([A-Z]{2,})(s|'s|’s)?(?![\w'’-]|\.\w)", capitals),
        Rule("glued", r"(?<![\w.])(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z\d]+(?![\w]|\.\w)", glued),
    ]
