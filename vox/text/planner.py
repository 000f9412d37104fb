"""SpeechPlanner: a reply (whole, or markdown deltas) in, chunks to synthesise out, each piece with offsets.

One planner per reply. Its stages, each replaceable alone:

    MarkdownSegments    markdown -> speech text as segments (text, source start, source end)
    Scanner             sentences, found on the speech text as written ("Dr. Smith", "$3.50."); OffsetMap
                        maps them back to the original
    Cutter              pieces: the opening clause, long sentences cut to max_chars
    Verbaliser          each piece as it is said ("$5" -> "five dollars"), with where each rewrite came from;
                        a piece that grew past its limit is cut again (verbalise/)
    Groups              chunks: static grouping, or the caller's with take()

The markdown stage also says where code spans are (``take_code``); the planner keeps them as ranges of the
speech text and hands each piece the ones inside it, so the verbaliser reads "~/.bashrc" in a code span as
code and "~4%" in prose as words.

Verbalisation runs per piece, after the scanner: the scanner decides sentence ends on the text as written
(its abbreviation tables), and a piece's spoken form depends on the piece alone, so feed()/end() give the
same chunks (texts and offsets) as plan() however the reply is cut into deltas. With verbaliser=None the
chunk texts are exactly those of the string pipeline before the planner (bench/baselines.py:
speech_chunks(normalize_for_speech(reply), ...)) for the same settings.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import replace
from itertools import accumulate

from vox.text.abbreviations import for_language
from vox.text.chars import need_count, need_str, speakable
from vox.text.chunks import Cutter, Groups, cut_point
from vox.text.markdown import MarkdownSegments
from vox.text.scanner import Scanner, Sentence
from vox.text.spans import Chunk, OffsetMap, Piece, Segment
from vox.text.verbalise import Verbaliser

_EARLY_LOOK = 4096  # how much of an unfinished first sentence open_early looks at


def _collapsed(text: str) -> tuple[str, list[int] | None]:
    """text with its whitespace runs made one space and trimmed, and where each of its characters lies in
    text (None when nothing changed, the usual case: markdown output has single spaces already)."""
    words = text.split()
    s = " ".join(words)
    if s == text:
        return s, None
    where: list[int] = []
    pos = 0
    for word in words:
        k = text.index(word, pos)
        if where:
            where.append(k - 1)  # the joining space stands for the whitespace before the word
        where.extend(range(k, k + len(word)))
        pos = k + len(word)
    return s, where


class SpeechPlanner:
    """Chunks for one reply, with the source span of every piece (see the module docstring).

    - ``feed(delta)``: markdown as it arrives; returns the chunks ready now, the reply's opening clause
      ("Sure,") included as soon as a word follows it.
    - ``end()``: the reply is complete; returns the chunks left.
    - ``plan(text)``: a whole reply at once (feed + end on a fresh state).
    - ``group_size=None``: the caller sizes chunks. feed()/end() then return only the opening (the first
      sentence's pieces, one chunk each, at once); every later piece waits in ``pending`` until the
      caller calls ``take(max_pieces, max_chars)``. ``take`` also works with static grouping, to hand a
      part-filled chunk to an idle synthesiser.
    - ``sentences``: every sentence completed so far, whole, with its span (a caller reporting progress by
      sentence takes the new ones after each feed).
    - ``lang``: the abbreviation table the sentence scanner uses, and the verbaliser's language.
    - ``verbaliser``: called with lang for each reply, gives the verbalisation stage (verbalise/); None
      says every piece as written (markdown normalised only).
    - ``sentences`` hold the text as written (normalised markdown); pieces and chunks hold what is said.
    """

    def __init__(
        self,
        group_size: int | None = 3,
        max_chars: int = 300,
        first_chunk_chars: int = 120,
        opening_clause: bool = True,
        *,
        lang: str = "en",
        verbaliser: Callable[[str], Verbaliser] | None = Verbaliser,
    ) -> None:
        self.group_size = None if group_size is None else need_count(group_size, "group_size")
        self.max_chars = need_count(max_chars, "max_chars")
        self.first_chunk_chars = need_count(first_chunk_chars, "first_chunk_chars")
        self.opening_clause = bool(opening_clause)
        self.lang = need_str(lang, "lang")
        self._abbreviations = for_language(lang)
        self._new_verbaliser = verbaliser
        self._start()

    def _start(self) -> None:
        self._markdown = MarkdownSegments(eager=True)  # a block's last sentence is released as it ends
        self._verbaliser = self._new_verbaliser(self.lang) if self._new_verbaliser else None
        self._scanner = Scanner(self._abbreviations, spans=True)
        self._map = OffsetMap()
        self._code: list[tuple[int, int]] = []  # code spans: ranges of the speech text, in order
        self._code_ends: list[int] = []
        self._cutter = Cutter(self.max_chars, self.first_chunk_chars, self.opening_clause)
        self._groups = Groups(self.group_size, self.max_chars)
        self.sentences: list[Piece] = []
        """Every sentence completed so far, whole (spaces collapsed), with its span and index."""
        self._ended = False

    # -- the reply in --------------------------------------------------------------------------------------

    def feed(self, delta: str) -> list[Chunk]:
        """Markdown as it arrives; returns the chunks ready now."""
        need_str(delta, "delta")
        if self._ended:
            raise RuntimeError("this reply has ended: use a new SpeechPlanner (or plan()) for the next one")
        out = self._chunks(self._speech(self._markdown.feed(delta)))
        if self._cutter.awaits_opening:
            out += self._open_early()
        return out

    def end(self) -> list[Chunk]:
        """The reply is complete: the chunks left (with group_size=None, only an opening not yet given)."""
        if self._ended:
            return []
        out = self._chunks(self._speech(self._markdown.flush()))
        out += self._chunks(self._scanner.finish())
        self._ended = True
        if self.group_size is not None:
            chunk = self.take()
            if chunk is not None:
                out.append(chunk)
        return out

    def plan(self, text: str) -> list[Chunk]:
        """The chunks of a whole reply, from a fresh start."""
        need_str(text)
        self._start()
        out = self.feed(text)
        return out + self.end()

    # -- the caller's grouping ------------------------------------------------------------------------------

    @property
    def pending(self) -> tuple[Piece, ...]:
        """Pieces cut but not yet in a chunk, in order."""
        return tuple(self._groups.pending)

    @property
    def done(self) -> bool:
        """The reply has ended and every piece is in a chunk."""
        return self._ended and not self._groups.pending

    def take(self, max_pieces: int | None = None, max_chars: int | None = None) -> Chunk | None:
        """The next chunk now, from the pending pieces: at most max_pieces of them (default all that fit) and
        at most max_chars characters (default the planner's), but at least one piece; None if none wait."""
        if max_pieces is not None:
            need_count(max_pieces, "max_pieces")
        if max_chars is not None:
            need_count(max_chars, "max_chars")
        group = self._groups.take(max_pieces, max_chars)
        return _chunk(group) if group else None

    # -- stages ----------------------------------------------------------------------------------------------

    def _speech(self, segments: list[Segment]) -> list[Sentence]:
        """Sentences completed by more speech text."""
        base = self._map.length
        text = self._map.add(segments)
        marks = self._markdown.take_code()
        if marks:
            at = list(accumulate((len(seg[0]) for seg in segments), initial=base))
            for k, ranges in marks:
                self._code += [(at[k] + a, at[k] + b) for a, b in ranges]
            self._code_ends = [b for _, b in self._code]
        return self._scanner.push(text) if text else []

    def _code_in(self, where: list[int] | None, at: int, i: int, j: int) -> list[tuple[int, int]]:
        """The code spans inside the piece s[i:j] of a sentence at speech offset at (where: see _collapsed),
        as ranges of the piece."""
        if not self._code:
            return []
        first = at + (i if where is None else where[i])
        last = at + (j if where is None else where[j - 1] + 1)
        out = []
        for k in range(bisect_right(self._code_ends, first), len(self._code)):
            a, b = self._code[k]
            if a >= last:
                break
            if where is None:
                a, b = max(a - at, i), min(b - at, j)
            else:
                a, b = bisect_left(where, a - at, i, j), bisect_left(where, b - at, i, j)
            if a < b:
                out.append((a - i, b - i))
        return out

    def _chunks(self, sentences: list[Sentence]) -> list[Chunk]:
        out: list[Chunk] = []
        groups, cutter, offsets = self._groups, self._cutter, self._map
        for text, a, b in sentences:
            index = len(self.sentences)
            s, where = _collapsed(text)
            if not speakable(s):  # "...", "!!": nothing a voice can say
                continue
            sentence = Piece(s, offsets.start_of(a), offsets.end_of(b), index)
            self.sentences.append(sentence)
            opening, cuts = cutter.cut(s)
            cuts = [(i, j) for i, j in cuts if speakable(s[i:j])]
            limit = self.first_chunk_chars if opening else self.max_chars
            last = len(cuts) - 1
            pieces = [p for k, (i, j) in enumerate(cuts) for p in self._said(s, where, a, i, j, index, limit, k < last)]
            if not opening and len(pieces) == 1:  # the usual sentence: one piece
                out += [_chunk(group) for group in groups.add(pieces[0], len(pieces[0].text))]
                continue
            if opening:
                groups.released = 1
                out += [Chunk(p.text, (p,)) for p in pieces]
            else:
                for p in pieces:
                    out += [_chunk(group) for group in groups.add(p, len(p.text))]
        return out

    def _open_early(self) -> list[Chunk]:
        unfinished, at = self._scanner.unfinished(_EARLY_LOOK)
        s, where = _collapsed(unfinished)
        cut = self._cutter.open_early(s)
        if not cut:
            return []
        self._groups.released = 1
        pieces = self._said(s, where, at, 0, cut, len(self.sentences), self.first_chunk_chars, continues=True)
        return [Chunk(p.text, (p,)) for p in pieces]

    def _said(self, s: str, where: list[int] | None, at: int, i: int, j: int, sentence: int,
              limit: int, continues: bool) -> list[Piece]:  # fmt: skip
        """The piece s[i:j] as said: verbalised, and cut again where that made it longer than limit.
        ``continues``: the piece ends inside its sentence (see Piece.continues); pieces cut from it here do."""
        if self._verbaliser is None:
            return [self._piece(s, where, at, i, j, sentence, continues=continues)]
        code = self._code_in(where, at, i, j)
        segments = self._verbaliser.segments(s[i:j], code)
        if len(segments) == 1 and segments[0][0] == s[i:j]:  # nothing to rewrite: the usual piece
            return [self._piece(s, where, at, i, j, sentence, continues=continues)]
        said = "".join([seg[0] for seg in segments])
        if len(said) <= limit:  # still one piece: its span is its segments' span
            if not speakable(said):
                return []
            a, b = segments[0][1], segments[-1][2]
            return [self._piece(s, where, at, i + a, i + max(b, a + 1), sentence, said, continues=continues)]
        local = OffsetMap()
        said = local.add(segments)
        cuts, pos = [], 0
        while pos < len(said):
            cut = cut_point(said, pos, limit) if len(said) - pos > limit else len(said)
            cuts.append((pos, pos + len(said[pos:cut].rstrip())))
            pos = cut + (cut < len(said) and said[cut] == " ")
        pieces: list[Piece] = []
        for u, v in cuts:
            if not speakable(said[u:v]):
                continue
            a, b = local.span(u, v)
            pieces.append(self._piece(s, where, at, i + a, i + max(b, a + 1), sentence, said[u:v], continues=True))
        pieces = _with_sources(pieces)
        if pieces and not continues:
            pieces[-1] = replace(pieces[-1], continues=False)
        return pieces

    def _piece(self, s: str, where: list[int] | None, at: int, i: int, j: int, sentence: int,
               text: str | None = None, continues: bool = False) -> Piece:  # fmt: skip
        """The piece s[i:j] of a sentence whose speech text starts at at (where: see _collapsed), said as text
        (default: as written)."""
        a, b = (at + i, at + j) if where is None else (at + where[i], at + where[j - 1] + 1)
        return Piece(s[i:j] if text is None else text, self._map.start_of(a), self._map.end_of(b), sentence,
                     continues)  # fmt: skip


def _with_sources(pieces: list[Piece]) -> list[Piece]:
    """Pieces of one cut sentence, each with some source: a piece made only of text a stage added (the full
    stop after a heading, "# 9am-5pm" cut after "five p", leaving "m.") joins its neighbour."""
    out: list[Piece] = []
    for p in pieces:
        if out and (p.start >= p.end or out[-1].start >= out[-1].end):
            last = out.pop()
            p = replace(p, text=f"{last.text} {p.text}", start=min(last.start, p.start), end=max(last.end, p.end))
        out.append(p)
    return out


def _chunk(pieces: list[Piece]) -> Chunk:
    return Chunk(" ".join(p.text for p in pieces), tuple(pieces))
