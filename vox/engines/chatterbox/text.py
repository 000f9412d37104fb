"""Text handling for the models: cut text into pieces no model call chokes on."""

from __future__ import annotations

import re

from vox.engines.tags import TAGS

_SPACED_TAGS = re.compile("|".join(re.escape(tag) for tag in TAGS if " " in tag), re.IGNORECASE)
_KEEP = "\ue000"  # stands in for a space inside a tag ("[clear throat]") so no cut falls there


def split_for_model(text: str, max_chars: int) -> list[str]:
    """Split ``text`` into pieces of at most ``max_chars`` characters, at clause or word boundaries.

    Vox's chunker already sends short chunks; this is the engine's own guarantee that no single model call
    gets more (Turbo degrades past ~350 characters). A piece cut mid-sentence ends with a comma, so the
    model's own normalisation does not add a full stop there. A paralinguistic tag is never cut in two.
    """
    text = _SPACED_TAGS.sub(lambda m: m.group(0).replace(" ", _KEEP), " ".join(text.split()))
    limit = max(8, max_chars - 1)  # room for the comma added to a piece cut mid-sentence
    pieces: list[str] = []
    while len(text) > max_chars:
        window = text[: limit + 1]
        cut = max(window.rfind(p) for p in (", ", "; ", ": ", ". ", "! ", "? "))
        cut = cut + 1 if cut >= limit // 2 else window.rfind(" ")
        if cut <= 0:
            cut = limit
        piece, text = text[:cut].strip(), text[cut:].strip()
        if piece[-1] not in ".,;:!?-":
            piece += ","
        pieces.append(piece)
    if text:
        pieces.append(text)
    return [piece.replace(_KEEP, " ") for piece in pieces]
