"""Speech text: what the engine says for an assistant's markdown reply, cut into sentences and chunks, with
the place in the reply every spoken piece comes from.

Pure Python, no engine (num2words for number words). The server plans every reply with one SpeechPlanner:

    planner = SpeechPlanner(group_size, max_chars, first_chunk_chars, opening_clause, lang="en")
    for delta in llm_deltas:              # or: chunks = planner.plan(whole_reply)
        for chunk in planner.feed(delta):
            synthesise(chunk.text)        # chunk.pieces: (text, start, end, sentence) into the raw reply
    for chunk in planner.end():
        synthesise(chunk.text)

The modules, one concern each:

    chars.py          character classes shared by every stage (terminators, closers, emoji, CJK)
    abbreviations/    per-language abbreviation tables (en.py; others fall back to English)
    scanner.py        the sentence scanner: one cursor over a growing text, never a rescan
    inline.py         one markdown token as it is said, and where its characters came from
    markdown.py       normalize_for_speech, MarkdownStream (string), MarkdownSegments (with offsets)
    tags.py           paralinguistic tags ("[laugh]"), kept verbatim by every stage for the engine to decide
    verbalise/        each piece as said: numbers, money, dates, units, abbreviations, code ("$5" -> "five
                      dollars"), with where each rewrite came from
    spans.py          Piece, Chunk, segments and the map from speech text back to the reply
    chunks.py         the chunk policy: pieces (Cutter) and grouping (Groups)
    planner.py        SpeechPlanner: all of the above for one reply (sentences found on the text as written,
                      then each piece verbalised)

SpeechPlanner is the one streaming API: it gives exactly what its one-shot ``plan`` gives, however the input
is cut into deltas, because ``plan`` *is* the planner fed everything at once. Markdown must go through it
rather than through normalize_for_speech per delta: a delta can end inside a word, a link or a code fence.
The string APIs that came before it (split_sentences, SentenceStream, SpeechStream, ChunkStream) are the
bench's baselines (bench/baselines.py), not part of Vox.

Library or own code, decided by measurement (bench/bench_text.py): pySBD 0.3.4 installs and runs on
Python 3.11 and passes 47 of the 48 English Golden Rules, but it takes 0.35 to 2.8 s to segment a
10,000-word reply depending on the text (target 50 ms), cannot be fed deltas, and is unmaintained. This
package passes 48 of 48 in under 10 ms and streams, so Vox does not depend on pySBD; its shape (a facade
over one module per rule family) is pySBD's.
"""

from __future__ import annotations

from vox.text.chars import speakable
from vox.text.markdown import CODE_BLOCK_NOTE, normalize_for_speech
from vox.text.planner import SpeechPlanner
from vox.text.spans import Chunk, Piece

__all__ = ["CODE_BLOCK_NOTE", "Chunk", "Piece", "SpeechPlanner", "normalize_for_speech", "speakable"]
