"""Dates, times and durations: "03/15/2025", "2024-01-09", "Jan. 5", "4 July 1776", "the 1960s", "5 p.m.",
"9am-5pm", "14:30 UTC", "2h 15m".

An all-number date whose order is ambiguous ("03/04/2025") follows the reply's date order (``[text]
date_order`` in config.toml); one that is not (a day over 12) reads the only way it can. One that is no
date at all ("13/45/2025") is read as the numbers it holds.
"""

from __future__ import annotations

import re

from vox.text.verbalise.engine import Context, Rule, spaced
from vox.text.verbalise.language import Language
from vox.text.verbalise.numbers import is_year
from vox.text.verbalise.places import choice

_AMPM = r"([AaPp])\.?[Mm](?:\.|\b)"
_ORD = r"(?:st|nd|rd|th)?"


def month_number(lang: Language, word: str) -> int:
    return lang.t.MONTH_ABBREVIATIONS.get(word[:4].lower().rstrip("."), 0) or lang.t.MONTH_ABBREVIATIONS.get(
        word[:3].lower(), 5 if word[:3].lower() == "may" else 0
    )


def say_date(lang: Language, ctx: Context, at: int, day: int, month: int, year: str | None,
             day_first: bool) -> str | None:  # fmt: skip
    """"March fifteenth, twenty twenty-five" (month first) or "the fifteenth of March twenty twenty-five";
    None when it is no date."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    name = lang.t.MONTHS[month - 1]
    y = lang.year(int(year)) if year and len(year) == 4 else (lang.digits(year) if year else "")
    if day_first:
        the = "" if ctx.prev_word(at).lower() == lang.w["the"] else lang.w["the"]
        return spaced([the, lang.ordinal(day), lang.w["of"], name, y])
    return spaced([name, lang.ordinal(day) + ("," if y else ""), y])


def _numbers(lang: Language, text: str) -> str:
    """What a failed date is said as: its numbers, and "slash" for its slashes."""
    parts = re.split(r"([/.-])", text)
    return spaced([lang.w["slash"] if p == "/" else (lang.year(int(p)) if is_year(p) else lang.integer(p))
                   for p in parts if p and p not in ".-"])  # fmt: skip


def clock(lang: Language, h: int, mm: int, ampm: str | None) -> str:
    """"five p m", "six oh five a m", "fourteen thirty", "fourteen hundred", "twelve o'clock"."""
    w = lang.w
    hour = lang.cardinal(h)
    if mm == 0:
        minutes = "" if ampm is not None else (w["oclock"] if 1 <= h <= 12 else w["hundred"])
    else:
        minutes = f"{w['oh']} {lang.cardinal(mm)}" if mm < 10 else lang.cardinal(mm)
    return spaced([hour, minutes, w["am"] if ampm and ampm in "Aa" else (w["pm"] if ampm else "")])


def _duration(lang: Language, parts: list[tuple[int, str]]) -> str:
    w = lang.w
    return spaced([f"{lang.cardinal(n)} {w[unit] if n == 1 else w[unit + 's']}" for n, unit in parts if n or
                   len(parts) == 1])  # fmt: skip


def rules(lang: Language) -> list[Rule]:
    t = lang.t
    w = lang.w
    month = t.MONTH_PATTERN
    zones = choice(t.TIME_ZONES)

    def iso(m: re.Match[str], ctx: Context) -> str:
        y, mo, d = m.groups()
        return say_date(lang, ctx, m.start(), int(d), int(mo), y, ctx.day_first) or _numbers(lang, m.group())

    def numeric(m: re.Match[str], ctx: Context) -> str:
        a, sep, b, sep2, y = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4), m.group(5)
        if sep != sep2:
            return _numbers(lang, m.group())
        day_first = a > 12 or (b <= 12 and (ctx.day_first or sep == "."))
        day, mo = (a, b) if day_first else (b, a)
        return say_date(lang, ctx, m.start(), day, mo, y, ctx.day_first) or _numbers(lang, m.group())

    def month_first(m: re.Match[str], ctx: Context) -> str:
        mo, d, y = month_number(lang, m.group(1)), int(m.group(2)), m.group(3)
        said = say_date(lang, ctx, m.start(), d, mo, y, False)
        return said or spaced([t.MONTHS[mo - 1], lang.cardinal(d), lang.year(int(y)) if y else ""])

    def day_first(m: re.Match[str], ctx: Context) -> str:
        d, mo, y = int(m.group(1)), month_number(lang, m.group(2)), m.group(3)
        said = say_date(lang, ctx, m.start(), d, mo, y, True)
        return said or spaced([lang.cardinal(d), t.MONTHS[mo - 1], lang.year(int(y)) if y else ""])

    def month_year(m: re.Match[str], ctx: Context) -> str:
        return f"{t.MONTHS[month_number(lang, m.group(1)) - 1]} {lang.year(int(m.group(2)))}"

    def weekday(m: re.Match[str], ctx: Context) -> str:
        return t.WEEKDAYS[next(g for g in m.groups() if g).lower()]

    def decade(m: re.Match[str], ctx: Context) -> str:
        century, tens, short = m.group(1), m.group(2), m.group(3) or m.group(4)
        if short:
            return t.DECADES.get(int(short), lang.cardinal(int(short) * 10) + "s")
        said = lang.year(int(century + tens + "0"))
        return said[:-1] + "ies" if said.endswith("y") else said + "s"

    def hour_range(m: re.Match[str], ctx: Context) -> str:
        h1, m1, a1, h2, m2, a2 = m.groups()
        first = clock(lang, int(h1), int(m1 or 0), a1 or "")
        return f"{first} {w['to']} {clock(lang, int(h2), int(m2 or 0), a2)}"

    def clock_time(m: re.Match[str], ctx: Context) -> str:
        h, mm, ss, ampm, zone = m.groups()
        if ss and not ampm and ctx.prev_word(m.start()).lower() not in t.TIME_PREPOSITIONS:
            return _duration(lang, [(int(h), "hour"), (int(mm), "minute"), (int(ss), "second")])
        said = clock(lang, int(h), int(mm), ampm)
        if ss:
            said += f" {w['and']} {lang.cardinal(int(ss))} {w['seconds']}"
        return spaced([said, " ".join(zone) if zone else ""])

    def hour(m: re.Match[str], ctx: Context) -> str:
        h, ampm, zone = m.groups()
        return spaced([clock(lang, int(h), 0, ampm), " ".join(zone) if zone else ""])

    def glued_duration(m: re.Match[str], ctx: Context) -> str:
        names = {"h": "hour", "d": "day", "w": "week", "m": "minute", "min": "minute", "s": "second"}
        parts = [(int(n), names[u]) for n, u in re.findall(r"(\d+)(min|h|d|w|m|s)", m.group())]
        return _duration(lang, parts)

    return [
        Rule("iso date", r"(?<![\w./-])(\d{4})-(\d{2})-(\d{2})(?![\w/-]|\.\d)", iso),
        Rule("numeric date", r"(?<![\w./-])(\d{1,2})([/.])(\d{1,2})([/.])(\d{4}|\d{2})(?![\w/-]|\.\d)", numeric),
        Rule("weekday", rf"\b({t.WEEKDAY_PATTERN})\.?(?=,?\s+(?:{month}|\d))|\b({t.WEEKDAY_AT_END})(?=,$)"
             rf"|\b({t.WEEKDAY_PATTERN})(?=[–-]{t.WEEKDAY_PATTERN})|(?<=[a-z][–-])({t.WEEKDAY_PATTERN})", weekday),
        Rule("month day", rf"\b({month})\.?\s+(\d{{1,2}}){_ORD}(?![\d:.,]\d|\w)(?:,?\s+(\d{{4}})(?![\w.]\d|\w))?",
             month_first),
        Rule("day month", rf"(?<![\w.,])(\d{{1,2}}){_ORD}\s+(?:of\s+)?({month})\.?(?:,?\s+(\d{{4}})(?!\w|[.,]\d))?",
             day_first),
        Rule("month year", rf"\b({month})\.?,?\s+(\d{{4}})(?!\w|[.,]\d)", month_year),
        Rule("decade", r"(?<![\w'’.])(?:(1[0-9]|20)(\d)0s|['’](\d)0s|(\d)0s)\b", decade),
        Rule("hour range", rf"(?<![\w.:])(\d{{1,2}})(?::(\d\d))?\s?(?:{_AMPM})?\s?(?:-|–|to)\s?"
             rf"(\d{{1,2}})(?::(\d\d))?\s?{_AMPM}", hour_range),
        Rule("clock", rf"(?<![\w.:])([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?![\d:])(?:\s?{_AMPM})?"
             rf"(?:\s?({zones})\b)?", clock_time),
        Rule("hour", rf"(?<![\w.:])(\d{{1,2}})\s?{_AMPM}(?:\s?({zones})\b)?", hour),
        Rule("glued duration", r"(?<![\w.])\d+(?:h|d|w)(?:\s?\d+(?:min|m))?(?:\s?\d+s)?(?!\w)"
             r"|(?<![\w.])\d+(?:min|m)\s?\d+s(?!\w)", glued_duration),
    ]
