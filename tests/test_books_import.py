"""Books without a server: documents to chapters (txt, Markdown, EPUB built by ebooklib), every kind of bad input,
loudness against pyloudnorm, atomic book files, and the preemptible engine turn renders use."""

from __future__ import annotations

import threading
import time
import zipfile

import numpy as np
import pytest

from tests.books import MARKDOWN, make_damaged_epub, make_drm_epub, make_epub
from vox.books.chapters import split_markdown, split_text
from vox.books.epub import html_to_markdown
from vox.books.export import Book, Part, write_book
from vox.books.loudness import LoudnessMeter, common_target, measure
from vox.books.sources import NO_SPEECH, read_document
from vox.engines.manager import Priority, TurnLock
from vox.errors import BadBook, TooLarge
from vox.jobs.cancel import Cancel

MB = 2**20


def test_epub_chapters_follow_the_spine_and_take_their_titles_from_the_toc(tmp_path):
    doc = read_document("tales.epub", make_epub(tmp_path / "t.epub").read_bytes(), 20 * MB)
    assert (doc.title, doc.author, doc.kind) == ("Tales of the Coast", "Ann Author", "epub")
    titles = [c.title for c in doc.chapters]
    assert titles[-3:] == ["The Harbour", "The Lighthouse", "Morning"]
    skipped = {c.title: c.skipped for c in doc.chapters if c.skipped}
    assert NO_SPEECH in skipped.values(), skipped  # the cover: a picture only
    assert any("table of contents" in reason for reason in skipped.values())
    lighthouse = doc.chapters[-2].text
    assert lighthouse.startswith("# The Lighthouse") and "Old Martha climbed" in lighthouse
    assert "\n\nThe light turned all night." in lighthouse  # paragraphs stay paragraphs


def test_html_goes_through_a_parser_so_markup_in_prose_is_read_as_printed():
    text, heading = html_to_markdown(
        b'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title>'
        b"<style>p {color: red}</style></head><body><h2>Act <em>One</em></h2><p>2 * 3 &lt; 7, said <b>Bob</b>"
        b"<!-- a comment --><script>alert(1)</script>.</p><ul><li>eggs</li><li>milk</li></ul></body></html>")
    assert heading == "Act One"
    assert text.split("\n\n") == ["## Act One", r"2 \* 3 \< 7, said Bob.", "- eggs", "- milk"]


def test_markdown_chapters_are_its_repeated_headings_and_front_matter_names_it():
    doc = split_markdown(MARKDOWN, "fallback")
    assert (doc.title, doc.author) == ("Field Notes", "Bea Writer")
    assert [c.title for c in doc.chapters] == ["Spring", "Summer", "Plates", "Autumn"]
    assert doc.chapters[0].text.startswith("# Field Notes")  # the book opens by saying its title


def test_a_heading_inside_a_code_fence_is_not_a_chapter():
    doc = split_markdown("# A\n\nText.\n\n```\n# not a chapter\n```\n\n# B\n\nMore.\n", "x")
    assert [c.title for c in doc.chapters] == ["A", "B"]


def test_plain_text_chapters_from_chapter_lines_and_from_form_feeds():
    doc = split_text("My Tale\n\nCHAPTER I. The Start\n\nIt began.\n\nChapter 2\n\nIt went on.\n\nEpilogue\n\n"
                     "Done.", "x")
    assert doc.title == "My Tale"
    assert [c.title for c in doc.chapters] == ["CHAPTER I. The Start", "Chapter 2", "Epilogue"]
    assert doc.chapters[0].text.startswith("My Tale")
    pages = split_text("Intro\nWelcome here.\fPart Two\nMore words.\f\f", "x")
    assert [c.title for c in pages.chapters] == ["Intro", "Part Two"]
    assert len(split_text("Just one long text. No chapters at all.", "x").chapters) == 1


def test_an_epub_named_txt_is_still_read_as_an_epub(tmp_path):
    doc = read_document("book.txt", make_epub(tmp_path / "t.epub").read_bytes(), 20 * MB)
    assert doc.kind == "epub"


@pytest.mark.parametrize("make,name,words", [
    (lambda p: make_drm_epub(p).read_bytes(), "drm.epub", "DRM"),
    (lambda p: make_damaged_epub(p).read_bytes(), "cut.epub", "damaged"),
    (lambda p: b"PK\x03\x04" + bytes(200), "zero.epub", "damaged"),
    (lambda p: b"not a zip at all" * 10, "text.epub", "damaged"),
    (lambda p: b"", "empty.txt", "empty"),
    (lambda p: b"  \n\n \t ", "blank.md", "empty"),
    (lambda p: bytes(range(256)) * 64, "program.txt", "not text"),
    (lambda p: b"\x7fELF\x02\x01\x01" + bytes(500), "a.out.txt", "a program"),
    (lambda p: b"%PDF-1.7\n" + bytes(100), "paper.txt", "PDF"),
    (lambda p: b"***\n\n---\n\n!!! ??? ...\n\n* * *\n", "marks.md", "no text Vox can read"),
])  # fmt: skip
def test_bad_input_is_a_sentence_never_a_crash(tmp_path, make, name, words):
    with pytest.raises(BadBook) as e:
        read_document(name, make(tmp_path / name), 20 * MB)
    assert words in e.value.message
    assert "Traceback" not in e.value.message and "Error" not in e.value.message


def test_a_50_mb_text_is_refused_for_its_size_with_the_setting_to_change():
    with pytest.raises(TooLarge) as e:
        read_document("big.txt", b"All work and no play. " * (50 * MB // 22), 20 * MB)
    assert "50.0 MB" in e.value.message and "books.max_source_mb" in e.value.message


def test_epub_with_only_font_obfuscation_is_not_drm(tmp_path):
    path = make_epub(tmp_path / "fonts.epub")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("META-INF/encryption.xml", b'<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
                    b'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:EncryptionMethod '
                    b'Algorithm="http://www.idpf.org/2008/embedding"/></enc:EncryptedData></encryption>')
    assert read_document("fonts.epub", path.read_bytes(), 20 * MB).chapters


def piper_speech(text: str) -> tuple[np.ndarray, int]:
    from vox.engines.base import SynthesisOptions
    from vox.engines.piper import PiperEngine

    engine = PiperEngine()
    engine.load()
    return np.concatenate(list(engine.synthesize(text, None, SynthesisOptions(), Cancel()))), engine.sample_rate


def test_loudness_matches_pyloudnorm_on_speech_in_any_pieces():
    pyln = pytest.importorskip("pyloudnorm")
    pcm, rate = piper_speech("The boats came in before the storm. Nobody on the pier said a word.")
    for scale in (1.0, 0.2):
        x = pcm * scale
        reference = pyln.Meter(rate).integrated_loudness(x.astype(np.float64))
        ours, peak = measure(np.array_split(x, 7), rate)
        assert ours == pytest.approx(reference, abs=0.2)
        assert peak == pytest.approx(float(np.abs(x).max()))
    assert LoudnessMeter(rate).loudness == float("-inf")


def test_chapters_of_different_loudness_come_out_matched_and_unclipped(tmp_path):
    import soundfile

    pcm, rate = piper_speech("By morning the sea was calm again, and the gulls were back on the harbour wall.")
    parts = []
    for k, scale in enumerate((0.9, 0.15)):
        path = tmp_path / f"c{k}.flac"
        soundfile.write(str(path), pcm * scale, rate, subtype="PCM_16")
        lufs, peak = measure([pcm * scale], rate)
        parts.append(Part(f"Chapter {k}", path, len(pcm) / rate, lufs, peak))
    book = Book("Loud and Soft", "", parts, rate, -18.0)
    write_book(book, "wav", tmp_path / "book.wav")
    out, _ = soundfile.read(str(tmp_path / "book.wav"), dtype="float32")
    n = len(pcm)
    gap = rate  # one second after each chapter
    first, second = out[:n], out[n + gap: 2 * n + gap]
    a, b = measure([first], rate)[0], measure([second], rate)[0]
    assert abs(a - b) < 0.5, (a, b)  # 15 dB apart before
    assert a == pytest.approx(book.target, abs=0.5)
    assert np.abs(out).max() <= 10 ** (-1 / 20) + 1e-3  # the ceiling holds: nothing clips



def test_the_common_target_is_lowered_only_as_far_as_the_most_limited_chapter_needs():
    assert common_target([(-23.0, 0.25), (-20.0, 0.5)], -18.0) == -18.0  # both have headroom
    # a quiet chapter with a high peak: -30 LUFS peaking at 0.9 reaches -30 + (-1 dBFS ceiling - 20 log10 0.9)
    limited = common_target([(-30.0, 0.9), (-18.0, 0.3)], -18.0)
    assert limited == pytest.approx(-30.0 - 1.0 - 20 * np.log10(0.9))
    assert common_target([(float("-inf"), 0.0)], -16.0) == -16.0  # a silent chapter limits nothing


def test_a_book_file_that_fails_midway_leaves_nothing_behind(tmp_path):
    import soundfile

    pcm, rate = piper_speech("One short chapter.")
    good = tmp_path / "good.flac"
    soundfile.write(str(good), pcm, rate, subtype="PCM_16")
    bad = tmp_path / "bad.flac"
    bad.write_bytes(good.read_bytes()[:200])  # a chapter file that breaks while it is read
    parts = [Part("Good", good, len(pcm) / rate, -20.0, 0.5), Part("Bad", bad, 10.0, -20.0, 0.5)]
    for fmt, name in (("m4b", "book.m4b"), ("flac", "book.flac"), ("mp3", "book.zip")):
        with pytest.raises(Exception):  # noqa: B017 - whatever the decoder raises
            write_book(Book("Broken", "", parts, rate, -18.0), fmt, tmp_path / name)
        assert not (tmp_path / name).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.flac", "good.flac"]  # no part files either


def test_a_conversational_turn_takes_the_engine_from_a_preemptible_render_at_once():
    turns = TurnLock()
    preempt = Cancel()
    render = turns.acquire(Priority.RENDER, lambda: False, preempt=preempt)
    assert render is not None
    got = threading.Event()
    tickets: list[int | None] = []

    def reply() -> None:
        tickets.append(turns.acquire(Priority.CONVERSATION, lambda: False))
        got.set()

    t0 = time.monotonic()
    threading.Thread(target=reply, daemon=True).start()
    assert preempt.wait(2), "the render was not asked to let go"
    asked = time.monotonic() - t0
    assert not got.is_set()  # the render still holds it until it lets go
    turns.release(render)
    assert got.wait(2)
    turns.release(tickets[0])
    assert asked < 1.0
    # a reply's turn is never taken by another reply (the same priority waits its turn)
    held = Cancel()
    mine = turns.acquire(Priority.CONVERSATION, lambda: False, preempt=held)
    assert mine is not None
    other = Cancel()
    threading.Thread(target=lambda: turns.acquire(Priority.CONVERSATION, other.is_set), daemon=True).start()
    time.sleep(0.2)
    assert not held.is_set()
    other.set()
    turns.release(mine)
