"""The one small interface every speech engine implements.

An engine turns one chunk of text into float32 mono PCM at ``sample_rate``. ``synthesize`` is a generator
so that audio can flow as soon as the engine has some, and it watches ``cancel`` so a stop frees the engine
quickly (Piper between sentences, Chatterbox between speech tokens).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

Progress = Callable[[float, str], None]
"""Load progress callback: (fraction 0..1, what is happening)."""


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores progress."""


@dataclass(frozen=True)
class Voice:
    """A voice from the library: a Piper model, or a reference clip that Chatterbox clones."""

    id: str
    name: str
    engines: tuple[str, ...]
    path: Path | None = None
    """The Piper ``.onnx`` model, or the reference ``.wav`` clip; None for an engine's built-in voice."""
    sample_rate: int = 0
    duration: float = 0.0
    extra: dict = field(default_factory=dict, compare=False, hash=False)


class EngineUnavailable(Exception):
    """The engine cannot be loaded here: the message says exactly what to install or where to put files."""


class Engine(Protocol):
    """What the rest of Vox needs from a speech engine."""

    name: str
    sample_rate: int

    def load(self, progress: Progress = no_progress) -> None:
        """Load weights; raise EngineUnavailable with instructions when the engine cannot run here."""

    def unload(self) -> None:
        """Free the weights and the memory they held."""

    def synthesize(
        self,
        text: str,
        voice: Voice | None,
        speed: float,
        cancel: threading.Event,
        lang: str | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield float32 mono PCM pieces for ``text``; stop early once ``cancel`` is set."""
        ...

    @property
    def loaded(self) -> bool:
        """True once ``load`` succeeded and until ``unload``."""
        ...
