"""The chunk policy: how sentences become what each synthesis call says.

Two separate decisions, so that either can change alone:

- pieces (Cutter): a sentence becomes one or more pieces. The reply's first sentence opens with its first
  clause ("Sure,"; engines that say short prompts cleanly only) and the rest of it is cut again when
  longer than first_chunk_chars; any later sentence longer than max_chars is cut at a clause boundary
  (, ; : dash), else at a space, else anywhere (a giant token).
- grouping (Groups): how many pieces one chunk holds. The static policy: the first sentence's pieces go
  out at once, one per chunk; later chunks hold 2, 4, 8 ... pieces capped at group_size, and a chunk
  goes out as soon as it is full or the next piece would not fit in max_chars. A caller that sizes
  chunks itself (from how much audio is buffered) takes them with Groups.take instead.

The planner (planner.py) uses both with spans. The string API over them that came before the planner
(ChunkStream, speech_chunks) is a baseline in bench/baselines.py.
"""

from __future__ import annotations

import re

from vox.text.chars import CANDIDATE, WORD

CLAUSE = re.compile(r"[,;:](?=\s)|[，、；：]|\s[-–—](?=\s)|—")
MIN_OPENING = 2
OPENING_LOOKAHEAD = 64  # open_early stops looking once the first sentence runs this far past first_chunk_chars
"""A reply may open with a clause as short as "OK,": the first audio comes 3-10x sooner. Said apart, Piper's
pause at the cut is ~60 ms shorter than the one it makes at the comma inside the whole sentence; the pipeline
adds it back (Capabilities.clause_pause, measured in bench/bench_pacing.py)."""


def cut_point(s: str, pos: int, limit: int) -> int:
    """Where to cut s[pos:] so that the head has at most limit characters: the latest clause boundary
    (, ; : or a dash) leaving at least a third of the limit; failing that the last space; failing that (one
    giant token) a hard cut."""
    end = pos + limit
    best = 0
    for m in CLAUSE.finditer(s, pos, end + 1):
        if m.end() > end:
            break
        best = m.end()
    if best and 3 * (best - pos) >= limit:
        return best
    space = s.rfind(" ", pos + 1, end + 1)
    return space if space > pos else end


def opening_clause(s: str, limit: int) -> int:
    """Where the reply's first clause ends in its first sentence, when a word follows it; else 0."""
    for m in CLAUSE.finditer(s, 0, limit + 1):
        if m.end() > limit:
            break
        if m.end() >= MIN_OPENING and WORD.search(s, 0, m.end()) and WORD.search(s, m.end()):
            return m.end()
    return 0


class Cutter:
    """The piece policy for one reply: cut(sentence) -> where its pieces lie, in order (see the module doc).

    Sentences must come with their spaces collapsed to one (" ".join(s.split())).
    """

    def __init__(self, max_chars: int, first_chunk_chars: int, opening_clause: bool) -> None:
        self.max_chars = max_chars
        self.first_chunk_chars = min(first_chunk_chars, max_chars)
        self.opening_clause = opening_clause
        self.started = False  # a sentence (or the opening clause) has been cut
        self._said_early = ""  # the opening clause open_early() released before its sentence was complete
        self._gave_up_early = False  # the first sentence ran on past any clause open_early could use

    @property
    def awaits_opening(self) -> bool:
        """Whether open_early may still release something: call it only then (it costs a look at the text)."""
        return self.opening_clause and not self.started and not self._gave_up_early

    def open_early(self, unfinished: str) -> int:
        """How much of the reply's first sentence, still arriving (collapsed), to say now: its opening clause
        once a word follows it with no possible sentence end between (so the pieces are exactly those of
        the whole sentence: cut() skips the clause when the sentence comes); 0 while it cannot be known."""
        if not self.awaits_opening:
            return 0
        cut = opening_clause(unfinished, self.first_chunk_chars)
        word = WORD.search(unfinished, cut) if cut else None
        if word is None or CANDIDATE.search(unfinished, 0, word.start()):  # the sentence may end before it
            self._gave_up_early = len(unfinished) > self.first_chunk_chars + OPENING_LOOKAHEAD  # stays linear
            return 0
        self.started, self._said_early = True, unfinished[:cut]
        return cut

    def cut(self, s: str) -> tuple[bool, list[tuple[int, int]]]:
        """Whether s is the reply's opening (its pieces go out at once), and its pieces as (start, end) in s."""
        n = len(s)
        if self.started and not self._said_early and n <= self.max_chars:  # the usual sentence: one piece
            return False, [(0, n)]
        opening = not self.started or bool(self._said_early)
        self.started = True
        pos = 0
        early, self._said_early = self._said_early, ""
        if early and s.startswith(early):  # said already; if not (it cannot happen), better twice than lost
            pos = len(early) + (s[len(early) : len(early) + 1] == " ")
        pieces: list[tuple[int, int]] = []
        while pos < n:
            limit = self.first_chunk_chars if opening else self.max_chars
            clause = opening_clause(s, limit) if opening and pos == 0 and self.opening_clause else 0
            if clause:
                cut = clause
            else:
                cut = cut_point(s, pos, limit) if n - pos > limit else n
            pieces.append((pos, pos + len(s[pos:cut].rstrip())))
            pos = cut + (cut < n and s[cut] == " ")
        return opening, pieces


class Groups:
    """Pieces waiting for a chunk (any objects, each with its length in characters) and the grouping policy.

    group_size None: the caller groups, with take(); add() never releases.
    """

    def __init__(self, group_size: int | None, max_chars: int) -> None:
        self.group_size = group_size
        self.max_chars = max_chars
        self.pending: list = []
        self._lengths: list[int] = []
        self._size = -1  # characters in the pending pieces, counting the spaces that will join them
        self.released = 0  # chunks released so far, the opening's included

    def add(self, piece: object, length: int) -> list[list]:
        """Queue a piece; returns the groups the static policy releases now."""
        out: list[list] = []
        if self.group_size is not None and self.pending and self._size + 1 + length > self.max_chars:
            out.append(self.take())
        self.pending.append(piece)
        self._lengths.append(length)
        self._size += 1 + length
        if self.group_size is not None and len(self.pending) >= min(self.group_size, 1 << min(self.released, 16)):
            out.append(self.take())
        return out

    def take(self, max_pieces: int | None = None, max_chars: int | None = None) -> list:
        """The next group now: at least one pending piece (if any), at most max_pieces (default all) and, after
        the first, as many as fit in max_chars (default the policy's) joined by spaces."""
        limit = self.max_chars if max_chars is None else max_chars
        count, size = 0, -1
        for length in self._lengths[: max_pieces or len(self._lengths)]:
            if count and size + 1 + length > limit:
                break
            count, size = count + 1, size + 1 + length
        if not count:
            return []
        group = self.pending[:count]
        del self.pending[:count], self._lengths[:count]
        self._size -= size + 1
        self.released += 1
        return group
