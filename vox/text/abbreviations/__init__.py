"""Abbreviation data per language, one module per language; ``for_language`` picks one.

English is the only table today and the fallback for every other language, which still splits well on
terminal punctuation. To add a language (Chatterbox Multilingual speaks 23): write ``xx.py`` defining
``ABBREVIATIONS`` the way ``en.py`` does, add it to ``_LANGUAGES`` and give it table tests.
"""

from __future__ import annotations

from vox.text.abbreviations import en
from vox.text.abbreviations.table import Abbreviations

__all__ = ["Abbreviations", "for_language"]

_LANGUAGES: dict[str, Abbreviations] = {"en": en.ABBREVIATIONS}


def for_language(lang: str | None) -> Abbreviations:
    """The table for a language code ("en", "en-GB", "de_DE"); English when there is none for it."""
    code = (lang or "en").replace("_", "-").split("-", 1)[0].lower()
    return _LANGUAGES.get(code, _LANGUAGES["en"])
