"""How big the next chunk may be: only as big as the audio already buffered ahead of playback can cover.

A chunk that takes longer to synthesise than the audio still queued in front of it leaves a silent hole. A
fixed policy (1, 2, 4 ... sentences) either starts slowly or leaves holes on a busy machine, so the producer
sizes each chunk when it takes it (issue 14):

- the engine's speed: seconds of compute per character over this reply's chunks so far (all compute / all
  characters). The short opening chunks carry each call's fixed cost, so the estimate errs on the slow side.
- the audio buffered ahead: the listener plays in real time from the first audio on, each chunk from when it
  arrives or when the one before it ends, whichever is later (as the page's player and the speakers do), so
  ``ahead = when the audio handed out so far ends - now``. Audio counts as handed out when the producer puts
  it in the sink's queue; an SSE sink sends it within milliseconds.
- the rule: the next chunk gets at most ``SHARE * ahead / seconds per character`` characters, at least one
  piece (the next piece must be said whatever the budget), at most ``max_pieces`` pieces and ``max_chars``.
  Before any chunk has been measured, the next chunk is one piece.

So chunks stay one sentence while synthesis barely keeps ahead, and grow to the configured maximum once it
runs far ahead (on an idle machine, from the third chunk on).
"""

from __future__ import annotations

import time
from collections.abc import Callable

SHARE = 0.5
"""The share of the buffered audio the next chunk's expected synthesis may use: the engine may run twice as
slowly as it has so far in this reply (another program takes the CPU) before a hole opens."""


class Pacer:
    """The producer's view of one reply: what synthesis cost and how far it runs ahead; ``limit()`` sizes the
    next chunk (see the module docstring). Used from the producer thread only."""

    def __init__(self, max_pieces: int, max_chars: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_pieces, self.max_chars, self.clock = max_pieces, max_chars, clock
        self.compute = 0.0
        self.chars = 0
        self.plays_until: float | None = None
        """When the audio handed out so far will have been played (clock time); None before the first."""

    def synthesised(self, chars: int, seconds: float) -> None:
        """A chunk of ``chars`` characters took ``seconds`` of compute."""
        self.chars += chars
        self.compute += seconds

    def sent(self, seconds: float) -> None:
        """``seconds`` of audio were handed to the sink now."""
        now = self.clock()
        self.plays_until = max(self.plays_until or now, now) + seconds

    @property
    def seconds_per_char(self) -> float | None:
        return self.compute / self.chars if self.chars else None

    def ahead(self) -> float:
        """Seconds of audio handed out and not yet played."""
        return 0.0 if self.plays_until is None else max(0.0, self.plays_until - self.clock())

    def limit(self) -> tuple[int, int]:
        """(most pieces, most characters) for the next chunk; the planner still gives at least one piece."""
        rate = self.seconds_per_char
        if rate is None:
            return 1, self.max_chars
        budget = int(SHARE * self.ahead() / max(rate, 1e-9))
        return self.max_pieces, max(1, min(self.max_chars, budget))
