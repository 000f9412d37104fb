"""Verbalisation: where written forms become what a person says ("$42.99" -> "forty-two dollars and
ninety-nine cents", "Dr." -> "Doctor", "v2.1" -> "version two point one"). Today it is the identity.

It sits between markdown normalisation and sentence splitting in the planner and works on segments
(spans.py), so sentence offsets keep pointing at the original reply whatever it rewrites. The contract
for the implementation that fills it in (issue 20):

- feed(segments) -> segments and flush() -> segments; over any cutting of the input, the concatenated
  outputs are the same (the planner's streamed and whole results must stay identical).
- Rewrite a segment's text but keep its source range; a rewrite that joins several segments ("5 p.m.")
  gets the union of their ranges. Keep segments in source order.
- Hold back what may still change: MarkdownSegments releases only whole tokens, but a rewrite can need the
  next token ("5" then "p.m."), so hold the tail until it is decided or flush() comes.
- Keep terminal punctuation, and the "\\n" that ends each block: the sentence scanner runs on the output.
  Do not leave an abbreviation's period where it would end a sentence ("Dr." -> "Doctor", not "Doctor.").
"""

from __future__ import annotations

from vox.text.spans import Segment


class Verbaliser:
    """The verbalisation stage for one reply in one language: the identity for now (see the module doc)."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang

    def feed(self, segments: list[Segment]) -> list[Segment]:
        return segments

    def flush(self) -> list[Segment]:
        return []
