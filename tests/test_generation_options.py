"""Generation options (exaggeration, cfg_weight, temperature, top_p, repetition_penalty, seed): validated on
every speak request, refused with a clear 400 by an engine that cannot honour them, config defaults checked.

The Chatterbox side (each option changes the reply, seeds reproduce it) is in test_chatterbox_engine.py."""

from __future__ import annotations

import pytest

from vox.config import ConfigError, load
from vox.engines.base import GENERATION_OPTIONS

SPEAK = ["/api/vox_speak_wav", "/api/vox_speak_wav_stream"]


@pytest.mark.parametrize("option,value", [("exaggeration", 0.7), ("cfg_weight", 0.3), ("temperature", 0.9),
                                          ("top_p", 0.9), ("repetition_penalty", 1.3), ("seed", 42)])  # fmt: skip
@pytest.mark.parametrize("path", SPEAK)
def test_piper_refuses_every_generation_option_with_a_400_that_names_it(server, path, option, value):
    r = server.post(path, {"text": "Hello there.", option: value})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert f"Piper cannot use {option}; leave it out, or load an engine that honours it." == error
    assert r.json()["options"] == [option] and r.json()["engine"] == "piper"


def test_speed_is_not_a_generation_option_and_piper_honours_it(server):
    assert "speed" not in GENERATION_OPTIONS
    assert server.post("/api/vox_speak_wav", {"text": "Hello there.", "speed": 1.5}).status_code == 200


@pytest.mark.parametrize("payload,words", [
    ({"temperature": 0.0}, "'temperature' must be between 0.05 and 2.0"),
    ({"repetition_penalty": 2.5}, "'repetition_penalty' must be between 1.0 and 2.0"),
    ({"cfg_weight": -0.1}, "'cfg_weight' must be between 0.0 and 1.0"),
    ({"top_p": "high"}, "'top_p' must be a number"),
    ({"seed": 1.5}, "'seed' must be a whole number"),
    ({"seed": -1}, "'seed' must be between 0 and 4294967295"),
])  # fmt: skip
def test_options_out_of_range_are_400_before_any_engine_is_asked(server, payload, words):
    r = server.post("/api/vox_speak_wav", {"text": "Hello there.", **payload})
    assert r.status_code == 400 and words in r.json()["error"], r.text


def test_config_defaults_are_read_and_checked_naming_the_line(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[engine]\nexaggeration = 0.7\ncfg_weight = 0\ntemperature = 1\nseed = 123\n")
    engine = load(good).engine
    assert (engine.exaggeration, engine.cfg_weight, engine.temperature, engine.seed) == (0.7, 0.0, 1.0, 123)
    assert isinstance(engine.cfg_weight, float) and engine.top_p is None and engine.repetition_penalty is None
    for body, words in (("top_p = 1.5", "engine.top_p must be between 0.05 and 1"),
                        ("seed = 2.5", "engine.seed must be a whole number"),
                        ("repetition_penalty = \"high\"", "engine.repetition_penalty must be a number")):  # fmt: skip
        bad = tmp_path / "bad.toml"
        bad.write_text(f"[engine]\nname = \"turbo\"\n{body}\n")
        with pytest.raises(ConfigError) as err:
            load(bad)
        assert f"{bad}:3" in str(err.value) and words in str(err.value), str(err.value)
