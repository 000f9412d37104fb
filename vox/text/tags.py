"""Paralinguistic tags ("[laugh]", "[clear throat]"): the list the text layer keeps verbatim through markdown
normalisation, sentence splitting and verbalisation, so that the engine decides (Chatterbox Turbo performs
them, every other engine removes them: vox/engines/tags.py). Here rather than with the engines so that the
text package imports no engine.
"""

from __future__ import annotations

import re

EVENT_TAGS = ("[clear throat]", "[sigh]", "[shush]", "[cough]", "[groan]", "[sniff]", "[gasp]", "[chuckle]", "[laugh]")
"""The sounds Resemble documents for Turbo (its demo app's EVENT_TAGS)."""
STYLE_TAGS = (
    "[angry]", "[fear]", "[surprised]", "[whispering]", "[advertisement]", "[dramatic]", "[narration]", "[crying]",
    "[happy]", "[sarcastic]",
)  # fmt: skip
"""Further tags in Turbo's tokenizer, undocumented upstream."""
TAGS = EVENT_TAGS + STYLE_TAGS

TAG_PATTERN = re.compile("|".join(re.escape(tag) for tag in TAGS), re.IGNORECASE)
"""One tag, whole; the text layer keeps what this matches verbatim (a tag is not a markdown link)."""

LONGEST = max(map(len, TAGS))
_LOWER = tuple(tag.lower() for tag in TAGS)


def may_be_tag(text: str) -> bool:
    """Whether text (the rest of a line still arriving) could still grow into a tag: "[clear thr"."""
    low = text.lower()
    return len(low) < LONGEST and any(tag.startswith(low) for tag in _LOWER)
