"""Paralinguistic tags: kept for the engine that performs them (Turbo), removed for the others."""

from __future__ import annotations

import numpy as np
import pytest

from vox.engines.base import SynthesisOptions
from vox.engines.chatterbox import ChatterboxMultilingualEngine, ChatterboxTurboEngine
from vox.engines.piper import PiperEngine
from vox.engines.tags import EVENT_TAGS, TAGS, find_tags, for_engine, strip_tags
from vox.jobs.cancel import Cancel

STRIP = [
    ("Oh, that's hilarious! [chuckle] Anyway, where were we?", "Oh, that's hilarious! Anyway, where were we?"),
    ("[laugh] Sure, here it is.", "Sure, here it is."),
    ("Well [clear throat], the answer is 42 [sigh].", "Well, the answer is 42."),
    ("Stop [SHUSH] please", "Stop please"),
    ("[laugh][laugh] ha", "ha"),
    ("[laugh]", ""),
    ("See [1] and [citation needed].", "See [1] and [citation needed]."),  # not tags: text
    ("A [laughing] matter", "A [laughing] matter"),
    ("No tags at all.", "No tags at all."),
    ("line one [sigh]\nline two", "line one\nline two"),
]


@pytest.mark.parametrize("text,stripped", STRIP)
def test_tags_are_removed_for_engines_that_do_not_perform_them(text, stripped):
    assert strip_tags(text) == stripped
    assert for_engine(text, performs_tags=False) == stripped
    assert for_engine(text, performs_tags=True) == text


def test_the_tag_list_holds_resembles_event_tags():
    assert {"[laugh]", "[chuckle]", "[sigh]", "[cough]", "[gasp]", "[groan]", "[sniff]", "[shush]",
            "[clear throat]"} == set(EVENT_TAGS)  # fmt: skip
    assert set(EVENT_TAGS) < set(TAGS) and len(set(TAGS)) == len(TAGS)
    assert find_tags("a [laugh] b [Sigh] c [1]") == ["[laugh]", "[Sigh]"]


def test_each_engine_declares_whether_it_performs_tags():
    assert ChatterboxTurboEngine.capabilities.paralinguistic_tags
    assert not ChatterboxMultilingualEngine.capabilities.paralinguistic_tags
    assert not PiperEngine.capabilities.paralinguistic_tags
    assert ChatterboxTurboEngine().speakable("Ha [laugh] ok") == "Ha [laugh] ok"
    assert PiperEngine().speakable("Ha [laugh] ok") == "Ha ok"


def test_piper_does_not_read_tags_out():
    engine = PiperEngine()
    engine.load()
    try:
        say = lambda text: list(engine.synthesize(text, None, SynthesisOptions(), Cancel()))  # noqa: E731
        assert say("[laugh] [sigh]") == []  # nothing left to say
        assert len(np.concatenate(say("laugh sigh"))) > 0  # the same words unbracketed are spoken
        tagged, plain = np.concatenate(say("Hello [laugh] there.")), np.concatenate(say("Hello there."))
        assert abs(len(tagged) - len(plain)) < 0.15 * len(plain)  # no extra word's worth of audio
    finally:
        engine.unload()


@pytest.mark.parametrize("cut", [None, 1, 3])
def test_tags_survive_the_text_layer_for_the_engine_to_keep_or_remove(cut):
    from vox.text import SpeechPlanner, normalize_for_speech

    reply = "Oh, that's funny! [laugh] Anyway, **well** [clear throat] go on at 5 p.m. [Sigh] OK."
    spoken = normalize_for_speech(reply)
    assert spoken == "Oh, that's funny! [laugh] Anyway, well [clear throat] go on at 5 p.m. [Sigh] OK."
    planner = SpeechPlanner(group_size=1)
    if cut is None:
        chunks = planner.plan(reply)
    else:  # streamed: a tag may arrive in pieces, "[clear" then " throat]"
        chunks = [c for i in range(0, len(reply), cut) for c in planner.feed(reply[i : i + cut])] + planner.end()
    said = [c.text for c in chunks]
    assert said == ["Oh,", "that's funny!", "[laugh] Anyway, well [clear throat] go on at five p m.", "[Sigh] okay."]
    assert [strip_tags(t) for t in said[2:]] == ["Anyway, well go on at five p m.", "okay."]
    assert reply[chunks[2].start : chunks[2].end] == "[laugh] Anyway, **well** [clear throat] go on at 5 p.m."
