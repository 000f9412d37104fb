"""Where the engine tries its rules: the tokens a rule may want (one regex, ``triggers``), the tokens inside
a code span, and the places inside a token, each keyed so that only the rules that can match there are
tried (the rules a character can start, and, at a run of digits or letters, the rules that can go on with
what follows the run: firsts.py reads both from each pattern).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_SYMBOLS = r"\d$€£¥₹₩₽₿₺₪₱₦#&@_/\\~+=×÷±≈<>≤≥→%°¢\[^²³½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞–∼≠⌘⌥⇧⌃*"
TRIGGERS = (
    rf"[{_SYMBOLS}.\-A-Z]"  # one character class first, so the regex engine skips plain text quickly
    rf"(?:(?<=[{_SYMBOLS}])"  # a digit or symbol
    r"|(?<=\.)(?:(?=\w)(?:(?<=\w\.)|(?<=(?<!\S)\.)(?=[A-Za-z_]))"  # a dot inside a word ("e.g.", "3.5") or
    r"|(?<=[^\W\d_°º]\.|[°º]\.)(?:(?<=\b[A-Za-z]\.){abbreviations}))"  # starting one (".env"); after a
    # letter ("J.") or a word the language abbreviates ("Dr.", "etc.")
    r"|(?<=[A-Z])(?:(?=[a-z])(?:(?<=[a-z][A-Z]){names}{words}{numbered})"  # before a small letter: a capital
    # inside a word ("parseJson"), a month or weekday before a number or a name, a word a rule wants ("Pkwy",
    # "Ctrl-Shift-T"), a word before a Roman numeral that is a number ("Act V", "Henry V", "War I": runs on over it)
    r"|(?![a-z])(?:(?<=(?<![\w.'’-])[A-Z])[A-Z]"  # else: two capitals starting a word ("FBI", "(NASA)"),
    r"|(?<=(?<![\w.'’-])[NSEW])(?=\.? (?:[A-Z][a-z]|\d+(?:st|nd|rd|th)))"  # a direction ("W 5th Ave"),
    r"|(?<=[a-z][A-Z])"  # a capital inside a word before another capital or a digit ("getHTTP", "fooV2"),
    r"{words}))"  # a word a rule wants that is one letter or in capitals ("N", "NW")
    r"|(?<=(?<!\S)-)"  # a dash starting a word ("--verbose", "-5")
    r")\S*"  # the rest of the token: it is looked at whole
)
"""Where a rule may have something to do; the engine looks at the token (run of non-spaces) around each. It
starts with a single character class, so the regex engine skips plain words without trying anything."""


CODE_TOKEN = re.compile(r"\S+")
"""A token (run of non-spaces) inside a code span: its match is a place like a trigger's, read whole."""


def code_places(needs: re.Pattern[str], text: str, code: Sequence[tuple[int, int]]) -> list[re.Match[str]]:
    """The trigger's matches outside the code ranges (in order, not overlapping) and every token inside them,
    in order."""
    tokens = [m for a, b in code for m in CODE_TOKEN.finditer(text, a, b)]
    places: list[re.Match[str]] = []
    k = r = 0  # the next code token, the next code range
    for hit in needs.finditer(text):
        h = hit.start()
        while k < len(tokens) and tokens[k].start() <= h:
            places.append(tokens[k])
            k += 1
        while r < len(code) and code[r][1] <= h:
            r += 1
        if r == len(code) or h < code[r][0]:
            places.append(hit)
    return places + tokens[k:]


DIGITS, UPPER_CASE, LOWER_CASE = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
RUN_TESTS = {DIGITS: str.isdecimal, UPPER_CASE: str.isalpha, LOWER_CASE: str.isalpha}
"""The ASCII digits, capitals and small letters: each a bucket of places that share their rules, and the kind
of run (digits, letters) a place there starts."""
_LETTER_RUN = re.compile(r"[^\W\d_]*")
RUN_OF = {c: (bucket, re.compile(r"\d*") if bucket is DIGITS else _LETTER_RUN) for bucket in RUN_TESTS
           for c in bucket}  # fmt: skip
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
FOLLOW_SAMPLES: dict[str, str | tuple[str]] = {
    "": ("",), " ": " ", "letter": UPPER_CASE + LOWER_CASE, "digit": DIGITS} | {c: c for c in PUNCTUATION}  # fmt: skip
"""What may follow a run, by kind: the characters a rule is asked about (any other is asked about itself)."""
FOLLOW = {"": "", " ": " "} | {c: "letter" for c in UPPER_CASE + LOWER_CASE} | {c: "digit" for c in DIGITS} | {
    c: c for c in PUNCTUATION}  # fmt: skip



def uncaptured(pattern: str) -> str:
    """pattern with its groups made non-capturing ("(" and "(?P<name>" become "(?:"; no back-references)."""
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            for lead in "^]":  # "[^]...]" and "[]...]": a leading "]" is a member
                if i < n and pattern[i] == lead:
                    out.append(lead)
                    i += 1
            continue
        elif ch == "(" and pattern.startswith("(?P<", i):
            out.append("(?:")
            i = pattern.index(">", i) + 1
            continue
        elif ch == "(" and not pattern.startswith("(?", i):
            out.append("(?:")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def next_start(text: str, c: int, e: int) -> int:
    """The next place inside a token where a rule may match: every symbol ("PATH=$HOME": the "=" and the
    "$"), where letters or digits begin ("(555)" after its bracket), and where digits begin after letters
    ("x0": no digit is left unsaid); "mp3" is matched whole at its start."""
    c += 1
    while c < e:
        a, b = text[c - 1], text[c]
        if not b.isalnum() or not a.isalnum() or (b.isdigit() and not a.isdigit()) or (
                b.isdecimal() and not a.isdecimal()):  # fmt: skip
            break
        c += 1
    return c


def triggers(names: frozenset[str], abbreviations: frozenset[str], words: frozenset[str] = frozenset(),
             numbered: frozenset[str] = frozenset()) -> str:  # fmt: skip
    """``TRIGGERS`` with the language's month and weekday names (before a number or a name), the words it
    abbreviates with a period (lookbehinds need one width: one per length), other words a rule wants, and
    words a Roman numeral after them is a number of (the match runs on over the numeral, which a rule reads
    with the word: a lone "V" or "I" elsewhere is a letter, and no trigger)."""
    by_length: dict[int, list[str]] = {}
    for word in sorted(abbreviations):
        by_length.setdefault(len(word), []).append(re.escape(word))
    dots = "".join(f"|(?<=\\b(?i:{'|'.join(words)})\\.)" for _, words in sorted(by_length.items()))
    months = _capitalised(names, r"(?=\.?,?\s+[\dA-Z]|,$)")
    wanted = _capitalised(words, r"(?![\w'’]|-[a-z])")
    before_numeral = _capitalised(numbered, r"\.? (?=[IVXLCDM]+(?![\w'’-]))")
    return (TRIGGERS.replace("{names}", months).replace("{abbreviations}", dots).replace("{words}", wanted)
            .replace("{numbered}", before_numeral))  # fmt: skip


def _capitalised(words: frozenset[str], ahead: str) -> str:
    """A branch of TRIGGERS for words that start with the capital it matched ("March", "Pkwy"), then ahead:
    the rest of the word as a trie first (a capitalised word that is none of them fails at its second or
    third letter, before anything is looked behind), then the whole word checked behind, one lookbehind per
    length."""
    if not words:
        return ""
    by_length: dict[int, list[str]] = {}
    for word in sorted(words):
        by_length.setdefault(len(word), []).append(re.escape(word))
    whole = "|".join(f"(?<=(?<![\\w.'’-])(?:{'|'.join(same)}))" for _, same in sorted(by_length.items()))
    return f"|{choice(w[1:] for w in words)}(?:{whole}){ahead}"


def choice(words: Iterable[str], *, fold: bool = False) -> str:
    """One of words, as a regex (non-capturing): a trie, longest first, so the regex engine rejects a place
    by its first letter instead of trying each word (a plain "dr|mr|mrs|..." of 150 words, case-insensitive,
    cost microseconds at every place). ``fold``: either case, as [dD] (a class the engine checks at once)."""
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for ch in word.lower() if fold else word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def char(ch: str) -> str:
        up = ch.upper()
        return f"[{re.escape(ch)}{re.escape(up)}]" if fold and up != ch and len(up) == 1 else re.escape(ch)

    def emit(node: dict[str, dict]) -> str:
        parts = [char(ch) + emit(node[ch]) for ch in sorted(node) if ch]
        if not parts:
            return ""
        if "" in node:  # a word ends here: tried after the longer ones
            return "(?:" + "|".join(parts) + ")?"
        return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"

    return emit(tree) or "(?!)"
