"""English tables for addresses, Roman numerals, keyboard shortcuts and code (part of en.py, imported there).

US postal usage (USPS abbreviations, two-letter state codes before a ZIP code); a British reader says the
same words. A state code is expanded where it cannot be anything else: before a ZIP code, or after a place
and a comma ("Austin, TX"); the codes that are also words ("OK", "IN", "ME") only before a ZIP code.
"""

from __future__ import annotations

STREETS = {
    "St": "Street", "Ave": "Avenue", "Av": "Avenue", "Blvd": "Boulevard", "Rd": "Road", "Dr": "Drive",
    "Ln": "Lane", "Ct": "Court", "Pl": "Place", "Sq": "Square", "Ter": "Terrace", "Terr": "Terrace",
    "Cir": "Circle", "Pkwy": "Parkway", "Hwy": "Highway", "Fwy": "Freeway", "Expy": "Expressway", "Trl": "Trail",
    "Cres": "Crescent", "Gdns": "Gardens", "Hts": "Heights", "Aly": "Alley", "Xing": "Crossing", "Plz": "Plaza",
    "Sta": "Station", "Ctr": "Center", "Rte": "Route", "Tpke": "Turnpike", "Mews": "Mews", "Cl": "Close",
}  # fmt: skip
"""Street types as written after a street's name ("Amphitheatre Pkwy"); "St" and "Dr" before a name are Saint
and Doctor instead."""
UNITS_IN_ADDRESSES = {"Apt": "Apartment", "Ste": "Suite", "Fl": "Floor", "Rm": "Room", "Bldg": "Building"}
"""Before a number or letter in an address ("Ste 200")."""
DIRECTIONS = {"N": "North", "S": "South", "E": "East", "W": "West", "NE": "Northeast", "NW": "Northwest",
              "SE": "Southeast", "SW": "Southwest"}  # fmt: skip
"""Between a house number and a street ("500 W 5th Ave"), or after a street type ("Pennsylvania Ave NW")."""
STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "DC": "D C", "PR": "Puerto Rico",
}  # fmt: skip
STATES_ONLY_BEFORE_ZIP = frozenset("OK OR IN ME HI ID AS DE CO AL LA PA MA MD MO GA NE SC MS MT DC PR SD AR UT "
                                   "CT".split())  # fmt: skip
"""Codes that are also words or other abbreviations: a state only before a ZIP code."""

REGNAL_NAMES = frozenset(
    """Henry Louis Charles Elizabeth George Edward William James John Paul Benedict Pius Leo Gregory Richard
    Mary Philip Frederick Alexander Peter Ivan Nicholas Catherine Napoleon Innocent Clement Boniface Urban
    Alfonso Ferdinand Gustav Christian Ludwig Otto Wilhelm Friedrich Felipe Juan Carlos Willem Harald Olav
    Haakon Ramesses Rameses Amenhotep Thutmose Ptolemy Antiochus Selim Mehmed Murad Constantine Justinian
    Rama Kamehameha Francis Sixtus Julius Adrian Victor Umberto Manuel Pedro Joao Sancho Casimir Sigismund
    Stanislaus Bolesław Vladimir Basil Michael David Robert Anne Matilda Stephen Canute
    Cnut Harold Æthelred Ethelred Edmund Edgar Eadred Magnus Eric Erik Valdemar Gustavus Christina Rudolf
    Maximilian Leopold Joseph Franz Karl Albert Baudouin Rainier Hassan Abdullah Hussein Faisal Farouk
    Fuad Mohammed Muhammad Reza Akihito Naruhito Hirohito""".split()
)
"""A Roman numeral after these names is an ordinal with "the" ("Henry the Eighth", "Pope Benedict the
Sixteenth"); after a title ("King", "Pope", "Queen") any name is."""
REGNAL_TITLES = frozenset("King Queen Pope Emperor Empress Tsar Czar Tsarina Kaiser Sultan Pharaoh Prince "
                          "Princess Duke Duchess Grand Shah Saint".split())  # fmt: skip

KEYS = {
    "Ctrl": "Control", "Control": "Control", "Cmd": "Command", "Command": "Command", "Alt": "Alt",
    "Option": "Option", "Opt": "Option", "Shift": "Shift", "Win": "Windows", "Super": "Super", "Meta": "Meta",
    "Fn": "Function", "⌘": "Command", "⌥": "Option", "⇧": "Shift", "⌃": "Control", "Esc": "Escape",
    "Escape": "Escape", "Enter": "Enter", "Return": "Return", "Tab": "Tab", "Space": "Space",
    "Backspace": "Backspace", "Del": "Delete", "Delete": "Delete", "Ins": "Insert", "Insert": "Insert",
    "Home": "Home", "End": "End", "PgUp": "Page Up", "PgDn": "Page Down", "PageUp": "Page Up",
    "PageDown": "Page Down", "Up": "Up", "Down": "Down", "Left": "Left", "Right": "Right", "PrtSc": "Print Screen",
    ",": "comma", ".": "period", "/": "slash", ";": "semicolon", "'": "quote", "[": "left bracket",
    "]": "right bracket", "\\": "backslash", "`": "backtick", "=": "equals", "-": "minus", "+": "plus",
}  # fmt: skip
MODIFIERS = ("Ctrl", "Control", "Cmd", "Command", "Alt", "Option", "Opt", "Shift", "Win", "Super", "Meta", "Fn")
"""A keyboard shortcut starts with one of these ("Ctrl+C" is "Control C", "Cmd+Shift+P" "Command Shift P")."""

TOLL_FREE = frozenset("800 888 877 866 855 844 833".split())
"""US toll-free codes, said as numbers ("eight hundred") in a phone number."""

CODE_SYMBOLS = {
    "=": "equals", "==": "equals equals", "!=": "not equals", ">=": "greater than or equal to",
    "<=": "less than or equal to", ">": "greater than", "<": "less than", "&&": "and", "||": "or", "|": "pipe",
    "&": "ampersand", "->": "arrow", "=>": "arrow", "::": "colon colon", ":": "colon", ";": "semicolon",
    "$": "dollar", "@": "at", "#": "hash", "%": "percent", "^": "caret", "~": "tilde", "*": "star",
    "**": "star star", "+": "plus", "+=": "plus equals", "-=": "minus equals", "-": "dash", "--": "dash dash",
    "/": "slash", "//": "slash slash", "\\": "backslash", "!": "bang", "?": "question mark", "..": "dot dot",
    "...": "dot dot dot", "<<": "less than less than", ">>": "greater than greater than", ",": ",",
    "→": "arrow", "≥": "greater than or equal to", "≤": "less than or equal to", "≠": "not equals", "×": "times",
}  # fmt: skip
"""How a developer says a symbol in code ("export PATH=$HOME/bin" is "export path equals dollar home slash
bin"); brackets and quotes are not said."""
SPELLED_IN_CODE = frozenset(
    """API URL URI ID UI UX CPU GPU TPU SSH SQL AWS GCP IP OS IO DB TTL UTC EOF PID UID GID TLS SSL DNS VPN USB
    CSV PDF HTML CSS XML UTF TCP UDP HTTP HTTPS SDK CLI AI ML LLM NPM JWT AMD CI CD PR QA SMS TTS STT VM CUDA
    TOML GIF PIN LAN CRUD MIME XSS CSRF RPC GRPC IDE SVG PNG JPG RGB HSL""".split()
)
"""Names in code said as letters ("API_KEY" is "A P I key"); other names in capitals are words ("PATH" is
"path"), as are those in ACRONYM_WORDS ("JSON")."""
