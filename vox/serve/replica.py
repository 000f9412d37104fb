"""One engine replica: a Ray Serve deployment that holds one engine and streams its audio.

Each replica runs one synthesis at a time (``max_ongoing_requests=1``), as an engine does in one process.
A call streams: first who took it (replica id, pid, device), then each piece of float32 PCM as the engine
yields it, then what it cost (compute seconds). A cancelled call (Vox's stop cancels the remote call) arrives
as ``asyncio.CancelledError``, which sets the engine's own cancel, so Piper's ONNX run ends within milliseconds
here just as it does in one process.

Voices are Serve "multiplexed models": a request names its voice as ``multiplexed_model_id``, and Serve's router
prefers a replica that reports that voice warm (Chatterbox's conditionals, Piper's loaded model), falling back
to any free replica when those are busy. Up to ``WARM_VOICES`` voices stay warm per replica (least recently used
go, and the engine forgets what it cached for them).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from ray import serve

from vox.config import Config
from vox.engines.base import SynthesisOptions, Voice
from vox.engines.registry import create_engine
from vox.jobs.cancel import Cancel

WARM_VOICES = 3
"""Voices kept warm per replica (Piper keeps three models loaded)."""


class WarmVoice:
    """A voice a replica has warm; Serve drops it (least recently used) and the engine forgets it."""

    def __init__(self, replica: EngineReplica, voice: Voice) -> None:
        self.replica, self.voice = replica, voice

    def __del__(self) -> None:
        try:
            self.replica.engine.forget_voice(self.voice)
        except Exception:
            pass


class EngineReplica:
    def __init__(self, engine: str, config: Config, threads: int) -> None:
        if threads and "torch" in sys.modules:
            import torch

            torch.set_num_threads(threads)
        self.engine = create_engine(engine, config)
        self.engine.cpu_threads = threads
        self.engine.load()
        if threads and "torch" in sys.modules:  # Chatterbox imports torch while it loads
            import torch

            torch.set_num_threads(threads)
        self.pid = os.getpid()
        self.id = serve.get_replica_context().replica_id.unique_id
        self._voices: dict[str, Voice] = {}
        # One thread runs the engine: a cancelled call's clean-up waits behind the piece being computed.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vox-replica")

    def info(self) -> dict:
        return {"sample_rate": self.engine.sample_rate, "device": self.engine.device, "replica": self.id,
                "pid": self.pid}  # fmt: skip

    @serve.multiplexed(max_num_models_per_replica=WARM_VOICES)
    async def _warm(self, voice_id: str) -> WarmVoice:
        voice = self._voices[voice_id]
        await asyncio.get_running_loop().run_in_executor(self._worker, self.engine.warm_voices, [voice])
        return WarmVoice(self, voice)

    async def synthesize(self, text: str, voice: Voice | None, options: SynthesisOptions) -> AsyncIterator:
        loop = asyncio.get_running_loop()
        yield {"replica": self.id, "pid": self.pid, "device": self.engine.device}
        if voice is not None:
            self._voices[voice.id] = voice
            await self._warm(voice.id)
        cancel = Cancel()
        compute, samples = 0.0, 0
        pieces = self.engine.synthesize(text, voice, options, cancel)
        try:
            while True:
                started = time.monotonic()
                pcm = await loop.run_in_executor(self._worker, next, pieces, None)
                compute += time.monotonic() - started
                if pcm is None:
                    break
                samples += len(pcm)
                yield pcm
        except asyncio.CancelledError:
            cancel.set()  # ends the engine's run in progress at once
            raise
        finally:
            cancel.set()
            self._worker.submit(pieces.close)
        yield {"done": True, "compute_s": compute, "audio_s": samples / self.engine.sample_rate}
