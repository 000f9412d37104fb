"""The verbaliser's engine parts that make it fast, checked against the slow forms they replace: English
number words against num2words, the per-character rule choice against trying every rule, word tries against
plain alternations, alternations without groups against the rules' own patterns."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from num2words import num2words

from tests.test_verbalise import _NUMERIC, TABLES
from tests.test_verbalise_classes import TABLES as MORE_TABLES
from tests.text_strategies import PROPERTY
from vox.text.verbalise import ORDER, Verbaliser, en_numbers, warm
from vox.text.verbalise.firsts import may_follow, may_start
from vox.text.verbalise.places import DIGITS, LOWER_CASE, RUN_OF, UPPER_CASE, choice, uncaptured

_RULES = Verbaliser()._rules
assert _RULES is not None
_SAMPLES = [text for table in TABLES.values() for case in table for text in case] + _NUMERIC
_MORE_SAMPLES = [text for table in MORE_TABLES.values() for case in table for text in case]


def _reference(n: int, to: str) -> str:
    return num2words(n, lang="en", to=to).replace(",", "").replace(" and ", " ").replace("oh-", "oh ")


def test_english_number_words_are_num2words_words() -> None:
    rng = random.Random(20)
    numbers = [*range(0, 1200), *(rng.randrange(10**k) for k in range(1, 16) for _ in range(40)),
               *(10**k for k in range(16))]  # fmt: skip
    for n in numbers:
        assert en_numbers.cardinal(n) == _reference(n, "cardinal"), n
        assert en_numbers.ordinal(n) == _reference(n, "ordinal"), n
    for n in [*range(1, 2200, 7), *range(1890, 2110), 1000, 1100, 1905, 2000, 2007, 9999]:
        assert en_numbers.year(n) == _reference(n, "year"), n


@pytest.mark.parametrize("name", ORDER)
def test_a_rule_is_tried_wherever_it_can_match(name: str) -> None:
    """may_start (read from the parsed pattern) never refuses a place where the rule's pattern matches."""
    rule = next(r for r in _RULES.rules if r.name == name)
    pattern, test = re.compile(rule.pattern), may_start(rule.pattern)
    for text in _SAMPLES + _MORE_SAMPLES:
        for at in range(len(text)):
            m = pattern.match(text, at)
            if m and m.end() > at:
                assert test(text[at]), (name, text, at)


def test_may_start_reads_classes_cases_and_optional_parts() -> None:
    test = may_start(r"(?<![\w.])(?i:dr|mr)?\.?[x-z\d]")
    assert [c for c in "dDmMrR.xyz5aX" if test(c)] == list("dDmM.xyz5")


@pytest.mark.parametrize("name", ORDER)
def test_an_alternation_without_groups_matches_what_the_rule_matches(name: str) -> None:
    rule = next(r for r in _RULES.rules if r.name == name)
    own, bare = re.compile(rule.pattern), re.compile(uncaptured(rule.pattern))
    assert bare.groups == 0
    for text in _SAMPLES:
        for at in range(len(text)):
            a, b = own.match(text, at), bare.match(text, at)
            assert (a and a.span()) == (b and b.span()), (name, text, at)


@PROPERTY
@given(st.sets(st.text("abAB./-", min_size=1, max_size=4), min_size=1, max_size=12), st.text("abAB./- x", max_size=8),
       st.booleans())  # fmt: skip
def test_a_word_trie_matches_what_the_longest_first_alternation_matches(words: set[str], text: str, fold: bool) -> None:
    plain = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    slow = re.compile(f"(?:{plain})(?![a-zA-Z])", re.IGNORECASE if fold else 0)
    fast = re.compile(f"{choice(words, fold=fold)}(?![a-zA-Z])")
    for at in range(len(text) + 1):
        a, b = slow.match(text, at), fast.match(text, at)
        assert (a and a.span()) == (b and b.span()), (words, text, at)


def test_warm_compiles_the_usual_places() -> None:
    warm("en")
    assert all(c in _RULES._at for c in ".$#")
    assert all((bucket[0], follow) in _RULES._at for bucket in (DIGITS, UPPER_CASE, LOWER_CASE)
               for follow in ("", " ", ".", ",", "%", "a"))  # fmt: skip
    warm("de")  # no tables: nothing to do, no error


@pytest.mark.parametrize("name", ORDER)
def test_a_rule_is_tried_wherever_what_follows_a_run_lets_it_match(name: str) -> None:
    """may_follow (read from the parsed pattern) never leaves a rule out of the alternation for a place whose
    run of digits or letters is followed by a character the rule's match goes on with."""
    k = next(i for i, r in enumerate(_RULES.rules) if r.name == name)
    pattern = re.compile(_RULES.rules[k].pattern)
    for text in _SAMPLES + _MORE_SAMPLES:
        for at in range(len(text)):
            m = pattern.match(text, at)
            run = RUN_OF.get(text[at])
            if m and m.end() > at and run is not None:
                end = run[1].match(text, at).end()
                found = _RULES._rules_at((text[at], text[end : end + 1]))
                assert found is not None and k in found[1], (name, text, at)


def test_may_follow_reads_runs_lookaheads_and_optional_parts() -> None:
    follows = may_follow(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:%|km)(?=\s|$)", str.isdecimal)
    assert [c for c in " .%kx:" if follows(c)] == list(" .%k")
    assert may_follow(r"\d+", str.isdecimal)("")  # it may end inside the run: anything may follow
    assert not may_follow(r"\d+(?=[ap]m)", str.isdecimal)(" ")
