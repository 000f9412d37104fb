"""Addresses, code and identifiers: "support@example.com", "docs.python.org", "src/utils/parser.py",
"--verbose", "get_user_by_id", "parseJsonResponse", "v2.1.3", "(555) 123-4567", "#1042".

Said the way a developer reads them aloud: "support at example dot com", "source slash utils slash parser
dot py", "dash dash verbose", "get user by id", "parse json response", "version two point one point three".
(The markdown stage has already turned a link into its text and a bare URL into its host name.)
"""

from __future__ import annotations

import re
from functools import lru_cache

from vox.text.verbalise.engine import Context, Rule, spaced
from vox.text.verbalise.language import Language
from vox.text.verbalise.numbers import identifier

_PART = r"\.?[\w~%+*-]+(?:\.[\w~%+*-]+)*"  # a path part: dots inside, or one before a dotfile (".bashrc")
_VOWEL = re.compile(r"[AEIOUYaeiouy]")
_HUMPS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_SEPARATORS = re.compile(r"[_\s]+")
_SLASHES = re.compile(r"(/)")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^\W\d_]+")  # the last: letters in other scripts


@lru_cache(maxsize=4096)  # replies repeat their identifiers; the words of one never change
def words_of(lang: Language, name: str) -> str:
    """An identifier's words: snake_case and camelCase split, capitals in short runs spelled ("ID" -> "I D"),
    SCREAMING_CASE said as words, digits as numbers."""
    out: list[str] = []
    screaming = name.isupper() and "_" in name
    for part in _SEPARATORS.split(name):
        if not part:
            continue
        if screaming or (part.isupper() and len(part) > 4):
            part = part.lower()
        for piece in _CAMEL.findall(part):
            if piece.isdecimal():
                out.append(identifier(lang, piece))
            elif piece.isupper() and len(piece) > 1 and piece not in lang.t.ACRONYM_WORDS:
                out.append(" ".join(piece))
            else:
                low = piece.lower()
                out.append(lang.t.LOWER_WORDS.get(low, low if piece.isupper() and len(piece) > 1 else piece))
    return " ".join(out)


def code_words(lang: Language, word: str, flag: bool = False) -> str:
    """A run of letters in code, as a developer says it: split at its humps ("parseJSON" -> "parse J S O N"),
    a name in capitals said as a word ("PATH" -> "path", "HOME" -> "home") unless it is an initialism ("API"),
    letters without a vowel spelled ("ls" -> "l s"). ``flag``: after a single dash, short runs are options,
    one letter each ("-la" -> "l a")."""
    t = lang.t
    if not word.isascii():  # letters in another script: a name said as written
        return word
    if flag and (len(word) <= 2 or not _VOWEL.search(word)):
        return " ".join(word)
    out = []
    for hump in _HUMPS.findall(word) or [word]:
        key, low = hump.upper(), hump.lower()
        if key in t.SAID_AS:
            out.append(t.SAID_AS[key])
        elif len(hump) == 1:
            out.append(hump)
        elif low in t.LOWER_WORDS:
            out.append(t.LOWER_WORDS[low])
        elif key in t.ACRONYM_WORDS:
            out.append(low)
        elif key in t.SPELLED_IN_CODE or not _VOWEL.search(hump):
            out.append(" ".join(hump))
        else:
            out.append(low if hump.isupper() else hump)
    return " ".join(out)


@lru_cache(maxsize=4096)
def dotted(lang: Language, name: str) -> str:
    """"docs.python.org" -> "docs dot python dot org"; "app.run()" -> "app dot run"."""
    name = name.removesuffix("()")
    return f" {lang.w['dot']} ".join(words_of(lang, part) if part else "" for part in name.split("."))


@lru_cache(maxsize=4096)
def path(lang: Language, text: str) -> str:
    """"~/.config/app/*.py" -> "tilde slash dot config slash app slash star dot py"."""
    w = lang.w
    out: list[str] = []
    for part in _SLASHES.split(text):
        if part == "/":
            out.append(w["slash"])
        elif part == "~":
            out.append(w["tilde"])
        elif part in (".", ".."):
            out.append(" ".join([w["dot"]] * len(part)))
        elif part:
            out.append(dotted(lang, part.replace("-", " ").replace("*", f" {w['star']} ")).strip())
    return spaced(out)


def rules(lang: Language) -> list[Rule]:
    w = lang.w

    def email(m: re.Match[str], ctx: Context) -> str:
        user, host = m.group().rsplit("@", 1)
        return f"{dotted(lang, user.replace('+', ' plus ').replace('-', ' '))} {w['at']} {dotted(lang, host)}"

    def version(m: re.Match[str], ctx: Context) -> str:
        return spaced([w["version"], f" {w['point']} ".join(lang.integer(p) for p in m.group(1).split("."))])

    def hash_number(m: re.Match[str], ctx: Context) -> str:
        return f"{w['number']} {identifier(lang, m.group(1))}"

    def names(m: re.Match[str], ctx: Context) -> str:
        return path(lang, m.group()) if "/" in m.group() else dotted(lang, m.group())

    def variable(m: re.Match[str], ctx: Context) -> str:
        return f"{w['dollar']} " + " ".join(code_words(lang, p) for p in m.group(1).split("_") if p)

    def a_path(m: re.Match[str], ctx: Context) -> str:
        return path(lang, m.group())

    def flag(m: re.Match[str], ctx: Context) -> str:
        dashes, name = len(m.group(1)), m.group(2)
        if dashes == 1 and name.isalpha() and (len(name) <= 2 or not _VOWEL.search(name)):
            return spaced([w["dash"], " ".join(name)])  # "-la", "-xvf": single-letter options, as written
        return spaced([*[w["dash"]] * dashes, words_of(lang, name.replace("-", " "))])

    def ident(m: re.Match[str], ctx: Context) -> str:
        return words_of(lang, m.group())

    return [
        Rule("email", r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", email),
        Rule("version", r"(?<![\w.])[vV](\d+(?:\.\d+)*)(?![\w]|\.\d)", version),
        Rule("hash number", r"(?<![\w&])#(\d+)\b", hash_number),
        Rule("dotted name", rf"(?<![\w@/.-])[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+(?:\(\))?(?:/{_PART})*/?", names),
        Rule("variable", r"(?<![\w$])\$\{?([A-Za-z_]\w*)\}?", variable),
        Rule("path", rf"(?<![\w.~/-])(?:~|\.\.?)?/{_PART}(?:/{_PART})*/?"
             rf"|(?<![\w.~/-]){_PART}(?:/{_PART}){{2,}}/?|(?<![\w.~/-])[\w-]+/[\w-]*\.[A-Za-z]\w*"
             r"|(?<![\w.~/-])\*?\.[A-Za-z_][\w-]*(?:\.[\w-]+)*(?![\w/])", a_path),
        Rule("flag", r"(?<![\w.-])(--?)([A-Za-z][\w-]*)", flag),
        Rule("snake case", r"(?<![\w.])[A-Za-z]\w*_\w*[A-Za-z0-9](?!\w|\.\w)", ident),
        Rule("camel case", r"(?<![\w.])[a-z]+(?:[A-Z][a-z0-9]*|[A-Z]+(?![a-z]))+(?!\w|\.\w)", ident),
    ]
