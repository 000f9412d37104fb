"""The real Chatterbox engine classes on small random-weight checkpoints, on the CPU.

Random weights say nothing about speech quality, but every code path is the real one: ``from_local``,
conditionals from a reference clip, Vox's own T3 token loop, sliced vocoding, stop, unload. Random weights
rarely emit the stop token, so token counts are fixed with ``min_new_tokens``/``max_new_tokens``.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from vox.engines.base import EngineUnavailable, Voice
from vox.engines.chatterbox import (
    SAMPLE_RATE,
    SAMPLES_PER_TOKEN,
    SUPPORTED_LANGUAGES,
    ChatterboxMultilingualEngine,
    ChatterboxTurboEngine,
    _missing_modules,
    split_for_model,
)

pytestmark = pytest.mark.chatterbox
ROOT = Path(__file__).resolve().parent.parent
needs_torch = pytest.mark.skipif(
    bool(_missing_modules()),
    reason="Chatterbox is not installed (pip install -r requirements-turbo.txt; chatterbox-tts --no-deps)",
)


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


@pytest.fixture(scope="session")
def turbo_checkpoint(tmp_path_factory) -> Path:
    from tests.chatterbox_ckpt import build_checkpoint

    return build_checkpoint(tmp_path_factory.getbasetemp() / "chatterbox-turbo-small", small=True)


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


def run(engine, text: str, v: Voice | None, cancel: threading.Event | None = None, **kw) -> list[np.ndarray]:
    return list(engine.synthesize(text, v, 1.0, cancel or threading.Event(), **kw))


# ---- without torch


def test_importing_the_engine_does_not_import_torch():
    code = "import sys, vox.engines.chatterbox; print('torch' in sys.modules, 'chatterbox' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_missing_checkpoint_says_which_files_and_which_config_key(tmp_path):
    with pytest.raises(EngineUnavailable) as err:
        ChatterboxTurboEngine(tmp_path / "nowhere").load()
    message = str(err.value)
    for words in (
        "does not exist",
        "t3_turbo_v1.safetensors",
        "s3gen_meanflow.safetensors",
        "ve.safetensors",
        "turbo_checkpoint",
        "[engine]",
        "config.toml",
        "ResembleAI/chatterbox-turbo",
    ):
        assert words in message
    (tmp_path / "ve.pt").write_bytes(b"x")
    with pytest.raises(EngineUnavailable) as err:
        ChatterboxMultilingualEngine(tmp_path).load()
    assert "lacks t3_mtl23ls_v2.safetensors, s3gen.pt" in str(err.value)
    assert "multilingual_checkpoint" in str(err.value)


def test_missing_packages_name_the_install_command(monkeypatch, tmp_path):
    import vox.engines.chatterbox.engine as module  # load() looks _missing_modules up there

    monkeypatch.setattr(module, "_missing_modules", lambda: ["torch", "chatterbox"])
    with pytest.raises(
        EngineUnavailable, match=r"requirements-turbo\.txt.*--no-deps chatterbox-tts==0\.1\.7"
    ):
        ChatterboxTurboEngine(tmp_path).load()


def test_split_for_model_cuts_at_clauses_then_words():
    text = ("This sentence has several words in it, and it goes on for a while; then it stops. " * 12).strip()
    pieces = split_for_model(text, 100)
    assert len(pieces) > 5
    assert all(len(p) <= 100 for p in pieces)
    assert all(
        p[-1] in ".,;:!?-" for p in pieces
    )  # a cut mid-sentence gets a comma, not the model's full stop
    assert " ".join(pieces).replace(",", "").split() == text.replace(",", "").split()
    assert split_for_model("x" * 250, 100) == ["x" * 99 + ",", "x" * 99 + ",", "x" * 52]


# ---- on the small random checkpoint


@needs_torch
def test_clones_a_reference_and_yields_float32_at_24k(turbo, reference):
    turbo.tokens_per_slice = 0  # one whole-chunk vocoding, as upstream's generate()
    try:
        pieces = run(turbo, "Hello there, this is a test.", reference)
    finally:
        turbo.tokens_per_slice = 35
    assert turbo.sample_rate == SAMPLE_RATE == 24000 and turbo.loaded
    assert len(pieces) == 1 and pieces[0].dtype == np.float32 and pieces[0].ndim == 1
    assert turbo.stats.tokens == 20
    assert len(pieces[0]) == (20 + 3) * SAMPLES_PER_TOKEN  # + the three silence tokens Turbo appends
    assert np.isfinite(pieces[0]).all() and 0.001 < np.sqrt(np.mean(pieces[0] ** 2)) < 1.0


@needs_torch
def test_stop_frees_the_engine_within_a_few_tokens(turbo, reference):
    turbo.max_new_tokens = turbo.min_new_tokens = 200
    cancel = threading.Event()
    got: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: got.extend(run(turbo, "A long utterance.", reference, cancel)))
    try:
        worker.start()
        deadline = time.monotonic() + 60
        while turbo.token_count < 10 and time.monotonic() < deadline:
            time.sleep(0.005)
        at_cancel = turbo.token_count
        cancel.set()
        stopped_at = time.monotonic()
        worker.join(30)
        assert not worker.is_alive()
        assert 10 <= at_cancel and turbo.token_count - at_cancel <= 2
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

    def tokens(model, conds, text, lang, stop):
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
def test_short_reference_is_refused_clearly(turbo, tmp_path):
    short = voice(write_reference(tmp_path / "short.wav", 3.2), "short")
    expected = r"Chatterbox Turbo needs a reference clip longer than 5 seconds; this one is 3\.2 s"
    with pytest.raises(ValueError, match=expected):
        turbo.synthesize("Hi.", short, 1.0, threading.Event())
    turbo.warm_voices([short])  # logged and skipped, not raised


@needs_torch
def test_builtin_voice_needs_conds_pt(turbo):
    with pytest.raises(ValueError, match="no built-in voice"):
        turbo.synthesize("Hi.", None, 1.0, threading.Event())


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
def test_multilingual_speaks_a_language_and_refuses_unknown_ones(tmp_path_factory, reference):
    from tests.chatterbox_ckpt import MULTILINGUAL, build_checkpoint

    assert (
        len(SUPPORTED_LANGUAGES) == 23
        and ChatterboxMultilingualEngine.SUPPORTED_LANGUAGES == SUPPORTED_LANGUAGES
    )
    checkpoint = build_checkpoint(
        tmp_path_factory.getbasetemp() / "chatterbox-mtl-small", small=True, kind=MULTILINGUAL
    )
    engine = ChatterboxMultilingualEngine(
        checkpoint, device="cpu", max_new_tokens=12, min_new_tokens=12, cfm_steps=2, watermark=False
    )
    engine.load()
    try:
        with pytest.raises(ValueError, match="valid languages: ar, da, de"):
            engine.synthesize("Bonjour.", reference, 1.0, threading.Event(), lang="xx")
        audio = np.concatenate(run(engine, "Bonjour tout le monde.", reference, lang="fr"))
        assert engine.stats.tokens == 12
        # random weights sample some of the 1633 non-speech ids too; those are dropped, as upstream does
        assert audio.dtype == np.float32 and 0 < len(audio) <= 12 * SAMPLES_PER_TOKEN
        assert len(audio) % SAMPLES_PER_TOKEN == 0 and np.isfinite(audio).all()
        hooks = [len(layer.self_attn._forward_hooks) for layer in engine._model.t3.tfmr.layers]
        engine.max_new_tokens = engine.min_new_tokens = 2
        run(engine, "Hallo.", reference, lang="de-DE")
        # upstream leaves the alignment analyzer's hooks behind at every call; Vox removes them
        assert [len(layer.self_attn._forward_hooks) for layer in engine._model.t3.tfmr.layers] == hooks
    finally:
        engine.unload()


@needs_torch
def test_unload_gives_memory_back(turbo_checkpoint, reference, tmp_path):
    engine = ChatterboxTurboEngine(turbo_checkpoint, device="cpu", max_new_tokens=5, watermark=False)
    before = rss()
    engine.load()
    run(engine, "Hi.", reference)
    loaded = rss()
    engine.unload()
    after = rss()
    assert not engine.loaded
    grown = loaded - before
    assert grown > 300e6, grown
    assert loaded - after > 0.6 * grown, (before, loaded, after)
