"""The sentence scanner: one pass over a growing text with a cursor, never a rescan.

It stops only at candidates (terminal punctuation, line breaks, bullets, list markers). Each candidate is
decided from the sentence so far and a bounded look ahead (the terminator's run, closing quotes, spaces,
the next word). When the look ahead runs past the end of a text that is still growing, the decision waits
(_NeedMore) and is taken again, identically, once more text has come: that is what makes streaming give
the same sentences as the whole text. What an abbreviation means comes from the language's table
(vox/text/abbreviations/).
"""

from __future__ import annotations

import re

from vox.text.abbreviations import Abbreviations
from vox.text.chars import (
    BULLETS,
    CANDIDATE,
    CJK_CHAR,
    CJK_ENDS,
    CJK_RUN,
    CLOSERS,
    EMOJI_PART,
    EMOJI_START,
    LATIN_ENDS,
    SKIP_AHEAD,
    TRIGGER,
    WORD,
)
from vox.text.tags import LONGEST, TAG_PATTERN, may_be_tag

_LETTERS = re.compile(r"[^\W\d_]{1,17}")
_DIGIT = re.compile(r"\d")
_SPACE = re.compile(r"\s")
_ACRONYM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]|ph\.d")
_MARKER = re.compile(r"(\d{1,3}|[A-Za-z])(\.\)|\.|\))\s")
_ROMAN_WORD = re.compile(r"[IVXLCDM]{2,}|[VXLCDM]")
_MARKER_WORD = re.compile(r"\d{1,3}|[A-Za-z]|[ivx]{1,4}|[IVX]{1,4}")

Sentence = tuple[str, int, int]
"""A sentence the scanner found in span mode: its text (stripped) and where it lies in the whole text."""


class _NeedMore(Exception):
    """The decision needs text that has not arrived yet."""


class Scanner:
    """One pass over a growing text: push() deltas, finish() at the end. See the module docstring.

    Gives sentences as str, or with spans=True as (text, start, end) with offsets into the whole text fed
    since the last finish() (the scanner drops text it has released, so it keeps a base offset).
    """

    __slots__ = ("abbr", "base", "buf", "final", "n", "pos", "spans", "start", "wait", "word", "wscan")

    def __init__(self, abbreviations: Abbreviations, spans: bool = False) -> None:
        self.abbr = abbreviations
        self.spans = spans
        self._reset()

    def _reset(self) -> None:
        self.buf = ""  # the current sentence (and one character before it) plus what follows
        self.base = 0  # where buf starts in the whole text
        self.n = 0
        self.final = False
        self.start = 0  # where the current sentence starts
        self.pos = 0  # the cursor: candidates before it are decided
        self.word = -1  # the first word character of the current sentence, once found
        self.wscan = 0  # no word character in [start, wscan)
        self.wait = 0  # while a decision waits: scan again once the buffer is this long

    def push(self, delta: str) -> list:
        buf = self.buf
        self.buf = ""  # so that += below appends in place instead of copying the buffer
        buf += delta
        self.buf = buf
        if self.wait:
            if len(buf) < self.wait:
                return []
        elif not TRIGGER.search(delta):
            return []
        return self._scan(False)

    def finish(self) -> list:
        out = self._scan(True)
        self._release(self.buf[self.start :], self.start, out)
        self._reset()
        return out

    def unfinished(self, limit: int) -> tuple[str, int]:
        """The start (at most limit characters) of the sentence still arriving, and where it starts."""
        return self.buf[self.start : self.start + limit], self.base + self.start

    def _release(self, raw: str, at: int, out: list) -> None:
        """Give the sentence raw (found at buf[at:]) without its surrounding spaces, if anything is left."""
        sentence = raw.strip()
        if not sentence:
            return
        if self.spans:
            a = self.base + at + len(raw) - len(raw.lstrip())
            out.append((sentence, a, a + len(sentence)))
        else:
            out.append(sentence)

    def _scan(self, final: bool) -> list:
        self.final = final
        buf = self.buf
        self.n = n = len(buf)
        self.wait = 0
        out: list = []
        pos = self.pos
        while True:
            m = CANDIDATE.search(buf, pos)
            if m is None:
                pos = n
                break
            p = m.start()
            try:
                cut, pos = self._decide(p)
            except _NeedMore:
                pos = p
                ahead = n - p  # a long wait (a huge run of spaces) retries geometrically: stays linear
                self.wait = n + 1 + (ahead // 2 if ahead > 64 else 0)
                break
            if cut is not None:
                if self.spans:
                    self._release(buf[self.start : cut], self.start, out)
                else:
                    sentence = buf[self.start : cut].strip()
                    if sentence:
                        out.append(sentence)
                self.start = self.wscan = cut
                self.word = -1
        self.pos = pos
        if not final and self.start > 1 and 2 * self.start > n:  # drop released text, amortised
            k = self.start - 1
            self.buf = buf[k:]
            self.base += k
            self.start -= k
            self.pos -= k
            self.wscan -= k
            if self.word >= 0:
                self.word -= k
            if self.wait:
                self.wait -= k
        return out

    # -- look ahead and behind --------------------------------------------------------------------------

    def _at(self, i: int) -> str:
        """The character at i; "" past the end of a finished text; _NeedMore past the end of a growing one."""
        if i < self.n:
            return self.buf[i]
        if self.final:
            return ""
        raise _NeedMore

    def _space(self, i: int, stop_at_break: bool = False) -> tuple[int, int]:
        """The end of the whitespace at i and how many line breaks it holds (or just past the first one)."""
        breaks = 0
        ch = self._at(i)
        while ch and ch.isspace():
            if ch in "\n\r\u2028\u2029\x85":  # chars.LINE_BREAKS
                if stop_at_break:
                    return i + 1, 2 if ch == "\u2029" else 1
                if ch == "\u2029":
                    breaks += 2
                elif ch != "\r" or self._at(i + 1) != "\n":
                    breaks += 1
            i += 1
            ch = self._at(i)
        return i, breaks

    def _after_tags(self, t: int) -> int:
        """Past any paralinguistic tags at t ("! [laugh] Anyway"): the word after them decides."""
        while self._at(t) == "[":
            m = TAG_PATTERN.match(self.buf, t)
            if m is None:
                if not self.final and may_be_tag(self.buf[t : t + LONGEST]):
                    raise _NeedMore
                return t
            t = m.end()
            while self._at(t) in (" ", "\t"):
                t += 1
        return t

    def _first_word(self, p: int) -> int:
        """The first letter or digit of the current sentence before p, or -1."""
        if self.word >= 0:
            return self.word if self.word < p else -1
        m = WORD.search(self.buf, max(self.start, self.wscan), p)
        if m:
            self.word = m.start()
            return self.word
        self.wscan = max(self.wscan, p)
        return -1

    def _token_before(self, p: int) -> str | None:
        """The word before p without opening punctuation; None if too long to be an abbreviation."""
        buf, start = self.buf, self.start
        lim = max(start, p - 24)
        k = buf.rfind(" ", lim, p) + 1 or lim
        if _SPACE.search(buf, k, p):  # another kind of space, rarely
            k = p
            while k > lim and not buf[k - 1].isspace():
                k -= 1
        if k == lim and k > start and not buf[k - 1].isspace():
            return None
        while k < p and buf[k] in SKIP_AHEAD:
            k += 1
        return buf[k:p]

    def _roman(self, t: int) -> bool:
        """Whether the word at t is a Roman numeral ("IV", "XII"), as a numbered abbreviation's number ("I"
        alone is not: "No. I think so." is two sentences)."""
        m = _LETTERS.match(self.buf, t)
        k = m.end() if m else t
        if k >= self.n and not self.final:
            raise _NeedMore
        return _ROMAN_WORD.fullmatch(self.buf, t, k) is not None

    def _starter(self, t: int) -> bool:
        """Whether the word at t usually begins a sentence ("The", "How"), and is not an initial ("A.")."""
        m = _LETTERS.match(self.buf, t)
        k = m.end() if m else t
        if k >= self.n and not self.final:
            raise _NeedMore
        word = self.buf[t:k]
        if not word or k - t > 16 or not word[0].isupper() or (len(word) > 1 and not word[1:].islower()):
            return False
        if len(word) == 1 and self._at(k) == ".":
            return False
        return word.lower() in self.abbr.starters

    # -- decisions: (where the sentence ends or None, where the cursor goes) ------------------------------

    def _decide(self, p: int) -> tuple[int | None, int]:
        c = self.buf[p]
        if c in "\n\r\u2028\u2029\x85":  # chars.LINE_BREAKS
            return self._line_break(p)
        if c in BULLETS:  # "• one • two": a bullet after a space starts an item
            cut = p if p > self.start and self.buf[p - 1].isspace() and self._first_word(p) >= 0 else None
            return cut, p + 1
        if c == ")":
            return self._list_item(p), p + 1
        if c in CJK_ENDS:
            return self._cjk(p)
        return self._latin(p)

    def _line_break(self, p: int) -> tuple[int | None, int]:
        """A line break with no terminal punctuation ends a sentence unless the next line is lower case."""
        if self._first_word(p) < 0:
            return None, p + 1
        s, breaks = self._space(p)
        if breaks >= 2:
            return p, s
        nxt = self._at(s)
        return (None, s) if nxt.islower() else (p, s)

    def _cjk(self, p: int) -> tuple[int | None, int]:
        q = p + 1
        while self._at(q) in CJK_RUN:
            q += 1
        while self._at(q) in CLOSERS:
            q += 1
        return (q if self._first_word(p) >= 0 else None), q

    def _list_item(self, p: int) -> int | None:
        """The start of a marker like "2." or "b)" ending at p, when the sentence began with "1." or "a."."""
        buf, start = self.buf, self.start
        i = p
        while i > start and p - i < 3 and "0" <= buf[i - 1] <= "9":
            i -= 1
        if i == p:
            if p - 1 <= start or not ("a" <= buf[p - 1].lower() <= "z"):
                return None
            i = p - 1
        if i <= start or not buf[i - 1].isspace():
            return None
        style = ")" if buf[p] == ")" else (".)" if self._at(p + 1) == ")" else ".")
        if not self._at(p + len(style)).isspace():
            return None
        w = self._first_word(i)
        m = _MARKER.match(buf, w) if w >= 0 else None
        if m is None or m.group(2) != style or m.end() > i:
            return None
        a, b = m.group(1), buf[i:p]
        if a.isdigit() and b.isdigit():
            return i if int(b) == int(a) + 1 else None
        if a.isalpha() and b.isalpha() and a.islower() == b.islower():
            return i if ord(b) == ord(a) + 1 else None
        return None

    def _latin(self, p: int) -> tuple[int | None, int]:
        buf, at = self.buf, self._at
        c = buf[p]
        prev = buf[p - 1] if p - 1 > self.start else ""  # a marker "b." needs a word before it
        if c == "." and ("0" <= prev <= "9" or (prev.isascii() and prev.isalpha() and buf[p - 2].isspace())):
            item = self._list_item(p)
            if item is not None:
                return item, p + 1
        # the terminator: ".", "?!", "...", "…", or a spaced ellipsis ". . ."
        dots = 0
        if c == "." and at(p + 1) == " " and at(p + 2) == ".":
            q, dots = p + 3, 2
            while at(q) == " " and at(q + 1) == ".":
                q, dots = q + 2, dots + 1
            if dots < 3:
                q, dots = p + 1, 0
        else:
            q = p + 1
            while at(q) in LATIN_ENDS:
                q += 1
        run = buf[p:q]
        if dots:
            kind = "ellipsis"
        elif run == ".":
            kind = "stop"
        elif "!" in run or "?" in run or "‽" in run:
            kind = "exclaim"
        else:
            kind = "ellipsis"
        if kind == "ellipsis" and p > self.start and buf[p - 1] in "[(" and at(q) in ("]", ")"):
            return None, q + 1  # "[...]" marks an omission, not an end
        r = q
        while at(r) in CLOSERS:
            r += 1
        nxt = at(r)
        if not nxt:
            return r, r  # the end of the text
        if not nxt.isspace():  # "3.14", "e.g", "Jr.'s", "mean...see"; CJK may follow "!" with no space
            return (r if kind == "exclaim" and CJK_CHAR.match(nxt) else None), r
        end = r
        s, breaks = self._space(r, True)
        if not breaks and EMOJI_START.match(at(s)):  # "Have fun! 🎉" keeps its emoji
            e = s
            while EMOJI_PART.match(at(e)):
                e += 1
            if not at(e) or at(e).isspace():
                end = e
                s, breaks = self._space(e, True)
        if self._first_word(p) < 0:
            return None, s
        if breaks:  # a line break after a terminator ends the sentence, whatever comes next
            return end, s
        t = self._after_tags(s)
        while at(t) in SKIP_AHEAD:
            t += 1
        nc = at(t)
        if not nc:
            return end, s
        if nc.islower():
            return None, s
        if kind == "exclaim":
            return end, s
        if kind == "ellipsis":
            if dots == 3:
                return None, s  # ". . ." inside a sentence, even before "I"
            if dots > 3 and not buf[p - 1].isspace():
                return p + 1, p + 1  # "word. . . . Next": a full stop, then an ellipsis opening the next
            return end, s
        if self._is_marker(p):
            return None, s
        return (end if self._stop_ends(p, t, nc) else None), s

    def _is_marker(self, p: int) -> bool:
        """Whether the sentence so far is only a list marker: "1", "b", "iv" before "."."""
        w = self._first_word(p)
        return 0 <= w and p - w <= 4 and _MARKER_WORD.fullmatch(self.buf, w, p) is not None

    def _stop_ends(self, p: int, t: int, nc: str) -> bool:
        """Whether a full stop at p ends the sentence when the next word starts at t with nc (not lower)."""
        tok = self._token_before(p)
        if not tok:
            return True
        key = tok.lower()
        if _DIGIT.search(key):
            return True
        abbr = self.abbr
        if key in abbr.continuing:
            return False
        single = len(key) == 1 and key.isalpha()
        acronym = _ACRONYM.fullmatch(key) is not None
        if nc.isdigit():  # "p. 55", "Jan. 5", "U.S. 2020"
            known = key in abbr.before_number
            return not (single or acronym or known)
        if key in abbr.numbered and self._roman(t):  # "Vol. IV", "Ch. XII"
            return False
        if key in abbr.times:  # "at 6 p.m. Mr. Smith ..." ends, a fronted "At 5 a.m. Mr. Smith went" does not
            w = self._first_word(p)
            return not (p - w < 40 and abbr.fronted_time.fullmatch(self.buf, w, p))
        if single or acronym or key in abbr.titles or key in abbr.other:  # "E. Smith", "U.S. Government"
            return self._starter(t)
        return True  # an ordinary word, or "etc.", "Inc.", "no." before a capital
