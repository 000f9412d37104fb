"""EPUB books, read with ebooklib; each chapter's XHTML through lxml's HTML parser (never regular expressions).

Chapters follow the spine (the reading order); each is titled from the table of contents (EPUB 3 nav or
EPUB 2 NCX, whichever ebooklib read), else the document's first heading, else "Chapter N". Spine items marked
non-linear (notes, covers) and the navigation document itself are kept, excluded with the reason. The text of a
chapter is written as Markdown: headings as headings, list items as items, paragraphs as paragraphs, and every
character Markdown would take as a mark escaped, so prose is read exactly as printed.

Refused with a reason: a file that is not a ZIP, a damaged archive (bad checksums), an archive that would unpack
to far more than a book (a ZIP bomb), a missing or broken container or package file, and DRM: an EPUB whose
``META-INF/encryption.xml`` encrypts anything but fonts (font obfuscation is not DRM), or that carries Adobe's
``rights.xml``.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from urllib.parse import unquote

from vox.books.document import Document, SourceChapter, clean_title
from vox.errors import BadBook

MAX_UNPACKED = 256 * 2**20
"""An EPUB that unpacks to more than this is refused (a real novel unpacks to a few MB, pictures included)."""
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
BLOCKS = {"p", "div", "section", "article", "blockquote", "li", "tr", "td", "th", "pre", "dd", "dt", "figcaption",
          "header", "footer", "aside", "table", "ul", "ol", "dl", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
          "caption", "address", "main", "body"}  # fmt: skip
SKIP = {"script", "style", "head", "title", "svg", "math", "rt", "rp", "template", "noscript", "object", "iframe"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_MARKS = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~"})
"""Markdown marks in a book's prose, escaped so they are read as printed."""
DRM = ("This EPUB is protected by DRM (its text is encrypted), so Vox cannot read it. Use a copy without DRM, "
       "such as one you made yourself or bought DRM-free.")  # fmt: skip


def _damaged(detail: str) -> BadBook:
    return BadBook(f"This EPUB file is damaged ({detail}). Download it again, or export it from your e-book app "
                   "once more.")  # fmt: skip


def check_archive(data: bytes) -> None:
    """The checks ebooklib does not make: a sound archive of a sane size, and no DRM."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise _damaged("it is not a readable ZIP archive") from None
    with zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > MAX_UNPACKED:
            raise BadBook(f"This EPUB unpacks to more than {MAX_UNPACKED // 2**20} MB, far more than any book; "
                          "Vox does not open it.")  # fmt: skip
        names = {i.filename for i in infos}
        try:
            bad = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError, RuntimeError) as e:
            raise _damaged(f"{e}") from None
        if bad is not None:
            raise _damaged(f"{bad} fails its checksum")
        if "META-INF/rights.xml" in names:
            raise BadBook(DRM)
        if "META-INF/encryption.xml" in names:
            _check_encryption(zf.read("META-INF/encryption.xml"))
        if "META-INF/container.xml" not in names:
            raise _damaged("META-INF/container.xml is missing")


def _check_encryption(xml: bytes) -> None:
    from lxml import etree

    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        raise BadBook(DRM) from None
    for method in root.iter("{*}EncryptionMethod"):
        if method.get("Algorithm") not in FONT_OBFUSCATION:
            raise BadBook(DRM)


def _toc_titles(book) -> dict[str, str]:
    """href (file part, unquoted) -> the table of contents' title for it (the first one that names the file)."""
    from ebooklib import epub

    titles: dict[str, str] = {}
    stack = list(book.toc)[::-1]
    while stack:
        entry = stack.pop()
        if isinstance(entry, tuple | list):
            section, children = (entry[0], entry[1]) if len(entry) == 2 else (None, [])
            stack.extend(list(children)[::-1])
            entry = section
        if isinstance(entry, epub.Link | epub.Section) and getattr(entry, "href", None):
            href = unquote(entry.href.split("#", 1)[0])
            if href and entry.title and href not in titles:
                titles[href] = entry.title
    return titles


def html_to_markdown(content: bytes) -> tuple[str, str]:
    """A chapter's XHTML as Markdown, and its first heading ("" when it has none)."""
    import lxml.html
    from lxml import etree

    if not content.strip():
        return "", ""
    try:
        root = lxml.html.document_fromstring(content)
    except (etree.ParserError, ValueError):
        return "", ""
    blocks: list[str] = []
    buf: list[str] = []
    heading = ""
    skipping = 0

    def flush(tag: str) -> None:
        nonlocal heading
        text = " ".join("".join(buf).split())
        buf.clear()
        if not text:
            return
        if tag in HEADINGS:
            heading = heading or text
            blocks.append("#" * int(tag[1]) + " " + text.translate(_MARKS))
        elif tag == "li":
            blocks.append("- " + text.translate(_MARKS))
        else:
            blocks.append(text.translate(_MARKS))

    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else ""
        if event == "start":
            if not tag or tag in SKIP:
                skipping += 1
                continue
            if skipping:
                continue
            if tag in BLOCKS:
                flush("p")
            if el.text:
                buf.append(el.text)
        else:
            if not tag or tag in SKIP:
                skipping -= 1
            elif not skipping and tag in BLOCKS:
                flush(tag)
            if not skipping and el.tail:
                buf.append(el.tail)
    flush("p")
    return "\n\n".join(blocks), heading


def read_epub(data: bytes, fallback_title: str) -> Document:
    import ebooklib
    from ebooklib import epub

    check_archive(data)
    try:
        book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": False})
    except Exception as e:  # ebooklib raises KeyError, IndexError, lxml errors... for broken package files
        raise _damaged(f"its package file cannot be read: {e.__class__.__name__}") from None
    titles = book.get_metadata("DC", "title")
    creators = book.get_metadata("DC", "creator")
    doc = Document(clean_title(titles[0][0]) if titles and titles[0][0] else fallback_title,
                   clean_title(", ".join(c[0] for c in creators if c and c[0])), "epub")  # fmt: skip
    toc = _toc_titles(book)
    for number, (idref, linear) in enumerate(book.spine, 1):
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() not in (ebooklib.ITEM_DOCUMENT, ebooklib.ITEM_NAVIGATION):
            continue
        try:
            content = item.get_content()
        except Exception:
            content = b""
        text, heading = html_to_markdown(content)
        href = unquote(posixpath.normpath(item.get_name()))
        title = clean_title(toc.get(href) or toc.get(posixpath.basename(href)) or heading) or f"Chapter {number}"
        chapter = SourceChapter(title, text)
        if isinstance(item, epub.EpubNav) or "nav" in (getattr(item, "properties", None) or []):
            chapter.skipped = "it is the table of contents"
        elif str(linear).lower() == "no":
            chapter.skipped = "the book marks it as outside the reading order"
        doc.chapters.append(chapter)
    if not doc.chapters:
        raise BadBook("This EPUB has no chapters in its reading order (its spine is empty), so there is nothing to "
                      "read aloud.")  # fmt: skip
    return doc
