"""The rule engine: a table of (pattern -> spoken form) rules run over one piece of a sentence.

Rules are tried only where a token (a run of non-spaces) needs one: a digit, a symbol, a dot inside a word
or after a word the language abbreviates, two capitals or one inside a word, a month or weekday name before
a number (places.py: one regex finds those tokens). At such a token the rules are matched at its start, at
each symbol and wherever letters or digits begin inside it; the first rule in table order that matches wins,
and a match may run on over the next tokens ("5 p.m.", "Jan. 5, 2025"). Only the rules that can match there
are tried (those the character can start and that can go on with what follows its run of digits or letters:
firsts.py reads both from each pattern), joined into one alternation without their groups. A rule whose say
reads no context says the same for the same match, so the engine keeps what it said for the next time. Text no rule
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

import dis
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vox.text.verbalise.firsts import may_follow, may_start
from vox.text.verbalise.language import Language
from vox.text.verbalise.places import (
    CODE_TOKEN,
    FOLLOW,
    FOLLOW_SAMPLES,
    PUNCTUATION,
    RUN_OF,
    RUN_TESTS,
    code_places,
    next_start,
    triggers,
    uncaptured,
)

Segment = tuple[str, int, int]
Alternation = tuple[Callable[[str, int], "re.Match[str] | None"], tuple[int, ...]]
"""The rules that may match at a place joined into one regex (its match method), and which rule each group is."""
_LETTERS = re.compile(r"[^\W\d_]+")
_UPPER = re.compile(r"[A-Z]+")
_NEXT = re.compile(r"\s*(\S+)")
_ENDS = frozenset(".!?…")
_CLOSERS = "\"'”’»)]}"
_CLOSING = frozenset(".,;:!?)]}\"'”’»…")
_WORDS_ONLY = re.compile(r"(?:[a-z ',]|(?<=[a-z])-(?=[a-z])|\b[A-Z](?=[a-z])|\b[A-HJ-Z]\b)*")
"""Said text no trigger can fire on (words, capitalised or not, and letters no rule reads: "Doctor", "U S"):
the usual rewrite, settled."""
_OPENERS = re.compile("[(\\[{\"'“‘«¿¡]*")
_CLOSERS_TO_SPACE = re.compile(r"[.,;:!?)\]}\"'”’»…]+(?: |$)")
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
                 numbered: frozenset[str] = frozenset(), read_code: Callable[[str], str] = str) -> None:  # fmt: skip
        self.rules = rules
        self.lang = lang
        self._read_code = read_code
        self._needs = re.compile(triggers(names, abbreviations, words, numbered))
        compiled = [re.compile(r.pattern) for r in rules]
        self._own = [p if p.groups else None for p in compiled]  # None: the joined match serves
        self._say = [r.say for r in rules]
        self._memos: list[dict[str, tuple] | None] = [None if _looks_around(r.say) else {} for r in rules]
        """What each pure rule said for what it matched (see _said_as); None for a rule that reads context."""
        self._seen: dict[str, tuple] = {}  # what the engine asks of a spoken text (see _said_as)
        self._starts = [may_start(r.pattern) for r in rules]
        self._follows = {bucket: [may_follow(r.pattern, test) for r in rules] for bucket, test in RUN_TESTS.items()}
        self._at: dict[object, Alternation | None] = {}  # by a place's key
        self._joined: dict[tuple[int, ...], Alternation] = {}

    def warm(self) -> None:
        """Compile the alternations for the usual places now (a few seconds on a slow machine), so a reply's
        first chunk does not wait for them; the server calls this in the background at start."""
        for ch in ".$#@~-_/([\"'":
            self._rules_at(ch)
        for bucket in RUN_TESTS:  # a place is keyed by its character and the one after its run
            for follow in ("", " ", "a", "0", "×", "–", "°", "’", *PUNCTUATION):
                self._rules_at((bucket[0], follow))

    def _rules_at(self, key: object) -> Alternation | None:
        """The rules that may match at a place, joined into one alternation in table order, and which rule each
        of its groups is (None: no rule may): the same first match as the whole table, without trying the
        rules that cannot match there. A place is keyed by its character, or, where it starts a run of
        digits or letters, by its character and the one after the run ("83%": "8" and "%"; "Dr.": "D" and
        "."); the rules are chosen by the run's kind and the kind of character after it, and places that
        choose the same rules share one compiled alternation (compiling one costs tens of milliseconds)."""
        try:
            return self._at[key]
        except KeyError:
            pass
        if isinstance(key, tuple):
            bucket, follow = RUN_OF[key[0]][0], key[1]
            after = FOLLOW_SAMPLES[FOLLOW[follow]] if follow in FOLLOW else (follow,)  # "×", "–": itself
            pairs = enumerate(zip(self._starts, self._follows[bucket], strict=True))
            which = tuple(k for k, (starts, follows) in pairs
                          if any(starts(c) for c in bucket) and any(follows(c) for c in after))
        else:
            which = tuple(k for k, test in enumerate(self._starts) if test(key))
        found = self._joined.get(which) if which else None
        if which and found is None:
            # the rules' own groups left out: in a long alternation the regex engine saves every group
            # set so far at each optional part, which cost more than the matching (the rule's own pattern,
            # run once at the winning place, gives its groups)
            found = re.compile("|".join(f"({uncaptured(self.rules[k].pattern)})" for k in which)).match, (-1, *which)
            self._joined[which] = found
        if len(self._at) < 16384:  # bounded: text in any script passes through here
            self._at[key] = found
        return found

    def segments(self, text: str, day_first: bool = False,
                 code: Sequence[tuple[int, int]] = ()) -> tuple[list[Segment], bool, bool]:  # fmt: skip
        """The piece as said: segments over text, in order, covering it (identity where nothing applies);
        whether a rewrite is glued to text kept as written inside one word ("0:0x0", "24-hour"): saying the
        result again may then change it (the verbaliser does, until it does not); and whether a rewrite said
        nothing or a space at its edge (the spaces then want tidying). ``code``: the ranges of text inside a
        code span, in order (read by the code reader)."""
        out: list[Segment] = []
        pos = 0  # text before this is said
        ctx: Context | None = None
        said = ""  # the last character said, for spacing
        unsettled = untidy = False
        glued = -1  # where the last rewrite ended: text kept from there is glued to it
        last = ""  # what it said
        at, memos, own_patterns, says, needs = self._at, self._memos, self._own, self._say, self._needs
        seen = self._seen
        n = len(text)
        hits = code_places(needs, text, code) if code else needs.finditer(text)
        for hit in hits:  # tokens with something a rule may want
            h = hit.start()
            if h < pos:
                continue
            if hit.re is CODE_TOKEN:  # a token in a code span: read whole, as a developer reads it aloud
                end = hit.end()
                spoken = self._read_code(text[h:end])
                if spoken == text[h:end]:
                    continue
                untidy = untidy or not spoken or "  " in spoken
                if h > pos:
                    out.append((text[pos:h], pos, h))
                    said = text[h - 1]
                if spoken and said.isalnum() and spoken[0].isalnum():
                    spoken = " " + spoken
                if spoken and end < n and text[end].isalnum() and spoken[-1].isalnum():
                    spoken += " "
                out.append((spoken, h, end))
                said = spoken[-1:] or said
                pos = end
                continue
            s = text.rfind(" ", 0, h) + 1
            e = hit.end()  # the trigger runs on to the token's end
            c = s if s > pos else pos
            while c < e:
                ch = text[c]
                run = RUN_OF.get(ch)
                if run is None:
                    key: object = ch
                else:  # a run of digits or letters: keyed by what follows it too
                    after = text[c + 1 : c + 2]
                    if after.isalnum():  # the run goes on ("83%", "Dr."): where does it end?
                        after = text[(k := run[1].match(text, c).end()) : k + 1]
                    key = (ch, after)
                found = at.get(key, _UNSEEN)
                if found is _UNSEEN:
                    found = self._rules_at(key)
                m = found[0](text, c) if found is not None else None
                if m is None or (end := m.end()) == c:  # nothing here, or an empty match: move on
                    c = next_start(text, c, e)
                    continue
                k = found[1][m.lastindex]  # type: ignore[index]
                memo = memos[k]
                said_as = memo.get(m.group()) if memo is not None else None
                if said_as is None:
                    own = own_patterns[k]
                    if own is not None:  # the rule has groups: its own match holds them
                        m = own.match(text, c)
                    if memo is not None:
                        said_as = _said_as(says[k](m, None), needs)  # type: ignore[arg-type]
                        if len(memo) < 2048:
                            memo[m.group()] = said_as  # type: ignore[union-attr]
                    else:
                        if ctx is None:
                            ctx = Context(text, self.lang, day_first)
                        spoken = says[k](m, ctx)  # type: ignore[arg-type]
                        said_as = seen.get(spoken)
                        if said_as is None:
                            said_as = _said_as(spoken, needs)
                            if len(seen) < 8192:
                                seen[spoken] = said_as
                spoken, edgy, leads, trails, wanted = said_as
                if edgy:
                    untidy = True
                if text[end - 1] == "." and spoken[-1:] not in _ENDS and not text[end:].strip().strip(_CLOSERS):
                    spoken += "."  # the abbreviation's period also ended the sentence: keep one
                if c > pos:
                    if not unsettled:  # kept text glued to a rewrite before it, or to this one, inside a word
                        unsettled = (pos == glued and text[pos] != " " and _glued_after(text, pos, last)) or (
                            text[c - 1] != " " and not _OPENERS.fullmatch(text, text.rfind(" ", pos, c) + 1, c))
                    out.append((text[pos:c], pos, c))
                    said = text[c - 1]
                last = spoken  # as the rule said it, before spacing
                if leads and (said.isalnum() or said in "%$,;") and said:
                    spoken = " " + spoken
                if trails and end < n and text[end].isalnum():
                    spoken += " "
                if wanted and not unsettled:  # what it says is something a rule may want
                    unsettled = spoken != text[c:end]
                out.append((spoken, c, end))
                if spoken:
                    said = spoken[-1]
                pos = c = glued = end
                if c < e and text[c] in _CLOSING and _CLOSERS_TO_END.match(text, c, e):
                    c = e  # only closing marks left in the token ("87%),"): no rule starts there
        if not out:
            return [(text, 0, len(text))], False, False
        if pos < n:
            unsettled = unsettled or (pos == glued and _glued_after(text, pos, last))
            out.append((text[pos:], pos, n))
        return out, unsettled, untidy


def _glued_after(text: str, at: int, spoken: str) -> bool:
    """Whether text kept as written from at, right after a rewrite that said spoken, is glued to it inside a
    word ("0:0x0" leaves "x0" after "zero to zero"): saying the result again may change it. Closing marks
    before a space or the end are not ("5%)."), nor a full stop after anything but a capital ("F." would be an
    initial)."""
    if text[at] == " " or spoken[-1:] == " " or _CLOSERS_TO_END.match(text, at) is not None:
        return False
    return _CLOSERS_TO_SPACE.match(text, at) is None or (text[at] == "." and spoken[-1:].isupper())


def _said_as(spoken: str, needs: re.Pattern[str]) -> tuple[str, bool, bool, bool, bool]:
    """What a rule said, and what the engine asks of it: whether it said nothing or a space at its edge (to
    tidy), whether it starts and ends with a letter or digit (to space from its neighbours), and whether a
    rule may want something in it (to say it again)."""
    edgy = not spoken or spoken[0] == " " or spoken[-1] == " " or "  " in spoken
    wanted = _WORDS_ONLY.fullmatch(spoken) is None and needs.search(spoken) is not None
    return spoken, edgy, spoken[:1].isalnum(), spoken[-1:].isalnum(), wanted


def _looks_around(say: Callable) -> bool:
    """Whether a rule's say reads its context (its second argument): one that does not says the same for the
    same match anywhere, so the engine keeps what it said (a reply repeats its "e.g.", "87%", "config.yaml")
    and gives it no context at all (a say that used one anyway would fail, not go wrong)."""
    name = say.__code__.co_varnames[1]
    return any(i.argval == name for i in dis.get_instructions(say) if i.opname.startswith("LOAD"))


_UNSEEN = object()


def spaced(parts: list[str]) -> str:
    """Words joined by one space, empty parts left out."""
    return " ".join(p for p in parts if p)
