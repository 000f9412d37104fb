"""Symbols that carry meaning in prose: "~4%", ">10%", "≥ 18", "±2°", "R&D", "x=5", "Mon–Fri", "A → B",
"#MondayMotivation", "@alice", "Ctrl+C", "⌘K".

Before a number a symbol is a word of the quantity (en.py's BEFORE_NUMBERS: "~" about, ">" more than, "≥" at
least, "±" plus or minus, "^" caret as in a version range); standing alone it is its name (SYMBOLS: "greater
than", "equals"); glued between two words "&", "=", "+", "→" and an en dash are said ("R and D", "x equals
five", "Monday to Friday"). A hash before a word is a hashtag, before a number "number" (numbers.py's "#42");
"@" before a name is "at". A keyboard shortcut is its keys ("Control C", "Command Shift P"). In a code span
the same characters are read as code instead (code_reading.py: "~1.2" is "tilde one point two").
"""

from __future__ import annotations

import re

from vox.text.verbalise.code import words_of
from vox.text.verbalise.engine import Context, Rule
from vox.text.verbalise.language import Language
from vox.text.verbalise.places import choice

_GLYPHS = re.compile("[⌘⌥⇧⌃]*")
_KEY_SEPARATOR = re.compile(r"(?<=[^+-])[+-]")


def rules(lang: Language) -> list[Rule]:
    t = lang.t
    w = lang.w
    alone = "|".join(re.escape(k) for k in sorted(t.SYMBOLS, key=len, reverse=True) if k not in "%#@–")
    before = "|".join(re.escape(k) for k in sorted(t.BEFORE_NUMBERS, key=len, reverse=True))
    modifiers = choice(t.MODIFIERS)
    keys = "|".join(re.escape(k) for k in sorted(t.KEYS, key=len, reverse=True) if len(k) > 1)
    key = rf"(?:{keys}|F\d{{1,2}}|[A-Za-z0-9]|[,./;'\[\]\\`=+-])"

    def symbol(m: re.Match[str], ctx: Context) -> str:
        return t.SYMBOLS[m.group()]

    def before_number(m: re.Match[str], ctx: Context) -> str:
        return t.BEFORE_NUMBERS[m.group(1)]

    def glued(m: re.Match[str], ctx: Context) -> str:
        return f" {t.SYMBOLS[m.group()]} "

    def hashtag(m: re.Match[str], ctx: Context) -> str:
        return f"{w['hashtag']} {words_of(lang, m.group(1))}"

    def mention(m: re.Match[str], ctx: Context) -> str:
        return f"{w['at']} {words_of(lang, m.group(1).replace('.', ' '))}"

    def key_name(key: str) -> str:
        if key in t.KEYS:
            return t.KEYS[key]
        if key[:1] == "F" and key[1:].isdecimal():
            return f"F {lang.cardinal(int(key[1:]))}"
        return lang.cardinal(int(key)) if key.isdecimal() else key.upper()

    def shortcut(m: re.Match[str], ctx: Context) -> str:
        glyphs = _GLYPHS.match(m.group()).group()  # "⌘⇧P": Command Shift P
        keys = [*glyphs, *_KEY_SEPARATOR.split(m.group()[len(glyphs) :])]
        return " ".join(key_name(k) for k in keys if k)

    return [
        Rule("shortcut", rf"\b(?:{modifiers})(?:[+-](?:{modifiers}))*[+-]{key}(?![\w+])|[⌘⌥⇧⌃]+{key}(?![\w+])",
             shortcut),
        Rule("before number", rf"(?<![^\s,;(])({before})\s?(?=[-−]?[$€£¥]?\.?\d)", before_number),
        Rule("symbol", rf"(?<!\S)(?:{alone})(?!\S)", symbol),
        Rule("glued symbol", r"(?<=\w)(?:&|=|\+|→|–|->)(?=\w)", glued),
        Rule("hashtag", r"(?<![\w&#/])#([A-Za-z][A-Za-z\d_]*)", hashtag),
        Rule("mention", r"(?<![\w.@/])@([A-Za-z_][\w.-]*\w)", mention),
    ]  # fmt: skip
