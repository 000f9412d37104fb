"""The one contract every text-to-speech engine implements, and what it declares about itself.

An engine turns one chunk of text into float32 mono PCM at ``sample_rate``. ``synthesize`` returns a
generator so audio can flow as soon as the engine has some, and it watches ``cancel`` so a stop frees the
engine at once (Piper terminates its ONNX run mid-sentence, Chatterbox stops at the next speech token).

Lifecycle: ``load`` -> any number of ``synthesize`` -> ``unload``. The EngineManager stops every job that
uses an engine and waits for it to be idle before it calls ``unload``; as a last line of defence, ``unload``
also sets ``closing``, which every running synthesis treats like its own cancel, so nothing can keep
computing on weights that are being freed.

What the rest of Vox needs to know about an engine is declared in its ``Capabilities`` (no ``getattr``
probing): where it runs, which voices it speaks, which request options it honours, whether a reply may open
with a short clause (and the pause to restore after it), whether it streams audio inside one chunk, and
whether it may be given a chunk sentence by sentence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from vox.engines.tags import for_engine
from vox.errors import EngineUnavailable, UnsupportedOption
from vox.jobs.cancel import Cancel

if TYPE_CHECKING:
    from vox.config import Config

__all__ = [
    "GENERATION_OPTIONS", "Capabilities", "Engine", "EngineUnavailable", "Progress", "SynthesisOptions", "Voice",
    "no_progress",
]  # fmt: skip

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


GENERATION_OPTIONS = ("exaggeration", "cfg_weight", "temperature", "top_p", "repetition_penalty", "seed")
"""Sampling options a request may set for the engines that declare them."""


@dataclass(frozen=True)
class SynthesisOptions:
    """How one reply is spoken. ``None`` means the engine's (or config's) default."""

    speed: float = 1.0
    lang: str | None = None
    exaggeration: float | None = None
    cfg_weight: float | None = None
    temperature: float | None = None
    top_p: float | None = None
    repetition_penalty: float | None = None
    seed: int | None = None

    def requested(self) -> set[str]:
        """The generation options this request set explicitly (speed and lang are always present)."""
        return {f.name for f in fields(self) if f.name in GENERATION_OPTIONS and getattr(self, f.name) is not None}


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, declared once; the server, the page and the API read it from here."""

    title: str
    """The name people see."""
    badge: str
    """The short name on a voice that this engine speaks ("Piper", "Turbo")."""
    voice_kinds: tuple[str, ...]
    """Which library voices it speaks: "piper" models, "clip" reference clips (cloning)."""
    options: frozenset[str] = frozenset()
    """Generation options (GENERATION_OPTIONS) it honours; others are refused with a clear 400."""
    languages: tuple[str, ...] = ()
    """Languages ``lang`` may name; empty: the voice decides and ``lang`` is ignored."""
    opens_with_clause: bool = False
    """A reply may start with a clause as short as "Sure," (Piper says it cleanly; Chatterbox babbles)."""
    streams_within_chunk: bool = False
    """``synthesize`` yields several pieces per chunk (token slices), so audio starts before the chunk ends."""
    sentence_by_sentence: bool = False
    """Synthesises every sentence on its own (Piper: one ONNX run per sentence, each normalised alone), so the
    pipeline may ask for a chunk one sentence per call within one turn: the audio is what one call gives, and
    where each sentence starts in it is exact. Other engines get one call per chunk, and the start of each
    sentence is estimated (vox/reply/piece_timing.py)."""
    clause_pause: float = 0.0
    """Seconds of silence (at speed 1) added after a piece said alone that ends inside its sentence ("Sure,"
    before the rest), so that the pause there is the one the engine makes at that comma when it reads the
    whole sentence. Measured per engine (bench/bench_pacing.py); 0 where nobody measured it."""
    speed: bool = True
    """Honours ``speed`` (other engines refuse a speed other than 1.0 instead of ignoring it)."""
    paralinguistic_tags: bool = False
    """Speaks tags like [laugh] and [sigh]; for other engines they are removed from the text."""
    gpu: bool = False
    """Meant for a GPU (it runs on the CPU too, slowly)."""


class Engine(ABC):
    """What the rest of Vox needs from a speech engine. Subclasses declare ``name`` and ``capabilities``."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    sample_rate: int
    device: str = "cpu"
    cpu_threads: int = 0
    """Threads one synthesis may use on the CPU; 0 lets the library decide (a replica sets its CPU share)."""

    def __init__(self) -> None:
        self.closing = Cancel()
        """Set by ``unload``: a running synthesis stops at its next check, as if cancelled."""

    @classmethod
    def from_config(cls, config: Config) -> Engine:
        """The engine as ``config`` sets it up (checkpoint folders, device); not loaded yet."""
        return cls()

    @classmethod
    def unavailable_reason(cls, config: Config) -> str:
        """Why this engine cannot run here, as a sentence with the next step; "" when it can. Cheap: checks
        that packages and weight files exist, imports and loads nothing."""
        return ""

    @property
    def concurrency(self) -> int:
        """How many syntheses may run at once: 1 for an engine in this process (one model, one turn at a time),
        one per replica for an engine served by replicas. The EngineManager gives this many turns at once."""
        return 1

    @property
    @abstractmethod
    def loaded(self) -> bool:
        """True once ``load`` succeeded and until ``unload``."""

    @abstractmethod
    def load(self, progress: Progress = no_progress) -> None:
        """Load weights; raise EngineUnavailable with instructions when the engine cannot run here."""

    def unload(self) -> None:
        """Free the weights. Subclasses free their state in ``_release`` after this sets ``closing``."""
        self.closing.set()
        self._release()

    @abstractmethod
    def _release(self) -> None:
        """Drop the weights and the memory they held."""

    @abstractmethod
    def synthesize(
        self, text: str, voice: Voice | None, options: SynthesisOptions, cancel: Cancel
    ) -> Iterator[np.ndarray]:
        """Yield float32 mono PCM pieces for ``text``; stop early once ``cancel`` (or ``closing``) is set.
        Checks that can fail fast raise before the first piece."""

    @classmethod
    def check_options(cls, options: SynthesisOptions) -> None:
        """Refuse options this engine cannot honour, instead of silently ignoring them."""
        caps = cls.capabilities
        unsupported = sorted(options.requested() - caps.options)
        if unsupported:
            raise UnsupportedOption(
                f"{caps.title} cannot use {', '.join(unsupported)}; leave {'it' if len(unsupported) == 1 else 'them'}"
                f" out, or load an engine that honours {'it' if len(unsupported) == 1 else 'them'}.",
                options=unsupported, engine=cls.name,
            )  # fmt: skip
        if not caps.speed and options.speed != 1.0:
            raise UnsupportedOption(
                f"{caps.title} cannot change the speaking speed; use speed 1.0.", options=["speed"], engine=cls.name
            )

    def warm_voices(self, voices: list[Voice]) -> None:
        """Prepare voices ahead of their first use (Chatterbox computes conditionals); optional."""
        return None

    def forget_voice(self, voice: Voice) -> None:
        """Drop whatever is cached for a deleted voice; optional."""
        return None

    def speakable(self, text: str) -> str:
        """``text`` as this engine should get it: paralinguistic tags ([laugh]) kept where the engine performs
        them, removed otherwise. Every ``synthesize`` starts with it."""
        return for_engine(text, self.capabilities.paralinguistic_tags)

    def stopping(self, cancel: Cancel) -> bool:
        """Whether a synthesis watching ``cancel`` should stop now."""
        return cancel.is_set() or self.closing.is_set()
