"""British English (en-GB; en-IE, en-AU and en-NZ read these the same way): en.py's tables with what differs.

Dates are day-first ("03/04/2025" is "the third of April"), zero in a phone number or a code is "oh" ("020
7946 0958": "oh two oh, seven nine four six, oh nine five eight"), and a house number is a plain number
("221B Baker Street": "two hundred twenty-one B"). Numbers keep the US words otherwise (no "and").
"""

from __future__ import annotations

from vox.text.verbalise.en import *  # noqa: F403 (every table, then the British ones below)

CODE = "en"
DAY_FIRST = True
ZERO = "oh"
HOUSE_NUMBERS = "cardinal"
