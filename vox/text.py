"""Speech text: what the engine says for an assistant's markdown reply, cut into sentences and chunks.

Pure Python, standard library only, no engine. A reply goes through, in order:

    normalize_for_speech(markdown)  speech text: one block per line, every block ending a sentence
    split_sentences(text, 1)        its sentences        SentenceStream  the same, fed deltas
    speech_chunks(text)             what to synthesise   ChunkStream     the same, fed sentences
    SpeechStream                    MarkdownStream + SentenceStream, for a reply still streaming

Every stream gives exactly what its one-shot function gives, however the input is cut into deltas,
because the one-shot function *is* the stream fed everything at once.

A server speaking an LLM reply while it streams (one SpeechStream and one ChunkStream per reply):

    speech, chunks = SpeechStream(), ChunkStream(group_size, max_chars, first_chunk_chars)
    for delta in llm_deltas:
        for sentence in speech.feed(delta):
            for chunk in chunks.feed(sentence):
                synthesise(chunk)       # the first chunk comes with the first sentence ...
        if chunks.awaits_opening:       # ... or sooner: its opening clause ("Sure,") once a word follows
            for chunk in chunks.open_early(speech.unfinished()):
                synthesise(chunk)
        # optional: if the synthesiser is idle, chunks.drain() hands over a part-filled chunk
    for chunk in [c for s in speech.flush() for c in chunks.feed(s)] + chunks.flush():
        synthesise(chunk)

It gets the same chunks as speech_chunks(normalize_for_speech(whole_reply)). Markdown must go through
SpeechStream (or MarkdownStream) rather than through normalize_for_speech per delta: a delta can end
inside a word, a link or a code fence. normalize_for_speech is line-local except for code fences, so
complete lines may also be normalised one at a time by a caller that tracks ``` fences itself.

Library or own code, decided by measurement (bench/bench_text.py): pySBD 0.3.4 installs and runs on
Python 3.11 and passes 47 of the 48 English Golden Rules, but it takes 0.35 to 2.8 s to segment a
10,000-word reply depending on the text (target 50 ms), cannot be fed deltas, and is unmaintained. This
module passes 48 of 48 in under 10 ms and streams, so Vox does not depend on pySBD.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "CODE_BLOCK_NOTE",
    "ChunkStream",
    "MarkdownStream",
    "SentenceStream",
    "SpeechStream",
    "normalize_for_speech",
    "speakable",
    "speech_chunks",
    "split_sentences",
]


def _need_str(value: object, name: str = "text") -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    return value


def _need_count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value


# --------------------------------------------------------------------------------------------------------
# Sentences
#
# A scanner walks the text once with a cursor, stopping only at candidates (terminal punctuation, line
# breaks, bullets, list markers). Each candidate is decided from the sentence so far and a bounded look
# ahead (the terminator's run, closing quotes, spaces, the next word). When the look ahead runs past the
# end of a text that is still growing, the decision waits (_NeedMore) and is taken again, identically,
# once more text has come: that is what makes streaming give the same sentences as the whole text.
# --------------------------------------------------------------------------------------------------------

# Abbreviations in lower case, without the final period. The set decides what may follow without a break.
_TITLES = frozenset(
    "mr mrs ms mx dr prof st mt ft rev hon gov sen rep gen col capt cpt lt sgt maj adm cmdr pres supt fr "
    "messrs mme mlle".split()
)  # before a name: "Dr. Smith"
_CONTINUE = frozenset("e.g i.e vs cf viz approx incl resp w.r.t".split())  # never end a sentence
_FINAL = frozenset("etc co inc ltd corp llc plc jr sr al bros esq".split())  # often end one
_NUMBERED = frozenset(
    "no nos nr n° nº p pp vol vols fig figs ch chap sec sect art para pg eq ex op ed ver ca tel ref apt rm "
    "ste pt pts jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat "
    "sun".split()
)  # before a number: "p. 55", "Jan. 5"
_OTHER = frozenset("dept univ assn bldg ave blvd rd hwy govt intl natl dist est avg max min hrs mins".split())
_AMPM = frozenset({"a.m", "p.m"})
# Words that usually begin a sentence: after an ambiguous abbreviation ("U.S.", "E.") they mean a break.
_STARTERS = frozenset(
    """a an the this that these those it its he she they we i you my our your his her their there here then
    but and so or yet however also what when where why how which if in on at for to with after before as
    once since while although though because unless please let note now today finally first second third
    next see did do does is are was were has have had being more most many some all each every both such
    one millions thanks thank yes""".split()
)

_LATIN_ENDS = frozenset(".!?…‽")
_CJK_ENDS = frozenset("。！？｡")  # end a sentence with no space after them
_CJK_RUN = _CJK_ENDS | frozenset("!?")
_BULLETS = frozenset("•◦▪‣⁃")
_CLOSERS = frozenset("\"'”’»)]}」』】〉》*_`")
_OPENERS = frozenset("\"'“‘«([{¿¡「『【〈《*_`")
_INVISIBLE = frozenset(
    "\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)
_SKIP_AHEAD = _OPENERS | _INVISIBLE
# A "." inside a token ("3.14", "e.g", "a.py") never ends a sentence, so it is not even a candidate
_CANDIDATE = re.compile(
    r"\.(?=[\s.!?…‽\"'”’»)\]}」』】〉》*_`]|\Z)|[!?…‽。！？｡\n\r\u2028\u2029\x85•◦▪‣⁃]|(?<=[0-9A-Za-z])\)(?=\s|\Z)"
)
_TRIGGER = re.compile(r"[.!?…‽。！？｡\n\r\u2028\u2029\x85•◦▪‣⁃)]")
_WORD = re.compile(r"[^\W_]")
_LETTERS = re.compile(r"[^\W\d_]{1,17}")
_DIGIT = re.compile(r"\d")
_SPACE = re.compile(r"\s")
_ACRONYM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]|ph\.d")
_MARKER = re.compile(r"(\d{1,3}|[A-Za-z])(\.\)|\.|\))\s")
_MARKER_WORD = re.compile(r"\d{1,3}|[A-Za-z]|[ivx]{1,4}|[IVX]{1,4}")
_FRONTED_TIME = re.compile(
    r"(?:at|by|before|after|until|till|from|since|around|about)\s+\d{1,2}(?::\d\d)?\s*[ap]\.m", re.IGNORECASE
)
_EMOJI_RANGES = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff"
_EMOJI_START = re.compile(f"[{_EMOJI_RANGES}]")
_EMOJI_PART = re.compile(f"[{_EMOJI_RANGES}\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f]")
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class _NeedMore(Exception):
    """The decision needs text that has not arrived yet."""


class _Segmenter:
    """One pass over a growing text: push() deltas, finish() at the end. See the comment above."""

    __slots__ = ("buf", "final", "n", "pos", "start", "wait", "word", "wscan")

    def __init__(self) -> None:
        self.buf = ""  # the current sentence (and one character before it) plus what follows
        self.n = 0
        self.final = False
        self.start = 0  # where the current sentence starts
        self.pos = 0  # the cursor: candidates before it are decided
        self.word = -1  # the first word character of the current sentence, once found
        self.wscan = 0  # no word character in [start, wscan)
        self.wait = 0  # while a decision waits: scan again once the buffer is this long

    def push(self, delta: str) -> list[str]:
        buf = self.buf
        self.buf = ""  # so that += below appends in place instead of copying the buffer
        buf += delta
        self.buf = buf
        if self.wait:
            if len(buf) < self.wait:
                return []
        elif not _TRIGGER.search(delta):
            return []
        return self._scan(False)

    def finish(self) -> list[str]:
        out = self._scan(True)
        tail = self.buf[self.start :].strip()
        if tail:
            out.append(tail)
        self.__init__()
        return out

    def _scan(self, final: bool) -> list[str]:
        self.final = final
        buf = self.buf
        self.n = n = len(buf)
        self.wait = 0
        out: list[str] = []
        pos = self.pos
        while True:
            m = _CANDIDATE.search(buf, pos)
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
                sentence = buf[self.start : cut].strip()
                if sentence:
                    out.append(sentence)
                self.start = self.wscan = cut
                self.word = -1
        self.pos = pos
        if not final and self.start > 1 and 2 * self.start > n:  # drop released text, amortised
            k = self.start - 1
            self.buf = buf[k:]
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
            if ch in "\n\r\u2028\u2029\x85":
                if stop_at_break:
                    return i + 1, 2 if ch == "\u2029" else 1
                if ch == "\u2029":
                    breaks += 2
                elif ch != "\r" or self._at(i + 1) != "\n":
                    breaks += 1
            i += 1
            ch = self._at(i)
        return i, breaks

    def _first_word(self, p: int) -> int:
        """The first letter or digit of the current sentence before p, or -1."""
        if self.word >= 0:
            return self.word if self.word < p else -1
        m = _WORD.search(self.buf, max(self.start, self.wscan), p)
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
        while k < p and buf[k] in _SKIP_AHEAD:
            k += 1
        return buf[k:p]

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
        return word.lower() in _STARTERS

    # -- decisions: (where the sentence ends or None, where the cursor goes) ------------------------------

    def _decide(self, p: int) -> tuple[int | None, int]:
        c = self.buf[p]
        if c in "\n\r\u2028\u2029\x85":
            return self._line_break(p)
        if c in _BULLETS:  # "• one • two": a bullet after a space starts an item
            cut = p if p > self.start and self.buf[p - 1].isspace() and self._first_word(p) >= 0 else None
            return cut, p + 1
        if c == ")":
            return self._list_item(p), p + 1
        if c in _CJK_ENDS:
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
        while self._at(q) in _CJK_RUN:
            q += 1
        while self._at(q) in _CLOSERS:
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
            while at(q) in _LATIN_ENDS:
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
        while at(r) in _CLOSERS:
            r += 1
        nxt = at(r)
        if not nxt:
            return r, r  # the end of the text
        if not nxt.isspace():  # "3.14", "e.g", "Jr.'s", "mean...see"; CJK may follow "!" with no space
            return (r if kind == "exclaim" and _CJK_CHAR.match(nxt) else None), r
        end = r
        s, breaks = self._space(r, True)
        if not breaks and _EMOJI_START.match(at(s)):  # "Have fun! 🎉" keeps its emoji
            e = s
            while _EMOJI_PART.match(at(e)):
                e += 1
            if not at(e) or at(e).isspace():
                end = e
                s, breaks = self._space(e, True)
        if self._first_word(p) < 0:
            return None, s
        if breaks:  # a line break after a terminator ends the sentence, whatever comes next
            return end, s
        t = s
        while at(t) in _SKIP_AHEAD:
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
        if key in _CONTINUE:
            return False
        single = len(key) == 1 and key.isalpha()
        acronym = _ACRONYM.fullmatch(key) is not None
        if nc.isdigit():  # "p. 55", "Jan. 5", "U.S. 2020"
            known = key in _TITLES or key in _FINAL or key in _NUMBERED or key in _OTHER
            return not (single or acronym or known)
        if key in _AMPM:  # "at 6 p.m. Mr. Smith ..." ends, a fronted "At 5 a.m. Mr. Smith went" does not
            w = self._first_word(p)
            return not (p - w < 40 and _FRONTED_TIME.fullmatch(self.buf, w, p))
        if single or acronym or key in _TITLES or key in _OTHER:  # "E. Smith", "U.S. Government"
            return self._starter(t)
        return True  # an ordinary word, or "etc.", "Inc.", "no." before a capital


def split_sentences(text: str, group_size: int = 3) -> list[str]:
    """The sentences of text (group_size=1), or speech groups of up to group_size of them.

    Groups follow the predecessor app: with no more than group_size sentences there is one group, and a
    short tail (fewer than half a group) merges into the group before it.
    """
    _need_str(text)
    _need_count(group_size, "group_size")
    seg = _Segmenter()
    seg.buf = text
    sentences = seg.finish()
    if group_size == 1 or len(sentences) <= group_size:
        return sentences if group_size == 1 or not sentences else [" ".join(sentences)]
    groups = [sentences[i : i + group_size] for i in range(0, len(sentences), group_size)]
    if 2 * len(groups[-1]) < group_size:
        tail = groups.pop()
        groups[-1] += tail
    return [" ".join(g) for g in groups]


class SentenceStream:
    """split_sentences(text, 1) for a reply that arrives in pieces (an LLM stream).

    feed(delta) returns the sentences completed so far, flush() the rest at the end; over any cutting of
    the text the outputs add up to split_sentences(text, 1). A sentence is released as soon as the next
    one visibly begins (its first word, at most 16 letters, decides "U.S. How" against "U.S. Government").
    Work is linear in the text: a cursor, never a rescan. After flush() the stream is empty and reusable.
    """

    def __init__(self) -> None:
        self._seg = _Segmenter()

    def feed(self, delta: str) -> list[str]:
        return self._seg.push(delta) if _need_str(delta, "delta") else []

    def flush(self) -> list[str]:
        return self._seg.finish()

    def unfinished(self, limit: int = 4096) -> str:
        """The start (at most ``limit`` characters) of the sentence still arriving."""
        return self._seg.buf[self._seg.start : self._seg.start + limit]


# --------------------------------------------------------------------------------------------------------
# Markdown to speech text
#
# Line by line; inside a line, whitespace-separated token by token, and every token is rewritten on its
# own (no construct is matched across spaces), so the text can be streamed: a token is final once the
# space after it has arrived, a line's kind once its first characters have.
# --------------------------------------------------------------------------------------------------------

CODE_BLOCK_NOTE = "Here is some code."  # said in place of a fenced code block ("Here is some Python code.")
_LANGUAGES = {
    "py": "Python", "python": "Python", "js": "JavaScript", "javascript": "JavaScript", "jsx": "JavaScript",
    "ts": "TypeScript", "typescript": "TypeScript", "tsx": "TypeScript", "sh": "shell", "bash": "shell",
    "shell": "shell", "zsh": "shell", "console": "shell", "powershell": "PowerShell", "json": "JSON",
    "yaml": "YAML", "yml": "YAML", "toml": "TOML", "html": "HTML", "css": "CSS", "sql": "SQL", "c": "C",
    "cpp": "C++", "c++": "C++", "csharp": "C#", "cs": "C#", "java": "Java", "kotlin": "Kotlin", "go": "Go",
    "rust": "Rust", "rs": "Rust", "ruby": "Ruby", "rb": "Ruby", "php": "PHP", "swift": "Swift", "r": "R",
    "lua": "Lua", "xml": "XML", "dockerfile": "Dockerfile", "makefile": "Makefile", "diff": "diff",
}  # fmt: skip

_SEP = re.compile(r"[\s\x00-\x08\x0e-\x1f\x7f-\x9f\u200b]")  # control characters and ZWSP separate words
_NONSEP = re.compile(r"[^\s\x00-\x08\x0e-\x1f\x7f-\x9f\u200b]")
_DECOR = frozenset("-*_+=:|~` \t")  # a line of only these says nothing: rules, table delimiters, underlines
_LIST_BULLETS = frozenset("-*+•◦▪‣⁃")
_FENCE_CLOSE = re.compile(r"[ \t>]*(`{3,}|~{3,})\s*")
_TASK_BOX = re.compile(r"\[[ xX]\](?:[ \t]|$)")
_TABLE_CELL = re.compile(r"(?<!\\)\|")
_DELIMITER_CELL = re.compile(r"\s*:?-*:?\s*")
_ENDS = re.compile(r"[.!?…‽。！？][\"'”’»)\]}」』]*$")
# A token with none of these is said as it is (the fast path; most tokens are plain words)
_SPECIAL = re.compile(
    r"[*_~`\[\]<>\\#]|://|www\.|[\U00010000-\U0010ffff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\u20e3"
    r"\ufe0e\ufe0f\u00ad\u200c-\u200f\u202a-\u202e\u2060-\u2069\ufeff]",
    re.IGNORECASE,
)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_ESC_BASE = 0xF0000  # escaped characters sit in a private plane until the marks are stripped
_UNESCAPE = re.compile("[\U000f0000-\U000f007f]")
_INVISIBLE_RE = re.compile("[\u00ad\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_EMOJI = re.compile(
    f"[{_EMOJI_RANGES}\u231a\u231b\u23e9-\u23f3\u23f8-\u23fa\U000e0020-\U000e007f]"
    f"(?:[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]|\u200d[{_EMOJI_RANGES}])*|[\ufe0e\ufe0f\u20e3]"
)
# (A failed match stops at the next bracket, so a giant token of "<b<b<b..." stays linear.)
_FOOTNOTE = re.compile(r"\[\^[^\[\]]*\]:?")
_LINK_TARGET = re.compile(r"\]\((?:[^()\[\]]|\([^()\[\]]*\))*\)|\]\[[^\[\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>]+|[^<>@]+@[^<>]+)>", re.IGNORECASE)
_HTML_TAG = re.compile(
    r"<(/?)(br|hr|p|div|b|i|u|s|em|strong|del|ins|mark|small|sub|sup|kbd|code|span)\b[^<>]*/?>", re.IGNORECASE
)
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"`]+", re.IGNORECASE)
_MARKS = frozenset("*_[]#")
_EMOTICON = re.compile(r"[:;=]['-]?[()DPp/\\|]|<3")
_GLUED = re.compile(r"[.,;:!?…‽。！？，、]+")  # punctuation that lost its word ("job 🎉!") joins the last


def _host(m: re.Match[str]) -> str:
    """A URL as its host name ("https://www.example.com/a?b" -> "example.com"), keeping punctuation after."""
    url = m.group(0)
    end, opened, closed = len(url), url.count("("), url.count(")")
    while end and url[end - 1] in ".,;:!?'\")]}*_":
        if url[end - 1] == ")":
            if opened >= closed:
                break
            closed -= 1
        end -= 1
    url, tail = url[:end], url[end:]
    authority = re.split(r"[/?#]", re.sub(r"^[a-z]+://", "", url, flags=re.IGNORECASE), maxsplit=1)[0]
    host = authority.rsplit("@", 1)[-1].split(":")[0]
    if host.lower().startswith("www."):
        host = host[4:]
    return host + tail


def _strip_marks(tok: str) -> str:
    """Drop emphasis, link brackets and image marks at the edges of a token: "(**Note:**" -> "(Note:"."""
    n = len(tok)
    a = 0
    while a < n and not tok[a].isalnum():
        a += 1
    if a == n:  # no letter or digit: a lone "**" or "#" goes, a dash or "&" stays
        return "".join(ch for ch in tok.replace("~~", "") if ch not in _MARKS)
    b = n
    while not tok[b - 1].isalnum():
        b -= 1
    core = tok[a:b]
    lead = "".join(ch for ch in tok[:a].replace("![", "[").replace("~~", "") if ch not in _MARKS)
    trail = tok[b:].replace("~~", "")
    trail = "".join(ch for ch in trail if ch not in _MARKS or (ch == "]" and "[" in core))
    return lead + core + trail


def _norm_token(tok: str) -> str:
    """One whitespace-free piece of markdown as it is said; "" when nothing speakable is left."""
    if len(tok) <= 3 and _EMOTICON.fullmatch(tok):
        return ""
    if _SPECIAL.search(tok) is None:
        return tok
    tok = _ESCAPED.sub(lambda m: chr(_ESC_BASE + ord(m.group(1))), _UNESCAPE.sub("", tok))
    tok = _INVISIBLE_RE.sub("", _EMOJI.sub("", tok))
    tok = _LINK_TARGET.sub("]", _FOOTNOTE.sub("", tok))
    tok = _AUTOLINK.sub(r"\1", tok)
    tok = _HTML_TAG.sub(lambda m: " " if m.group(2).lower() in ("br", "hr", "p", "div") else "", tok)
    tok = _URL.sub(_host, tok.replace("`", ""))
    tok = " ".join(_strip_marks(part) for part in tok.split())
    return _UNESCAPE.sub(lambda m: chr(ord(m.group(0)) - _ESC_BASE), tok).strip()


def _list_body(line: str, b: int, complete: bool, lead: str) -> tuple[str, int, str] | None:
    """A list item's text starts at b, after spaces and a task box "[x]"."""
    n = len(line)
    while b < n and line[b] in " \t":
        b += 1
    if not complete and n - b < 4 and (b == n or line[b] == "["):
        return None
    m = _TASK_BOX.match(line, b)
    return "para", (m.end() if m else b), lead


def _classify(line: str, complete: bool) -> tuple[str, int, str] | None:
    """(kind, where the text starts, what to say first) for a line, or None until enough of it has come.

    Kinds: "para" (paragraph, heading, list item, quote: tokens), "table" (a row, read at its end),
    "fence" (opens a code block; the third item is the fence), "skip" (says nothing).
    """
    n = len(line)
    i = 0
    while i < n and line[i] in " \t>":  # indentation and block quote markers
        i += 1
    if i == n:
        return ("skip", n, "") if complete else None
    c = line[i]
    j = i
    while j < n and line[j] == c:
        j += 1
    if c in "`~" and (j - i >= 3 or j == n):
        if j == n and not complete:
            return None
        if j - i >= 3:
            return "fence", j, line[i:j]
    if c == "#":
        if j == n:
            return ("skip", n, "") if complete else None
        if j - i <= 6 and line[j] in " \t":
            return "para", j, ""
    if c == "|":
        return "table", i, ""
    j = i
    while j < n and line[j] in _DECOR:
        j += 1
    if j == n:
        return ("skip", n, "") if complete else None
    if c in _LIST_BULLETS:
        if i + 1 == n:
            return ("skip", n, "") if complete else None
        if line[i + 1] in " \t":
            return _list_body(line, i + 2, complete, "")
    if "0" <= c <= "9":
        j = i
        while j < n and "0" <= line[j] <= "9":
            j += 1
        if j < n and j - i <= 9 and line[j] in ".)":
            if j + 1 == n and not complete:
                return None
            if j + 1 == n or line[j + 1] in " \t":
                return _list_body(line, j + 1, complete, line[i:j] + ".")  # "3)" is said "3."
        elif j == n and not complete:
            return None
    if c == "[" and line[i + 1 : i + 2] != "^":  # "[label]: https://..." defines a link: nothing to say
        k = line.find("]", i)
        if k < 0 or k + 1 == n:
            return None if not complete else ("para", i, "")
        if line[k + 1] == ":":
            return "skip", n, ""
    return "para", i, ""


class MarkdownStream:
    """normalize_for_speech for markdown that arrives in pieces: feed(delta) -> speech text so far.

    A token is released once the space after it has arrived (a trailing "," ";" ":" waits, since a full
    stop replaces it if the line ends there); a table row and a code fence's note at the end of their
    line. Concatenated outputs equal normalize_for_speech(whole text), however the text is cut.
    """

    def __init__(self) -> None:
        self._eager = False  # newline after a block as it ends (SpeechStream), not before the next
        self._reset()

    def _reset(self) -> None:
        self._line = ""  # the current line, raw
        self._kind = ""  # its kind once known (see _classify)
        self._cur = 0  # where its next token starts
        self._seen = 0  # no separator in [_cur's token, _seen)
        self._wait = 0  # classify again once the line is this long
        self._fence = ""  # the opening fence while inside a code block
        self._opening = ""  # the fence that opened the code block, once its line is complete
        self._open = False  # the current block has said something
        self._blocks = 0  # blocks finished
        self._held = ""  # a trailing , ; : not yet said
        self._last = ""  # the last token said in the current block

    def feed(self, delta: str) -> str:
        _need_str(delta, "delta")
        out: list[str] = []
        parts = delta.split("\n")
        for k, part in enumerate(parts):
            if part:
                line = self._line
                self._line = ""  # append in place
                line += part
                self._line = line
            if k < len(parts) - 1:
                self._progress(out, True)
                self._line, self._kind, self._cur, self._seen, self._wait = "", "", 0, 0, 0
            else:
                self._progress(out, False)
        return "".join(out)

    def flush(self) -> str:
        out: list[str] = []
        self._progress(out, True)
        self._reset()
        return "".join(out)

    def _progress(self, out: list[str], complete: bool) -> None:
        line = self._line
        if self._fence:  # inside a code block only a closing fence matters
            m = _FENCE_CLOSE.fullmatch(line) if complete else None
            if m and m.group(1)[0] == self._fence[0] and len(m.group(1)) >= len(self._fence):
                self._fence = ""
            return
        if not self._kind:
            if not complete and len(line) < self._wait:
                return
            found = _classify(line, complete)
            if found is None:
                self._wait = len(line) + 1 + (len(line) // 2 if len(line) > 64 else 0)
                return
            self._kind, self._cur, lead = found
            self._seen = self._cur
            if self._kind == "fence":
                self._opening = lead
            elif lead:
                self._emit(lead, out)
        if self._kind == "para":
            self._tokens(out, complete)
        if not complete:
            return
        if self._kind == "table":
            self._table(out)
        elif self._kind == "fence":
            info = line[self._cur :].split()
            lang = _LANGUAGES.get(info[0].lower().strip("{}.")) if info else None
            note = CODE_BLOCK_NOTE.replace("some code", f"some {lang} code") if lang else CODE_BLOCK_NOTE
            self._emit_all(note, out)
            self._fence = self._opening
        self._end_block(out)

    def _tokens(self, out: list[str], complete: bool) -> None:
        line = self._line
        n = len(line)
        i = self._cur
        while True:
            m = _NONSEP.search(line, i)
            if m is None:
                self._cur = self._seen = n
                return
            j = m.start()
            e = _SEP.search(line, max(j, self._seen))
            if e is None:
                self._cur, self._seen = (n, n) if complete else (j, n)
                if complete:
                    self._emit(_norm_token(line[j:]), out)
                return
            self._emit(_norm_token(line[j : e.start()]), out)
            i = self._seen = e.start()

    def _table(self, out: list[str]) -> None:
        """A table row is said as its cells' text, "Alice, 30."; a delimiter row says nothing."""
        cells = _TABLE_CELL.split(self._line[self._cur :].strip().strip("|"))
        texts = []
        for cell in cells:
            if _DELIMITER_CELL.fullmatch(cell):
                continue
            words = [w for w in map(_norm_token, _SEP.split(cell)) if w]
            if words:
                texts.append(" ".join(words))
        self._emit_all(", ".join(texts), out)

    def _emit_all(self, text: str, out: list[str]) -> None:
        for tok in text.split(" "):
            self._emit(tok, out)

    def _emit(self, tok: str, out: list[str]) -> None:
        if not tok:
            return
        if self._open:
            out.append(self._held if _GLUED.fullmatch(tok) else self._held + " ")
        elif self._blocks and not self._eager:
            out.append("\n")
        self._held = ""
        if tok[-1] in ",;:":
            tok, self._held = tok[:-1], tok[-1]
        if tok:
            out.append(tok)
            self._last = tok
        self._open = True

    def _end_block(self, out: list[str]) -> None:
        """A block ends a sentence: a full stop replaces a trailing , ; : or is added where none ends it."""
        if self._open:
            if self._held or not _ENDS.search(self._last):
                out.append("。" if _CJK_CHAR.match(self._last[-1:]) else ".")
            if self._eager:
                out.append("\n")
            self._blocks += 1
        self._open, self._held, self._last = False, "", ""


def normalize_for_speech(text: str) -> str:
    """What the engine should say for an assistant's markdown reply.

    No markdown syntax is said (emphasis, headings, bullets, quotes, rules); numbered items keep their
    number, links and inline code their text; a fenced code block becomes CODE_BLOCK_NOTE, a table its
    cell text; a bare URL its host name; emoji go. Every other word stays, in order. Each heading, list
    item, table row or paragraph line becomes its own block, ending in terminal punctuation (a full stop
    is added when missing); blocks are separated by one newline, spaces inside a block collapse to one.
    Soft-wrapped paragraphs are therefore read line by line (LLMs do not wrap). For streamed text use
    MarkdownStream or SpeechStream, which give exactly the same result.
    """
    _need_str(text)
    stream = MarkdownStream()
    return stream.feed(text) + stream.flush()


class SpeechStream:
    """Speakable sentences from markdown deltas: MarkdownStream -> SentenceStream.

    Over any cutting of a reply, feed() outputs plus flush() equal
    split_sentences(normalize_for_speech(reply), 1). A server streaming an LLM reply calls feed() with
    each delta as it arrives, synthesises (or hands to a ChunkStream) what comes back, and calls flush()
    when the reply ends. Use one stream per reply.
    """

    def __init__(self) -> None:
        self._markdown = MarkdownStream()
        self._markdown._eager = True  # a block's last sentence is said when it ends, not when the next begins
        self._sentences = SentenceStream()

    def feed(self, delta: str) -> list[str]:
        return self._sentences.feed(self._markdown.feed(_need_str(delta, "delta")))

    def flush(self) -> list[str]:
        return self._sentences.feed(self._markdown.flush()) + self._sentences.flush()

    def unfinished(self) -> str:
        """The speakable start of the sentence still arriving (see ChunkStream.open_early)."""
        return self._sentences.unfinished()


# --------------------------------------------------------------------------------------------------------
# Chunks: what each synthesis call gets
# --------------------------------------------------------------------------------------------------------

_CLAUSE = re.compile(r"[,;:](?=\s)|[，、；：]|\s[-–—](?=\s)|—")
_MIN_OPENING = 2
_OPENING_LOOKAHEAD = 64  # open_early stops looking once the first sentence runs this far past first_chunk_chars
"""A reply may open with a clause as short as "OK,": Piper's pause at the cut (measured: 220-315 ms) is the
pause it makes at the comma inside the whole sentence (245-370 ms), and the first audio comes 3-10x sooner."""


def _cut_point(s: str, pos: int, limit: int) -> int:
    """Where to cut s[pos:] so that the head has at most limit characters: the latest clause boundary
    (, ; : or a dash) leaving at least a third of the limit; failing that the last space; failing that (one
    giant token) a hard cut."""
    end = pos + limit
    best = 0
    for m in _CLAUSE.finditer(s, pos, end + 1):
        if m.end() > end:
            break
        best = m.end()
    if best and 3 * (best - pos) >= limit:
        return best
    space = s.rfind(" ", pos + 1, end + 1)
    return space if space > pos else end


def _opening_clause(s: str, limit: int) -> int:
    """Where the reply's first clause ends in its first sentence, when a word follows it; else 0."""
    for m in _CLAUSE.finditer(s, 0, limit + 1):
        if m.end() > limit:
            break
        if m.end() >= _MIN_OPENING and _WORD.search(s, 0, m.end()) and _WORD.search(s, m.end()):
            return m.end()
    return 0


_SAID_SYMBOLS = frozenset("%&@#§°")


def speakable(text: str) -> bool:
    """Whether ``text`` has anything a voice can say: a letter or digit (any script), or a sign that is said
    as a word ($, %, &, @, +, =, currency and math signs). Punctuation, leftover markdown marks and invisible
    characters alone are silence, and a chunk of silence is not worth an engine run."""
    return any(c.isalnum() or c in _SAID_SYMBOLS or unicodedata.category(c) in ("Sc", "Sm") for c in text)


class ChunkStream:
    """The chunk policy, fed sentences as they complete: feed(sentence) -> chunks ready, flush() -> the rest.

    - The reply's first sentence is said in pieces released at once, for a quick start: its first clause
      (say "Sure,"; unless opening_clause is false), then the rest, cut again when longer than
      first_chunk_chars.
    - Later chunks hold 2, 4, 8 ... sentences, capped at group_size (1, 2, 3, 3 ... by default); a chunk
      is released as soon as it is full, or when the next sentence would not fit in max_chars.
    - No chunk is longer than max_chars: a longer sentence is cut at a clause boundary (, ; : dash), else
      at a space, else (a giant token) anywhere; its pieces count as sentences.
    - drain() releases a partly filled chunk now (call it when the synthesiser would otherwise sit idle);
      flush() does the same at the end of the reply and resets the stream.
    Spaces inside a chunk collapse to one; a sentence or piece with nothing speakable in it ("...", "!!")
    is left out. speech_chunks(text) is this stream fed split_sentences(text, 1).
    """

    def __init__(
        self, group_size: int = 3, max_chars: int = 300, first_chunk_chars: int = 120, opening_clause: bool = True
    ) -> None:
        self._group = _need_count(group_size, "group_size")
        self._max = _need_count(max_chars, "max_chars")
        self._first = min(_need_count(first_chunk_chars, "first_chunk_chars"), self._max)
        self._opening_clause = opening_clause
        self._reset()

    def _reset(self) -> None:
        self._parts: list[str] = []
        self._size = -1  # characters in the pending chunk, counting the spaces that will join its parts
        self._count = 0  # chunks released
        self._started = False
        self._said_early = ""  # the opening clause open_early() released before its sentence was complete
        self._gave_up_early = False  # the first sentence ran on past any clause open_early could use

    @property
    def awaits_opening(self) -> bool:
        """Whether open_early may still release something: call it only then (it costs a look at the text)."""
        return self._opening_clause and not self._started and not self._gave_up_early

    def open_early(self, unfinished: str) -> list[str]:
        """The reply's opening clause, taken from its first sentence while that sentence is still arriving
        (an LLM streaming "Sure, here is ..."): released once a word follows it with no possible sentence end
        between, so the chunks are exactly speech_chunks' (feed() skips the clause when the sentence comes)."""
        if not self.awaits_opening:
            return []
        s = " ".join(unfinished.split())
        cut = _opening_clause(s, self._first)
        word = _WORD.search(s, cut) if cut else None
        if word is None or _CANDIDATE.search(s, 0, word.start()):  # the sentence may end before that word
            self._gave_up_early = len(s) > self._first + _OPENING_LOOKAHEAD  # keeps a long sentence linear
            return []
        self._started, self._count, self._said_early = True, 1, s[:cut]
        return [self._said_early]

    def feed(self, sentence: str) -> list[str]:
        s = " ".join(_need_str(sentence, "sentence").split())
        out: list[str] = []
        if not speakable(s):
            return out
        opening = not self._started or bool(self._said_early)
        self._started = True
        pos, n = 0, len(s)
        early, self._said_early = self._said_early, ""
        if early and s.startswith(early):  # said already; if not (it cannot happen), better twice than lost
            pos = len(early) + (s[len(early) : len(early) + 1] == " ")
        while pos < n:
            limit = self._first if opening else self._max
            clause = _opening_clause(s, limit) if opening and pos == 0 and self._opening_clause else 0
            if clause:
                cut = clause
            else:
                cut = _cut_point(s, pos, limit) if n - pos > limit else n
            piece = s[pos:cut].rstrip()
            if not speakable(piece):
                pass
            elif opening:
                out.append(piece)
                self._count = 1
            else:
                self._add(piece, out)
            pos = cut + (cut < n and s[cut] == " ")
        return out

    def drain(self) -> list[str]:
        out: list[str] = []
        if self._parts:
            self._release(out)
        return out

    def flush(self) -> list[str]:
        out = self.drain()
        self._reset()
        return out

    def _add(self, piece: str, out: list[str]) -> None:
        if self._parts and self._size + 1 + len(piece) > self._max:
            self._release(out)
        self._parts.append(piece)
        self._size += 1 + len(piece)
        if len(self._parts) >= min(self._group, 1 << min(self._count, 16)):
            self._release(out)

    def _release(self, out: list[str]) -> None:
        out.append(" ".join(self._parts))
        self._parts, self._size = [], -1
        self._count += 1


def speech_chunks(
    text: str, group_size: int = 3, max_chars: int = 300, first_chunk_chars: int = 120, opening_clause: bool = True
) -> list[str]:
    """The chunks to synthesise for an (already normalised) reply; the policy is ChunkStream's."""
    chunks = ChunkStream(group_size, max_chars, first_chunk_chars, opening_clause)
    out: list[str] = []
    for sentence in split_sentences(text, 1):
        out += chunks.feed(sentence)
    return out + chunks.flush()
