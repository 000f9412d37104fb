"""Which characters a rule's pattern can start with, and which can follow the run of digits or letters it starts
with: the engine tries at a place only the rules that can match there (a digit needs none of the rules for
capitals, paths or emails; "83%" none of the rules for "3:1", "2024-01-09" or "5 km"), which keeps the
alternation it runs short.

The answer is read from the parsed pattern (``re._parser``, the standard library's own parser) and is always
a superset: anything it does not understand (a back-reference, a new opcode) says "any character", and
lookarounds are skipped as if absent. A superset is safe: a rule tried where it cannot match simply fails.
"""

from __future__ import annotations

import string
from collections.abc import Callable

try:  # the standard library's parser; Python 3.11+ names it re._parser
    from re import _constants as C
    from re import _parser as parser
except ImportError:  # pragma: no cover - older names
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as parser  # type: ignore[no-redef]

Test = Callable[[str], bool]
_ANY: Test = lambda ch: True  # noqa: E731
_ZERO_WIDTH = {C.AT, C.ASSERT, C.ASSERT_NOT}
_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)}
_CATEGORIES: dict[object, Test] = {
    C.CATEGORY_DIGIT: str.isdecimal,
    C.CATEGORY_NOT_DIGIT: lambda ch: not ch.isdecimal(),
    C.CATEGORY_WORD: lambda ch: ch.isalnum() or ch == "_",
    C.CATEGORY_NOT_WORD: lambda ch: not (ch.isalnum() or ch == "_"),
    C.CATEGORY_SPACE: str.isspace,
    C.CATEGORY_NOT_SPACE: lambda ch: not ch.isspace(),
}


def _is(c: str) -> Test:
    return lambda ch: ch == c


def _is_not(c: str) -> Test:
    return lambda ch: ch != c


def _folded(test: Test, fold: bool) -> Test:
    """The test, ignoring case where the pattern does."""
    return (lambda ch: test(ch) or test(ch.lower()) or test(ch.upper())) if fold else test


def _in(items: list, fold: bool) -> Test:
    """A character class ([...]) as a test."""
    negate = bool(items) and items[0][0] is C.NEGATE
    tests: list[Test] = []
    for op, av in items[negate:]:
        if op is C.LITERAL:
            tests.append(_is(chr(av)))
        elif op is C.RANGE:
            tests.append(lambda ch, lo=av[0], hi=av[1]: lo <= ord(ch) <= hi)
        elif op is C.CATEGORY and av in _CATEGORIES:
            tests.append(_CATEGORIES[av])
        else:
            return _ANY
    if negate:
        if fold:  # a negated class under IGNORECASE: too subtle to be worth it
            return _ANY
        return lambda ch: not any(t(ch) for t in tests)
    return lambda ch: any(t(ch) for t in tests)


def _firsts(items: list, fold: bool) -> tuple[list[Test], bool]:
    """The tests a sequence's first character must pass (any one of them), and whether it can match empty."""
    tests: list[Test] = []
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op is C.LITERAL:
            tests.append(_folded(_is(chr(av)), fold))
            return tests, False
        if op is C.NOT_LITERAL:
            tests.append(_ANY if fold else _is_not(chr(av)))
            return tests, False
        if op is C.ANY:
            return [_ANY], False
        if op is C.IN:
            tests.append(_folded(_in(av, fold), fold))
            return tests, False
        if op is C.SUBPATTERN:
            _group, add, _remove, sub = av
            more, empty = _firsts(list(sub), fold or bool(add & C.SRE_FLAG_IGNORECASE))
        elif op is C.BRANCH:
            more, empty = [], False
            for alternative in av[1]:
                found, can = _firsts(list(alternative), fold)
                more += found
                empty = empty or can
        elif op in _REPEATS:
            low, _high, sub = av
            more, empty = _firsts(list(sub), fold)
            empty = empty or low == 0
        elif op is getattr(C, "ATOMIC_GROUP", None):
            more, empty = _firsts(list(av), fold)
        else:  # a back-reference, a conditional, anything new: any character
            return [_ANY], False
        tests += more
        if not empty:
            return tests, False
    return tests, True


def may_start(pattern: str) -> Test:
    """A test: can a match of ``pattern`` start with this character? (A superset: see the module doc.)"""
    parsed = parser.parse(pattern)
    fold = bool(parsed.state.flags & C.SRE_FLAG_IGNORECASE)
    tests, empty = _firsts(list(parsed), fold)
    if empty:  # the pattern can match nothing at all: it may "start" anywhere
        return _ANY
    return lambda ch: any(t(ch) for t in tests)


def _follows(items: list, fold: bool, run: Test) -> tuple[list[Test], bool]:
    """Tests the first character after a run (of characters run accepts) must pass, for a match of items that
    starts with the run, and whether items can be matched by run characters alone (or nothing): then what
    follows them decides too."""
    tests: list[Test] = []
    for op, av in items:
        if op is C.ASSERT and av[0] == 1:  # a lookahead: what follows must start as it says, if it decides
            ahead, through = _follows(list(av[1]), fold, run)
            if not through:
                return tests + ahead, False
            continue
        if op in _ZERO_WIDTH:
            continue
        if op is C.LITERAL:
            if run(chr(av)):
                continue
            tests.append(_folded(_is(chr(av)), fold))
            return tests, False
        if op is C.IN:
            test = _folded(_in(av, fold), fold)
            tests.append(test)
            if not any(test(ch) for ch in _RUN_SAMPLES if run(ch)):
                return tests, False
            continue
        if op is C.SUBPATTERN:
            _group, add, _remove, sub = av
            more, through = _follows(list(sub), fold or bool(add & C.SRE_FLAG_IGNORECASE), run)
        elif op is C.BRANCH:
            more, through = [], False
            for alternative in av[1]:
                found, can = _follows(list(alternative), fold, run)
                more += found
                through = through or can
        elif op in _REPEATS:
            low, _high, sub = av
            more, through = _follows(list(sub), fold, run)
            through = through or low == 0
        elif op is getattr(C, "ATOMIC_GROUP", None):
            more, through = _follows(list(av), fold, run)
        else:  # any character (".", "[^x]"), a back-reference, anything new
            return [_ANY], True
        tests += more
        if not through:
            return tests, False
    return tests, True


_RUN_SAMPLES = string.ascii_letters + string.digits + "éßжλ٣६"
"""Characters a class is tried on to see whether it takes a run's characters (the rules' classes take these
whenever they take digits or letters at all)."""


def may_follow(pattern: str, run: Test) -> Test:
    """A test: can a match of ``pattern`` that starts with a run of characters ``run`` accepts ("83" of "83%",
    "Dr" of "Dr.") go on with this character after the run? (A superset, as may_start; "" is the end of the
    text, which a pattern that can stop inside the run always accepts.)"""
    parsed = parser.parse(pattern)
    tests, through = _follows(list(parsed), bool(parsed.state.flags & C.SRE_FLAG_IGNORECASE), run)
    if through:
        return _ANY
    return lambda ch: ch != "" and any(t(ch) for t in tests)
