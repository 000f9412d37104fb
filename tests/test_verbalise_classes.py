"""The harder classes an assistant writes every day (issue 29): addresses, Roman numerals, identifiers read in
groups, phone numbers, symbols, network addresses, code in prose and in code spans, and mixed forms. Tables of
written -> spoken per class; the same characters read as code inside a code span and as words in prose; each
locale's readings; every rewrite keeping the source range it came from (the page's highlight); streamed ==
whole and said once on hostile mixes of all of them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.baselines import split_sentences
from tests.test_verbalise import check_segments
from tests.text_strategies import PROPERTY, cut
from vox.config import load
from vox.text import SpeechPlanner, normalize_for_speech
from vox.text.markdown import MarkdownSegments
from vox.text.verbalise import Verbaliser, verbalise
from vox.text.verbalise.language import for_language, groups

ADDRESSES = [
    ("Ship it to 1847 Maple Ave, Dayton, OH 45402.",
     "Ship it to eighteen forty-seven Maple Avenue, Dayton, Ohio four five four zero two."),
    ("The clinic is at 90 Medical Center Dr, Ste 410.",
     "The clinic is at ninety Medical Center Drive, Suite four ten."),
    ("Turn left on Oak Ln, then right on N Elm St.", "Turn left on Oak Lane, then right on North Elm Street."),
    ("The embassy is at 3100 Massachusetts Ave NW.",
     "The embassy is at thirty-one hundred Massachusetts Avenue Northwest."),
    ("Drive to Reno, NV tonight.", "Drive to Reno, Nevada tonight."),
    ("Take exit 12 onto Rte 9, then Hwy 101.", "Take exit twelve onto Route nine, then Highway one oh one."),
    ("It's in Apt 12C, up the stairs.", "It's in Apartment twelve C, up the stairs."),
    ("Mail the form to 77 Harbor Pkwy, Boston, MA 02110-1301.",
     "Mail the form to seventy-seven Harbor Parkway, Boston, Massachusetts zero two one one zero, one three zero one."),
    ("He lives on St Mary's Rd by the school.", "He lives on Saint Mary's Road by the school."),
    ("We met at 500 W 42nd St in May.", "We met at five hundred West forty-second Street in May."),
    ("Her office is at 14 Hanover Sq, London W1S 1HP.",
     "Her office is at fourteen Hanover Square, London W one S, one H P."),
    ("Thanks, OK, see you.", "Thanks, okay, see you."),  # a state code that is a word stays one
    ("The shop on Baker St. is shut, Dr. Lee said.", "The shop on Baker Street is shut, Doctor Lee said."),
]  # fmt: skip
ROMAN = [
    ("Read Vol. IV and then Part III.", "Read volume four and then Part three."),
    ("Start at Chapter XIV, Act II.", "Start at Chapter fourteen, Act two."),
    ("Study Act V, then Book I.", "Study Act five, then Book one."),
    ("Pope Leo XIII wrote it, not Louis XVI.", "Pope Leo the thirteenth wrote it, not Louis the sixteenth."),
    ("King Harald V and Queen Margrethe II met.", "King Harald the fifth and Queen Margrethe the second met."),
    ("Super Bowl LVII was close.", "Super Bowl fifty-seven was close."),
    ("Final Fantasy VI is my favourite.", "Final Fantasy six is my favourite."),
    ("It was filmed in MCMXCIV.", "It was filmed in nineteen ninety-four."),
    ("The IV line and a CD player.", "The I V line and a C D player."),
    ("Malcolm X spoke in Detroit.", "Malcolm X spoke in Detroit."),
    ("I think I can.", "I think I can."),
]  # fmt: skip
IDENTIFIERS = [
    ("The package 1Z4E7R380362158840 is on its way.",
     "The package one Z four, E seven R, three eight zero three, six two one five, eight eight four zero is on "
      "its way."),
    ("Your order 204-7738125-6651903 has shipped.",
     "Your order two zero four, seven seven three, eight one two five, six six five, one nine zero three has shipped."),
    ("The reference number is 58302941.", "The reference number is five eight three zero, two nine four one."),
    ("The case number is 8812034.", "The case number is eight eight one, two zero three four."),
    ("Serial QX7741BT09 is under warranty.", "Serial Q X seven, seven four one, B T zero nine is under warranty."),
    ("Windows said 0x8007045D twice.", "Windows said hex eight zero zero seven, zero four five D twice."),
    ("The mask is 0xFF.", "The mask is hex F F."),
    ("Commit 9c4e1f7 broke it.", "Commit nine C four, E one F seven broke it."),
    ("Flight LH 455 lands at noon.", "Flight L H four fifty-five lands at noon."),
    ("We flew KL1602 and then an A380.", "We flew K L sixteen oh two and then an A three eighty."),
    ("Ticket OPS-2291 is open.", "Ticket O P S twenty-two ninety-one is open."),
    ("Use UTF-8, not SHA-1.", "Use U T F eight, not S H A one."),
    ("Pay by card 5500 0000 0000 0004.",
     "Pay by card five five zero zero, zero zero zero zero, zero zero zero zero, zero zero zero four."),
    ("It saved 12000000 rows.", "It saved twelve million rows."),  # a round quantity stays one
]  # fmt: skip
PHONES = [
    ("Call us at (212) 555-0147.", "Call us at two one two, five five five, zero one four seven."),
    ("Text 646.555.0199 for help.", "Text six four six, five five five, zero one nine nine for help."),
    ("Toll free: 1-888-555-0123.", "Toll free: one, eight hundred eighty-eight, five five five, zero one two three."),
    ("From abroad dial +1 212 555 0147.", "From abroad dial plus one, two one two, five five five, zero one "
     "four seven."),
    ("The London office is on +44 20 7946 0321.",
     "The London office is on plus four four, two zero, seven nine four six, zero three two one."),
    ("Ring 0161 496 0732 before noon.", "Ring zero one six one, four nine six, zero seven three two before noon."),
    ("Her mobile is 07700 900461.", "Her mobile is zero seven seven zero zero, nine zero zero, four six one."),
    ("Paris is +33 1 42 68 53 00.", "Paris is plus three three, one, four two, six eight, five three, zero zero."),
    ("Dial 911 now, or call 555-0188 later.", "Dial nine one one now, or call five five five, zero one eight "
     "eight later."),
    ("It is ext. 314.", "It is extension three one four."),
]  # fmt: skip
SYMBOLS = [
    ("Sales rose ~12% this quarter.", "Sales rose about twelve percent this quarter."),
    ("Keep latency <50 ms and uptime >99.9%.",
     "Keep latency less than fifty milliseconds and uptime more than ninety-nine point nine percent."),
    ("Children ≥ 12 and adults ≤ 65 pay.", "Children at least twelve and adults at most sixty-five pay."),
    ("It costs ≈€40, give or take.", "It costs approximately forty euros, give or take."),
    ("Accuracy is ±0.2 mm.", "Accuracy is plus or minus zero point two millimeters."),
    ("Mix resin and hardener 2:1, print at 4:3.", "Mix resin and hardener two to one, print at four to three."),
    ("A scale of 1:250 works.", "A scale of one to two hundred fifty works."),
    ("Render at 3840×2160 pixels.", "Render at thirty-eight forty by twenty-one sixty pixels."),
    ("So 6 × 7 = 42.", "So six times seven equals forty-two."),
    ("They won 27–24 on Sunday.", "They won twenty-seven to twenty-four on Sunday."),
    ("We are open Tue–Sat.", "We are open Tuesday to Saturday."),
    ("Paris → Lyon takes two hours.", "Paris to Lyon takes two hours."),
    ("It works – mostly.", "It works – mostly."),  # a spaced en dash is a pause, not "to"
    ("Set x=4 and y=x+1.", "Set x equals four and y equals x plus one."),
    ("Water boils at 100°C, ice melts at 32°F.",
     "Water boils at one hundred degrees Celsius, ice melts at thirty-two degrees Fahrenheit."),
    ("Turn it 90° to the left.", "Turn it ninety degrees to the left."),
    ("Follow #OpenSource and ping @maria_k.", "Follow hashtag Open Source and ping at maria k."),
    ("See issue #4521 and #3.", "See issue number forty-five twenty-one and number three."),
    ("The brand color is #1E90FF.", "The brand color is hex one E nine, zero F F."),
    ("Press Ctrl+Shift+Esc, then Alt+F4.", "Press Control Shift Escape, then Alt F four."),
    ("On a Mac press ⌘Q or Cmd-Option-W.", "On a Mac press Command Q or Command Option W."),
]  # fmt: skip
NETWORK = [
    ("The router is 192.168.0.1.", "The router is one ninety-two dot one sixty-eight dot zero dot one."),
    ("Allow 10.20.0.0/16 only.", "Allow ten dot twenty dot zero dot zero slash sixteen only."),
    ("Ping ::1 or 2001:db8::7.", "Ping colon colon one or two zero zero one colon D B eight colon colon seven."),
    ("Its MAC is 3C:22:FB:0A:91:E4.", "Its M A C is three C, two two, F B, zero A, nine one, E four."),
    ("Open localhost:3000 in a browser.", "Open localhost colon three thousand in a browser."),
    ("The API is on api.internal:8443.", "The A P I is on api dot internal colon eighty-four forty-three."),
    ("Bind it to 0.0.0.0:8000.", "Bind it to zero dot zero dot zero dot zero colon eight thousand."),
    ("Use RFC 8259 for JSON.", "Use R F C eighty-two fifty-nine for json."),
]  # fmt: skip
CODE_IN_PROSE = [
    ("Put secrets in .env, not in config.yaml.", "Put secrets in dot env, not in config dot yaml."),
    ("Your shell reads ~/.zshrc first.", "Your shell reads tilde slash dot zshrc first."),
    ("Check $PATH and $HOME first.", "Check dollar path and dollar home first."),
    ("Install it with -U or --upgrade.", "Install it with dash U or dash dash upgrade."),
    ("Run tar with -xzf.", "Run tar with dash x z f."),
    ("Fork github.com/psf/requests today.", "Fork github dot com slash psf slash requests today."),
    ("All *.log files go in /var/log/app/.", "All star dot log files go in slash var slash log slash app slash."),
    ("Use Node ^20.11.1 or Python ~3.12.", "Use Node caret twenty point eleven point one or Python about three "
     "point twelve."),
]  # fmt: skip
MIXED = [
    ("Ship 3×2 m crates to Ste 5, 88 Pier Rd.", "Ship three by two meters crates to Suite five, eighty-eight "
     "Pier Road."),
    ("Call +1 415 555 0132 about order 55-2041-8813.",
     "Call plus one, four one five, five five five, zero one three two about order five five, two zero four one, "
     "eight eight one three."),
    ("About ~2.5 GB per 1080p stream.", "About about two point five gigabytes per ten eighty P stream."),
    ("Between 9 a.m.–5 p.m. Mon–Fri.", "Between nine a m to five p m Monday to Friday."),
]  # fmt: skip
TABLES = {"addresses": ADDRESSES, "roman": ROMAN, "identifiers": IDENTIFIERS, "phones": PHONES, "symbols": SYMBOLS,
          "network": NETWORK, "code in prose": CODE_IN_PROSE, "mixed": MIXED}  # fmt: skip


@pytest.mark.parametrize(("written", "spoken"), [case for table in TABLES.values() for case in table],
                         ids=[f"{name}-{i}" for name, table in TABLES.items() for i in range(len(table))])  # fmt: skip
def test_table(written: str, spoken: str) -> None:
    assert verbalise(written) == spoken
    assert verbalise(spoken) == spoken  # said once: saying it again changes nothing


# -- markdown context: inside a code span, code; in prose, words ------------------------------------------

CODE_SPANS = [
    ("Add `export PATH=$HOME/.local/bin:$PATH` to `~/.profile`.",
     "Add export path equals dollar home slash dot local slash bin colon dollar path to tilde slash dot profile."),
    ("Run `pip install -U --pre vox` again.", "Run pip install dash U dash dash pre vox again."),
    ("Try `ls -la ~/.ssh` first.", "Try l s dash l a tilde slash dot s s h first."),
    ("Then `cd ..` and `git push origin main`.", "Then c d dot dot and git push origin main."),
    ("Set `DEBUG=1` and `API_TIMEOUT=30`.", "Set debug equals one and A P I timeout equals thirty."),
    ("Call `user.getById(42)` from `src/models/user.ts`.",
     "Call user dot get By I d forty-two from source slash models slash user dot t s."),
    ("Pin `numpy>=1.26,<2` and `requests==2.31.0`.",
     "Pin numpy greater than or equal to one point twenty-six, less than two and requests equals equals two point "
     "thirty-one point zero."),
    ("Run `docker run -p 5432:5432 postgres`.", "Run docker run dash p fifty-four thirty-two colon fifty-four "
     "thirty-two postgres."),
    ("The error is `0xC0000005`.", "The error is hex C zero zero zero, zero zero zero five."),
    ("Use `~1.4` here, not `^2.0.0`.", "Use tilde one point four here, not caret two point zero point zero."),
    ("Pipe it: `grep -v '#' app.log | wc -l`.", "Pipe it: grep dash v hash app dot log pipe w c dash l."),
    ("Edit `__main__.py` and `_private.py`.", "Edit dunder main dot py and underscore private dot py."),
    ("Clone `https://github.com/psf/black` now.", "Clone github dot com slash p s f slash black now."),
    ("Open `café/naïve_λ.py` and `a→b` or `a§b`.", "Open café slash naïve λ dot py and a arrow b or a § b."),
]  # fmt: skip


@pytest.mark.parametrize(("markdown", "spoken"), CODE_SPANS, ids=[f"code-{i}" for i in range(len(CODE_SPANS))])
def test_code_spans_are_read_as_code(markdown: str, spoken: str) -> None:
    chunks = SpeechPlanner(group_size=8, first_chunk_chars=300, opening_clause=False).plan(markdown)
    assert " ".join(c.text for c in chunks) == spoken
    by_char = SpeechPlanner(group_size=8, first_chunk_chars=300, opening_clause=False)
    assert [c for ch in markdown for c in by_char.feed(ch)] + by_char.end() == chunks
    assert (chunks[0].start, chunks[-1].end) == (0, len(markdown))  # the highlight covers the sentence


# the same characters: (in prose, in a code span)
CONTEXT = [
    ("~4%", "about four percent", "tilde four percent"),
    (">10", "more than ten", "greater than ten"),
    ("PATH", "P A T H", "path"),
    ("#42", "number forty-two", "hash forty-two"),
    ("8080", "eight thousand eighty", "eighty eighty"),
    ("No. 5", "number five", "No dot five"),
    ("3:1", "three to one", "three colon one"),
]  # fmt: skip


@pytest.mark.parametrize(("written", "prose", "code"), CONTEXT, ids=[c[0] for c in CONTEXT])
def test_the_same_characters_are_words_in_prose_and_code_in_a_code_span(written: str, prose: str, code: str) -> None:
    def said(markdown: str) -> str:
        return " ".join(c.text for c in SpeechPlanner(opening_clause=False).plan(markdown))

    assert said(f"It is {written} here.") == f"It is {prose} here."
    assert said(f"It is `{written}` here.") == f"It is {code} here."


def test_the_markdown_stage_says_where_code_is() -> None:
    md = "Run `ls -la` or **`make test`** now, not `x`."
    stream = MarkdownSegments(eager=True)
    code = []
    for call in (lambda: stream.feed(md[:20]), lambda: stream.feed(md[20:]), stream.flush):
        segments = call()  # the marks index each call's own list
        text = "".join(seg[0] for seg in segments)
        at = [0]
        for seg in segments:
            at.append(at[-1] + len(seg[0]))
        code += [text[at[k] + a : at[k] + b] for k, ranges in stream.take_code() for a, b in ranges]
        assert stream.take_code() == []  # taken once
    assert code == ["ls", "-la", "make", "test", "x"]


def test_a_code_span_cut_across_deltas_is_still_code() -> None:
    md = "Then run `export FOO=$HOME/bin` and go."
    whole = SpeechPlanner().plan(md)
    assert "dollar home slash bin" in " ".join(c.text for c in whole)
    for k in range(1, len(md)):
        planner = SpeechPlanner()
        assert planner.feed(md[:k]) + planner.feed(md[k:]) + planner.end() == whole


def test_code_blocks_are_said_as_a_note_not_read() -> None:
    md = "Run this:\n```bash\nexport PATH=$HOME/bin:$PATH\n```\nDone."
    assert [c.text for c in SpeechPlanner(group_size=1).plan(md)] == ["Run this.", "Here is some shell code.", "Done."]


# -- locales ----------------------------------------------------------------------------------------------

LOCALES = [
    ("Due 04/03/2025.", "Due April third, twenty twenty-five.", "Due the fourth of March twenty twenty-five."),
    ("Call 020 7946 0321.", "Call zero two zero, seven nine four six, zero three two one.",
     "Call oh two oh, seven nine four six, oh three two one."),
    ("It is at 1234 High St.", "It is at twelve thirty-four High Street.",
     "It is at one thousand two hundred thirty-four High Street."),
    ("Error 0x0A.", "Error hex zero A.", "Error hex oh A."),
    ("It costs $5.", "It costs five dollars.", "It costs five dollars."),
]  # fmt: skip


@pytest.mark.parametrize(("written", "us", "uk"), LOCALES, ids=[f"locale-{i}" for i in range(len(LOCALES))])
def test_locales_read_what_differs_their_own_way(written: str, us: str, uk: str) -> None:
    assert verbalise(written, "en") == us
    assert verbalise(written, "en-US") == us
    assert verbalise(written, "en-GB") == uk
    assert verbalise(written, "en_AU") == uk


def test_the_date_order_setting_overrides_the_locale() -> None:
    assert verbalise("Due 04/03/2025.", "en-GB", day_first=False) == "Due April third, twenty twenty-five."
    assert verbalise("Due 04/03/2025.", "en", day_first=True) == "Due the fourth of March twenty twenty-five."
    assert for_language("en-GB") is not for_language("en") and for_language("en-CA") is for_language("en")


_GROUPS = [(1, [1]), (5, [5]), (6, [3, 3]), (7, [3, 4]), (8, [4, 4]), (10, [3, 3, 4]), (18, [3, 3, 4, 4, 4]),
           (22, [3, 3, 4, 4, 4, 4])]  # fmt: skip


@pytest.mark.parametrize(("n", "sizes"), _GROUPS)
def test_long_runs_are_cut_into_groups_of_three_or_four(n: int, sizes: list[int]) -> None:
    assert [len(g) for g in groups("7" * n)] == sizes


# -- offsets: every rewrite keeps the source range it came from -----------------------------------------------

OFFSETS = [
    ("Mail 77 Harbor Pkwy, Boston, MA 02110.", [("seventy-seven", "77"), ("Parkway", "Pkwy"),
                                                ("Massachusetts zero two one one zero", "MA 02110")]),
    ("Track 1Z4E7R380362158840 now.", [("one Z four, E seven R, three eight zero three, six two one five, eight "
                                        "eight four zero", "1Z4E7R380362158840")]),
    ("Call +44 20 7946 0321 today.", [("plus four four, two zero, seven nine four six, zero three two one",
                                       "+44 20 7946 0321")]),
    ("It grew ~4% and >10%.", [("about", "~"), ("four percent", "4%"), ("more than", ">"), ("ten percent", "10%")]),
    ("Read Vol. IV, then Henry V.", [("volume", "Vol."), ("four", "IV"), ("the fifth", "V")]),
    ("Press Ctrl+C at 10.0.0.1:8080.", [("Control C", "Ctrl+C"),
                                        ("ten dot zero dot zero dot one colon eighty eighty", "10.0.0.1:8080")]),
]  # fmt: skip


@pytest.mark.parametrize(("written", "rewrites"), OFFSETS, ids=[f"offsets-{i}" for i in range(len(OFFSETS))])
def test_every_rewrite_keeps_its_source(written: str, rewrites: list[tuple[str, str]]) -> None:
    segments = Verbaliser().segments(written)
    got = [(said.strip(), written[s:e]) for said, s, e in segments if said != written[s:e]]
    assert got == rewrites


def test_a_code_span_keeps_its_source_too() -> None:
    md = "Edit `~/.bashrc` now."
    (chunk,) = SpeechPlanner(opening_clause=False).plan(md)
    assert chunk.text == "Edit tilde slash dot bashrc now."
    assert md[chunk.start : chunk.end] == md
    code = [(said, s, e) for said, s, e in Verbaliser().segments("Edit ~/.bashrc now.", [(5, 14)]) if said.strip()]
    assert ("tilde slash dot bashrc", 5, 14) in code


# -- properties: streamed == whole, said once, nothing lost ---------------------------------------------------

_FORMS = [case[0].split(" ", 2)[-1].rstrip(".") for table in TABLES.values() for case in table]
_PIECES = ["1847 Maple Ave", "CA 94043", "Vol. IV", "Henry V", "1Z4E7R380362158840", "204-7738125-6651903",
           "0x8007045D", "(212) 555-0147", "+44 20 7946 0321", "~12%", ">99.9%", "≥ 12", "±0.2 mm", "2:1",
           "3840×2160", "27–24", "Tue–Sat", "#OpenSource", "@maria_k", "Ctrl+Shift+Esc", "192.168.0.1",
           "10.20.0.0/16", "::1", "3C:22:FB:0A:91:E4", "localhost:3000", ".env", "~/.zshrc", "$HOME", "-U",
           "github.com/psf/requests", "`ls -la ~/.ssh`", "`PATH=$HOME/bin`", "`0xFF`", "`~1.4`", "`a", "b`", "`",
           "`café/naïve_λ.py`", "`x≥y`",
           "Ste 410", "N Elm St", "KL1602", "A380", "UTF-8", "MCMXCIV", "5500 0000 0000 0004", "the", "and",
           ","]  # fmt: skip


@st.composite
def identifier_text(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        words = draw(st.lists(st.sampled_from(_PIECES + _FORMS), min_size=1, max_size=6))
        parts.append(" ".join(words) + draw(st.sampled_from([".", "!", "", ",", " ."])))
    return draw(st.sampled_from([" ", "\n", "\n\n"])).join(parts)


@PROPERTY
@given(identifier_text(), st.lists(st.integers(0, 300), max_size=10), st.integers(1, 4))
def test_streamed_says_what_whole_says_with_offsets(text: str, points: list[int], group: int) -> None:
    settings = {"group_size": group, "max_chars": 90, "first_chunk_chars": 40}
    planner = SpeechPlanner(**settings)
    whole = planner.plan(text)
    streamed = SpeechPlanner(**settings)
    assert [c for d in cut(text, points) for c in streamed.feed(d)] + streamed.end() == whole
    at = 0
    for p in (p for c in whole for p in c.pieces):
        sentence = planner.sentences[p.sentence]
        assert sentence.start <= p.start < p.end <= sentence.end, (p, sentence)
        assert at <= p.start, p
        at = p.end


@PROPERTY
@given(identifier_text())
def test_said_once_no_digit_left_nothing_lost(text: str) -> None:
    text = " ".join(text.replace("`", "").split())
    spoken = check_segments(text)
    assert Verbaliser().say(spoken) == spoken
    assert Verbaliser("en-GB").say(Verbaliser("en-GB").say(text)) == Verbaliser("en-GB").say(text)


# -- the stages around the verbaliser -------------------------------------------------------------------------


def test_a_numbered_abbreviation_before_a_roman_numeral_keeps_its_sentence() -> None:
    assert split_sentences("Start with Vol. II, then Ch. XIV. It is short.", 1) == [
        "Start with Vol. II, then Ch. XIV.", "It is short."]  # fmt: skip
    assert split_sentences("No. I think not.", 1) == ["No.", "I think not."]  # "I" alone is a word there


def test_hashtags_and_mentions_reach_the_verbaliser_through_markdown() -> None:
    assert normalize_for_speech("Post in #general, cc @sam.") == "Post in #general, cc @sam."
    said = " ".join(c.text for c in SpeechPlanner(opening_clause=False).plan("Post in #general, cc @sam."))
    assert said == "Post in hashtag general, cc at sam."


def test_the_date_order_setting_auto_follows_the_locale(tmp_path) -> None:
    path = tmp_path / "config.toml"
    for written, day_first in (("auto", None), ("month-first", False), ("day-first", True)):
        path.write_text(f'[text]\ndate_order = "{written}"\n')
        assert load(path).text.day_first is day_first
    path.write_text("[text]\n")
    assert load(path).text.date_order == "auto"  # the default
