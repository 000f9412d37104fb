"""Street addresses: "1600 Amphitheatre Pkwy", "500 W 5th Ave", "Ste 200", "Mountain View, CA 94043",
"Austin, TX", "London SW1A 2AA".

A street type is its word after the street's name ("Pkwy" -> "Parkway"); a direction between a house number
and the street, or after the street type, is its word ("W" -> "West", "NW" -> "Northwest"); a state code is
the state where it cannot be anything else (before a ZIP code, or after a place and a comma; en_more.py), and
a ZIP code or postcode is spelled in its groups ("nine four zero four three", "S W one A, two A A"). A house
number is said as the locale says it (en.py's HOUSE_NUMBERS: in pairs in the US, "twelve thirty-four Elm
Street"; a plain number in the UK).
"""

from __future__ import annotations

import re

from vox.text.verbalise.engine import Context, Rule
from vox.text.verbalise.language import Language
from vox.text.verbalise.places import choice


def rules(lang: Language) -> list[Rule]:
    t = lang.t
    streets = choice(t.STREETS)
    units = choice(t.UNITS_IN_ADDRESSES)
    directions = choice(t.DIRECTIONS)
    states = choice(t.STATES)
    name = r"(?:[A-Z][\w'’-]*\.?|\d+(?:st|nd|rd|th))"  # a word of a street's name: "Amphitheatre", "5th"
    street = rf"(?:(?:{directions})\.? )?(?:{name} ){{1,3}}(?:{streets})\b"

    def house_number(m: re.Match[str], ctx: Context) -> str:
        number, letter = m.group(1), m.group(2)
        said = lang.pairs(number) if t.HOUSE_NUMBERS == "pairs" else lang.integer(number)
        return f"{said} {letter.upper()}" if letter else said

    def street_type(m: re.Match[str], ctx: Context) -> str:
        written, toward = m.group(1), m.group(2)
        before, after = ctx.prev_word(m.start()), ctx.next_word(m.end())
        after_name = before[:1].isupper() or before[:1].isdecimal() or after[:1].isdecimal()  # "Hwy 101"
        if written in ("St", "Dr") and not toward and (after[:1].isupper() or not after_name):
            return t.ABBREVIATIONS[written.lower()] if after[:1].isupper() else m.group()  # "St Paul's", "Dr Who"
        if not after_name:
            return m.group()
        return f"{t.STREETS[written]} {t.DIRECTIONS[toward]}" if toward else t.STREETS[written]

    def unit(m: re.Match[str], ctx: Context) -> str:
        number, letter = m.group(2), m.group(3)
        said = [t.UNITS_IN_ADDRESSES[m.group(1)], lang.pairs(number) if number else "", letter or m.group(4) or ""]
        return " ".join(p for p in said if p)

    def direction(m: re.Match[str], ctx: Context) -> str:
        return t.DIRECTIONS[m.group(1) or m.group(2)]

    def state_zip(m: re.Match[str], ctx: Context) -> str:
        state, zip5, plus4 = m.groups()
        said = f"{t.STATES[state]} {lang.spelled(zip5)}"
        return f"{said}, {lang.spelled(plus4)}" if plus4 else said

    def state(m: re.Match[str], ctx: Context) -> str:
        return t.STATES[m.group(1) or m.group(2)]

    def postcode(m: re.Match[str], ctx: Context) -> str:
        return f"{lang.spelled(m.group(1))}, {lang.spelled(m.group(2))}"

    only_before_zip = "|".join(sorted(t.STATES_ONLY_BEFORE_ZIP))
    return [
        Rule("house number", rf"(?<![\w.,$#/:-])(\d{{1,5}})([A-Za-z])?(?= {street})", house_number),
        Rule("street type", rf"(?<=\S )({streets})\b(?!\.(?<=St\.|Dr\.))\.?(?: ({directions})\b\.?)?(?![\w'’-])",
             street_type),
        Rule("address unit", rf"\b({units})\.? #?(?:(\d+)([A-Z])?|([A-Z]))\b", unit),
        Rule("direction", rf"\b({directions})\.?(?= (?:{name} ){{1,3}}(?:{streets})\b)"
             rf"|(?<=\d )({directions})\.?(?= {name})", direction),
        Rule("state zip", rf"\b({states}),?\s+(\d{{5}})(?:-(\d{{4}}))?(?![\w-])", state_zip),
        Rule("state", rf"(?<=[a-z], )(?!(?:{only_before_zip})\b)({states})(?=[.,;:!?)]*$|[,;:)]|\s[a-z])"
             rf"|^(?!(?:{only_before_zip})\b)({states})(?=, [a-z])", state),  # "Austin, | TX, near": a cut piece
        Rule("postcode", r"\b([A-Z]{1,2}\d[A-Z\d]?) (?![KMGTP]B\b)(\d[A-Z]{2})\b", postcode),
    ]  # fmt: skip
