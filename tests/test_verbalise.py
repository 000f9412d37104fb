"""Verbalisation (vox/text/verbalise/): tables of written -> spoken forms per family, the planner saying
them with offsets on the original reply, streamed as whole, and bad input that neither crashes nor loses or
repeats a word."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.baselines import split_sentences
from tests.text_strategies import PROPERTY, cut, markdown, realistic_text
from vox.config import ConfigError, load
from vox.text import SpeechPlanner
from vox.text.abbreviations import en as scanner_en
from vox.text.verbalise import Verbaliser, verbalise

# (written, spoken), one family per table, like pySBD's Golden Rules
NUMBERS = [
    ("The survey had 1,234 responses.", "The survey had one thousand two hundred thirty-four responses."),
    ("It dropped to -5 overnight.", "It dropped to minus five overnight."),
    ("Pi is 3.14159.", "Pi is three point one four one five nine."),
    ("About 2/3 of them.", "About two thirds of them."),
    ("One 1/2 cup.", "One one half cup."),
    ("She came 1st and he came 22nd.", "She came first and he came twenty-second."),
    ("Expect 5-10 minutes.", "Expect five to ten minutes."),
    ("The score was 3-2.", "The score was three to two."),
    ("Mix in a 3:1 ratio.", "Mix in a three to one ratio."),
    ("It has 1.5 million rows.", "It has one point five million rows."),
    ("Only 0.5% failed, 87% passed.", "Only zero point five percent failed, eighty-seven percent passed."),
    ("Between 5 and 10% of them.", "Between five and ten percent of them."),
    ("It grew 10-20% a year.", "It grew ten to twenty percent a year."),
    ("We counted 103 plums.", "We counted one hundred three plums."),
    ("Open 24/7, 3x faster.", "Open twenty-four seven, three times faster."),
    ("The 10k users.", "The ten thousand users."),
    ("2 + 2 = 4.", "two plus two equals four."),
    ("About ~5 people.", "About about five people."),
    ("Add 3½ cups, or ½ a cup.", "Add three and a half cups, or one half a cup."),
    ("It is x² + y².", "It is x squared plus y squared."),
    ("That is 2^10 bytes.", "That is two to the power of ten bytes."),
]  # fmt: skip
MONEY = [
    ("It costs $42.99 a month.", "It costs forty-two dollars and ninety-nine cents a month."),
    ("Tickets are €350 and £120.", "Tickets are three hundred fifty euros and one hundred twenty pounds."),
    ("They raised $2.5M.", "They raised two point five million dollars."),
    ("Revenue was £1.2bn.", "Revenue was one point two billion pounds."),
    ("A coffee costs $3.50.", "A coffee costs three dollars and fifty cents."),
    ("Only $1 or $0.99 or 99¢.", "Only one dollar or ninety-nine cents or ninety-nine cents."),
    ("It is 150 USD a night.", "It is one hundred fifty U S dollars a night."),
    ("The fine was EUR 200.", "The fine was two hundred euros."),
    ("Up by $1,200 to $3,400.", "Up by one thousand two hundred dollars to three thousand four hundred dollars."),
    ("That's ¥5,000.", "That's five thousand yen."),
    ("Pay ₹800 now.", "Pay eight hundred rupees now."),
    ("They lost $5 million.", "They lost five million dollars."),
    ("It was 350€ in total.", "It was three hundred fifty euros in total."),
    ("It costs $5/month for 10 requests/second.", "It costs five dollars per month for ten requests per second."),
]  # fmt: skip
DATES = [
    ("Due 03/15/2025.", "Due March fifteenth, twenty twenty-five."),
    ("Due 15/03/2025.", "Due March fifteenth, twenty twenty-five."),
    ("Out on 2024-01-09.", "Out on January ninth, twenty twenty-four."),
    ("We met on Jan. 5 last year.", "We met on January fifth last year."),
    ("From March 3rd to March 7th.", "From March third to March seventh."),
    ("Founded in 1998.", "Founded in nineteen ninety-eight."),
    ("Changed in 2007 and 2010.", "Changed in two thousand seven and twenty ten."),
    ("Signed on 4 July 1776.", "Signed on the fourth of July seventeen seventy-six."),
    ("Meet on Mon., Feb. 12.", "Meet on Monday, February twelfth."),
    ("Open on Tue, Sep 3.", "Open on Tuesday, September third."),
    ("The 1960s and the '90s.", "The nineteen sixties and the nineties."),
    ("Out in Aug. 1995.", "Out in August nineteen ninety-five."),
    ("On the 21st of June.", "On the twenty-first of June."),
    ("From 2019-2021 it grew.", "From twenty nineteen to twenty twenty-one it grew."),
    ("Not a date: 13/45/2025.", "Not a date: thirteen slash forty-five slash twenty twenty-five."),
    ("The office reopens on Tue,", "The office reopens on Tuesday,"),  # an opening clause, "Sep 3." next
    ("Look at the Sun,", "Look at the Sun,"),
]  # fmt: skip
TIMES = [
    ("It starts at 5 p.m. sharp.", "It starts at five p m sharp."),
    ("Open 9am-5pm.", "Open nine a m to five p m."),
    ("It leaves at 14:30.", "It leaves at fourteen thirty."),
    ("Call at 10:15 AM EST.", "Call at ten fifteen a m E S T."),
    ("It took 2h 15m.", "It took two hours fifteen minutes."),
    ("Done at 23:59 UTC.", "Done at twenty-three fifty-nine U T C."),
    ("Lunch from 12:00 to 1:00 p.m. daily.", "Lunch from twelve to one p m daily."),
    ("The video is 1:45:30 long.", "The video is one hour forty-five minutes thirty seconds long."),
    ("Sunrise at 6:05 a.m. tomorrow.", "Sunrise at six oh five a m tomorrow."),
    ("Wait 500 ms, then 30 s.", "Wait five hundred milliseconds, then thirty seconds."),
    ("At 12:00 it ends.", "At twelve o'clock it ends."),
    ("At 5 p.m.", "At five p m."),
]  # fmt: skip
UNITS = [
    ("It is 12 km long.", "It is twelve kilometers long."),
    ("It weighs 2.5 kg.", "It weighs two point five kilograms."),
    ("16 GB of RAM and a 512 GB SSD.", "sixteen gigabytes of ram and a five hundred twelve gigabyte S S D."),
    ("Up to 100 MB/s.", "Up to one hundred megabytes per second."),
    ("It's 25°C, about 77°F.", "It's twenty-five degrees Celsius, about seventy-seven degrees Fahrenheit."),
    ("The limit is 65 mph.", "The limit is sixty-five miles per hour."),
    ("Add 1 tsp of salt.", "Add one teaspoon of salt."),
    ("A 1920x1080 screen at 60 Hz.", "A nineteen twenty by ten eighty screen at sixty hertz."),
    ("A 1 km run.", "A one kilometer run."),
    ("It runs at 3.2 GHz.", "It runs at three point two gigahertz."),
    ("It holds 5-10 L.", "It holds five to ten liters."),
]  # fmt: skip
ABBREVIATIONS = [
    ("Dr. Smith will see you.", "Doctor Smith will see you."),
    ("The shop on Baker St. closes.", "The shop on Baker Street closes."),
    ("St. Patrick's Day.", "Saint Patrick's Day."),
    ("Mr. and Mrs. Lee came.", "Mister and Missus Lee came."),
    ("Python vs. JavaScript.", "Python versus JavaScript."),
    ("A name, i.e. one word.", "A name, that is one word."),
    ("Snacks, e.g. fruit.", "Snacks, for example fruit."),
    ("Pens, tape, etc. for us.", "Pens, tape, et cetera for us."),
    ("It ends with etc.", "It ends with et cetera."),
    ("The U.S. and the U.K. agreed.", "The U S and the U K agreed."),
    ("NASA and the FBI use it.", "nasa and the F B I use it."),
    ("Ask IT about the APIs.", "Ask I T about the A P I's."),
    ("Prof. Chen at the Dept. of Physics.", "Professor Chen at the Department of Physics."),
    ("See p. 55 and Fig. 3.", "See page fifty-five and figure three."),
    ("Talk to J. Smith.", "Talk to J Smith."),
    ("It is OK.", "It is okay."),
    ("THIS IS REALLY GREAT NEWS.", "this is really great news."),
]  # fmt: skip
IDS = [
    ("Upgrade to v2.1.3 now.", "Upgrade to version two point one point three now."),
    ("Python 3.12 is out.", "Python three point twelve is out."),
    ("Call (555) 123-4567.", "Call five five five, one two three, four five six seven."),
    ("Dial +1 800 555 0199.", "Dial plus one, eight hundred, five five five, zero one nine nine."),
    ("Order #48213 and issue #1042.", "Order number four eight two one three and issue number ten forty-two."),
    ("Henry VIII and Louis XIV.", "Henry the eighth and Louis the fourteenth."),
    ("Read Chapter IV and World War II.", "Read Chapter four and World War two."),
    ("Node 18.17.0 is needed.", "Node eighteen point seventeen point zero is needed."),
    ("Flight BA2490 at noon.", "Flight B A twenty-four ninety at noon."),
    ("Set the port to 8080.", "Set the port to eighty eighty."),
    ("Enter the code 4821.", "Enter the code four eight two one."),
    ("Ping 192.168.1.1 now.", "Ping one ninety-two dot one sixty-eight dot one dot one now."),
    ("It plays mp3 files, H2O is water.", "It plays M P three files, H two O is water."),
    ("I think I can.", "I think I can."),
]  # fmt: skip
CODE = [
    ("See docs.python.org.", "See docs dot python dot org."),
    ("Email support@example.com now.", "Email support at example dot com now."),
    ("Open src/utils/parser.py.", "Open source slash utils slash parser dot py."),
    ("Edit config.toml and restart.", "Edit config dot toml and restart."),
    ("Call get_user_by_id with the ID.", "Call get user by id with the I D."),
    ("Then parseJsonResponse returns.", "Then parse Json Response returns."),
    ("Run pip install -r requirements.txt.", "Run pip install dash r requirements dot txt."),
    ("It is in ~/logs/app.log.", "It is in tilde slash logs slash app dot log."),
    ("Set MAX_RETRIES to 5.", "Set max retries to five."),
    ("Write to jane.doe@company.co.uk.", "Write to jane dot doe at company dot co dot uk."),
    ("Call app.run() now.", "Call app dot run now."),
    ("Use the --verbose flag.", "Use the dash dash verbose flag."),
    ("R&D at AT&T.", "R and D at A T and T."),
    ("Our U.S.-based team.", "Our U S-based team."),
    ("Oh! [laugh] That [clear throat] is it.", "Oh! [laugh] That [clear throat] is it."),
]  # fmt: skip
TABLES = {"numbers": NUMBERS, "money": MONEY, "dates": DATES, "times": TIMES, "units": UNITS,
          "abbreviations": ABBREVIATIONS, "ids": IDS, "code": CODE}  # fmt: skip


@pytest.mark.parametrize(("written", "spoken"), [case for table in TABLES.values() for case in table],
                         ids=[f"{name}-{i}" for name, table in TABLES.items() for i in range(len(table))])  # fmt: skip
def test_table(written: str, spoken: str) -> None:
    assert verbalise(written) == spoken


def test_tables_cover_every_family() -> None:
    assert all(len(table) >= 10 for table in TABLES.values())


def test_day_first_dates() -> None:
    assert verbalise("Due 03/04/2025.") == "Due March fourth, twenty twenty-five."
    assert verbalise("Due 03/04/2025.", day_first=True) == "Due the third of April twenty twenty-five."
    assert verbalise("Due 15.03.2025.") == "Due March fifteenth, twenty twenty-five."


def test_languages_without_tables_are_left_as_written() -> None:
    german = "Dr. Weber kommt um 5 Uhr, kostet 3,50 €."
    assert verbalise(german, lang="de") == german


_ALL_ABBREVIATIONS = sorted(
    scanner_en.ABBREVIATIONS.titles | scanner_en.ABBREVIATIONS.continuing | scanner_en.ABBREVIATIONS.final
    | scanner_en.ABBREVIATIONS.numbered | scanner_en.ABBREVIATIONS.other | scanner_en.ABBREVIATIONS.times
)  # fmt: skip


@pytest.mark.parametrize("abbreviation", _ALL_ABBREVIATIONS)
def test_no_abbreviation_leaves_a_period_inside_a_sentence(abbreviation: str) -> None:
    """Piper's phonemiser ends a sentence at "Dr." or "Mr." inside a chunk: no period may be left mid-sentence
    for any abbreviation the scanner knows, before a name, a number or a lower-case word."""
    for written in (abbreviation.capitalize(), abbreviation):
        for after in ("Smith came", "5 came", "then came"):
            sentence = f"We saw {written}. {after} home."
            for said in (verbalise(s) for s in split_sentences(sentence, 1)):
                assert "." not in said[:-1], (sentence, said)


# -- the planner: offsets on the original, streamed as whole ---------------------------------------------


def test_planner_says_the_verbalised_text_with_offsets_on_the_original() -> None:
    reply = "Sure, it costs **$42.99** on 03/15/2025. Ask Dr. Smith at 5 p.m. about v2.1.3."
    chunks = SpeechPlanner().plan(reply)
    got = [(p.text, reply[p.start : p.end]) for c in chunks for p in c.pieces]
    assert got == [
        ("Sure,", "Sure,"),
        ("it costs forty-two dollars and ninety-nine cents on March fifteenth, twenty twenty-five.",
         "it costs **$42.99** on 03/15/2025."),
        ("Ask Doctor Smith at five p m about version two point one point three.",
         "Ask Dr. Smith at 5 p.m. about v2.1.3."),
    ]  # fmt: skip
    planner = SpeechPlanner()
    planner.plan(reply)
    assert [s.text for s in planner.sentences][1:] == ["Ask Dr. Smith at 5 p.m. about v2.1.3."]  # as written


def test_a_piece_that_grows_past_its_limit_is_cut_again_with_its_own_span() -> None:
    reply = "Intro. The totals were 1,234,567 and 2,345,678 and 3,456,789 and 4,567,890 in the end."
    chunks = SpeechPlanner(max_chars=60, first_chunk_chars=60).plan(reply)
    pieces = [p for c in chunks for p in c.pieces]
    assert all(len(c.text) <= 60 for c in chunks)
    assert [p.sentence for p in pieces] == [0] + [1] * (len(pieces) - 1) and len(pieces) > 2
    assert all(a.end <= b.start for a, b in itertools.pairwise(pieces))
    assert reply[pieces[1].start : pieces[1].start + 14] == "The totals wer"
    assert reply[: pieces[-1].end].endswith("end.")


def test_a_cut_piece_made_only_of_added_text_joins_its_neighbour() -> None:
    """A heading's full stop has no source; cut after "five p", "m." alone would have an empty span."""
    chunks = SpeechPlanner(group_size=1, first_chunk_chars=40).plan("# 9am-5pm 9am-5pm")
    assert all(p.start < p.end for c in chunks for p in c.pieces)
    assert " ".join(c.text for c in chunks) == "nine a m to five p m nine a m to five p m."


_NUMERIC = ["$42.99", "03/15/2025", "5 p.m.", "Dr.", "St.", "v2.1.3", "12 km", "87%", "U.S.", "e.g.", "2024-01-09",
            "Jan.", "5", "9am-5pm", "H2O", "3x", "24/7", "mp3", "#1042", "(555) 123-4567", "get_user_by_id",
            "config.toml", "--verbose", "[laugh]", "[clear throat]", "1,234", "-5", "3:1", "NASA", "FBI",
            "Henry VIII", "10:15 AM EST", "€350", "1/2", "the", "Smith", "Mr.", "i.e.", "21st", "2h 15m"]  # fmt: skip


@st.composite
def numeric_text(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        words = draw(st.lists(st.sampled_from(_NUMERIC), min_size=1, max_size=7))
        parts.append(" ".join(words) + draw(st.sampled_from([".", "!", "?", "", ",", " ."])))
    return draw(st.sampled_from([" ", "\n", "\n\n"])).join(parts)


_TEXTS = st.one_of(numeric_text(), markdown().map(lambda case: case[0]), realistic_text())


@PROPERTY
@given(_TEXTS, st.lists(st.integers(0, 400), max_size=12), st.integers(1, 4), st.booleans())
def test_streamed_says_the_same_as_whole_with_offsets_inside_sentences(
    text: str, points: list[int], group: int, opening: bool
) -> None:
    settings = {"group_size": group, "max_chars": 80, "first_chunk_chars": 40, "opening_clause": opening}
    planner = SpeechPlanner(**settings)
    whole = planner.plan(text)
    streamed = SpeechPlanner(**settings)
    chunks = [c for d in cut(text, points) for c in streamed.feed(d)] + streamed.end()
    assert chunks == whole
    by_char = SpeechPlanner(**settings)
    assert [c for ch in text for c in by_char.feed(ch)] + by_char.end() == whole
    at = 0
    for p in (p for c in whole for p in c.pieces):
        sentence = planner.sentences[p.sentence]
        assert sentence.start <= p.start < p.end <= sentence.end, (p, sentence)
        assert at <= p.start, p
        at = p.end
    assert all(len(c.text) <= 80 or len(c.pieces) == 1 for c in whole)


# -- bad input -------------------------------------------------------------------------------------------

_DIGIT = re.compile(r"\d")


def _foreign(text: str) -> str:
    """The letters outside ASCII ("é", "мир", "你好"): no rule knows those words, none may drop them."""
    return "".join(c for c in text if c.isalpha() and not c.isascii())



def check_segments(text: str) -> str:
    """Verbalise text and check the segments: in order, no source said twice, text kept as written kept whole,
    every letter outside ASCII still said (no rule knows those words, none may drop them), and no digit left
    (every number is said in words)."""
    segments = Verbaliser().segments(text)
    at = 0
    for said, s, e in segments:
        assert at <= s <= e <= len(text), (segments, text)
        if said == text[s:e]:  # kept as written: nothing lost, nothing added
            assert s == at or not text[at:s].strip(), (segments, text)
        at = e
    spoken = "".join(seg[0] for seg in segments)
    assert not _DIGIT.search(spoken), (text, spoken)
    assert _foreign(spoken) == _foreign(text), (text, spoken)
    return spoken


_GLUED = st.from_regex(r"[A-Za-z]{0,3}[0-9]{1,4}(?:[A-Za-z]{1,3}[0-9]{0,3})?[.,]?", fullmatch=True)
_SCRIPTS = st.lists(st.sampled_from(["мир", "你好", "١٢٣", "٣", "αβγ", "x²", "Ⅻ", "½", "3½", "²³", "é", "日本", "४२",
                                     "٫"]), min_size=1, max_size=3).map("".join)  # fmt: skip
_BAD = st.one_of(
    st.integers(0, 10**100).map(str),
    st.builds(lambda a, b, c: f"{a}/{b}/{c}", st.integers(0, 99), st.integers(0, 99), st.integers(0, 9999)),
    st.builds(lambda a, b: f"{a}{b}", st.integers(0, 999), st.sampled_from(["x", "mp", "H", "kg", "am", "th", "s"])),
    st.lists(st.sampled_from(list("0123456789.,:/-+%$€#x ")), max_size=30).map("".join),
    st.lists(st.sampled_from(list("0123456789.,:/-+%$€#&@_()'\"xaAZ ")), max_size=20).map("".join),
    st.sampled_from(["24/7", "mp3", "H2O", "3x", "你好 123 мир 45", "١٢٣", "x²", "Ⅻ", "½", "3½", "²³"]),
    _GLUED,
    st.builds("".join, st.lists(st.one_of(_SCRIPTS, _GLUED), min_size=1, max_size=3)),
    st.sampled_from(_NUMERIC),
)


@PROPERTY
@given(st.lists(_BAD, min_size=1, max_size=6).map(" ".join))
def test_bad_input_never_crashes_loses_or_repeats(text: str) -> None:
    text = " ".join(text.split())
    spoken = check_segments(text)
    assert spoken.split() or not text.strip()
    assert Verbaliser().say(spoken) == spoken  # said once: saying it again changes nothing


def test_huge_numbers_are_read_digit_by_digit() -> None:
    said = verbalise("It is " + "9" * 100 + ".")  # in groups of four, as any long identifier
    assert said.replace(",", "") == "It is " + " ".join(["nine"] * 100) + "."
    assert verbalise("All numbers: 1 22 333 4444 55555 666666.") == (
        "All numbers: one twenty-two three hundred thirty-three four thousand four hundred forty-four fifty-five "
        "thousand five hundred fifty-five six hundred sixty-six thousand six hundred sixty-six."
    )


# -- config --------------------------------------------------------------------------------------------------


def test_date_order_is_a_config_key(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[text]\ndate_order = "day-first"\n')
    assert load(path).text.date_order == "day-first"
    path.write_text('[text]\ndate_order = "sideways"\n')
    with pytest.raises(ConfigError, match="date_order must be auto, month-first or day-first"):
        load(path)
