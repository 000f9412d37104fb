"""Inline markdown: one whitespace-free token of a reply rewritten as it is said.

Every token is rewritten on its own (no construct is matched across spaces), which is what lets the
markdown layer stream: a token is final once the space after it has arrived. Emphasis, link targets,
inline-code ticks, footnote marks, HTML tags and emoji go; a link keeps its text, a bare URL becomes its
host name (and a repository's owner and name: "github.com/owner/name"), an escaped character stays itself.
Inside a code span (which may run over several tokens: the caller carries the open backticks from one to the
next) every character is kept as written, and the verbaliser is told where it is (``spoken_code_token``).
"""

from __future__ import annotations

import re

from vox.text.chars import EMOJI_RANGES
from vox.text.spans import Segment

# A token with none of these is said as it is (the fast path; most tokens are plain words)
_SPECIAL = re.compile(
    r"[*_~`\[\]<>\\#]|://|www\.|[\U00010000-\U0010ffff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\u20e3"
    r"\ufe0e\ufe0f\u00ad\u200c-\u200f\u202a-\u202e\u2060-\u2069\ufeff]",
    re.IGNORECASE,
)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_ESC_BASE = 0xF0000  # escaped characters sit in a private plane until the marks are stripped
_UNESCAPE = re.compile("[\U000f0000-\U000f007f]")
_INVISIBLE_RE = re.compile("[\u00ad\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_EMOJI = re.compile(
    f"[{EMOJI_RANGES}\u231a\u231b\u23e9-\u23f3\u23f8-\u23fa\U000e0020-\U000e007f]"
    f"(?:[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]|\u200d[{EMOJI_RANGES}])*|[\ufe0e\ufe0f\u20e3]"
)
# (A failed match stops at the next bracket, so a giant token of "<b<b<b..." stays linear.)
_FOOTNOTE = re.compile(r"\[\^[^\[\]]*\]:?")
_LINK_TARGET = re.compile(r"\]\((?:[^()\[\]]|\([^()\[\]]*\))*\)|\]\[[^\[\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>]+|[^<>@]+@[^<>]+)>", re.IGNORECASE)
_HTML_TAG = re.compile(
    r"<(/?)(br|hr|p|div|b|i|u|s|em|strong|del|ins|mark|small|sub|sup|kbd|code|span)\b[^<>]*/?>", re.IGNORECASE
)
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"`]+", re.IGNORECASE)
_MARKS = frozenset("*_[]#")
_REPOSITORY = re.compile(r"/[\w.-]+/[\w.-]+/?")
"""A path of exactly two parts: a repository's owner and name (GitHub, GitLab, Hugging Face ...)."""
_TICKS = re.compile(r"`+")
_CODE_BASE = 0x100000  # a code span's characters sit in a private plane while the token is rewritten
_CODED = re.compile("[\U00100000-\U0010ffff]+")
_EMOTICON = re.compile(r"[:;=]['-]?[()DPp/\\|]|<3")


def _host(m: re.Match[str]) -> str:
    """A URL as its host name ("https://www.example.com/a?b" -> "example.com"), keeping punctuation after."""
    url = m.group(0)
    end, opened, closed = len(url), url.count("("), url.count(")")
    while end and url[end - 1] in ".,;:!?'\")]}*_":
        if url[end - 1] == ")":
            if opened >= closed:
                break
            closed -= 1
        end -= 1
    url, tail = url[:end], url[end:]
    authority, *rest = re.split(r"([/?#])", re.sub(r"^[a-z]+://", "", url, flags=re.IGNORECASE), maxsplit=1)
    host = authority.rsplit("@", 1)[-1].split(":")[0]
    if host.lower().startswith("www."):
        host = host[4:]
    path = "".join(rest)
    if _REPOSITORY.fullmatch(path):  # "github.com/owner/name": the name is the point
        host += path.rstrip("/")
    return host + tail


def _strip_marks(tok: str) -> str:
    """Drop emphasis, link brackets and image marks at the edges of a token: "(**Note:**" -> "(Note:"."""
    n = len(tok)
    a = 0
    while a < n and not tok[a].isalnum():
        a += 1
    if a == n:  # no letter or digit: a lone "**" or "#" goes, a dash or "&" stays
        return "".join(ch for ch in tok.replace("~~", "") if ch not in _MARKS)
    b = n
    while not tok[b - 1].isalnum():
        b -= 1
    core = tok[a:b]
    keep = "#" if tok[a - 1 : a] == "#" else ""  # "#42", "#general": a number or a hashtag, not a heading
    lead = "".join(ch for ch in tok[:a].replace("![", "[").replace("~~", "") if ch not in _MARKS or ch == keep)
    trail = tok[b:].replace("~~", "")
    trail = "".join(ch for ch in trail if ch not in _MARKS or (ch == "]" and "[" in core))
    return lead + core + trail


def spoken_token(tok: str) -> str:
    """One whitespace-free piece of markdown as it is said; "" when nothing speakable is left."""
    if len(tok) <= 3 and _EMOTICON.fullmatch(tok):
        return ""
    if _SPECIAL.search(tok) is None:
        return tok
    tok = _ESCAPED.sub(lambda m: chr(_ESC_BASE + ord(m.group(1))), _UNESCAPE.sub("", tok))
    tok = _INVISIBLE_RE.sub("", _EMOJI.sub("", tok))
    tok = _LINK_TARGET.sub("]", _FOOTNOTE.sub("", tok))
    tok = _AUTOLINK.sub(r"\1", tok)
    tok = _HTML_TAG.sub(lambda m: " " if m.group(2).lower() in ("br", "hr", "p", "div") else "", tok)
    tok = _URL.sub(_host, tok.replace("`", ""))
    tok = " ".join(_strip_marks(part) for part in tok.split())
    return _UNESCAPE.sub(lambda m: chr(ord(m.group(0)) - _ESC_BASE), tok).strip()


def spoken_code_token(tok: str, ticks: str) -> tuple[str, list[tuple[int, int]], str]:
    """A token with backticks, or inside a code span that ``ticks`` (the backticks that opened it, "" for
    none) left open: (what is said, where the code is in it, the backticks still open after it). A code
    span's characters are kept exactly as written (no emphasis, link or URL rule touches them); the rest of
    the token is said as spoken_token says it. A span closes at a run of as many backticks as opened it."""
    parts: list[str] = []
    pos = 0
    for run in _TICKS.finditer(tok):
        part = tok[pos : run.start()]
        parts.append(_coded(part) if ticks else _CODED.sub("", part))
        if not ticks:
            ticks = run.group()
        elif run.group() == ticks:
            ticks = ""
        else:  # a shorter or longer run inside the span is code
            parts.append(_coded(run.group()))
        pos = run.end()
    parts.append(_coded(tok[pos:]) if ticks else _CODED.sub("", tok[pos:]))
    said = spoken_token("".join(parts))
    code = [m.span() for m in _CODED.finditer(said)]
    return _CODED.sub(lambda m: "".join(chr(ord(c) - _CODE_BASE) for c in m.group()), said), code, ticks


def _coded(text: str) -> str:
    """text moved into the private plane (characters beyond the first plane, emoji, are left out)."""
    return "".join(chr(_CODE_BASE + ord(c)) for c in text if ord(c) < 0x10000)


_LOOK = 256  # how far past a removed stretch (a link target, a URL's scheme) aligned() looks for what follows


def aligned(raw: str, said: str, start: int) -> list[Segment]:
    """Segments saying where each part of said (a token's speakable form) comes from in raw, the token as
    written at offset start: the exact characters when said is a substring ("**bold**" -> "bold", a URL ->
    its host); else a common last character ("[docs](https://x)." -> "docs" and ".") and, from the left,
    runs of characters matched in order, each at its earliest place unless that run stops inside a word and
    a longer one starts a little later ("host" after "https://www."). A character raw lacks (a space for
    "<br>") is a gap. Linear: every search looks a bounded distance ahead."""
    if said is raw:
        return [(said, start, start + len(raw))]
    at = raw.find(said)
    if at >= 0:
        return [(said, start + at, start + at + len(said))]
    n, m = len(raw), len(said)
    tail = 1 if n and m and raw[-1] == said[-1] else 0
    end, stop = n - tail, m - tail
    out: list[Segment] = []
    i = j = 0
    while i < stop:
        k = raw.find(said[i], j, min(end, j + _LOOK))
        if k < 0:
            out.append((said[i], start + j, start + j))
            i += 1
            continue
        r = _run(raw, k, end, said, i, stop)
        if r < stop - i and k + r < end and raw[k + r].isalnum():  # a word goes on that is not said: "https"
            longer = said[i : i + r + 3]
            k2 = raw.find(longer, k + 1, min(end, k + 1 + _LOOK + len(longer)))
            if k2 >= 0:
                k, r = k2, _run(raw, k2, end, said, i, stop)
        out.append((said[i : i + r], start + k, start + k + r))
        i, j = i + r, k + r
    if tail:
        out.append((said[-1], start + n - 1, start + n))
    return out


def _run(raw: str, k: int, end: int, said: str, i: int, stop: int) -> int:
    """How many characters match from raw[k] and said[i] on (at least one: raw[k] == said[i])."""
    r = 1
    while i + r < stop and k + r < end and raw[k + r] == said[i + r]:
        r += 1
    return r
