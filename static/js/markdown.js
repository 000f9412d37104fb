/* Markdown to safe HTML: the page's one renderer of replies (every reply card: the Speak tab's and the chat's).
 * Everything in the source is HTML-escaped before any markup is added, and the markup added is a fixed set of
 * tags whose only attributes are an escaped link address (http, https or mailto only; links open in a new
 * tab), a code block's language and `data-src`. A reply cannot inject HTML or script.
 *
 * `data-src` on each block (paragraph, heading, list item, code, quote, table row) is the offset in the source
 * where that block's text starts, so highlight.js can map the server's sentence offsets onto what is shown.
 * Inside a block, what is shown is the source with its marks left out, in order.
 * streamingText tidies a reply that is still being written so that what is shown only grows. */

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);

/** One line (or paragraph) of inline markdown: code spans, bold, italic, strikethrough, links. */
export function inline(src) {
  const codes = [];
  let s = String(src).replace(/\u0000/g, "");
  s = s.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (m, ticks, body) => {
    codes.push(body.replace(/^ (.*) $/, "$1"));
    return `\u0000${codes.length - 1}\u0000`;
  });
  s = escapeHtml(s);
  s = s.replace(/!?\[([^\]\n]+)\]\(([^()\s]+)(?:\s+&quot;.*?&quot;)?\)/g, (m, label, url) => link(url, label));
  // Bare addresses become links too (not inside a link or a tag).
  s = s.replace(/(<a\b[^>]*>[\s\S]*?<\/a>)|(<[^>]+>)|\bhttps?:\/\/(?:(?!&quot;|&#39;|&lt;|&gt;)[^\s<])+/g, (m, a, tag) => {
    if (a || tag) return m;
    const url = m.replace(/[.,;:!?)\]]+$/, "");
    return link(url, url) + m.slice(url.length);
  });
  s = s.replace(/(\*\*\*|___)(?=\S)([\s\S]*?\S)\1/g, "<strong><em>$2</em></strong>");
  s = s.replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "<strong>$2</strong>");
  s = s.replace(/\*([^\s*](?:[^*]*?[^\s*])?)\*/g, "<em>$1</em>");
  s = s.replace(/(^|[^\w])_([^\s_](?:[^_]*?[^\s_])?)_(?!\w)/g, "$1<em>$2</em>");
  s = s.replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
  return s.replace(/\u0000(\d+)\u0000/g, (m, i) => `<code>${escapeHtml(codes[Number(i)])}</code>`);
}

const SAFE_URL = /^(https?:\/\/|mailto:)/i;

/** A link to `url` (already escaped) showing `label` (escaped HTML); an address of another kind stays text. */
function link(url, label) {
  if (!SAFE_URL.test(url)) return `<span class="md-link">${label}</span>`;
  return `<a class="md-link" href="${url}" target="_blank" rel="noopener noreferrer">${label}</a>`;
}

const RE = {
  fence: /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/,
  heading: /^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/,
  rule: /^\s{0,3}([-*_])(?:\s*\1){2,}\s*$/,
  quote: /^\s{0,3}>\s?(.*)$/,
  item: /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/,
  tableSep: /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/,
};

function cells(line) {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => inline(c.trim()));
}

const at = (offset) => ` data-src="${offset}"`;

/** The lines of `src` and the offset where each starts (any line ending: offsets stay those of `src`). */
function linesOf(src) {
  const lines = [];
  const starts = [];
  let pos = 0;
  for (const m of src.matchAll(/\r\n?|\n/g)) {
    lines.push(src.slice(pos, m.index));
    starts.push(pos);
    pos = m.index + m[0].length;
  }
  lines.push(src.slice(pos));
  starts.push(pos);
  return { lines, starts };
}

/** Items {indent, ordered, start, text, src} as nested <ul>/<ol>. */
function renderList(items) {
  let html = "";
  const stack = [];
  const open = (it) => {
    const tag = it.ordered ? "ol" : "ul";
    html += it.ordered && it.start !== 1 ? `<ol start="${it.start}">` : `<${tag}>`;
    stack.push({ tag, indent: it.indent });
  };
  for (const it of items) {
    while (stack.length > 1 && it.indent < stack[stack.length - 1].indent) html += `</li></${stack.pop().tag}>`;
    const top = stack[stack.length - 1];
    if (!top || it.indent > top.indent + 1) open(it);
    else if (top.tag !== (it.ordered ? "ol" : "ul") && it.indent <= top.indent) {
      html += `</li></${stack.pop().tag}>`;
      if (stack.length) html += "</li>";
      open(it);
    } else html += "</li>";
    html += `<li${at(it.src)}>${inline(it.text)}`;
  }
  while (stack.length) html += `</li></${stack.pop().tag}>`;
  return html;
}

/** Markdown to safe HTML: paragraphs, headings, lists, code blocks, quotes, tables, rules and inline marks.
 * A reply still streaming is fine: an unclosed code fence runs to the end, an unclosed mark stays as typed. */
export function renderMarkdown(src) {
  const { lines, starts } = linesOf(String(src || ""));
  const out = [];
  let para = [];
  let paraAt = 0;
  let list = [];
  const flushPara = () => {
    if (para.length) out.push(`<p${at(paraAt)}>${para.map((l) => inline(l.trim())).join("<br>")}</p>`);
    para = [];
  };
  const flushList = () => {
    if (list.length) out.push(renderList(list));
    list = [];
  };
  const flush = () => {
    flushPara();
    flushList();
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if ((m = line.match(RE.fence))) {
      flush();
      const start = i;
      const body = [];
      const close = new RegExp(`^\\s{0,3}${m[1][0] === "`" ? "`" : "~"}{${m[1].length},}\\s*$`);
      while (++i < lines.length && !close.test(lines[i])) body.push(lines[i]);
      if (i >= lines.length && body.length && !body[body.length - 1].trim()) body.pop(); // still being written
      const lang = m[2] ? ` data-lang="${escapeHtml(m[2])}"` : "";
      const from = starts[Math.min(start + 1, lines.length - 1)];
      out.push(`<pre class="md-code"${lang}><code${at(from)}>${escapeHtml(body.join("\n"))}</code></pre>`);
    } else if (!line.trim()) {
      flushPara(); // a blank line inside a list keeps it going (a "loose" list)
      if (list.length && !(lines[i + 1] || "").match(RE.item) && !/^\s/.test(lines[i + 1] || "")) flushList();
    } else if ((m = line.match(RE.heading))) {
      flush();
      const level = Math.min(m[1].length + 2, 6);
      out.push(`<h${level} class="md-h"${at(starts[i])}>${inline(m[2])}</h${level}>`);
    } else if (RE.rule.test(line) && !(list.length && /^\s/.test(line))) {
      flush();
      out.push("<hr>");
    } else if ((m = line.match(RE.item))) {
      flushPara();
      const ordered = /\d/.test(m[2]);
      const indent = m[1].replace(/\t/g, "    ").length;
      list.push({ indent, ordered, start: ordered ? parseInt(m[2], 10) : 1, text: m[3], src: starts[i] });
    } else if (list.length && (/^\s/.test(line) || !para.length)) {
      list[list.length - 1].text += ` ${line.trim()}`; // a wrapped list item
    } else if ((m = line.match(RE.quote))) {
      flush();
      const quoted = [m[1]];
      const from = starts[i];
      while (i + 1 < lines.length && (m = lines[i + 1].match(RE.quote))) quoted.push(m[1]) && i++;
      out.push(`<blockquote${at(from)}>${quoted.map((q) => inline(q)).join("<br>")}</blockquote>`);
    } else if (line.includes("|") && RE.tableSep.test(lines[i + 1] || "")) {
      flush();
      const head = { cells: cells(line), src: starts[i] };
      const rows = [];
      i++;
      while (i + 1 < lines.length && lines[i + 1].includes("|") && lines[i + 1].trim()) {
        i++;
        rows.push({ cells: cells(lines[i]), src: starts[i] });
      }
      const tr = (row, tag) => `<tr${at(row.src)}>${row.cells.map((c) => `<${tag}>${c}</${tag}>`).join("")}</tr>`;
      out.push(`<table><thead>${tr(head, "th")}</thead><tbody>${rows.map((r) => tr(r, "td")).join("")}</tbody></table>`);
    } else {
      flushList();
      if (!para.length) paraAt = starts[i];
      para.push(line);
    }
  }
  flush();
  return out.join("");
}

/** The text of a reply still streaming, tidied for display so that it only grows: a last line that is only a
 * marker so far ("-", "##", "1.") is left out, a mark at its very end waits for the next token, and bold,
 * italic or code opened on it is closed for now, so the words show formatted while they arrive instead of
 * after a "**" that later disappears. */
export function streamingText(text) {
  const lines = text.split("\n");
  let last = lines.pop();
  const fences = (text.match(/^\s{0,3}(```|~~~)/gm) || []).length;
  if (fences % 2) return /^\s*[`~]*\s*$/.test(last) ? lines.join("\n") : text; // in a code block
  // A table shows once its separator line has come; a row once it is complete.
  const row = (l) => /^\s*\|/.test(l || "");
  if (row(last)) last = "";
  if (!last.trim() && row(lines[lines.length - 1]) && !row(lines[lines.length - 2])) lines.pop();
  const head = lines.length ? `${lines.join("\n")}\n` : "";
  if (/^\s*([-*+>#]+|\d+[.)]?|`{1,3}|~{1,3})\s*$/.test(last)) return head;
  last = last.replace(/[*_`]+$/, "").replace(/!?\[([^\]]*)(\](\([^)]*)?)?$/, "$1"); // a link: its text so far
  if ((last.match(/`/g) || []).length % 2) return `${head}${last}\``;
  const plain = last.replace(/`[^`]*`/g, (m) => " ".repeat(m.length)).replace(/^(\s*)[*+-](\s)/, "$1 $2");
  const open = [];
  const re = /\*\*\*|\*\*|\*/g;
  for (let m = re.exec(plain); m; m = re.exec(plain)) {
    const before = plain[m.index - 1] || " ";
    const after = plain[m.index + m[0].length] || " ";
    if (open.length && open[open.length - 1] === m[0] && /\S/.test(before)) open.pop();
    else if (/\S/.test(after)) open.push(m[0]);
  }
  return head + last + open.reverse().join("");
}
