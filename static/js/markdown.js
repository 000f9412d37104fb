/* Markdown to safe HTML: the page's one renderer of what an assistant wrote (the chat now; every reply card
 * later). Everything in the source is HTML-escaped before any markup is added, and the markup added is a
 * fixed set of tags without attributes except a title holding escaped text: a reply cannot inject HTML. Links
 * are shown as their text (the address in the tooltip): nothing in a reply navigates anywhere.
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
  s = s.replace(/!?\[([^\]\n]+)\]\(([^()\s]+)(?:\s+&quot;.*?&quot;)?\)/g, '<span class="md-link" title="$2">$1</span>');
  s = s.replace(/(\*\*\*|___)(?=\S)([\s\S]*?\S)\1/g, "<strong><em>$2</em></strong>");
  s = s.replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "<strong>$2</strong>");
  s = s.replace(/\*([^\s*](?:[^*]*?[^\s*])?)\*/g, "<em>$1</em>");
  s = s.replace(/(^|[^\w])_([^\s_](?:[^_]*?[^\s_])?)_(?!\w)/g, "$1<em>$2</em>");
  s = s.replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
  return s.replace(/\u0000(\d+)\u0000/g, (m, i) => `<code>${escapeHtml(codes[Number(i)])}</code>`);
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

/** Items {indent, ordered, start, text} as nested <ul>/<ol>. */
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
    html += `<li>${inline(it.text)}`;
  }
  while (stack.length) html += `</li></${stack.pop().tag}>`;
  return html;
}

/** Markdown to safe HTML: paragraphs, headings, lists, code blocks, quotes, tables, rules and inline marks.
 * A reply still streaming is fine: an unclosed code fence runs to the end, an unclosed mark stays as typed. */
export function renderMarkdown(src) {
  const lines = String(src || "").replace(/\r\n?/g, "\n").split("\n");
  const out = [];
  let para = [];
  let list = [];
  const flushPara = () => {
    if (para.length) out.push(`<p>${para.map((l) => inline(l.trim())).join("<br>")}</p>`);
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
      const body = [];
      const close = new RegExp(`^\\s{0,3}${m[1][0] === "`" ? "`" : "~"}{${m[1].length},}\\s*$`);
      while (++i < lines.length && !close.test(lines[i])) body.push(lines[i]);
      if (i >= lines.length && body.length && !body[body.length - 1].trim()) body.pop(); // still being written
      const lang = m[2] ? ` data-lang="${escapeHtml(m[2])}"` : "";
      out.push(`<pre class="md-code"${lang}><code>${escapeHtml(body.join("\n"))}</code></pre>`);
    } else if (!line.trim()) {
      flushPara(); // a blank line inside a list keeps it going (a "loose" list)
      if (list.length && !(lines[i + 1] || "").match(RE.item) && !/^\s/.test(lines[i + 1] || "")) flushList();
    } else if ((m = line.match(RE.heading))) {
      flush();
      const level = Math.min(m[1].length + 2, 6);
      out.push(`<h${level} class="md-h">${inline(m[2])}</h${level}>`);
    } else if (RE.rule.test(line) && !(list.length && /^\s/.test(line))) {
      flush();
      out.push("<hr>");
    } else if ((m = line.match(RE.item))) {
      flushPara();
      const ordered = /\d/.test(m[2]);
      list.push({ indent: m[1].replace(/\t/g, "    ").length, ordered, start: ordered ? parseInt(m[2], 10) : 1, text: m[3] });
    } else if (list.length && (/^\s/.test(line) || !para.length)) {
      list[list.length - 1].text += ` ${line.trim()}`; // a wrapped list item
    } else if ((m = line.match(RE.quote))) {
      flush();
      const quoted = [m[1]];
      while (i + 1 < lines.length && (m = lines[i + 1].match(RE.quote))) quoted.push(m[1]) && i++;
      out.push(`<blockquote>${quoted.map((q) => inline(q)).join("<br>")}</blockquote>`);
    } else if (line.includes("|") && RE.tableSep.test(lines[i + 1] || "")) {
      flush();
      const head = cells(line);
      const rows = [];
      i++;
      while (i + 1 < lines.length && lines[i + 1].includes("|") && lines[i + 1].trim()) rows.push(cells(lines[++i]));
      const tr = (cs, tag) => `<tr>${cs.map((c) => `<${tag}>${c}</${tag}>`).join("")}</tr>`;
      out.push(`<table><thead>${tr(head, "th")}</thead><tbody>${rows.map((r) => tr(r, "td")).join("")}</tbody></table>`);
    } else {
      flushList();
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
