"""Markdown to speech text: normalize_for_speech, and MarkdownStream for markdown that arrives in pieces.

Line by line; inside a line, whitespace-separated token by token (inline.py rewrites each token on its
own), so the text can be streamed: a token is final once the space after it has arrived (or, in Chinese
and Japanese, once more text follows a sentence end inside it), a line's kind once its first characters
have. Every heading, list item, table row or paragraph line becomes a block of its own that ends a sentence.
MarkdownSegments is the same normaliser giving segments (spans.py) instead of a string, so the planner knows
where in the original reply each piece of speech text comes from.

Why this module is long: it is one streaming state machine (line kinds, tokens, tables, code fences, the
held punctuation) whose parts all read and advance the same state; split apart they would pass it around.
"""

from __future__ import annotations

import re

from vox.text.chars import CJK_CHAR, need_str
from vox.text.inline import aligned, spoken_code_token, spoken_token
from vox.text.spans import Segment
from vox.text.tags import LONGEST, TAG_PATTERN, may_be_tag

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
_CJK_CUT = re.compile(r"[。！？｡][。！？｡!?]*[\"'”’»)\]}」』】〉》*_`]*(?=[^\s。！？｡!?\"'”’»)\]}」』】〉》*_`])")
"""After a Chinese or Japanese sentence end (and its closing marks) that more text follows with no space: a word
boundary there (said with no space), so a streamed reply in those languages is released sentence by sentence,
not at its end. A closing mark is never what follows: streamed, it may be the first of several."""
_NONSEP_RUN = re.compile(r"[^\s\x00-\x08\x0e-\x1f\x7f-\x9f\u200b]+")
_ENDS = re.compile(r"[.!?…‽。！？][\"'”’»)\]}」』]*$")
_GLUED = re.compile(r"[.,;:!?…‽。！？，、]+")  # punctuation that lost its word ("job 🎉!") joins the last
_GLUED_START = frozenset(".,;:!?…‽。！？，、")


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
    stop replaces it if the line ends there); a table row at the end of its line, a code block's note
    once the block has closed (or the reply ended), so that the note's source spans the whole block.
    Concatenated outputs equal normalize_for_speech(whole text), however the text is cut. With eager=True
    each block's closing newline comes as the block ends rather than before the next (for a sentence
    splitter downstream, which then releases a block's last sentence at once).
    """

    def __init__(self, *, eager: bool = False) -> None:
        self._eager = eager
        self._reset()

    def _reset(self) -> None:
        self._line = ""  # the current line, raw
        self._line_start = 0  # where it starts in the whole text
        self._kind = ""  # its kind once known (see _classify)
        self._cur = 0  # where its next token starts
        self._seen = 0  # no separator in [_cur's token, _seen)
        self._wait = 0  # classify again once the line is this long
        self._fence = ""  # the opening fence while inside a code block
        self._opening = ""  # the fence that opened the code block, once its line is complete
        self._note = ""  # what the code block being read will be said as
        self._note_start = 0  # where the code block starts ...
        self._note_end = 0  # ... and where its last non-blank line ends, so far
        self._open = False  # the current block has said something
        self._blocks = 0  # blocks finished
        self._held = ""  # a trailing , ; : not yet said
        self._held_at = (0, 0)  # its source
        self._last = ""  # the last token said in the current block
        self._glue = False  # the next token follows a CJK sentence end inside a word: no space before it
        self._last_end = 0  # where the last text said came from ends: added text is anchored there
        self._ticks = ""  # the backticks of a code span still open in this line
        self._code: list[tuple[int, int]] | None = None  # where the token being said holds code

    def feed(self, delta: str) -> str:
        return "".join(self._run(need_str(delta, "delta")))

    def flush(self) -> str:
        return "".join(self._finish())

    def _run(self, delta: str) -> list:
        out: list = []
        parts = delta.split("\n")
        last = len(parts) - 1
        for k, part in enumerate(parts):
            if part:
                line = self._line
                self._line = ""  # append in place
                line += part
                self._line = line
            if k < last:
                self._progress(out, True)
                self._line_start += len(self._line) + 1
                self._line, self._kind, self._cur, self._seen, self._wait = "", "", 0, 0, 0
                self._ticks = ""
            else:
                self._progress(out, False)
        return out

    def _finish(self) -> list:
        out: list = []
        self._progress(out, True)
        if self._fence:  # a code block left open ends with the reply
            self._say_note(out)
        self._reset()
        return out

    def _progress(self, out: list, complete: bool) -> None:
        line = self._line
        if self._fence:  # inside a code block only a closing fence matters
            if not complete:
                return
            m = _FENCE_CLOSE.fullmatch(line)
            if line.strip():
                self._note_end = self._line_start + len(line.rstrip())
            if m and m.group(1)[0] == self._fence[0] and len(m.group(1)) >= len(self._fence):
                self._fence = ""
                self._say_note(out)
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
            elif lead:  # a numbered item's number, "3)" said "3."
                i = len(line) - len(line.lstrip(" \t>"))
                at = self._line_start + i
                self._emit(lead, out, at, at + len(lead), line[i : i + len(lead)])
        if self._kind == "para":
            self._tokens(out, complete)
        if not complete:
            return
        if self._kind == "table":
            self._table(out)
        elif self._kind == "fence":  # said once the block closes: see _say_note
            info = line[self._cur :].split()
            lang = _LANGUAGES.get(info[0].lower().strip("{}.")) if info else None
            self._note = CODE_BLOCK_NOTE.replace("some code", f"some {lang} code") if lang else CODE_BLOCK_NOTE
            self._note_start = self._line_start + self._cur - len(self._opening)
            self._note_end = self._line_start + len(line.rstrip())
            self._fence = self._opening
            return
        self._end_block(out)

    def _say_note(self, out: list) -> None:
        """A code block is said as its note, whose source is the whole block, fences included."""
        self._emit(self._note, out, self._note_start, self._note_end, None)  # one token: it maps as a whole
        self._end_block(out)

    def _tokens(self, out: list, complete: bool) -> None:
        line = self._line
        at = self._line_start
        n = len(line)
        i = self._cur
        if complete:  # every token is final: one regex step each
            emit = self._emit
            m = _NONSEP_RUN.search(line, i)
            while m is not None:
                a, b = m.span()
                if line[a] == "[" and (tag := TAG_PATTERN.match(line, a)):  # "[laugh]" stays for the engine
                    b = tag.end()
                    emit(tag.group(), out, at + a, at + b, None)
                else:
                    cut = _CJK_CUT.search(line, a, b)
                    b = cut.end() if cut else b
                    raw = line[a:b]
                    emit(self._said(raw) if self._ticks or "`" in raw else spoken_token(raw), out, at + a, at + b, raw)
                    self._glue = cut is not None
                m = _NONSEP_RUN.search(line, b)
            self._cur = self._seen = n
            return
        while True:  # a token is final once a separator follows it; the last one waits
            m = _NONSEP.search(line, i)
            if m is None:
                self._cur = self._seen = n
                return
            j = m.start()
            if line[j] == "[":  # a paralinguistic tag is kept whole, "[clear throat]" with its space
                tag = TAG_PATTERN.match(line, j)
                if tag is None and may_be_tag(line[j : j + LONGEST]):
                    self._cur = self._seen = j
                    return
                if tag is not None:
                    self._emit(tag.group(), out, at + j, at + tag.end(), None)
                    i = self._seen = tag.end()
                    continue
            e = _SEP.search(line, max(j, self._seen))
            cut = _CJK_CUT.search(line, j, e.start() if e else n)
            if cut is not None:
                raw = line[j : cut.end()]
                self._emit(self._said(raw), out, at + j, at + cut.end(), raw)
                self._glue = True
                i = self._seen = cut.end()
                continue
            if e is None:
                self._cur, self._seen = j, n
                return
            raw = line[j : e.start()]
            self._emit(self._said(raw), out, at + j, at + e.start(), raw)
            i = self._seen = e.start()

    def _said(self, raw: str) -> str:
        """A token as said; where it holds code (a code span's part) is left in self._code for _emit."""
        if self._ticks or "`" in raw:
            said, code, self._ticks = spoken_code_token(raw, self._ticks)
            self._code = code or None
            return said
        return spoken_token(raw)

    def _table(self, out: list) -> None:
        """A table row is said as its cells' text, "Alice, 30."; a delimiter row says nothing."""
        line = self._line
        row = line[self._cur :]
        at = self._line_start + self._cur + len(row) - len(row.lstrip())
        row = row.strip()
        at += len(row) - len(row.lstrip("|"))
        row = row.strip("|")
        cells: list[list[tuple[str, str, int]]] = []  # per cell: (said, raw, where raw starts)
        pos = 0
        for bar in [*_TABLE_CELL.finditer(row), None]:
            end = bar.start() if bar else len(row)
            cell = row[pos:end]
            if not _DELIMITER_CELL.fullmatch(cell):
                words = []
                self._ticks = ""  # a code span ends with its cell
                for w in _NONSEP_RUN.finditer(cell):
                    said = self._said(w.group())
                    self._code = None  # a table is said cell by cell, not as code
                    if said:
                        words.append((said, w.group(), at + pos + w.start()))
                if words:
                    cells.append(words)
            pos = bar.end() if bar else pos
        for c, words in enumerate(cells):
            for w, (said, raw, start) in enumerate(words):
                parts = said.split(" ")
                for p, part in enumerate(parts):
                    comma = c < len(cells) - 1 and w == len(words) - 1 and p == len(parts) - 1
                    self._emit(part + "," if comma else part, out, start, start + len(raw), raw)

    def _emit(self, tok: str, out: list, start: int, end: int, raw: str | None) -> None:
        """Say tok, made from raw at start (or, when raw is None, added for original[start:end])."""
        self._code = None
        if not tok:
            return
        glue, self._glue = self._glue, False
        if self._open:
            glued = glue or (tok[0] in _GLUED_START and _GLUED.fullmatch(tok))
            out.append(self._held if glued else self._held + " ")
        elif self._blocks and not self._eager:
            out.append("\n")
        self._held = ""
        if tok[-1] in ",;:":
            tok, self._held = tok[:-1], tok[-1]
        if tok:
            out.append(tok)
            self._last = tok
        self._open = True

    def _end_block(self, out: list) -> None:
        """A block ends a sentence: a full stop replaces a trailing , ; : or is added where none ends it."""
        if self._open:
            if self._held or not _ENDS.search(self._last):
                out.append("。" if CJK_CHAR.match(self._last[-1:]) else ".")
            if self._eager:
                out.append("\n")
            self._blocks += 1
        self._open, self._held, self._last = False, "", ""


class MarkdownSegments(MarkdownStream):
    """MarkdownStream giving segments (text, source start, source end) instead of a string: feed(delta)
    and flush() return lists whose texts add up to what MarkdownStream would give. Offsets count from the
    start of the whole text fed since the last flush(). ``take_code()`` says where the segments just given
    hold code (a code span's characters), for the verbaliser to read them as code."""

    def __init__(self, *, eager: bool = False) -> None:
        super().__init__(eager=eager)
        self._code_marks: list[tuple[int, list[tuple[int, int]]]] = []

    def feed(self, delta: str) -> list[Segment]:  # type: ignore[override]
        return self._run(need_str(delta, "delta"))

    def flush(self) -> list[Segment]:  # type: ignore[override]
        return self._finish()

    def take_code(self) -> list[tuple[int, list[tuple[int, int]]]]:
        """Where the segments of the last feed() or flush() hold code: (the index of a token's first segment,
        the ranges of code in that token's text), in order."""
        marks, self._code_marks = self._code_marks, []
        return marks

    def _emit(self, tok: str, out: list, start: int, end: int, raw: str | None) -> None:
        code, self._code = self._code, None
        if not tok:
            return
        glue, self._glue = self._glue, False
        last = self._last_end
        plain = raw is tok and code is None and tok[-1] not in ",;:"  # the usual word, said as written
        if self._open:
            if self._held:
                out.append((self._held, *self._held_at))
                self._held = ""
            if not glue and (tok[0] not in _GLUED_START or not _GLUED.fullmatch(tok)):
                if plain:  # after a space
                    out += ((" ", last, last), (tok, start, end))
                    self._last, self._last_end = tok, end
                    return
                out.append((" ", last, last))
        elif self._blocks and not self._eager:
            out.append(("\n", last, last))
        self._held = ""
        if plain:
            out.append((tok, start, end))
            self._last, self._last_end, self._open = tok, end, True
            return
        segments = aligned(raw, tok, start) if raw is not None else [(tok, start, end)]
        if tok[-1] in ",;:":  # held back: its source is the last character of the last segment
            tok, self._held = tok[:-1], tok[-1]
            text, s, e = segments.pop()
            linear = e - s == len(text)
            self._held_at = (e - 1, e) if linear else (e, e)
            if len(text) > 1:
                segments.append((text[:-1], s, e - 1 if linear else e))
        if tok:
            if code is not None:  # the verbaliser reads these characters as code
                self._code_marks.append((len(out), [(a, min(b, len(tok))) for a, b in code if a < len(tok)]))
            out += segments
            self._last = tok
            self._last_end = segments[-1][2]
        self._open = True

    def _end_block(self, out: list) -> None:
        if self._open:
            anchor = self._last_end
            if self._held:
                out.append(("." if not CJK_CHAR.match(self._last[-1:]) else "。", *self._held_at))
            elif not _ENDS.search(self._last):
                out.append(("。" if CJK_CHAR.match(self._last[-1:]) else ".", anchor, anchor))
            if self._eager:
                out.append(("\n", anchor, anchor))
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
    MarkdownStream or SpeechPlanner, which give exactly the same result.
    """
    need_str(text)
    stream = MarkdownStream()
    return stream.feed(text) + stream.flush()
