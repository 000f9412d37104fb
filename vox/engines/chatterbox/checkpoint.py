"""Finding a Chatterbox checkpoint (a configured folder, the Hugging Face cache, a download), and saying
cheaply why an engine cannot run here."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vox.engines.chatterbox.constants import INSTALL_COMMAND
from vox.engines.chatterbox.loading import missing_modules
from vox.errors import EngineUnavailable


@dataclass(frozen=True)
class CheckpointSpec:
    """What one engine's checkpoint is: its files, where it lives on the hub, and its config key."""

    title: str
    config_key: str
    repo_id: str
    weight_files: tuple[str, ...]
    hub_patterns: tuple[str, ...]

    def missing_files(self, folder: Path) -> list[str]:
        return [name for name in self.weight_files if not (folder / name).is_file()]

    def files_help(self) -> str:
        return (
            f"Put the files of the Hugging Face repo {self.repo_id} ({', '.join(self.weight_files)}; conds.pt, "
            f'the built-in voice, is optional) in one folder and set {self.config_key} = "/path/to/that/folder" '
            f"in the [engine] section of config.toml."
        )

    def folder_problem(self, folder: Path) -> str:
        """What is wrong with a configured checkpoint folder, or ""."""
        missing = self.missing_files(folder)
        if not missing:
            return ""
        where = f"lacks {', '.join(missing)}" if folder.is_dir() else "does not exist"
        return f"{self.title} checkpoint folder {folder} {where}. {self.files_help()}"

    def fingerprint(self, folder: Path) -> str:
        """Names, sizes and times of the checkpoint's files: conditionals cached for one don't fit another."""
        digest = hashlib.sha256(str(folder.resolve()).encode())
        for name in self.weight_files:
            stat = (folder / name).stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]


INSTALL_HINT = f"`make turbo` (that runs {INSTALL_COMMAND}; several GB), then restart Vox"


def packages_problem(title: str) -> str:
    """Which packages are missing, and how to install them; "" when all are there."""
    missing = missing_modules()
    if not missing:
        return ""
    return (
        f"{title} needs Python packages that are not installed here ({', '.join(missing)}). Install them with "
        f"{INSTALL_HINT}."
    )


def cached_missing(spec: CheckpointSpec) -> list[str]:
    """The weight files the Hugging Face cache lacks (every one when huggingface_hub itself is missing); looks
    at files only, downloads nothing."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return list(spec.weight_files)
    return [name for name in spec.weight_files if not isinstance(try_to_load_from_cache(spec.repo_id, name), str)]


def unavailable_reason(spec: CheckpointSpec, folder: str) -> str:
    """Why the engine cannot run here, cheaply (packages and files exist; nothing imported or loaded)."""
    problem = packages_problem(spec.title)
    if problem:
        return problem
    if folder:
        return spec.folder_problem(Path(folder))
    missing = cached_missing(spec)
    if missing:
        return (
            f"{spec.title}'s weights are not in the Hugging Face cache here ({spec.repo_id} lacks "
            f"{', '.join(missing)}). Download that repo, or set {spec.config_key} in the [engine] section of "
            "config.toml to a folder that holds them."
        )
    return ""


def find_checkpoint(spec: CheckpointSpec, folder: Path | None, progress: Callable[[float, str], None]) -> Path:
    """The checkpoint folder to load: the configured one, else the Hugging Face cache, else a download (unless
    HF_HUB_OFFLINE=1). EngineUnavailable says exactly what is missing and where files go."""
    if folder is not None:
        problem = spec.folder_problem(folder)
        if problem:
            raise EngineUnavailable(problem)
        return folder
    progress(0.15, f"looking for {spec.repo_id} in the Hugging Face cache")
    from huggingface_hub import snapshot_download

    try:
        found = Path(snapshot_download(spec.repo_id, allow_patterns=list(spec.hub_patterns), local_files_only=True))
        if not spec.missing_files(found):
            return found
    except Exception:  # not in the cache: huggingface_hub raises several kinds of error for that
        pass
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise EngineUnavailable(
            f"No {spec.title} checkpoint: none is configured, none is in the Hugging Face cache, and downloads "
            f"are off (HF_HUB_OFFLINE=1). {spec.files_help()}"
        )
    progress(0.16, f"downloading {spec.repo_id} (several GB) into the Hugging Face cache")
    try:
        found = Path(snapshot_download(spec.repo_id, allow_patterns=list(spec.hub_patterns)))
    except Exception as exc:  # network, disk, permissions: all end the same way for the user
        raise EngineUnavailable(
            f"No {spec.title} checkpoint: none is configured, none is in the Hugging Face cache, and downloading "
            f"{spec.repo_id} failed ({exc}). {spec.files_help()}"
        ) from exc
    missing = spec.missing_files(found)
    if missing:
        raise EngineUnavailable(f"The downloaded {spec.repo_id} in {found} lacks {', '.join(missing)}.")
    return found
