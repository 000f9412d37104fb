"""The real Chatterbox engine classes on small random-weight checkpoints, on the CPU.

Random weights say nothing about speech quality, but every code path is the real one: ``from_local``,
conditionals from a reference clip, Vox's own T3 token loop, sliced vocoding, seeds, generation options,
speed, tags, stop, unload. Random weights rarely emit the stop token, so token counts are fixed with
``min_new_tokens``/``max_new_tokens``.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from vox.audio.stretch import stretch
from vox.config import Config
from vox.engines.base import EngineUnavailable, SynthesisOptions, Voice
from vox.engines.chatterbox import (
    SAMPLE_RATE,
    SAMPLES_PER_TOKEN,
    SUPPORTED_LANGUAGES,
    ChatterboxMultilingualEngine,
    ChatterboxTurboEngine,
    missing_modules,
    split_for_model,
)
from vox.errors import BadClip, UnsupportedLanguage, UnsupportedOption, VoiceRequired
from vox.jobs.cancel import Cancel

pytestmark = pytest.mark.chatterbox
ROOT = Path(__file__).resolve().parent.parent
needs_torch = pytest.mark.skipif(
    bool(missing_modules()),
    reason="Chatterbox is not installed (pip install -r requirements-turbo.txt; chatterbox-tts --no-deps)",
)
TEXT = "Hello there, this is a test."


def write_reference(path: Path, seconds: float, pitch: float = 140.0) -> Path:
    """A voiced-sounding clip: a gliding harmonic tone with a syllable-rate envelope."""
    import soundfile

    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = pitch + 20 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2
    soundfile.write(str(path), (0.2 * tone * envelope).astype(np.float32), SAMPLE_RATE)
    return path


def voice(path: Path, voice_id: str = "ref") -> Voice:
    return Voice(id=voice_id, name=voice_id, engines=("turbo", "multilingual"), path=path)


def rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Torch on one thread: the tests share two CPU cores with other processes, and torch's worker threads then
    spin against them (a 20-token reply took 75 s on two threads under load, 4 to 10 s on one)."""
    if missing_modules():
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def turbo_checkpoint() -> Path:
    from tests.chatterbox_ckpt import small_checkpoint

    return small_checkpoint()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Voice:
    return voice(write_reference(tmp_path_factory.mktemp("voices") / "ref.wav", 6.0))


@pytest.fixture(scope="module")
def turbo(turbo_checkpoint, tmp_path_factory):
    engine = ChatterboxTurboEngine(
        turbo_checkpoint,
        device="cpu",
        cache_dir=tmp_path_factory.mktemp("conds"),
        max_new_tokens=20,
        min_new_tokens=20,
        watermark=False,
    )
    engine.load()
    yield engine
    engine.unload()


def run(engine, text: str, v: Voice | None, cancel: Cancel | None = None, **options) -> list[np.ndarray]:
    return list(engine.synthesize(text, v, SynthesisOptions(**options), cancel or Cancel()))


def speak(engine, v: Voice | None, text: str = TEXT, **options) -> np.ndarray:
    return np.concatenate(run(engine, text, v, **options))


# ---- without torch


def test_importing_the_engine_does_not_import_torch():
    code = "import sys, vox.engines.chatterbox; print('torch' in sys.modules, 'chatterbox' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_missing_checkpoint_says_which_files_and_which_config_key(tmp_path):
    with pytest.raises(EngineUnavailable) as err:
        ChatterboxTurboEngine(tmp_path / "nowhere").load()
    message = str(err.value)
    for words in ("does not exist", "t3_turbo_v1.safetensors", "s3gen_meanflow.safetensors", "ve.safetensors",
                  "turbo_checkpoint", "[engine]", "config.toml", "ResembleAI/chatterbox-turbo"):  # fmt: skip
        assert words in message
    (tmp_path / "ve.pt").write_bytes(b"x")
    with pytest.raises(EngineUnavailable) as err:
        ChatterboxMultilingualEngine(tmp_path).load()
    assert "lacks t3_mtl23ls_v2.safetensors, s3gen.pt" in str(err.value)
    assert "multilingual_checkpoint" in str(err.value)


def test_missing_packages_name_them_and_the_install_command(monkeypatch, tmp_path):
    import vox.engines.chatterbox.checkpoint as module  # packages_problem looks missing_modules up there

    monkeypatch.setattr(module, "missing_modules", lambda: ["torch", "chatterbox"])
    expected = r"\(torch, chatterbox\).*make turbo.*--no-deps chatterbox-tts==0\.1\.7"
    with pytest.raises(EngineUnavailable, match=expected):
        ChatterboxTurboEngine(tmp_path).load()
    reason = ChatterboxTurboEngine.unavailable_reason(Config())
    assert "(torch, chatterbox)" in reason and "make turbo" in reason


def test_unavailable_reason_names_missing_files_and_an_empty_hub_cache(tmp_path, monkeypatch):
    config = Config()
    config.engine.multilingual_checkpoint = str(tmp_path)
    (tmp_path / "ve.pt").write_bytes(b"x")
    reason = ChatterboxMultilingualEngine.unavailable_reason(config)
    assert "lacks t3_mtl23ls_v2.safetensors, s3gen.pt, grapheme_mtl_merged_expanded_v1.json" in reason, reason
    for name in ("t3_mtl23ls_v2.safetensors", "s3gen.pt", "grapheme_mtl_merged_expanded_v1.json"):
        (tmp_path / name).write_bytes(b"x")
    if missing_modules():
        return
    assert ChatterboxMultilingualEngine.unavailable_reason(config) == ""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    reason = ChatterboxTurboEngine.unavailable_reason(Config())
    assert "Hugging Face cache" in reason and "ResembleAI/chatterbox-turbo lacks ve.safetensors" in reason, reason


def test_split_for_model_cuts_at_clauses_then_words_and_never_inside_a_tag():
    text = ("This sentence has several words in it, and it goes on for a while; then it stops. " * 12).strip()
    pieces = split_for_model(text, 100)
    assert len(pieces) > 5
    assert all(len(p) <= 100 for p in pieces)
    assert all(p[-1] in ".,;:!?-" for p in pieces)  # a cut mid-sentence gets a comma, not the model's full stop
    assert " ".join(pieces).replace(",", "").split() == text.replace(",", "").split()
    assert split_for_model("x" * 250, 100) == ["x" * 99 + ",", "x" * 99 + ",", "x" * 52]
    tagged = "word " * 18 + "[clear throat] and on"  # a plain word cut would fall between "[clear" and "throat]"
    assert any("[clear throat]" in piece for piece in split_for_model(tagged, 100))


def test_generation_options_are_declared_from_what_each_model_uses():
    turbo = ChatterboxTurboEngine.capabilities
    assert turbo.options == {"temperature", "top_p", "repetition_penalty", "seed"}  # generate() ignores the rest
    assert turbo.speed and turbo.paralinguistic_tags
    multilingual = ChatterboxMultilingualEngine.capabilities
    assert multilingual.options == {"exaggeration", "cfg_weight", "temperature", "top_p", "repetition_penalty",
                                    "seed"}  # fmt: skip
    assert multilingual.speed and not multilingual.paralinguistic_tags
    with pytest.raises(UnsupportedOption, match="Chatterbox Turbo cannot use cfg_weight, exaggeration; leave them out"):
        ChatterboxTurboEngine.check_options(SynthesisOptions(exaggeration=0.7, cfg_weight=0.3, temperature=0.5))


def test_config_defaults_reach_the_engine_and_requests_override_them(tmp_path):
    from vox.engines.chatterbox.sampling import resolve

    path = tmp_path / "config.toml"
    path.write_text("[engine]\ntemperature = 0.5\ncfg_weight = 0.2\nseed = 7\n")
    from vox.config import load

    engine = ChatterboxTurboEngine.from_config(load(path))
    assert engine.defaults == {"temperature": 0.5, "cfg_weight": 0.2, "seed": 7}
    honoured = ChatterboxTurboEngine.capabilities.options
    plain = resolve(ChatterboxTurboEngine.model_defaults, engine.defaults, SynthesisOptions(), honoured)
    assert (plain.temperature, plain.top_p, plain.seed, plain.cfg_weight) == (0.5, 0.95, 7, 0.0)  # cfg: not Turbo's
    asked = resolve(ChatterboxTurboEngine.model_defaults, engine.defaults, SynthesisOptions(temperature=1.1, seed=3),
                    honoured)  # fmt: skip
    assert (asked.temperature, asked.seed) == (1.1, 3)
    fresh = {resolve(ChatterboxTurboEngine.model_defaults, {}, SynthesisOptions(), honoured).seed for _ in range(5)}
    assert len(fresh) > 1 and all(0 <= seed < 2**32 for seed in fresh)


# ---- on the small random checkpoint


@needs_torch
def test_clones_a_reference_and_yields_float32_at_24k(turbo, reference):
    turbo.tokens_per_slice = 0  # one whole-chunk vocoding, as upstream's generate()
    try:
        pieces = run(turbo, TEXT, reference)
    finally:
        turbo.tokens_per_slice = 35
    assert turbo.sample_rate == SAMPLE_RATE == 24000 and turbo.loaded
    assert len(pieces) == 1 and pieces[0].dtype == np.float32 and pieces[0].ndim == 1
    assert turbo.stats.tokens == 20
    assert len(pieces[0]) == (20 + 3) * SAMPLES_PER_TOKEN  # + the three silence tokens Turbo appends
    assert np.isfinite(pieces[0]).all() and 0.001 < np.sqrt(np.mean(pieces[0] ** 2)) < 1.0


@needs_torch
def test_the_same_seed_gives_the_same_audio_and_another_seed_other_audio(turbo, reference):
    first = speak(turbo, reference, seed=11)
    assert turbo.stats.seed == 11
    assert np.array_equal(first, speak(turbo, reference, seed=11))
    assert not np.array_equal(first, speak(turbo, reference, seed=12))
    unseeded = speak(turbo, reference)
    drawn = turbo.stats.seed  # a reply without a seed reports the one it drew, so it can be asked for again
    assert drawn is not None and np.array_equal(unseeded, speak(turbo, reference, seed=drawn))


@needs_torch
def test_every_turbo_option_changes_the_reply_or_is_refused(turbo, reference, monkeypatch):
    base = speak(turbo, reference, seed=5)
    for option, value in (("temperature", 1.6), ("top_p", 0.3)):
        assert not np.array_equal(base, speak(turbo, reference, seed=5, **{option: value})), option
    # The repetition penalty only acts on tokens the model has already said; random weights almost never say
    # a token twice in 20, so check that the value reaches the model's own logits processor instead.
    built: list[float] = []
    real = turbo.cb.RepetitionPenaltyLogitsProcessor

    class Recording(real):
        def __init__(self, penalty: float, *args, **kwargs) -> None:
            built.append(penalty)
            super().__init__(penalty, *args, **kwargs)

    monkeypatch.setattr(turbo.cb, "RepetitionPenaltyLogitsProcessor", Recording)
    speak(turbo, reference, seed=5, repetition_penalty=1.7)
    speak(turbo, reference, seed=5)
    assert built == [1.7, 1.2]
    for option in ("exaggeration", "cfg_weight"):
        with pytest.raises(UnsupportedOption, match=f"cannot use {option}"):
            turbo.synthesize(TEXT, reference, SynthesisOptions(**{option: 0.5}), Cancel())


@needs_torch
def test_the_vocoder_noise_is_upstreams_drawn_from_the_replys_generator(turbo):
    import torch

    from vox.engines.chatterbox.hift import vocode

    s3gen = turbo._model.s3gen
    mels = torch.randn(1, 80, 60, generator=torch.Generator().manual_seed(0)) * 0.5 - 5
    with torch.inference_mode():
        torch.manual_seed(9)
        upstream, _ = s3gen.hift_inference(mels, torch.zeros(1, 1, 0))
        ours, _ = vocode(s3gen.mel2wav, mels, torch.zeros(1, 1, 0), torch.Generator().manual_seed(9))
        other, _ = vocode(s3gen.mel2wav, mels, torch.zeros(1, 1, 0), torch.Generator().manual_seed(10))
    assert torch.equal(upstream, ours)  # the same arithmetic, the same draws in the same order
    assert not torch.equal(ours, other)


@needs_torch
def test_speed_stretches_the_streamed_slices_as_one_without_a_seam(turbo, reference):
    turbo.max_new_tokens = turbo.min_new_tokens = 30
    turbo.tokens_per_slice, turbo.slice_growth = 12, 1.0
    try:
        whole = np.concatenate(run(turbo, TEXT, reference, seed=3))
        fast = run(turbo, TEXT, reference, seed=3, speed=1.6)
        assert len(fast) >= 2  # still streamed in pieces
        joined = np.concatenate(fast)
        assert len(joined) == round(len(whole) / 1.6)
        # the pieces are exactly the whole reply stretched at once: there is nothing at the joins
        assert np.array_equal(joined, stretch(whole, 1.6))
        assert turbo.stats.stretch_seconds > 0
    finally:
        turbo.max_new_tokens = turbo.min_new_tokens = 20
        turbo.tokens_per_slice, turbo.slice_growth = 35, 2.0


@needs_torch
def test_tags_reach_turbos_tokenizer_as_tags(turbo, reference):
    tokens = turbo._model.tokenizer.convert_ids_to_tokens(turbo.text_tokens("Oh [laugh] well [clear throat] ok")[0])
    assert "[laugh]" in tokens and "[clear throat]" in tokens  # one token each, as in Turbo's real tokenizer
    assert "laugh" not in "".join(t for t in tokens if t not in ("[laugh]", "[clear throat]"))
    run(turbo, "That is funny [laugh], anyway.", reference, seed=1)
    assert turbo.stats.model_calls == ["That is funny [laugh], anyway."]


@needs_torch
def test_stop_frees_the_engine_within_a_few_tokens(turbo, reference):
    turbo.max_new_tokens = turbo.min_new_tokens = 200
    cancel = Cancel()
    got: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: got.extend(run(turbo, "A long utterance.", reference, cancel)))
    previous = turbo.stats  # the last call's; this call starts a new one once it holds the model
    try:
        worker.start()
        deadline = time.monotonic() + 60
        while (turbo.stats is previous or turbo.stats.tokens < 10) and time.monotonic() < deadline:
            time.sleep(0.005)
        at_cancel = turbo.stats.tokens
        cancel.set()
        stopped_at = time.monotonic()
        worker.join(30)
        assert not worker.is_alive()
        assert 10 <= at_cancel and turbo.stats.tokens - at_cancel <= 2
        assert turbo.stats.stopped and time.monotonic() - stopped_at < 5
        assert turbo._lock.acquire(blocking=False)  # free again
        turbo._lock.release()
    finally:
        cancel.set()
        worker.join(30)
        turbo.max_new_tokens = turbo.min_new_tokens = 20


@needs_torch
def test_slices_join_without_a_click(turbo, reference):
    turbo.max_new_tokens = turbo.min_new_tokens = 30
    turbo.tokens_per_slice = 12
    try:
        pieces = run(turbo, "Slices, please.", reference)
    finally:
        turbo.max_new_tokens = turbo.min_new_tokens = 20
        turbo.tokens_per_slice = 35
    assert len(pieces) == 3  # after tokens 12 and 24, then the rest
    audio = np.concatenate(pieces)
    assert len(audio) == (30 + 3) * SAMPLES_PER_TOKEN  # the same length as one whole-chunk vocoding
    jumps = np.abs(np.diff(audio))
    joins = np.cumsum([len(p) for p in pieces])[:-1]
    near = np.zeros(len(jumps), dtype=bool)
    for j in joins:
        near[j - 3 : j + 3] = True
    inside = np.quantile(jumps[~near], 0.999)
    assert jumps[near].max() <= inside, (jumps[near].max(), inside)


@needs_torch
def test_no_model_call_gets_more_than_max_chars(turbo, reference, monkeypatch):
    calls: list[str] = []

    def tokens(model, conds, text, lang, sampling, generator, stop):
        calls.append(text)
        yield from ()

    monkeypatch.setattr(turbo, "_tokens", tokens)
    turbo.max_chars = 60
    try:
        run(turbo, "Words and more words, " * 8, reference)
    finally:
        turbo.max_chars = 300
    assert len(calls) >= 3 and all(len(text) <= 60 for text in calls)
    assert " ".join(calls).replace(",", "").split() == ("Words and more words " * 8).split()


@needs_torch
def test_bad_reference_clips_and_no_voice_are_refused_clearly(turbo, tmp_path):
    short = voice(write_reference(tmp_path / "short.wav", 3.2), "short")
    expected = r"Chatterbox Turbo needs a reference clip longer than 5 seconds; this one is 3\.2 s\. Record"
    with pytest.raises(BadClip, match=expected):
        turbo.synthesize("Hi.", short, SynthesisOptions(), Cancel())
    turbo.warm_voices([short])  # logged and skipped, not raised
    with pytest.raises(BadClip, match=r"gone from the voices folder\. Upload it again"):
        turbo.synthesize("Hi.", voice(tmp_path / "deleted.wav", "deleted"), SynthesisOptions(), Cancel())
    with pytest.raises(VoiceRequired, match="no built-in voice"):
        turbo.synthesize("Hi.", None, SynthesisOptions(), Cancel())


@needs_torch
def test_conditionals_cache_on_disk_and_invalidation(turbo, tmp_path):
    clip = write_reference(tmp_path / "mine.wav", 6.0, pitch=120)
    mine = voice(clip, "mine")
    before = turbo.conditionals_hits
    turbo.warm_voices([mine])
    assert turbo.conditionals_hits["computed"] == before["computed"] + 1
    files = list(turbo._conds.folder.glob("*.pt"))
    assert any(f.stem in str(turbo._conds.voice_hash["mine"]) for f in files)

    turbo._conds.memory.clear()  # as after a restart: the second use comes from disk
    turbo.conditionals(mine)
    assert turbo.conditionals_hits["disk"] == before["disk"] + 1
    turbo.conditionals(mine)
    assert turbo.conditionals_hits["memory"] >= before["memory"] + 1

    old = turbo._conds.file(turbo._conds.voice_hash["mine"])
    time.sleep(0.01)
    write_reference(clip, 6.5, pitch=200)  # same path, new content
    turbo.conditionals(mine)
    assert turbo.conditionals_hits["computed"] == before["computed"] + 2
    new = turbo._conds.file(turbo._conds.voice_hash["mine"])
    assert new != old and new.exists() and not old.exists()

    turbo.forget_voice(mine)
    assert not new.exists()


@needs_torch
def test_multilingual_speaks_a_language_honours_its_options_and_refuses_unknown_ones(reference, monkeypatch):
    from tests.chatterbox_ckpt import MULTILINGUAL, small_checkpoint

    assert len(SUPPORTED_LANGUAGES) == 23 and ChatterboxMultilingualEngine.SUPPORTED_LANGUAGES == SUPPORTED_LANGUAGES
    checkpoint = small_checkpoint(MULTILINGUAL)
    engine = ChatterboxMultilingualEngine(
        checkpoint, device="cpu", max_new_tokens=6, min_new_tokens=6, cfm_steps=2, watermark=False
    )
    engine.load()
    text = "Bonjour tout le monde."
    try:
        with pytest.raises(UnsupportedLanguage, match=r"does not speak 'xx'\. Use one of: ar, da, de"):
            engine.synthesize("Bonjour.", reference, SynthesisOptions(lang="xx"), Cancel())
        audio = speak(engine, reference, text, lang="fr", seed=4)
        assert engine.stats.tokens == 6
        # random weights sample some of the 1633 non-speech ids too; those are dropped, as upstream does
        assert audio.dtype == np.float32 and 0 < len(audio) <= 6 * SAMPLES_PER_TOKEN
        assert len(audio) % SAMPLES_PER_TOKEN == 0 and np.isfinite(audio).all()
        assert np.array_equal(audio, speak(engine, reference, text, lang="fr", seed=4))
        # each of these changes one of the first three tokens
        for option, value in (("cfg_weight", 1.0), ("temperature", 1.5), ("top_p", 0.3)):
            assert not np.array_equal(audio, speak(engine, reference, text, lang="fr", seed=4, **{option: value}))
        # Exaggeration is part of the voice's T3 conditioning; a few tokens of random weights do not show it, so
        # check that the reply's value reaches the model and the cached conditionals stay as computed.
        strengths: list[float] = []
        t3 = engine._model.t3
        prepare = t3.prepare_input_embeds

        def recording(**kwargs):
            strengths.append(float(kwargs["t3_cond"].emotion_adv.flatten()[0]))
            return prepare(**kwargs)

        monkeypatch.setattr(t3, "prepare_input_embeds", recording)
        engine.max_new_tokens = engine.min_new_tokens = 1
        hooks = [len(layer.self_attn._forward_hooks) for layer in t3.tfmr.layers]
        run(engine, "Hallo [laugh].", reference, lang="de-DE", exaggeration=1.5)
        assert strengths == [1.5] and float(engine.conditionals(reference).t3.emotion_adv.flatten()[0]) == 0.5
        assert engine.stats.model_calls == ["Hallo."]  # tags are Turbo's: removed here, never read out
        # upstream leaves the alignment analyzer's hooks behind at every call; Vox removes them
        assert [len(layer.self_attn._forward_hooks) for layer in t3.tfmr.layers] == hooks
    finally:
        engine.unload()


@needs_torch
def test_unload_while_generating_stops_within_a_token_and_gives_memory_back(turbo_checkpoint, reference):
    engine = ChatterboxTurboEngine(turbo_checkpoint, device="cpu", max_new_tokens=400, min_new_tokens=400,
                                   watermark=False)  # fmt: skip
    before = rss()
    engine.load()
    got: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: got.extend(run(engine, "A long utterance.", reference)))
    previous = engine.stats
    worker.start()
    deadline = time.monotonic() + 60
    while (engine.stats is previous or engine.stats.tokens < 5) and time.monotonic() < deadline:
        time.sleep(0.005)
    loaded = rss()
    at_unload = engine.stats.tokens
    engine.unload()  # sets closing first: the generation stops at its next token and lets go of the model
    worker.join(30)
    after = rss()
    assert not worker.is_alive() and not engine.loaded
    assert 5 <= at_unload and engine.stats.tokens - at_unload <= 2 and engine.stats.stopped
    grown = loaded - before
    assert grown > 300e6, grown
    assert loaded - after > 0.6 * grown, (before, loaded, after)
