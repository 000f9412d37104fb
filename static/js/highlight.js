/* Highlight the words being spoken inside rendered text, with the CSS Custom Highlight API (no markup is
 * changed, so a reply still streaming can be re-rendered freely). The spoken text is the reply without its
 * markdown, so its words are looked up in order in the text the reader sees; a chunk whose words are not there
 * as such (a code block is said as "Here is some code") is just not highlighted. Once the server sends
 * sentence offsets, this is where they replace the search. */

const NAME = "vox-chat-now"; // the ::highlight() name in app.css

const supported = () => !!(window.CSS && CSS.highlights && typeof window.Highlight === "function");

export function clearSpoken() {
  if (supported()) CSS.highlights.delete(NAME);
}

/**
 * Highlight chunk `now` ({idx, text}) inside element `body`. `memo` is what the previous call for this body
 * returned (where that chunk was found), so a reply that says the same sentence twice is followed in order.
 * Returns the memo for the next call.
 */
export function highlightSpoken(body, now, memo) {
  if (!supported()) return memo;
  const words = now.text.toLowerCase().match(/[\p{L}\p{N}]+/gu);
  if (!words) {
    clearSpoken();
    return memo;
  }
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let flat = "";
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    nodes.push([n, flat.length]);
    flat += n.data;
  }
  const pattern = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[^\\p{L}\\p{N}]*");
  const re = new RegExp(pattern, "giu");
  // Search on from the chunk before, else from the start.
  const from = !memo ? 0 : memo.idx === now.idx ? memo.at : memo.idx < now.idx ? memo.end : 0;
  re.lastIndex = from;
  let m = re.exec(flat);
  if (!m && from) {
    re.lastIndex = 0;
    m = re.exec(flat);
  }
  if (!m) {
    clearSpoken();
    return memo;
  }
  const at = (pos, end) => {
    let i = nodes.length - 1;
    while (i > 0 && (end ? nodes[i][1] >= pos : nodes[i][1] > pos)) i--;
    return [nodes[i][0], pos - nodes[i][1]];
  };
  const range = document.createRange();
  range.setStart(...at(m.index, false));
  range.setEnd(...at(m.index + m[0].length, true));
  CSS.highlights.set(NAME, new Highlight(range));
  return { idx: now.idx, at: m.index, end: m.index + m[0].length };
}
