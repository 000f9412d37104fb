"""What every model Vox loads implements, so one ModelSlot (slot.py) can load, report and free any of them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

Progress = Callable[[float, str], None]
"""Load progress callback: (fraction 0..1, what is happening)."""


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores progress."""


class Model(ABC):
    """A model that is loaded before use and freed after: ``load`` -> any number of uses -> ``unload``."""

    device: str = "cpu"
    """Where it runs once loaded ("cpu", "cuda", ...)."""

    @property
    @abstractmethod
    def loaded(self) -> bool:
        """True once ``load`` succeeded and until ``unload``."""

    @abstractmethod
    def load(self, progress: Progress = no_progress) -> None:
        """Load the weights; raise the side's Unavailable error (a VoxError) saying what to do when it cannot
        run here."""

    @abstractmethod
    def unload(self) -> None:
        """Free the weights and the memory they held."""
