"""Numbers, money and units: "$42.99", "£1.2bn", "87%", "5-10 km", "2/3", "22nd", "3:1", "1920x1080", "-5".

A plain number reads by what is before it (en.py's NUMBER_AFTER): in groups of digits after "code" or
"order" ("four eight two, one nine three seven"), in pairs after "port" or "flight", as a version after
"Python", as a year when it has four digits from 1100 to 2099; otherwise as a quantity.
"""

from __future__ import annotations

import re

from vox.text.verbalise.engine import Context, Rule, spaced
from vox.text.verbalise.language import Language
from vox.text.verbalise.places import choice

NUM = r"(?>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_NOT_AFTER = r"(?<![\w.,/:#-])"
_RANGE = r"(?:\s?(?:-|–|to)\s?)"
_AFTER_A = r"(?:(?<=\b[Aa] )|(?<=\b[Aa]n ))"  # "a 12 km run": a unit said once, as an adjective


def is_year(s: str) -> bool:
    return len(s) == 4 and s.isdecimal() and 1100 <= int(s) <= 2099


def identifier(lang: Language, s: str) -> str:
    """A number that names rather than counts (a flight, an issue): "742", "ten forty-two", "four eight two one
    three"."""
    if len(s) <= 3 and not (len(s) > 1 and s[0] == "0"):
        return lang.cardinal(int(s))
    if len(s) == 4 and s[0] != "0":
        return lang.year(int(s))
    return lang.digits(s)


def plain(lang: Language, s: str, ctx: Context, at: int) -> str:
    """A number as written (no sign, unit or currency), read by what is before it (see the module doc)."""
    reading = ctx.reading(at, lang.t.NUMBER_AFTER)
    if reading is not None:
        if s.isdecimal():
            if reading == "digits":
                return lang.grouped(s)
            if reading == "pairs":
                return lang.pairs(s)
            if reading == "phone" and s in lang.t.EMERGENCY:
                return lang.spelled(s)
        elif reading == "version" and "," not in s:
            return f" {lang.w['point']} ".join(lang.integer(p) for p in s.split("."))
    if is_year(s):
        return lang.year(int(s))
    if len(s) >= 8 and s.isdecimal() and not s.endswith("000"):  # "12345678": an identifier, not a quantity
        return lang.grouped(s)
    return lang.number(s)


def _quantity(lang: Language, s: str) -> str:
    return lang.number(s)


def _one(s: str) -> bool:
    return s.replace(",", "") in ("1", "1.0")


def money(lang: Language, cur: str, amount: str, scale: str | None) -> str:
    one, many, cent, cents = lang.t.CURRENCIES[cur]
    if scale:
        return spaced([lang.number(amount), lang.t.SCALES[scale], many])
    whole, _, frac = amount.replace(",", "").partition(".")
    w = int(whole or "0")
    if frac and cent and len(frac) == 2:
        c = int(frac)
        parts = []
        if w or not c:
            parts.append(f"{lang.integer(whole or '0')} {one if w == 1 else many}")
        if c:
            parts.append(f"{lang.cardinal(c)} {cent if c == 1 else cents}")
        return f" {lang.w['and']} ".join(parts)
    if frac:
        return f"{lang.number(amount)} {many}"
    return f"{lang.integer(whole)} {one if w == 1 else many}"


def rules(lang: Language) -> list[Rule]:
    t = lang.t
    w = lang.w
    symbols = choice(k for k in t.CURRENCIES if not k.isalpha())
    codes = choice(k for k in t.CURRENCIES if k.isalpha())
    scales = choice(t.SCALES)
    units = choice(t.UNITS)

    def minus(sign: str | None) -> str:
        return w["minus"] if sign else ""

    def currency_before(m: re.Match[str], ctx: Context) -> str:
        return spaced([minus(m.group(1)), money(lang, m.group(2), m.group(3), m.group(4))])

    def code_before(m: re.Match[str], ctx: Context) -> str:
        return money(lang, m.group(1), m.group(2), m.group(3))

    def currency_after(m: re.Match[str], ctx: Context) -> str:
        return spaced([minus(m.group(1)), money(lang, m.group(4), m.group(2), m.group(3))])

    def cents(m: re.Match[str], ctx: Context) -> str:
        n = int(m.group(1))
        return f"{lang.cardinal(n)} {t.CENT_SIGN[0] if n == 1 else t.CENT_SIGN[1]}"

    def percent(m: re.Match[str], ctx: Context) -> str:
        high = m.group(3)
        return spaced([minus(m.group(1)), _quantity(lang, m.group(2)), w["to"] if high else "",
                       _quantity(lang, high) if high else "", w["percent"]])  # fmt: skip

    def dimensions(m: re.Match[str], ctx: Context, single: bool = False) -> str:
        *sides, symbol = m.groups()
        said = f" {w['by']} ".join(identifier(lang, g) if len(g) == 4 and g.isdecimal() else _quantity(lang, g)
                                   for g in sides if g)  # fmt: skip
        if symbol:  # "3×2 m": the unit after the last side
            one, many = t.UNITS[symbol]
            said += f" {one if single else many}"
        return said

    def unit(m: re.Match[str], ctx: Context, single: bool = False) -> str:
        sign, low, high, symbol = m.groups()
        one, many = t.UNITS[symbol]
        words = [minus(sign), _quantity(lang, low)]
        if high:
            words += [w["to"], _quantity(lang, high)]
        return spaced([*words, one if single or _one(high or low) else many])

    def unit_after_a(m: re.Match[str], ctx: Context) -> str:  # "a 12 km run": an adjective
        return unit(m, None, single=True)  # type: ignore[arg-type]

    def dimensions_after_a(m: re.Match[str], ctx: Context) -> str:  # "a 3×2 m room"
        return dimensions(m, None, single=True)  # type: ignore[arg-type]

    def ratio(m: re.Match[str], ctx: Context) -> str:  # "3:1", "1:250", "a 16:10 monitor" (else a time)
        a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return f"{lang.integer(a)} {w['to']} {lang.integer(b)}"

    def number_range(m: re.Match[str], ctx: Context) -> str:
        a, b = m.group(1), m.group(2)
        if is_year(a) and (is_year(b) or len(b) == 2):
            return f"{lang.year(int(a))} {w['to']} {lang.year(int(b)) if len(b) == 4 else lang.cardinal(int(b))}"
        return f"{plain(lang, a, ctx, m.start())} {w['to']} {_quantity(lang, b)}"

    def fraction(m: re.Match[str], ctx: Context) -> str:
        a, b = int(m.group(1)), int(m.group(2))
        if 2 <= b <= 10 and a < 100:
            return lang.fraction(a, b)
        return f"{lang.integer(m.group(1))} {w['over']} {lang.integer(m.group(2))}"

    def slashed(m: re.Match[str], ctx: Context) -> str:
        return f" {w['slash']} ".join(plain(lang, p, ctx, m.start()) for p in m.group().split("/"))

    def ordinal(m: re.Match[str], ctx: Context) -> str:
        return lang.ordinal(int(m.group(1)))

    def negative(m: re.Match[str], ctx: Context) -> str:
        return f"{w['minus']} {_quantity(lang, m.group(1))}"

    def scaled(m: re.Match[str], ctx: Context) -> str:
        return f"{_quantity(lang, m.group(1))} {t.SCALES[m.group(2)]}"

    def vulgar(m: re.Match[str], ctx: Context) -> str:
        whole, (num, den) = m.group(1), t.VULGAR_FRACTIONS[m.group(2)]
        if not whole:
            return lang.fraction(num, den)
        part = lang.fraction(num, den)
        if num == 1:
            part = f"{w['a']} {part.split(' ', 1)[1]}"  # "three and a half"
        return f"{lang.integer(whole)} {w['and']} {part}"

    def power(m: re.Match[str], ctx: Context) -> str:
        said = t.POWERS.get(m.group())
        return said or f"{w['power']} {lang.integer(m.group(1))}"

    def per(m: re.Match[str], ctx: Context) -> str:
        return w["per"]

    def point(m: re.Match[str], ctx: Context) -> str:
        return f"{w['point']} {lang.digits(m.group(1))}"

    def digits(m: re.Match[str], ctx: Context) -> str:  # what no other rule took ("3..5"): never left as digits
        return lang.integer(m.group())

    def number(m: re.Match[str], ctx: Context) -> str:
        return plain(lang, m.group(), ctx, m.start())

    unit_pattern = rf"{_NOT_AFTER}(-|−)?({NUM})(?:{_RANGE}({NUM}))?\s?({units})(?![\w/²³]|\.\w)"
    dims_pattern = (rf"{_NOT_AFTER}({NUM})\s?[x×]\s?({NUM})(?:\s?[x×]\s?({NUM}))?"
                    rf"(?:\s?({units})(?![\w/²³]|\.\w))?(?!\w|\.\d|\s?=)")  # fmt: skip
    return [
        Rule("cents", rf"{_NOT_AFTER}(\d{{1,2}})\s?¢", cents),
        Rule("currency before", rf"(?<![\w.,])(-|−)?({symbols})\s?({NUM})(?:\s?({scales})\b)?", currency_before),
        Rule("code before", rf"\b({codes})\s?({NUM})(?:\s?({scales})\b)?", code_before),
        Rule("currency after", rf"{_NOT_AFTER}(-|−)?({NUM})(?:\s?({scales}))?\s?({symbols}|{codes}\b)",
             currency_after),
        Rule("percent", rf"{_NOT_AFTER}(-|−)?({NUM})(?:{_RANGE}({NUM}))?\s?%", percent),
        Rule("dimensions after a", rf"{_AFTER_A}{dims_pattern}", dimensions_after_a),
        Rule("dimensions", dims_pattern, dimensions),
        Rule("unit after a", rf"{_AFTER_A}{unit_pattern}", unit_after_a),
        Rule("unit", unit_pattern, unit),
        Rule("ratio", r"(?<![\w.:,])(\d+):(\d|\d{3,})(?![\d:])|(?<![\w.:,])(\d+):(\d+)(?=\s(?:aspect|ratio|monitor"
             r"|screen|display|format|split|mix)\b)", ratio),
        Rule("range", rf"{_NOT_AFTER}({NUM})\s?[-–]\s?(?!0\d)({NUM})(?![\w\-–/]|\.\d)", number_range),
        Rule("fraction", r"(?<![\w./,])(\d+)/(\d+)(?![\w/]|\.\d)", fraction),
        Rule("vulgar fraction", rf"(?<![\w.,])(\d+)?\s?([{''.join(t.VULGAR_FRACTIONS)}])", vulgar),
        Rule("power", rf"(?<=\w)[{''.join(t.POWERS)}]|(?<=\w)\^(\d+)\b", power),
        Rule("per", rf"(?<=\w)/(?=(?:{choice(t.PER_WORDS)})\b)", per),
        Rule("slashed numbers", r"(?<![\w./,])\d+(?:/\d+)+(?![\w/]|\.\d)", slashed),
        Rule("ordinal", r"(?<![\w.,])(\d+)(?:st|nd|rd|th)\b", ordinal),
        Rule("negative", rf"(?<![\w.,])[-−]({NUM})(?![\w])", negative),
        Rule("scaled", rf"{_NOT_AFTER}({NUM})({scales})\b", scaled),
        Rule("number", rf"(?<![\w.,])(?:{NUM})", number),
        Rule("point", r"(?<!\w)\.(\d+)", point),
        Rule("digits", r"\d+", digits),
    ]
