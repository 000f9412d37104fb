"""SpeechStream: speakable sentences (strings) from markdown deltas, for callers that chunk themselves.

The server uses the planner (planner.py), which also gives chunks and offsets; this is the string-only
stream that existed before it, kept for callers and tests that want sentences alone.
"""

from __future__ import annotations

from vox.text.chars import need_str
from vox.text.markdown import MarkdownStream
from vox.text.sentences import SentenceStream


class SpeechStream:
    """Speakable sentences from markdown deltas: MarkdownStream -> SentenceStream.

    Over any cutting of a reply, feed() outputs plus flush() equal
    split_sentences(normalize_for_speech(reply), 1). A server streaming an LLM reply calls feed() with
    each delta as it arrives, synthesises (or hands to a ChunkStream) what comes back, and calls flush()
    when the reply ends. Use one stream per reply.
    """

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
