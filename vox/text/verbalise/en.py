"""English: the words the rules say, as tables (the rules themselves are language-neutral patterns).

US usage, to match the default voice (Joe, en_US): no "and" inside numbers, "March fifteenth" for dates
unless the reply's date order is day-first, "zero" in a phone number, a house number in pairs ("1234 Elm St"
is "twelve thirty-four Elm Street"). British usage (en-GB and the other day-first Englishes) is en_gb.py,
which changes only what differs. To add a language, write ``xx.py`` with the same names and add it in
``language.py``; the number words come from num2words in that language. Addresses, keys and code: en_more.py.
"""

from __future__ import annotations

import vox.text.verbalise.en_numbers as en_numbers
from vox.text.verbalise.en_more import *  # noqa: F403 (addresses, keys, code: their own module, same names)

NUMBER_WORDS = en_numbers
"""Number words: cardinal, ordinal and year (languages without one use num2words)."""

CODE = "en"
WORDS = {
    "point": "point", "minus": "minus", "to": "to", "by": "by", "times": "times", "per": "per", "and": "and",
    "of": "of", "the": "the", "version": "version", "number": "number", "numbers": "numbers", "percent": "percent",
    "dot": "dot", "at": "at", "slash": "slash", "dash": "dash", "tilde": "tilde", "colon": "colon",
    "backslash": "backslash", "am": "a m", "pm": "p m", "oclock": "o'clock", "hundred": "hundred", "oh": "oh",
    "degrees": "degrees", "over": "over", "plus": "plus", "hour": "hour", "hours": "hours", "minute": "minute",
    "minutes": "minutes", "second": "second", "seconds": "seconds", "day": "day", "days": "days", "week": "week",
    "weeks": "weeks", "a": "a", "power": "to the power of", "hex": "hex", "underscore": "underscore",
    "dunder": "dunder", "hashtag": "hashtag", "caret": "caret", "star": "star", "dollar": "dollar",
}  # fmt: skip
DAY_FIRST = False
"""How an all-number date whose order is ambiguous ("03/04/2025") is read, and how dates are said ("April
third"), unless ``[text] date_order`` says otherwise."""
ZERO = "zero"
"""Zero said alone in a phone number, a code or an identifier (British English says "oh")."""
HOUSE_NUMBERS = "pairs"
"""A house number: "pairs" ("1234 Elm St": "twelve thirty-four") or "cardinal" ("one thousand two hundred ...")."""
DROP_AND = True  # "one hundred three", not "one hundred and three"

FRACTIONS = {2: ("half", "halves"), 4: ("quarter", "quarters")}
"""Denominators with a name of their own; others are the ordinal ("third", "thirds")."""
VULGAR_FRACTIONS = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5),
                    "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅛": (1, 8), "⅜": (3, 8), "⅝": (5, 8),
                    "⅞": (7, 8)}  # fmt: skip
"""One character fractions: "½" is "one half", "3½" "three and a half"."""
POWERS = {"²": "squared", "³": "cubed"}
"""A superscript after a letter or number ("x²"); other powers ("2^10") are "to the power of"."""
PER_WORDS = frozenset(
    "second sec minute min hour hr day week wk month mo year yr night person user seat request item unit".split()
)
"""After a slash these make it "per" ("$5/month", "requests/second")."""

SCALES = {
    "k": "thousand", "K": "thousand", "thousand": "thousand", "m": "million", "M": "million", "mn": "million",
    "MM": "million", "million": "million", "b": "billion", "B": "billion", "bn": "billion", "billion": "billion",
    "t": "trillion", "T": "trillion", "tn": "trillion", "trillion": "trillion",
}  # fmt: skip

# symbol or code -> (one, many, cent one, cent many); a cent of None: read the decimals as a decimal number
CURRENCIES: dict[str, tuple[str, str, str | None, str | None]] = {
    "$": ("dollar", "dollars", "cent", "cents"), "US$": ("U S dollar", "U S dollars", "cent", "cents"),
    "A$": ("Australian dollar", "Australian dollars", "cent", "cents"),
    "C$": ("Canadian dollar", "Canadian dollars", "cent", "cents"),
    "NZ$": ("New Zealand dollar", "New Zealand dollars", "cent", "cents"),
    "HK$": ("Hong Kong dollar", "Hong Kong dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", None, None), "₹": ("rupee", "rupees", "paisa", "paise"), "₩": ("won", "won", None, None),
    "₽": ("ruble", "rubles", "kopek", "kopeks"), "₿": ("bitcoin", "bitcoin", None, None),
    "₺": ("lira", "lira", "kurus", "kurus"), "₪": ("shekel", "shekels", "agora", "agorot"),
    "₱": ("peso", "pesos", "centavo", "centavos"), "₦": ("naira", "naira", "kobo", "kobo"),
    "USD": ("U S dollar", "U S dollars", "cent", "cents"), "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"), "JPY": ("yen", "yen", None, None),
    "CNY": ("yuan", "yuan", None, None), "RMB": ("yuan", "yuan", None, None),
    "INR": ("rupee", "rupees", "paisa", "paise"), "CAD": ("Canadian dollar", "Canadian dollars", "cent", "cents"),
    "AUD": ("Australian dollar", "Australian dollars", "cent", "cents"),
    "CHF": ("Swiss franc", "Swiss francs", "centime", "centimes"), "SEK": ("krona", "kronor", None, None),
    "NOK": ("krone", "kroner", None, None), "DKK": ("krone", "kroner", None, None),
    "BTC": ("bitcoin", "bitcoin", None, None), "ETH": ("ether", "ether", None, None),
}  # fmt: skip
CENT_SIGN = ("cent", "cents")  # "99¢"

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
MONTH_ABBREVIATIONS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
    "nov": 11, "dec": 12,
}  # fmt: skip
WEEKDAYS = {
    "mon": "Monday", "tue": "Tuesday", "tues": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "thur": "Thursday",
    "thurs": "Thursday", "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}  # fmt: skip
DECADES = {2: "twenties", 3: "thirties", 4: "forties", 5: "fifties", 6: "sixties", 7: "seventies", 8: "eighties",
           9: "nineties"}  # fmt: skip
TIME_ZONES = frozenset(
    "UTC GMT EST EDT CST CDT MST MDT PST PDT AKST HST CET CEST EET EEST WET BST IST JST KST AEST AEDT NZST".split()
)

# Abbreviations with a period, lower case without it -> what is said. Every one in vox/text/abbreviations/en.py
# is here (tests check), so no "Dr." reaches Piper, whose phonemiser would end a sentence there.
ABBREVIATIONS = {
    "mr": "Mister", "mrs": "Missus", "ms": "Miz", "mx": "Mix", "dr": "Doctor", "prof": "Professor", "st": "Saint",
    "mt": "Mount", "ft": "Fort", "rev": "Reverend", "hon": "Honorable", "gov": "Governor", "sen": "Senator",
    "rep": "Representative", "gen": "General", "col": "Colonel", "capt": "Captain", "cpt": "Captain",
    "lt": "Lieutenant", "sgt": "Sergeant", "maj": "Major", "adm": "Admiral", "cmdr": "Commander",
    "pres": "President", "supt": "Superintendent", "fr": "Father", "messrs": "Messieurs", "mme": "Madame",
    "mlle": "Mademoiselle", "e.g": "for example", "i.e": "that is", "vs": "versus", "cf": "compare",
    "viz": "namely", "approx": "approximately", "incl": "including", "resp": "respectively",
    "w.r.t": "with respect to", "etc": "et cetera", "co": "Company", "inc": "Incorporated", "ltd": "Limited",
    "corp": "Corporation", "llc": "L L C", "plc": "P L C", "jr": "Junior", "sr": "Senior", "al": "al",
    "bros": "Brothers", "esq": "Esquire", "no": "number", "nos": "numbers", "nr": "number", "n°": "number",
    "nº": "number", "p": "page", "pp": "pages", "vol": "volume", "vols": "volumes", "fig": "figure",
    "figs": "figures", "ch": "chapter", "chap": "chapter", "sec": "section", "sect": "section", "art": "article",
    "para": "paragraph", "pg": "page", "eq": "equation", "ex": "example", "op": "opus", "ed": "edition",
    "ver": "version", "ca": "circa", "tel": "telephone", "ref": "reference", "apt": "apartment", "rm": "room",
    "ste": "suite", "pt": "part", "pts": "points", "dept": "Department", "univ": "University",
    "assn": "Association", "bldg": "Building", "ave": "Avenue", "blvd": "Boulevard", "rd": "Road",
    "hwy": "Highway", "govt": "Government", "intl": "International", "natl": "National", "dist": "District",
    "est": "established", "avg": "average", "max": "maximum", "min": "minimum", "hrs": "hours", "mins": "minutes",
    "a.m": "a m", "p.m": "p m", "ph.d": "P H D", "u.s": "U S", "u.k": "U K", "e.u": "E U", "u.n": "U N",
    "u.s.a": "U S A", "d.c": "D C", "ext": "extension",
}  # fmt: skip
STREET = "Street"  # "Baker St." (after a name), where "St. Patrick" is Saint
DRIVE = "Drive"  # "Elm Dr." (after a name, nothing capitalised after)
BEFORE_NUMBER = frozenset(
    "no nos nr n° nº p pp vol vols fig figs ch chap sec sect art para pg eq ex op ed ver pt".split()
)
"""Said only before a number ("p. 55" is "page fifty-five"; "p." elsewhere is an initial)."""

# All-capital words said as words rather than spelled; everything else in capitals is spelled ("F B I").
# Decided by measurement (Piper's Joe, then Whisper base, "The X is ready now." said as the word and as
# letters, 42 initialisms): NASA, NATO, RAM and ASCII are heard right only as words; GIF, PIN, LAN, CRUD,
# CUDA and TOML said as words were heard as "gift", "pen", "land", "cred", "queue" and "tumble", and right
# when spelled, so they are spelled. JSON stays a word ("jay-son", which Whisper writes "Jason").
ACRONYM_WORDS = frozenset(
    """NASA NATO UNESCO UNICEF RAM ROM JPEG JSON YAML WAN CAPTCHA LASER RADAR SCUBA FIFA OPEC
    SIM GUI WYSIWYG AIDS COVID LIDAR FEMA IKEA SWAT POSIX ASCII DOS MIDI OK NAT WASM REST AJAX
    SAML OAUTH LINQ ISO ANSI IEEE NASDAQ ZIP SOAP VISA WIFI NOAA OSHA ASAP FAQ""".split()
)
SAID_AS = {"OK": "okay", "IEEE": "I triple E", "WIFI": "wifi", "FAQ": "F A Q", "ASAP": "A S A P",
           "ISO": "I S O", "SQL": "sequel", "NGINX": "engine x", "OAUTH": "O auth"}  # fmt: skip

UNITS: dict[str, tuple[str, str]] = {
    "km": ("kilometer", "kilometers"), "m": ("meter", "meters"), "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"), "µm": ("micrometer", "micrometers"), "nm": ("nanometer", "nanometers"),
    "mi": ("mile", "miles"), "ft": ("foot", "feet"), "yd": ("yard", "yards"), "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"), "mg": ("milligram", "milligrams"), "µg": ("microgram", "micrograms"),
    "t": ("ton", "tons"), "lb": ("pound", "pounds"), "lbs": ("pounds", "pounds"), "oz": ("ounce", "ounces"),
    "L": ("liter", "liters"), "l": ("liter", "liters"), "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"), "dl": ("deciliter", "deciliters"), "cl": ("centiliter", "centiliters"),
    "gal": ("gallon", "gallons"), "tsp": ("teaspoon", "teaspoons"), "tbsp": ("tablespoon", "tablespoons"),
    "°C": ("degree Celsius", "degrees Celsius"), "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"), "K": ("kelvin", "kelvin"), "W": ("watt", "watts"), "kW": ("kilowatt", "kilowatts"),
    "MW": ("megawatt", "megawatts"), "GW": ("gigawatt", "gigawatts"), "Wh": ("watt hour", "watt hours"),
    "kWh": ("kilowatt hour", "kilowatt hours"), "mAh": ("milliamp hour", "milliamp hours"), "V": ("volt", "volts"),
    "kV": ("kilovolt", "kilovolts"), "mA": ("milliamp", "milliamps"), "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"), "MHz": ("megahertz", "megahertz"), "GHz": ("gigahertz", "gigahertz"),
    "B": ("byte", "bytes"), "KB": ("kilobyte", "kilobytes"), "kB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"), "GB": ("gigabyte", "gigabytes"), "TB": ("terabyte", "terabytes"),
    "PB": ("petabyte", "petabytes"), "KiB": ("kibibyte", "kibibytes"), "MiB": ("mebibyte", "mebibytes"),
    "GiB": ("gibibyte", "gibibytes"), "TiB": ("tebibyte", "tebibytes"), "Kb": ("kilobit", "kilobits"),
    "Mb": ("megabit", "megabits"), "Gb": ("gigabit", "gigabits"), "kbps": ("kilobit per second", "kilobits per second"),
    "Mbps": ("megabit per second", "megabits per second"), "Gbps": ("gigabit per second", "gigabits per second"),
    "mph": ("mile per hour", "miles per hour"), "kph": ("kilometer per hour", "kilometers per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"), "m/s": ("meter per second", "meters per second"),
    "MB/s": ("megabyte per second", "megabytes per second"), "GB/s": ("gigabyte per second", "gigabytes per second"),
    "KB/s": ("kilobyte per second", "kilobytes per second"), "px": ("pixel", "pixels"), "dB": ("decibel", "decibels"),
    "kcal": ("kilocalorie", "kilocalories"), "cal": ("calorie", "calories"), "fps": ("frame per second",
    "frames per second"), "rpm": ("R P M", "R P M"), "ms": ("millisecond", "milliseconds"),
    "µs": ("microsecond", "microseconds"), "ns": ("nanosecond", "nanoseconds"), "s": ("second", "seconds"),
    "sec": ("second", "seconds"), "secs": ("seconds", "seconds"), "min": ("minute", "minutes"),
    "mins": ("minutes", "minutes"), "h": ("hour", "hours"), "hr": ("hour", "hours"), "hrs": ("hours", "hours"),
    "d": ("day", "days"), "wk": ("week", "weeks"), "yr": ("year", "years"), "yrs": ("years", "years"),
    "x": ("times", "times"), "×": ("times", "times"), "sq ft": ("square foot", "square feet"),
    "m²": ("square meter", "square meters"), "km²": ("square kilometer", "square kilometers"),
    "m2": ("square meter", "square meters"), "m³": ("cubic meter", "cubic meters"),
    "mmHg": ("millimeter of mercury", "millimeters of mercury"),
}  # fmt: skip
DURATION_UNITS = {"h": "h", "m": "min", "s": "s", "d": "d", "ms": "ms", "w": "wk"}
"""Glued durations "2h 15m 30s": the letter -> the unit above."""

SYMBOLS = {"&": "and", "+": "plus", "=": "equals", "×": "times", "÷": "divided by", "±": "plus or minus",
           "≈": "approximately", "~": "about", "<": "less than", ">": "greater than", "≤": "at most",
           "≥": "at least", "→": "to", "%": "percent", "@": "at", "#": "number", "°": "degrees", "–": "to",
           "<=": "at most", ">=": "at least", "->": "to", "=>": "to", "≠": "is not", "!=": "is not"}  # fmt: skip
"""A symbol standing alone; glued between two words, "&" "=" "+" "→" and an en dash ("R&D", "x=5", "Mon–Fri")
are said too."""
BEFORE_NUMBERS = {"~": "about", "∼": "about", "≈": "approximately", ">": "more than", "<": "less than",
                  ">=": "at least", "≥": "at least", "<=": "at most", "≤": "at most", "±": "plus or minus",
                  "+/-": "plus or minus", "^": "caret"}  # fmt: skip
"""A symbol glued to a number: "~4%" about four percent, ">10%" more than ten percent, "^1.2" caret (a
version range; "~1.2" in a code span is "tilde one point two")."""

ROMAN_AFTER = frozenset(
    "chapter part volume book act phase stage episode section article title class level type war season round "
    "world appendix tier grade vol ch chap pt bk sec sect art bowl scene canto psalm plate figure fig no".split()
)
"""A Roman numeral after these is a cardinal ("Chapter four", "Vol. three", "Super Bowl fifty-eight")."""
DIGITS_AFTER = frozenset(
    """code pin otp passcode zip extension ext serial order tracking account acct invoice ticket confirmation
    reference ref case customer member policy booking receipt transaction id sku routing""".split()
)
"""Numbers after these are identifiers, read digit by digit in groups ("order four eight two, one nine three")."""
PAIRS_AFTER = frozenset(
    "port flight route model room gate bus platform suite unit apartment highway hwy rte interstate rfc iso pep"
    .split()
)
"""Numbers after these are read in pairs ("port eighty eighty", "flight nine oh one")."""
VERSION_AFTER = frozenset(
    """version release v ver update build patch python node ruby java go rust php perl ios android macos ubuntu
    debian fedora kotlin swift django react vue angular chrome firefox bluetooth usb http tls ssl gcc clang llvm
    postgres postgresql mysql redis numpy pandas torch pytorch tensorflow cuda linux kernel api sdk
""".split()
)
"""A dotted number after these is a version ("Python three point twelve"), elsewhere a decimal."""
NUMBER_AFTER = {word: "digits" for word in DIGITS_AFTER} | {word: "pairs" for word in PAIRS_AFTER} | {
    word: "version" for word in VERSION_AFTER} | {word: "phone" for word in ("call", "dial", "text")}  # fmt: skip
"""How a number after a word reads, one lookup for the three tables above; a word in NUMBER_FILLERS may
stand between ("order number is 4839203")."""
NUMBER_FILLERS = frozenset("to is at of the was as be = : number no num nr ~ ^ > < >= <= == ≥ ≤ v".split())
EMERGENCY = frozenset("911 999 112 988 000 111".split())
"""Emergency numbers, said digit by digit after "call" or "dial" ("call nine one one")."""
LOWER_WORDS = {"src": "source", "utils": "utils", "config": "config", "init": "init", "lib": "lib"}
"""Path and identifier parts said as words."""

MONTH_PATTERN = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
                 r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b")  # fmt: skip
"""A month as written, capitalised (a lower-case "may" or "march" is a verb)."""
WEEKDAY_PATTERN = r"(?:Mon|Tues?|Wed|Thu(?:rs?)?|Fri|Sat|Sun)\b"
WEEKDAY_AT_END = r"(?:Mon|Tues?|Wed|Thu(?:rs?)?|Fri)"
"""Before a comma that ends the piece ("The office reopens on Tue," opens a reply, "Sep 3." follows): a
weekday all the same ("Sun" and "Sat" there are more often words)."""
TIME_PREPOSITIONS = frozenset("at by until till from since before after around about".split())
"""Before "1:45:30" these make it a time of day; elsewhere it is a duration."""
SPECIALS = {"24/7": "twenty-four seven", "and/or": "and or", "w/o": "without", "w/": "with", "n/a": "N A",
            "N/A": "N A", "c/o": "care of", "a/c": "A C", "TCP/IP": "T C P I P", "I/O": "I O"}  # fmt: skip
"""Written forms said as a fixed phrase."""
