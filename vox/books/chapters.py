"""Chapters from a text's own structure: Markdown headings, or form feeds and "Chapter N" lines in plain text.

- Markdown: the outermost heading level that repeats is the chapter level. A single ``#`` heading above
  repeated ``##`` headings is the book's title; YAML front matter (``title:``, ``author:``) is read too.
  Headings inside code fences are code, not chapters.
- Plain text: form feeds (page breaks) cut chapters when there are any; otherwise lines such as "Chapter 4",
  "CHAPTER IV. The Storm", "Part Two" or "Epilogue", standing alone between blank lines. A text with neither is
  one chapter. Text before the first chapter heading (a title page, a preface without a heading) is kept as a
  chapter of its own, which the user can exclude or merge.
"""

from __future__ import annotations

import re

from vox.books.document import Document, SourceChapter, clean_title

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_NUMBER = r"(?:\d{1,4}|[IVXLCDM]{1,8}|[ivxlcdm]{1,8}|[A-Za-z]+(?:-[A-Za-z]+)?)"
_CHAPTER_LINE = re.compile(
    rf"^(?:(?:chapter|chap\.|part|book|section|letter)\s+{_NUMBER}\b[^\n]{{0,80}}"
    r"|(?:prologue|epilogue|preface|foreword|introduction|afterword|interlude)\b[^\n]{0,80})$",
    re.IGNORECASE,
)
_FRONT = re.compile(r"\A---\n(.*?)\n(?:---|\.\.\.)\n", re.DOTALL)
OPENING = "Opening"
"""The title of the text before a document's first chapter heading."""


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """YAML front matter's simple ``key: value`` lines, and the text after it."""
    m = _FRONT.match(text)
    if not m:
        return {}, text
    values = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().isidentifier():
            values[key.strip().lower()] = value.strip().strip("\"'")
    return values, text[m.end():]


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, text) of every ATX heading outside code fences."""
    out, fence = [], ""
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if m:
            mark = m.group(1)
            if not fence:
                fence = mark[0] * 3
            elif mark.startswith(fence):
                fence = ""
            continue
        if fence:
            continue
        h = _ATX.match(line)
        if h:
            out.append((i, len(h.group(1)), h.group(2)))
    return out


def _cut(lines: list[str], starts: list[tuple[int, str]], first_title: str) -> list[SourceChapter]:
    """Chapters starting at each (line, title); what comes before the first start is a chapter of its own."""
    chapters = []
    head = "\n".join(lines[: starts[0][0]]).strip()
    if head:
        heading = _ATX.match(head.split("\n", 1)[0])
        chapters.append(SourceChapter(clean_title(heading.group(2)) if heading else first_title, head))
    for k, (line, title) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        chapters.append(SourceChapter(clean_title(title) or f"Chapter {k + 1}", "\n".join(lines[line:end]).strip()))
    return chapters


def split_markdown(text: str, fallback_title: str) -> Document:
    meta, body = _front_matter(text)
    lines = body.split("\n")
    headings = _headings(lines)
    title = clean_title(meta.get("title", ""))
    levels = sorted({level for _, level, _ in headings})
    level = next((lv for lv in levels if sum(1 for _, x, _ in headings if x == lv) >= 2), None)
    tops = [h for h in headings if h[1] < level] if level is not None else []
    if level is not None and len(tops) == 1 and tops[0][1] == 1 and not title:
        title = clean_title(tops[0][2])  # one "# Title" above repeated "## Chapter" headings
    if not title:
        firsts = [h for h in headings if h[1] == 1]
        title = clean_title(firsts[0][2]) if len(firsts) == 1 else fallback_title
    doc = Document(title or fallback_title, clean_title(meta.get("author", "")), "markdown")
    if level is None:
        doc.chapters = [SourceChapter(doc.title, body.strip())]
        return doc
    starts = [(i, t) for i, lv, t in headings if lv == level]
    doc.chapters = _cut(lines, starts, OPENING)
    head = doc.chapters[0]
    if len(doc.chapters) > 1 and starts[0][0] > 0 and _only_title(head.text):
        doc.chapters[1].text = head.text + "\n\n" + doc.chapters[1].text  # the book opens by saying its title
        del doc.chapters[0]
    return doc


def _only_title(text: str) -> bool:
    """Whether a text before the first chapter is nothing but one heading (the book's title)."""
    lines = [line for line in text.split("\n") if line.strip()]
    return len(lines) == 1 and _ATX.match(lines[0]) is not None


def split_text(text: str, fallback_title: str) -> Document:
    first_line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    title = clean_title(first_line) if 0 < len(first_line) <= 80 and not _CHAPTER_LINE.match(first_line) else ""
    doc = Document(title or fallback_title, "", "text")
    if "\f" in text:
        pages = [p.strip() for p in text.split("\f")]
        pages = [p for p in pages if p]
        doc.chapters = [SourceChapter(_page_title(p, k), p) for k, p in enumerate(pages, 1)]
        return doc
    lines = text.split("\n")
    starts = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        alone = (i == 0 or not lines[i - 1].strip()) and (i + 1 >= len(lines) or not lines[i + 1].strip()
                                                          or _CHAPTER_LINE.match(stripped) is not None)  # fmt: skip
        if stripped and alone and _CHAPTER_LINE.match(stripped):
            starts.append((i, stripped))
    if len(starts) < 2:
        doc.chapters = [SourceChapter(doc.title, text.strip())]
        return doc
    doc.chapters = _cut(lines, starts, OPENING)
    head = doc.chapters[0]
    if starts[0][0] > 0 and len(head.text.split("\n")) == 1 and len(head.text) <= 80:
        doc.chapters[1].text = head.text + "\n\n" + doc.chapters[1].text  # the title line alone: said first
        del doc.chapters[0]
    return doc


def _page_title(page: str, number: int) -> str:
    """A form-feed chapter's title: its first line when that is short and reads like a heading."""
    first = page.split("\n", 1)[0].strip()
    return clean_title(first) if first and len(first) <= 80 and not first.endswith((".", ",", ";")) \
        else f"Chapter {number}"  # fmt: skip
