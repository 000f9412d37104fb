"""Code as a developer reads it aloud: one token of a code span ("`~/.bashrc`", "`PATH=$HOME/bin:$PATH`",
"`-U`", "`0x80070005`") -> "tilde slash dot bashrc", "path equals dollar home slash bin colon dollar path",
"dash U", "hex eight zero zero seven, zero zero zero five".

In prose the same characters may be words ("~4%" is "about four percent", ">10%" "more than ten percent",
"No. 5" "number five"); inside a code span (the markdown stage says where) a token is read whole, piece by
piece: names split at underscores and capitals ("get_user_by_id" -> "get user by i d", "parseJson" -> "parse
json"), a name in capitals said as a word ("PATH" -> "path") unless it is an initialism said as letters
("API", "SSH"), numbers as numbers (four digits, and a port after a colon, in pairs: "8080" -> "eighty
eighty"), versions with "point", hexadecimal in groups, and every symbol by its name (en.py's CODE_SYMBOLS:
"=" equals, "|" pipe, "~" tilde). Brackets and quotes are not said, nor a hyphen inside a name ("apt-get");
a character the tables do not know is kept as written (a letter outside ASCII, "café", is a name's).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from vox.text.verbalise.code import code_words
from vox.text.verbalise.ids import hexadecimal
from vox.text.verbalise.language import Language

_URL = re.compile(r"[A-Za-z][\w+.-]*://([^/\s?#]+)(/[^\s?#]*)?[^\s]*")
_VERSION_SIGNS = frozenset(">= <= == != ~= ~ ^ > < @ v".split())
_QUIET = frozenset("()[]{}\"'`“”‘’")  # brackets and quotes: not said
_LEXEME = re.compile(
    r"(?P<hex>0[xX][0-9A-Fa-f]+)(?![\w])"
    r"|(?P<version>(?<![A-Za-z])[vV]\d+(?:\.\d+)+)"
    r"|(?P<dotted>\d+(?:\.\d+)+)(?![\w])"
    r"|(?P<number>\d+)"
    r"|(?P<name>[^\W\d_]+)"
    r"|(?P<under>_+)"
    r"|(?P<symbol>\.\.\.|==|!=|~=|>=|<=|&&|\|\||->|=>|::|\*\*|<<|>>|\+=|-=|\.\.|--|\S)"
)


def reader(lang: Language) -> Callable[[str], str]:
    """The language's code reader: a token of code -> what a developer says for it."""
    t = lang.t
    w = lang.w
    symbols = t.CODE_SYMBOLS

    def number(digits: str, port: bool) -> str:
        if port or len(digits) == 4:  # "8080" eighty eighty, "4096" forty ninety-six
            return lang.pairs(digits)
        return lang.integer(digits)

    @lru_cache(maxsize=4096)  # a reply repeats its commands and names
    def read(token: str) -> str:
        url = _URL.fullmatch(token)
        if url:  # a URL in code: its host (and a repository's owner and name), as the markdown stage says it
            path = url.group(2) or ""
            token = url.group(1) + (path.rstrip("/") if path.strip("/").count("/") == 1 else "")
        out: list[str] = []
        lexemes = list(_LEXEME.finditer(token))
        opened = 0  # "<" left open by a name ("Vec<String>"): its ">" closes a bracket, not a comparison
        for k, m in enumerate(lexemes):
            kind, text = m.lastgroup, m.group()
            before = lexemes[k - 1] if k else None
            after = lexemes[k + 1] if k + 1 < len(lexemes) else None
            if kind == "name":
                out.append(code_words(lang, text, flag=before is not None and before.group() in ("-", "+") and k == 1))
            elif kind == "number":
                port = before is not None and before.group() == ":" and k >= 2 and lexemes[k - 2].lastgroup in (
                    "name", "dotted", "number")
                out.append(number(text, port))
            elif kind == "dotted":
                parts = text.split(".")
                if len(parts) == 2 and not (before is not None and (before.group() in _VERSION_SIGNS or (
                        before.lastgroup == "name" and before.group().lower() in t.VERSION_AFTER))):  # fmt: skip
                    out.append(lang.number(text))  # "3.14"; "numpy>=1.26", "python3.12" are versions
                elif len(parts) == 4:  # an IP address
                    out.append(f" {w['dot']} ".join(lang.pairs(p) for p in parts))
                else:
                    out.append(f" {w['point']} ".join(lang.integer(p) for p in parts))
            elif kind == "version":
                out.append(f"{w['version']} " + f" {w['point']} ".join(lang.integer(p) for p in text[1:].split(".")))
            elif kind == "hex":
                out.append(hexadecimal(lang, text[2:]))
            elif kind == "under":  # between names it is not said; "_private", "__init__" (dunder init)
                if k == 0 and after is not None:
                    closed = k + 2 < len(lexemes) and lexemes[k + 2].group() == "__"
                    out.append(w["dunder"] if text == "__" and closed else w["underscore"])
                elif len(lexemes) == 1:
                    out.append(w["underscore"])
            else:
                out.append(symbol(text, k, before, after, len(lexemes)))
                if text == "<" and before is not None and before.lastgroup == "name" and after is not None:
                    opened += 1
                    out[-1] = ""
                elif text == ">" and opened:
                    opened -= 1
                    out[-1] = ""
        said = " ".join(p for p in out if p)
        return said.replace(" ,", ",")

    def symbol(text: str, k: int, before: re.Match[str] | None, after: re.Match[str] | None, n: int) -> str:
        if text in ("-", "--"):
            if k == 0 and after is not None:  # a flag, or a negative number
                return w["minus"] if text == "-" and after.lastgroup in ("number", "dotted") else (
                    " ".join([w["dash"]] * len(text)))
            if before is not None and after is not None and before.lastgroup != "symbol" and (
                    after.lastgroup != "symbol"):
                return ""  # a hyphen inside a name: "apt-get", "pre-commit"
        if text == ".":
            return w["dot"]
        return symbols.get(text, "" if text in _QUIET else text)

    return read

