/* Highlight the sentence being heard inside a rendered reply, from the server's offsets (no text search).
 *
 * The server says where each spoken piece came from: `start`/`end` in the reply as it was sent, counted in
 * Python code points. markdown.js marks each block with the offset where its text starts (`data-src`); inside
 * a block, what is shown is the source with its marks left out, in order. So one pass over the rendered text
 * nodes maps every character shown to the source character it shows (sourceMap), and a piece's offsets become
 * a DOM Range (rangeOf). The highlight itself is the CSS Custom Highlight API: no markup changes, so a reply
 * still streaming can be re-rendered freely.
 */

const NAME = "vox-now"; // the ::highlight() name in app.css
const LOOKAHEAD = 400; // source characters a shown character may be ahead of the last one matched (marks, a URL)

const supported = () => !!(window.CSS && CSS.highlights && typeof window.Highlight === "function");

export function clearSpoken() {
  if (supported()) CSS.highlights.delete(NAME);
}

/** A function from Python code-point offsets in `text` to offsets in the JS (UTF-16) string. */
export function codePointOffsets(text) {
  if (!/[\uD800-\uDBFF]/.test(text)) return (n) => n;
  const js = [0];
  for (const ch of text) js.push(js[js.length - 1] + ch.length);
  return (n) => js[Math.max(0, Math.min(n, js.length - 1))];
}

const isSpace = (c) => c === " " || c === "\n" || c === "\t" || c === "\r" || c === "\u00a0";

/**
 * Map each character shown in `body` to its offset in `source` (the text that was rendered into it):
 * {nodes, node: Int32Array, at: Int32Array, src: Int32Array}, one entry per mapped character, in order.
 */
export function sourceMap(body, source) {
  const nodes = [];
  const node = [];
  const at = [];
  const src = [];
  let pos = 0;
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.nodeType === Node.ELEMENT_NODE) {
      if (n.dataset.src !== undefined) pos = Math.max(pos, Number(n.dataset.src) || 0);
      continue;
    }
    const k = nodes.push(n) - 1;
    const data = n.data;
    for (let i = 0; i < data.length; i++) {
      const c = data[i];
      const space = isSpace(c);
      const limit = Math.min(source.length, pos + LOOKAHEAD);
      let j = pos;
      while (j < limit && (space ? !isSpace(source[j]) : source[j] !== c)) j++;
      if (j >= limit) continue; // not in the source near here (a list number the browser adds is not text)
      node.push(k);
      at.push(i);
      src.push(j);
      pos = j + 1;
    }
  }
  return { nodes, node: Int32Array.from(node), at: Int32Array.from(at), src: Int32Array.from(src) };
}

/** First index in the sorted `arr` whose value is >= `value`. */
function lowerBound(arr, value) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The DOM Range showing source characters [start, end) (JS offsets), or null when none of them is shown. */
export function rangeOf(map, start, end) {
  const first = lowerBound(map.src, start);
  const last = lowerBound(map.src, end) - 1;
  if (first > last || first >= map.src.length) return null;
  const range = document.createRange();
  range.setStart(map.nodes[map.node[first]], map.at[first]);
  range.setEnd(map.nodes[map.node[last]], map.at[last] + 1);
  return range;
}

/** Highlight `range` (one at a time: one reply is heard at a time). */
export function showSpoken(range) {
  if (!supported()) return;
  if (range) CSS.highlights.set(NAME, new Highlight(range));
  else clearSpoken();
}

/** The text now highlighted ("" when none), for tests and the screenshot script. */
export function spokenText() {
  if (!supported() || !CSS.highlights.has(NAME)) return "";
  return [...CSS.highlights.get(NAME)].map((r) => r.toString()).join(" ");
}
