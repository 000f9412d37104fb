"""The designs Vox is measured against, kept out of production so that the bench can still run them beside Vox
in the same run (ratios, not absolute times), and the tests can use them as oracles.

Chunking policies a server can run instead of its own (``python -m bench.baselines POLICY [app.py options]``,
or ``start_server(..., command=baseline_command(POLICY))``):

    predecessor   the predecessor app: a whole reply said in plain groups of ``chunking.group_size`` sentences
                  (split_sentences), no short first chunk; what was ``chunking.quick_start = false``
    static        Vox's plan with static grouping: 1, 2, 4 ... pieces up to ``group_size`` whatever the machine
                  does, instead of chunks sized as synthesis runs ahead; what was ``chunking.adaptive = false``

The string pipeline before the planner (vox/text/ keeps one streaming API, SpeechPlanner), whose chunks the
planner must reproduce exactly when it does not verbalise (bench row T14):

    split_sentences   sentences of a whole text, or the predecessor's groups of them
    SentenceStream    split_sentences(text, 1) for text that arrives in pieces
    SpeechStream      markdown deltas -> speakable sentences (MarkdownStream, then SentenceStream)
    ChunkStream       the chunk policy fed sentences; speech_chunks for a whole (already normalised) text
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from functools import partial

from vox.text import Chunk, Piece, SpeechPlanner, normalize_for_speech, speakable
from vox.text.abbreviations import for_language
from vox.text.chars import need_count, need_str
from vox.text.chunks import Cutter, Groups
from vox.text.markdown import MarkdownStream
from vox.text.scanner import Scanner
from vox.text.verbalise import Verbaliser

POLICIES = ("predecessor", "static")


# -- the string pipeline before the planner ------------------------------------------------------------------


def split_sentences(text: str, group_size: int = 3, *, lang: str = "en") -> list[str]:
    """The sentences of text (group_size=1), or speech groups of up to group_size of them.

    Groups follow the predecessor app: with no more than group_size sentences there is one group, and a
    short tail (fewer than half a group) merges into the group before it.
    """
    need_str(text)
    need_count(group_size, "group_size")
    scanner = Scanner(for_language(lang))
    scanner.buf = text
    sentences: list[str] = scanner.finish()
    if group_size == 1 or len(sentences) <= group_size:
        return sentences if group_size == 1 or not sentences else [" ".join(sentences)]
    groups = [sentences[i : i + group_size] for i in range(0, len(sentences), group_size)]
    if 2 * len(groups[-1]) < group_size:
        tail = groups.pop()
        groups[-1] += tail
    return [" ".join(g) for g in groups]


class SentenceStream:
    """split_sentences(text, 1) for a reply that arrives in pieces: feed(delta) returns the sentences completed
    so far, flush() the rest; over any cutting of the text the outputs add up to split_sentences(text, 1). After
    flush() the stream is empty and reusable."""

    def __init__(self, *, lang: str = "en") -> None:
        self._scanner = Scanner(for_language(lang))

    def feed(self, delta: str) -> list[str]:
        return self._scanner.push(delta) if need_str(delta, "delta") else []

    def flush(self) -> list[str]:
        return self._scanner.finish()

    def unfinished(self, limit: int = 4096) -> str:
        """The start (at most ``limit`` characters) of the sentence still arriving."""
        return self._scanner.unfinished(limit)[0]


class SpeechStream:
    """Speakable sentences from markdown deltas: over any cutting of a reply, feed() outputs plus flush() equal
    split_sentences(normalize_for_speech(reply), 1)."""

    def __init__(self, *, lang: str = "en") -> None:
        self._markdown = MarkdownStream(eager=True)  # a block's last sentence is said when it ends
        self._sentences = SentenceStream(lang=lang)

    def feed(self, delta: str) -> list[str]:
        return self._sentences.feed(self._markdown.feed(need_str(delta, "delta")))

    def flush(self) -> list[str]:
        return self._sentences.feed(self._markdown.flush()) + self._sentences.flush()

    def unfinished(self) -> str:
        """The speakable start of the sentence still arriving (see ChunkStream.open_early)."""
        return self._sentences.unfinished()


class ChunkStream:
    """The chunk policy (vox/text/chunks.py: pieces, then static grouping), fed sentences as they complete:
    feed(sentence) -> chunks ready, flush() -> the rest. drain() releases a partly filled chunk now; flush() does
    the same at the end of the reply and resets the stream. Spaces inside a chunk collapse to one."""

    def __init__(
        self, group_size: int = 3, max_chars: int = 300, first_chunk_chars: int = 120, opening_clause: bool = True
    ) -> None:
        self._group = need_count(group_size, "group_size")
        self._max = need_count(max_chars, "max_chars")
        self._first = need_count(first_chunk_chars, "first_chunk_chars")
        self._opening_clause = opening_clause
        self._reset()

    def _reset(self) -> None:
        self._cutter = Cutter(self._max, self._first, self._opening_clause)
        self._groups = Groups(self._group, self._max)

    @property
    def awaits_opening(self) -> bool:
        """Whether open_early may still release something: call it only then (it costs a look at the text)."""
        return self._cutter.awaits_opening

    def open_early(self, unfinished: str) -> list[str]:
        """The reply's opening clause, taken from its first sentence while that sentence is still arriving."""
        if not self.awaits_opening:
            return []
        s = " ".join(unfinished.split())
        cut = self._cutter.open_early(s)
        if not cut:
            return []
        self._groups.released = 1
        return [s[:cut]]

    def feed(self, sentence: str) -> list[str]:
        s = " ".join(need_str(sentence, "sentence").split())
        if not speakable(s):  # "...", "!!": nothing a voice can say
            return []
        opening, cuts = self._cutter.cut(s)
        cuts = [(a, b) for a, b in cuts if speakable(s[a:b])]
        if opening:
            self._groups.released = 1
            return [s[a:b] for a, b in cuts]
        out: list[str] = []
        for a, b in cuts:
            out += [" ".join(group) for group in self._groups.add(s[a:b], b - a)]
        return out

    def drain(self) -> list[str]:
        group = self._groups.take()
        return [" ".join(group)] if group else []

    def flush(self) -> list[str]:
        out = self.drain()
        self._reset()
        return out


def speech_chunks(
    text: str, group_size: int = 3, max_chars: int = 300, first_chunk_chars: int = 120, opening_clause: bool = True
) -> list[str]:
    """The chunks to synthesise for an (already normalised) reply; the policy is ChunkStream's."""
    chunks = ChunkStream(group_size, max_chars, first_chunk_chars, opening_clause)
    out: list[str] = []
    for sentence in split_sentences(text, 1):
        out += chunks.feed(sentence)
    return out + chunks.flush()


# -- chunking policies a server runs instead of its own ------------------------------------------------------


class FixedPlan:
    """Chunks planned up front (the static policies): sizes were decided already, so ``limit`` is not used."""

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        self._chunks = iter(chunks)

    def next_chunk(self, limit: Callable[[], tuple[int, int]]) -> Chunk | None:
        return next(self._chunks, None)


def install(policy: str) -> None:
    """Make every Runtime of this process plan replies by ``policy`` (see the module docstring)."""
    from vox.errors import NothingToSay
    from vox.reply.text_feed import TextFeed
    from vox.runtime import NOTHING_TO_SAY, Runtime

    if policy not in POLICIES:
        raise SystemExit(f"no baseline policy {policy!r}; choose one of {', '.join(POLICIES)}")

    def static_planner(self: Runtime, lang: str | None = None) -> SpeechPlanner:
        """Runtime.planner with static grouping, in place of chunks sized as they are taken."""
        c, opening = self.config.chunking, self.engines.capabilities().opens_with_clause
        day_first = self.config.text.date_order == "day-first"
        return SpeechPlanner(c.group_size, c.max_chars, c.first_chunk_chars, opening,
                             lang=lang or self.config.engine.lang, verbaliser=partial(Verbaliser, day_first=day_first))

    def whole_reply(self: Runtime, text: str, lang: str | None = None) -> tuple[FixedPlan, int]:
        if policy == "predecessor":
            groups = split_sentences(normalize_for_speech(text), self.config.chunking.group_size)
            chunks = [Chunk(g, (Piece(g, 0, len(text), i),)) for i, g in enumerate(groups)]
        else:
            chunks = static_planner(self, lang).plan(text)
        if not chunks:
            raise NothingToSay(NOTHING_TO_SAY)
        return FixedPlan(chunks), len(chunks)

    Runtime.text_feed = lambda self, lang=None: TextFeed(static_planner(self, lang))  # type: ignore[method-assign]
    Runtime.whole_reply = whole_reply  # type: ignore[method-assign]


def baseline_command(policy: str) -> tuple[str, ...]:
    """What start_server runs for a server with ``policy`` in place of Vox's own chunking."""
    return ("-m", "bench.baselines", policy)


if __name__ == "__main__":
    install(sys.argv[1] if len(sys.argv) > 1 else "")
    import app

    sys.exit(app.main(sys.argv[2:]))
