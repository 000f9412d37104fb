"""Where each piece of a chunk starts in the chunk's audio, so the page highlights the sentence being heard.

Two ways, one per kind of engine (``Capabilities.sentence_by_sentence``):

- exact: the pipeline gives the engine a chunk one sentence per call, within one turn, and adds up the
  lengths (Piper, which synthesises sentence by sentence anyway); ``Starts`` keeps that account;
- estimated: an engine that says a chunk in one call and streams it in parts (Chatterbox token slices)
  tells nothing about where its sentences begin, so the starts are placed in proportion to characters over
  the chunk's expected length. ``SpeechRate`` is that estimate, the only one in Vox.

A start is in seconds from the beginning of the chunk's audio (its part 0), the ``at`` of each piece in the
chunk events (vox/reply/stream_events.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from vox.text import Piece

SECONDS_PER_CHAR = 0.055
"""Seconds of speech per character before a reply has a finished chunk to learn from: Piper's Joe at speed 1
says bench_server's 10-sentence reply (554 characters) in 30.5 s. Only the first chunk of a streaming engine
uses it; later chunks use the reply's own rate."""


def by_characters(texts: Sequence[str], duration: float) -> list[float]:
    """Where each of ``texts`` starts when they are said in order, joined by single spaces, over ``duration``
    seconds, time being taken in proportion to characters."""
    total = sum(len(t) for t in texts) + len(texts) - 1
    starts, chars = [], 0
    for text in texts:
        starts.append(duration * chars / total if total > 0 else 0.0)
        chars += len(text) + 1
    return starts


class SpeechRate:
    """Seconds of audio per character in this reply so far; estimates the starts of a streamed chunk's pieces
    before its end is known."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.chars = 0

    def add(self, chars: int, seconds: float) -> None:
        """A whole chunk of ``chars`` characters took ``seconds`` of audio."""
        self.chars += chars
        self.seconds += seconds

    @property
    def per_char(self) -> float:
        return self.seconds / self.chars if self.chars and self.seconds > 0 else SECONDS_PER_CHAR

    def starts(self, pieces: Sequence[Piece], audio_so_far: float) -> list[float]:
        """Estimated starts of ``pieces`` in a chunk of which ``audio_so_far`` seconds exist: over the length
        the reply's rate predicts, or the audio so far once that is longer."""
        texts = [p.text for p in pieces]
        expected = (sum(len(t) for t in texts) + len(texts) - 1) * self.per_char
        return by_characters(texts, max(audio_so_far, expected))


class Starts:
    """The exact account: a chunk said one sentence (a run of pieces) per engine call, calls in order."""

    def __init__(self) -> None:
        self.samples = 0
        self.starts: list[float] = []

    def add(self, pieces: Sequence[Piece], samples: int, rate: int) -> None:
        """The audio of one call saying ``pieces`` (one sentence, or the parts of one) is ``samples`` long.
        The first piece starts exactly where the call's audio does; pieces after it in the same call (a long
        sentence cut in parts) are placed in proportion to characters within it."""
        at = self.samples / rate
        self.starts += [at + s for s in by_characters([p.text for p in pieces], samples / rate)]
        self.samples += samples

    def silence(self, samples: int) -> None:
        """Silence added after the last call (a restored pause): it shifts every later start."""
        self.samples += samples
