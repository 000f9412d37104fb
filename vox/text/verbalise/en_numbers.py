"""English number words, the way num2words writes them for Vox (US: no "and", no commas), without its cost.

num2words takes 50-120 microseconds a number (its converters are general); a reply full of distinct numbers
(a table, a log) paid that for each, which a 10,000-word reply cannot afford. These few lines say the same
words (tests/test_verbalise.py checks them against num2words) in about a microsecond. Other languages keep
num2words (language.py).
"""

from __future__ import annotations

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()  # fmt: skip
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ("", " thousand", " million", " billion", " trillion", " quadrillion", " quintillion")
_ORDINAL_ENDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                 "nine": "ninth", "twelve": "twelfth"}  # fmt: skip


def cardinal(n: int) -> str:
    """0 <= n < 10**21: "one thousand two hundred thirty-four"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return f"{_TENS[tens]}-{_ONES[ones]}" if ones else _TENS[tens]
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred {cardinal(rest)}" if rest else f"{_ONES[hundreds]} hundred"
    parts: list[str] = []
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            parts.append(cardinal(group) + _SCALES[scale])
        scale += 1
    return " ".join(reversed(parts))


def ordinal(n: int) -> str:
    """"first", "twenty-second", "one hundredth"."""
    words = cardinal(n)
    head, last = "", words
    for mark in (" ", "-"):
        if mark in last:
            more, last = last.rsplit(mark, 1)
            head += more + mark
    if last in _ORDINAL_ENDS:
        return head + _ORDINAL_ENDS[last]
    return head + (last[:-1] + "ieth" if last.endswith("y") else last + "th")


def year(n: int) -> str:
    """0 < n < 10000 as a year: "nineteen ninety-eight", "two thousand seven", "nineteen oh five", "twenty ten"."""
    high, low = divmod(n, 100)
    if high == 0 or (high % 10 == 0 and low < 10) or high >= 100:
        return cardinal(n)
    if low == 0:
        return f"{cardinal(high)} hundred"
    return f"{cardinal(high)} oh {_ONES[low]}" if low < 10 else f"{cardinal(high)} {cardinal(low)}"
