"""Sentences: split_sentences for a whole text, SentenceStream for one that arrives in pieces.

Both run the one scanner (scanner.py); the whole-text function is the stream fed everything at once, which
is why a stream gives the same sentences however its text is cut.
"""

from __future__ import annotations

from vox.text.abbreviations import for_language
from vox.text.chars import need_count, need_str
from vox.text.scanner import Scanner


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
    """split_sentences(text, 1) for a reply that arrives in pieces (an LLM stream).

    feed(delta) returns the sentences completed so far, flush() the rest at the end; over any cutting of
    the text the outputs add up to split_sentences(text, 1). A sentence is released as soon as the next
    one visibly begins (its first word, at most 16 letters, decides "U.S. How" against "U.S. Government").
    Work is linear in the text: a cursor, never a rescan. After flush() the stream is empty and reusable.
    """

    def __init__(self, *, lang: str = "en") -> None:
        self._scanner = Scanner(for_language(lang))

    def feed(self, delta: str) -> list[str]:
        return self._scanner.push(delta) if need_str(delta, "delta") else []

    def flush(self) -> list[str]:
        return self._scanner.finish()

    def unfinished(self, limit: int = 4096) -> str:
        """The start (at most ``limit`` characters) of the sentence still arriving."""
        return self._scanner.unfinished(limit)[0]
