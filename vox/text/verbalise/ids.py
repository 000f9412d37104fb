"""Identifiers a reader says in groups: phone numbers, tracking and order numbers, serials, hexadecimal codes,
IP and MAC addresses, a host's port, flight numbers: "(555) 123-4567", "+44 20 7946 0958", "1Z999AA10123456784",
"112-4839203-1938475", "0x80070005", "192.168.1.0/24", "fe80::1", "00:1A:2B:3C:4D:5E", "localhost:8080",
"flight UA 901".

A careful reader spells such a thing character by character in the groups it is written in, with a short
pause between groups ("five five five, one two three, four five six seven"), and cuts a long run into groups
of three or four ("1Z999AA10123456784": "one Z nine, nine nine A, A one zero one, ..."): nobody says "one
hundred twelve" in an order number. A toll-free code is a number ("eight hundred"), a port and a flight
number are said in pairs ("eighty eighty", "nine oh one"). Which word a zero is ("zero" in the US, "oh" in
the UK) is the locale's (``ZERO`` in en.py and en_gb.py).
"""

from __future__ import annotations

import re

from vox.text.verbalise.engine import Context, Rule
from vox.text.verbalise.language import Language, groups
from vox.text.verbalise.words import initialism

_DIGIT_RUN = re.compile(r"\+?\d+")
_ALNUM_RUN = re.compile(r"[0-9A-Za-z]+")


def hexadecimal(lang: Language, digits: str) -> str:
    """"80070005" -> "hex eight zero zero seven, zero zero zero five"."""
    return f"{lang.w['hex']} {lang.grouped(digits)}"


def rules(lang: Language) -> list[Rule]:
    t = lang.t
    w = lang.w

    def phone(m: re.Match[str], ctx: Context) -> str:
        said = []
        for k, g in enumerate(_DIGIT_RUN.findall(m.group())):
            if g.startswith("+"):
                said.append(f"{w['plus']} {lang.spelled(g[1:])}")
            elif g in t.TOLL_FREE and k <= 1:  # toll-free codes are said as numbers
                said.append(lang.cardinal(int(g)))
            else:
                said += [lang.spelled(part) for part in groups(g)]
        return ", ".join(said)

    def hex_code(m: re.Match[str], ctx: Context) -> str:
        return hexadecimal(lang, m.group(1) or m.group(2))

    def long_id(m: re.Match[str], ctx: Context) -> str:
        return lang.grouped(m.group())

    def dashed_id(m: re.Match[str], ctx: Context) -> str:
        parts = _ALNUM_RUN.findall(m.group())  # "112-4839203-1938475", "4111 1111 1111 1111"
        if len(parts) == 2 and parts[0].isalpha() and len(parts[1]) <= 4:  # "PROJ-1234", "F-150", "UTF-8"
            return f"{initialism(lang, parts[0])} {lang.pairs(parts[1])}"
        return ", ".join(lang.grouped(part) for part in parts)

    def flight(m: re.Match[str], ctx: Context) -> str:
        return f"{lang.spelled(m.group(1))} {lang.pairs(m.group(2))}"

    def dotted_number(m: re.Match[str], ctx: Context) -> str:
        address, _, prefix = m.group().partition("/")
        parts = address.split(".")
        joint = w["dot"] if len(parts) >= 4 else w["point"]  # an IP address is said with "dot"
        if joint == w["dot"]:  # an address's parts in pairs: "one ninety-two dot one sixty-eight"
            said = f" {joint} ".join(lang.pairs(p) for p in parts)
        else:
            said = f" {joint} ".join(lang.integer(p) for p in parts)
        return f"{said} {w['slash']} {lang.cardinal(int(prefix))}" if prefix else said

    def mac(m: re.Match[str], ctx: Context) -> str:
        return ", ".join(lang.spelled(g) for g in _ALNUM_RUN.findall(m.group()))

    def ipv6(m: re.Match[str], ctx: Context) -> str:
        return f" {w['colon']} ".join(lang.spelled(g) for g in m.group().split(":")).replace("  ", " ").strip()

    def host_port(m: re.Match[str], ctx: Context) -> str:
        host, port = m.group(1), m.group(2)
        if host[0].isdecimal():
            said = f" {w['dot']} ".join(lang.pairs(p) for p in host.split("."))
        else:
            said = f" {w['dot']} ".join(p.replace("-", " ") for p in host.split("."))
        return f"{said} {w['colon']} {lang.pairs(port)}"

    hexes = "[0-9A-Fa-f]"
    return [
        Rule("phone", r"(?<![\w+])(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\d)"
             r"|(?<![\w+])\+(?=(?:[\s().-]*\d){8})\d{1,3}(?:[ .-]?\(\d{1,4}\)|[ .-]?\d{1,8}){2,6}(?!\d)"
             r"|(?<![\w+.])\(?0\d{1,4}\)?[ -]\d{3,4}[ -]?\d{3,4}(?![\d-])"
             r"|(?<![\w.-])\d{3}-\d{4}(?![\w-])", phone),
        Rule("hex", rf"(?<![\w.])0[xX]({hexes}+)(?!\w|\.\w)|(?<![\w&#])#(?=[0-9A-Fa-f]*\d)(?=[0-9A-Fa-f]*[A-Fa-f])"
             rf"({hexes}{{6}}|{hexes}{{3}})(?![\w-])", hex_code),
        Rule("long id", r"(?<![\w.@/-])(?=[A-Z\d]*\d)(?=[A-Z\d]*[A-Z])[A-Z\d]{8,}(?![\w@/-]|\.\w)"
             r"|(?<![\w.@/-])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}(?![\w@/-]|\.\w)", long_id),
        Rule("dashed id", r"(?<![\w.@/-])(?=[\w-]*\d)(?:[A-Z\d]+|[0-9a-f]+)(?:-(?:[A-Z\d]+|[0-9a-f]+)){2,}"
             r"(?![\w@/-]|\.\w)|(?<![\w.@/-])[A-Z]{1,6}-\d+(?![\w@/-]|\.\w)"
             r"|(?<![\w.,@/-])\d+-(?:0\d*|\d{6,})(?![\w@/-]|\.\w)|(?<![\w.,@/-])\d{6,}-\d+(?![\w@/-]|\.\w)"
             r"|(?<![\w.,-])\d{4}(?: \d{4}){3}(?![\w-])", dashed_id),
        Rule("flight", r"(?<=\b[Ff]light )([A-Z]{2}|[A-Z]\d|\d[A-Z])\s?(\d{1,4})(?!\w)", flight),
        Rule("dotted number", r"(?<![\w.])\d+(?:\.\d+){2,}(?:/\d{1,3})?(?![\w/]|\.\d)", dotted_number),
        Rule("mac", rf"(?<![\w:-]){hexes}{{2}}(?:(?::{hexes}{{2}}){{5}}|(?:-{hexes}{{2}}){{5}})(?![\w:-])", mac),
        Rule("ipv6", rf"(?<![\w:])(?=[\w:]*::){hexes}{{0,4}}(?::{hexes}{{0,4}}){{2,7}}(?![\w:])"
             rf"|(?<![\w:])(?:{hexes}{{1,4}}:){{7}}{hexes}{{1,4}}(?![\w:])", ipv6),
        Rule("host port", r"(?<![\w.@/:-])([a-z][\w-]*(?:\.[\w-]+)*|\d{1,3}(?:\.\d{1,3}){3}):(\d{2,5})(?![\w:]|\.\d)",
             host_port),
    ]  # fmt: skip
