/* When each spoken piece is heard. A reply's schedule is the player's list of chunks (start/end on the audio
 * clock, in order, without gaps unless the server was late); each chunk's `pieces` say which sentences (or
 * parts of one) it speaks, with their offsets in the reply and `at`: seconds from the start of the chunk's
 * audio (its part 0) to where the piece starts. Where the server sends no `at`, a piece's start is estimated
 * by its share of the chunk's characters. Pure functions: the player asks them every tick.
 */

/** The parts of chunk `idx` in `chunks`, and where that chunk's audio starts and ends (so far). */
function chunkSpan(chunks, idx) {
  const parts = chunks.filter((c) => c.idx === idx);
  return { parts, start: parts[0].start, end: parts[parts.length - 1].end };
}

/** Audio-clock start time of each piece of chunk `c`. */
export function pieceTimes(chunks, c) {
  const pieces = c.pieces || [];
  const span = chunkSpan(chunks, c.idx);
  const chars = pieces.reduce((n, p) => n + p.text.length, 0) + Math.max(0, pieces.length - 1);
  let before = 0;
  return pieces.map((p) => {
    const estimate = span.start + (chars ? ((span.end - span.start) * before) / chars : 0);
    before += p.text.length + 1;
    return typeof p.at === "number" ? span.start + p.at : estimate;
  });
}

/**
 * What is heard at audio time `t`: {idx, piece, sentence: {start, end, sentence, js}} where `sentence` spans
 * every piece of that sentence scheduled so far (an opening clause and the rest of its sentence are one), or
 * null when nothing is (before the first chunk, between a late chunk and the next, after the end).
 */
export function heardAt(chunks, t) {
  let now = null;
  for (const c of chunks) if (c.start <= t && t < c.end) now = c;
  if (!now) return null;
  const first = chunks.find((c) => c.idx === now.idx);
  const pieces = first.pieces || [];
  if (!pieces.length) return { idx: now.idx, piece: null, sentence: null };
  const times = pieceTimes(chunks, first);
  let k = 0;
  while (k + 1 < pieces.length && times[k + 1] <= t) k++;
  const piece = pieces[k];
  let start = piece.start;
  let end = piece.end;
  for (const c of chunks) {
    if (c.part) continue;
    for (const p of c.pieces || []) {
      if (p.sentence !== piece.sentence) continue;
      start = Math.min(start, p.start);
      end = Math.max(end, p.end);
    }
  }
  return { idx: now.idx, piece, sentence: { start, end, sentence: piece.sentence, js: !!piece.js } };
}

/** How far into the reply (the `end` offset of the last piece begun by time `t`) the listener got: 0 if none. */
export function heardUpTo(chunks, t) {
  let upTo = 0;
  for (const c of chunks) {
    if (c.part || c.start > t) continue;
    const times = pieceTimes(chunks, c);
    (c.pieces || []).forEach((p, k) => {
      if (times[k] <= t) upTo = Math.max(upTo, p.end);
    });
  }
  return upTo;
}
