"""Paralinguistic tags: ``[laugh]``, ``[sigh]`` ... in a reply's text, kept for an engine that performs them
and removed for every other, so no engine ever reads "laugh" out as a word.

Chatterbox Turbo's tokenizer (``ResembleAI/chatterbox-turbo``, tokenizer added tokens) holds each tag as one
token. Resemble's own Turbo demo offers the nine event tags; the style tokens are in the same tokenizer but
undocumented (they are kept for Turbo too, and removed for other engines like the rest). The chatterbox
0.1.7 package itself names only ``[cough]``, ``[laugh]`` and ``[chuckle]`` in its README.

``for_engine(text, performs_tags)`` is the one call; each engine makes it on the text it is given
(``Engine.speakable``). A tag is matched case-insensitively, whole, in square brackets; anything else in
brackets ("[1]", "[citation needed]") is text and stays.
"""

from __future__ import annotations

import re

from vox.text.tags import EVENT_TAGS, STYLE_TAGS, TAG_PATTERN, TAGS  # noqa: F401 (the tag list lives with the text)

_AROUND = re.compile(r"[ \t]*(?:" + TAG_PATTERN.pattern + r")[ \t]*", re.IGNORECASE)


def find_tags(text: str) -> list[str]:
    """The tags in ``text``, in order, as written."""
    return TAG_PATTERN.findall(text)


def strip_tags(text: str) -> str:
    """``text`` without its tags; the spaces around a tag collapse to one, and none is left before punctuation,
    around a line break or at either end."""
    if not TAG_PATTERN.search(text):
        return text
    out = _AROUND.sub(" ", text)
    out = re.sub(r" +([,.;:!?])", r"\1", out)
    out = re.sub(r" *\n *", "\n", out)
    return out.strip()


def for_engine(text: str, performs_tags: bool) -> str:
    """The text an engine should be given: tags kept where it performs them (``Capabilities.
    paralinguistic_tags``), removed everywhere else."""
    return text if performs_tags else strip_tags(text)
