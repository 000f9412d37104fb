"""Voice ids and display names: ids become file names, so only a small safe alphabet is accepted, and
names are refused rather than silently cleaned when they hide or reorder text."""

from __future__ import annotations

import re
import unicodedata

from vox.errors import InvalidRequest

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
RESERVED_IDS = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})
"""Names Windows cannot use as file names."""
MAX_NAME_CHARS = 80

def check_voice_id(voice_id: str) -> str:
    """An id as given, or a 400: ids become file names, so only a small safe alphabet is accepted."""
    if isinstance(voice_id, str) and voice_id in RESERVED_IDS:
        raise InvalidRequest(f"{voice_id!r} is a reserved file name on Windows; choose another id")
    if not isinstance(voice_id, str) or not ID_PATTERN.fullmatch(voice_id):
        raise InvalidRequest(f"{voice_id!r} is not a valid voice id: use 1 to 64 of a-z, 0-9, '-' and '_', "
            "starting with a letter or digit",
        )
    return voice_id


def check_display_name(name: str) -> str:
    """A display name, trimmed; control and bidi-formatting characters are refused so a name cannot
    reorder or hide text in the UI."""
    if not isinstance(name, str):
        raise InvalidRequest(f"'name' must be a string, not {type(name).__name__}")
    name = name.strip()
    if not name:
        raise InvalidRequest("the voice name is empty")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"the voice name is {len(name)} characters; the limit is {MAX_NAME_CHARS}")
    odd = [c for c in name if unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp")]
    if odd:
        raise InvalidRequest(f"the voice name contains invisible or control characters ({''.join(odd)!a})")
    return name


def voice_id_from_name(name: str) -> str:
    """The id a display name gives: "Grandpa Jürgen" -> "grandpa-jurgen".

    Anything that looks like a path or an encoding trick is refused rather than cleaned up, so that what
    is stored is never a surprise: separators, "..", "%", look-alike characters (full-width letters,
    ligatures) and names with no ASCII letters or digits answer 400 and ask for an explicit id."""
    name = check_display_name(name)
    if any(c in name for c in "/\\%:") or ".." in name or name.startswith("."):
        raise InvalidRequest(f"the voice name {name!r} looks like a path; use letters, digits, spaces, - and _")
    if unicodedata.normalize("NFKC", name) != unicodedata.normalize("NFC", name):
        raise InvalidRequest(f"the voice name {name!a} uses look-alike characters (full-width letters, ligatures, "
            "superscripts); use plain letters, or send an 'id'",
        )
    folded = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).lower()
    if not folded.isascii():
        raise InvalidRequest(f"cannot make a file name from {name!r}; send an 'id' (a-z, 0-9, - and _)")
    slug = re.sub(r"[^a-z0-9_]+", "-", folded).strip("-_")[:64].strip("-_")
    if not slug:
        raise InvalidRequest(f"cannot make a file name from {name!r}; send an 'id' (a-z, 0-9, - and _)")
    return check_voice_id(slug)


def default_name(voice_id: str) -> str:
    return voice_id.replace("_", " ").replace("-", " ").strip().title() or voice_id
