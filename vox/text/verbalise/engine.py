"""The rule engine: a table of (pattern -> spoken form) rules run over one piece of a sentence.

Rules are tried only where a token (a run of non-spaces) needs one: a digit, a symbol, a dot inside a word
or after a word the language abbreviates, two capitals or one inside a word, a month or weekday name before
a number. One regex finds those tokens; it starts with a single character class, so the regex engine skips
plain words without trying anything. At such a token the rules are matched at its start and wherever letters
or digits begin inside it; the first rule in table order that matches wins, and a match may run on over the
next tokens ("5 p.m.", "Jan. 5, 2025"). Only the rules that can start with the character there are tried
(firsts.py reads that from each pattern), joined into one alternation without their groups. Text no rule
matches is kept as written. Each rewrite is one segment ``(spoken, start, end)`` over the piece, so the
planner can map what is said back to where it was written.

Inside a code span (the markdown stage says where: ``code``, ranges of the piece) every token is read whole by
the language's code reader (code_reading.py: "~/.bashrc" is "tilde slash dot bashrc", "-U" is "dash U"),
as a developer reads code aloud; the rules read the prose around it.

Said once means said: the engine also reports whether a rewrite is glued to text it kept ("0:0x0" leaves
"x0") or says something a rule would take again, and the verbaliser then says the result again until it
settles (see ``Verbaliser.segments``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from vox.text.verbalise.firsts import may_start
from vox.text.verbalise.language import Language

Segment = tuple[str, int, int]
_LETTERS = re.compile(r"[^\W\d_]+")
_UPPER = re.compile(r"[A-Z]+")
_NEXT = re.compile(r"\s*(\S+)")
_ENDS = frozenset(".!?…")
_CLOSERS = "\"'”’»)]}"
_SYMBOLS = r"\d$€£¥₹₩₽₿₺₪₱₦#&@_/\\~+=×÷±≈<>≤≥→%°¢\[^²³½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞–∼≠⌘⌥⇧⌃*"
_TRIGGERS = (
    rf"[{_SYMBOLS}.\-A-Z]"  # one character class first, so the regex engine skips plain text quickly
    rf"(?:(?<=[{_SYMBOLS}])"  # a digit or symbol
    r"|(?<=\.)(?:(?<=\w\.)(?=\w)|(?<=(?<!\S)\.)(?=[A-Za-z_])|(?<=\b[A-Za-z]\.){abbreviations})"  # a dot inside a
    # word ("e.g.", "3.5") or starting one (".env"), after a letter ("J.") or a word the language abbreviates
    r"|(?<=[A-Z])(?:(?<=[a-z][A-Z])|(?<=(?<![\w.'’-])[A-Z])[A-Z]{names})"  # a capital inside a word
    # ("parseJson"), two starting one ("FBI", "(NASA)"), a month or weekday before a number or a name
    r"|(?<=(?<!\S)-)"  # a dash starting a word ("--verbose", "-5")
    r"|(?<=(?<![\w.'’-])[VXLCDM])(?![\w'’-])|(?<=(?<![\w.'’-])I)(?=[.,;:!?)]+(?:\s|$)|$)"  # "Act V", "War I."
    r"{words}"  # a word a rule wants: an address's part ("Pkwy", "Ste", "NW"), a key ("Ctrl-Shift-T")
    r")\S*"  # the rest of the token: it is looked at whole
)
"""Where a rule may have something to do; the engine looks at the token (run of non-spaces) around each."""
_OPENERS = re.compile("[(\\[{\"'“‘«¿¡]*")
_CLOSERS_TO_SPACE = re.compile(r"[,;:!?)\]}\"'”’»…]+(?: |$)")
_CLOSERS_TO_END = re.compile(r"[.,;:!?)\]}\"'”’»…]+$")


@dataclass(frozen=True)
class Rule:
    """One family member: ``pattern`` (numbered groups only) and ``say(match, context) -> spoken text``."""

    name: str
    pattern: str
    say: Callable[[re.Match[str], Context], str]


class Context:
    """What a rule may look at besides its match: the piece, the language and the reply's settings."""

    __slots__ = ("_before", "_shouting", "day_first", "lang", "text")

    def __init__(self, text: str, lang: Language, day_first: bool) -> None:
        self.text = text
        self.lang = lang
        self.day_first = day_first
        self._shouting: bool | None = None
        self._before: dict[int, str] = {}

    @property
    def shouting(self) -> bool:
        """Whether the piece is written in capitals ("THIS IS GREAT"): its capitals are words, not letters."""
        if self._shouting is None:
            letters = _LETTERS.findall(self.text)
            upper = sum(map(len, _UPPER.findall(self.text)))
            self._shouting = sum(map(len, letters)) > 12 and upper > 0.7 * sum(map(len, letters))
        return self._shouting

    def prev_word(self, at: int) -> str:
        """The word before position at, without punctuation around it ("" at the start)."""
        word = self._before.get(at)
        if word is None:
            text = self.text
            end = at
            while end > 0 and text[end - 1] == " ":
                end -= 1
            start = text.rfind(" ", 0, end) + 1
            word = self._before[at] = text[start:end].strip(".,;:!?\"'()[]{}")
        return word

    def reading(self, at: int, table: dict[str, str]) -> str | None:
        """What table says for the word before at, or before one or two fillers ("port to 8080", "order
        number is 4839203": the language's NUMBER_FILLERS)."""
        fillers = self.lang.t.NUMBER_FILLERS
        for _ in range(3):
            before = self.prev_word(at).lower()
            said = table.get(before)
            if said is not None or before not in fillers:
                return said
            at = self.text.rfind(before, 0, at)
            if at <= 0:
                return None
        return None

    def next_word(self, at: int) -> str:
        m = _NEXT.match(self.text, at)
        return m.group(1).strip(".,;:!?\"'()[]{}") if m else ""

    def at_end(self, at: int) -> bool:
        """Whether only closing quotes or brackets follow position at: the match ends the piece."""
        return not self.text[at:].strip().strip(_CLOSERS)


class Rules:
    """A language's rule table, compiled once (see the module docstring)."""

    def __init__(self, rules: list[Rule], lang: Language, names: frozenset[str],
                 abbreviations: frozenset[str] = frozenset(), words: frozenset[str] = frozenset(),
                 read_code: Callable[[str], str] = str) -> None:  # fmt: skip
        self.rules = rules
        self.lang = lang
        self._read_code = read_code
        self._needs = re.compile(triggers(names, abbreviations, words))
        compiled = [re.compile(r.pattern) for r in rules]
        self._own = [p if p.groups else None for p in compiled]  # None: the joined match serves
        self._say = [r.say for r in rules]
        self._starts = [may_start(r.pattern) for r in rules]
        self._at: dict[str, tuple[re.Pattern[str], tuple[int, ...]] | None] = {}  # by a place's character
        self._joined: dict[tuple[int, ...], tuple[re.Pattern[str], tuple[int, ...]]] = {}

    def warm(self) -> None:
        """Compile the alternations for the usual places now (a few hundred milliseconds on a slow machine),
        so a reply's first chunk does not wait for them; the server calls this in the background at start."""
        for ch in "0Aa.$#@~-_/([\"'":
            self._rules_at(ch)

    def _rules_at(self, ch: str) -> tuple[re.Pattern[str], tuple[int, ...]] | None:
        """The rules that may match at a place starting with ch, joined into one alternation in table order,
        and which rule each of its groups is (None: no rule may): the same first match as the whole table,
        without trying the rules that cannot match there. ASCII digits, capitals and small letters share one
        alternation each (the rules any of them may start), as compiling one costs tens of milliseconds."""
        try:
            return self._at[ch]
        except KeyError:
            pass
        bucket = _BUCKETS.get(ch, ch)
        which = tuple(k for k, test in enumerate(self._starts) if any(test(c) for c in bucket))
        found = self._joined.get(which) if which else None
        if which and found is None:
            # the rules' own groups left out: in a long alternation the regex engine saves every group
            # set so far at each optional part, which cost more than the matching (the rule's own pattern,
            # run once at the winning place, gives its groups)
            found = re.compile("|".join(f"({_uncaptured(self.rules[k].pattern)})" for k in which)), (-1, *which)
            self._joined[which] = found
        for c in bucket if len(self._at) < 4096 else ():  # bounded: text in any script passes through here
            self._at[c] = found
        return found

    def needs(self, token: str) -> bool:
        return self._needs.search(token) is not None

    def segments(self, text: str, day_first: bool = False,
                 code: Sequence[tuple[int, int]] = ()) -> tuple[list[Segment], bool]:  # fmt: skip
        """The piece as said: segments over text, in order, covering it (identity where nothing applies), and
        whether a rewrite is glued to text kept as written inside one word ("0:0x0", "24-hour"): saying the
        result again may then change it (the verbaliser does, until it does not). ``code``: the ranges of
        text inside a code span, in order (read by the code reader)."""
        out: list[Segment] = []
        pos = 0  # text before this is said
        ctx: Context | None = None
        said = ""  # the end of what has been said, for spacing
        unsettled = False
        at = self._at
        hits = _places(self._needs, text, code) if code else self._needs.finditer(text)
        for hit in hits:  # tokens with something a rule may want
            h = hit.start()
            if h < pos:
                continue
            if hit.__class__ is _CodeToken:  # read whole, as a developer reads it aloud
                end = hit.end()
                spoken = self._read_code(text[h:end])
                if spoken == text[h:end]:
                    continue
                if h > pos:
                    out.append((text[pos:h], pos, h))
                    said = text[h - 1]
                if spoken and said and said[-1].isalnum() and spoken[0].isalnum():
                    spoken = " " + spoken
                if spoken and end < len(text) and text[end].isalnum() and spoken[-1].isalnum():
                    spoken += " "
                out.append((spoken, h, end))
                said = spoken or said
                pos = end
                continue
            s = text.rfind(" ", 0, h) + 1
            e = hit.end()  # the trigger runs on to the token's end
            c = s if s > pos else pos
            while c < e:
                found = at.get(text[c], _UNSEEN)
                if found is _UNSEEN:
                    found = self._rules_at(text[c])
                m = found[0].match(text, c) if found is not None else None
                if m is None or m.end() == c:  # nothing here, or an empty match that says nothing: move on
                    c = _next_start(text, c, e)
                    continue
                if ctx is None:
                    ctx = Context(text, self.lang, day_first)
                k = found[1][m.lastindex]  # type: ignore[index]
                own = self._own[k]
                if own is not None:  # the rule has groups: its own match holds them
                    m = own.match(text, c)
                spoken = self._say[k](m, ctx)  # type: ignore[arg-type]
                end = m.end()  # type: ignore[union-attr]
                if text[end - 1] == "." and ctx.at_end(end) and spoken[-1:] not in _ENDS:
                    spoken += "."  # the abbreviation's period also ended the sentence: keep one
                if c > pos:
                    out.append((text[pos:c], pos, c))
                    said = text[c - 1]
                    if c > s and not unsettled:
                        unsettled = not _OPENERS.fullmatch(text, max(s, pos), c)
                if spoken and said and (said[-1].isalnum() or said[-1] in "%$,;") and spoken[0].isalnum():
                    spoken = " " + spoken
                if spoken and end < len(text) and text[end].isalnum() and spoken[-1].isalnum():
                    spoken += " "
                if not unsettled:  # what it says, or what it left glued to it, is something a rule may want
                    unsettled = (self._needs.search(spoken) is not None and spoken != text[c:end]) or (
                        end < len(text) and text[end] != " " and _CLOSERS_TO_END.match(text, end) is None
                        and _CLOSERS_TO_SPACE.match(text, end) is None)  # fmt: skip
                out.append((spoken, c, end))
                said = spoken or said
                pos = c = end
        if not out:
            return [(text, 0, len(text))], False
        if pos < len(text):
            out.append((text[pos:], pos, len(text)))
        return out, unsettled


class _CodeToken:
    """A token (run of non-spaces) inside a code span: a place like a trigger's match, read whole."""

    __slots__ = ("_end", "_start")

    def __init__(self, start: int, end: int) -> None:
        self._start, self._end = start, end

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


_TOKEN = re.compile(r"\S+")


def _places(needs: re.Pattern[str], text: str, code: Sequence[tuple[int, int]]) -> list:
    """The trigger's matches outside the code ranges and every token inside them, in order."""
    tokens = [_CodeToken(*m.span()) for a, b in code for m in _TOKEN.finditer(text, a, b)]
    places: list = []
    k = 0
    for hit in needs.finditer(text):
        h = hit.start()
        while k < len(tokens) and tokens[k].start() <= h:
            places.append(tokens[k])
            k += 1
        if not any(a <= h < b for a, b in code):
            places.append(hit)
    return places + tokens[k:]


_UNSEEN = object()
_BUCKETS = {c: group for group in ("0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
            for c in group}  # fmt: skip


def _uncaptured(pattern: str) -> str:
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


def _next_start(text: str, c: int, e: int) -> int:
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


def triggers(names: frozenset[str], abbreviations: frozenset[str], words: frozenset[str] = frozenset()) -> str:
    """``_TRIGGERS`` with the language's month and weekday names (before a number or a name), the words it
    abbreviates with a period (lookbehinds need one width: one per length) and other words a rule wants."""
    by_first: dict[str, list[str]] = {}
    for name in sorted(names, key=len, reverse=True):
        by_first.setdefault(name[0], []).append(re.escape(name[1:]))
    months = "".join(f"|(?<={re.escape(first)})(?:{'|'.join(rest)})" for first, rest in sorted(by_first.items()))
    if months:
        letters = "".join(sorted(by_first))
        months = f"|(?<=\\b[{letters}])(?:{months[1:]})(?=\\.?,?\\s+[\\dA-Z]|,$)"
    by_length: dict[int, list[str]] = {}
    for word in sorted(abbreviations):
        by_length.setdefault(len(word), []).append(re.escape(word))
    dots = "".join(f"|(?<=\\b(?i:{'|'.join(words)})\\.)" for _, words in sorted(by_length.items()))
    wanted = ""
    if words:
        by_first = {}
        for word in sorted(words, key=len, reverse=True):
            by_first.setdefault(word[0], []).append(re.escape(word[1:]))
        starts = "|".join(f"(?<={re.escape(first)})(?:{'|'.join(rest)})" for first, rest in sorted(by_first.items()))
        wanted = f"|(?<=(?<![\\w.'’-])[{''.join(sorted(by_first))}])(?:{starts})(?![\\w'’]|-[a-z])"
    return _TRIGGERS.replace("{names}", months).replace("{abbreviations}", dots).replace("{words}", wanted)


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


def spaced(parts: list[str]) -> str:
    """Words joined by one space, empty parts left out."""
    return " ".join(p for p in parts if p)
