"""The token-slice vocoder: speech tokens to audio in growing slices, cross-faded where they meet."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from vox.engines.chatterbox.compute import Compute
from vox.engines.chatterbox.constants import SAMPLE_RATE, SAMPLES_PER_TOKEN
from vox.engines.chatterbox.hift import vocode

_SPEECH_VOCAB = 6561  # tokens >= this are start/stop/padding, never vocoded
_FLOW_LOOKAHEAD = 3  # S3Gen's flow drops this many trailing tokens unless finalize=True
_XFADE_TOKENS = 2  # audio held back at a slice's end and cross-faded into the next slice
_FLOW_CONTEXT_TOKENS = 12  # left context re-vocoded with each slice so its start matches the previous slice


@dataclass(frozen=True)
class VocoderSettings:
    """How an engine vocodes: slice sizes, S3Gen steps, the tokens that end an utterance, the watermark."""

    tokens_per_slice: int = 35
    growth: float = 2.0
    cfm_steps: int | None = None
    end_tokens: tuple[int, ...] = ()
    watermark: bool = True


@dataclass
class _Rendering:
    """One vocoder call's output: audio and its excitation source, from token ``start`` to ``end``."""

    start: int
    end: int
    source: Any  # torch tensor (1, 1, samples)


class _Vocoder:
    """Turns speech tokens into audio, either in slices as tokens arrive or once at the end.

    S3Gen is a flow-matching decoder over the whole token sequence (plus the reference prompt), and its
    output near the sequence's right edge changes once more tokens follow. So each slice re-vocodes a
    little left context with the new tokens and cross-fades where it meets the previous slice:

    - slice k vocodes tokens [committed - 12, n) and trusts its output only up to n - 3 (S3Gen looks 3 tokens
      ahead; the last ones have no future yet), and emits audio from ``committed`` up to 2 tokens before that;
    - those last 2 tokens (80 ms) are held back and cross-faded (raised cosine, gains summing to 1) with the
      same stretch rendered by slice k+1, whose vocoder also reuses slice k's excitation source there
      (HiFT's ``cache_source``), so both renderings of the fade region are nearly identical;
    - the flow's noise is drawn once per utterance (the reference prompt's part once, the speech part
      indexed by token position), so overlapping renderings also share their noise.

    All noise (the flow's and HiFT's excitation) comes from the reply's generator, so a seed reproduces the
    audio exactly. At the join the output is continuous by construction: the fade starts from the very
    rendering the previous piece ended with. ``tokens_per_slice=0`` vocodes the whole chunk at once.

    Every slice re-vocodes the reference prompt too (up to 10 s, 250 tokens), which costs little on a GPU but
    dominates on a CPU. With ``growth`` 2 the slices double (35, 70, 140... tokens): the first audio comes
    as early, and as long as T3 runs faster than real time each slice is ready before the audio already sent
    has played, with far fewer vocoder calls.
    """

    def __init__(self, compute: Compute, model: Any, ref: dict, settings: VocoderSettings, generator: Any) -> None:
        self.compute = compute
        self.model = model
        self.ref = ref
        self.settings = settings
        self.slice = settings.tokens_per_slice
        self.generator = generator
        self.tokens: list[int] = []
        self.committed = 0  # tokens whose audio has been emitted
        self.tail: np.ndarray | None = None  # audio rendered past `committed`, to cross-fade into
        self.last: _Rendering | None = None
        self.noise = None  # the speech part of the flow's noise, by token position
        self.prompt_noise = None
        self.next_render = self.slice
        self.seconds = 0.0  # time spent vocoding

    def feed(self, token: int) -> np.ndarray | None:
        """Add one speech token; return audio when a slice is ready."""
        if token < _SPEECH_VOCAB:
            self.tokens.append(token)
        if self.slice <= 0 or len(self.tokens) < self.next_render:
            return None
        grown = round(len(self.tokens) * (self.settings.growth - 1))
        self.next_render = len(self.tokens) + max(self.slice, grown)
        if len(self.tokens) - _FLOW_LOOKAHEAD - _XFADE_TOKENS <= self.committed:
            return None
        return self._render(final=False)

    def finish(self) -> np.ndarray:
        """The rest of the audio, once the last token is in."""
        if not self.tokens:
            return np.zeros(0, dtype=np.float32)
        return self._render(final=True)

    def _noise(self, start: int, count: int) -> Any:
        """The flow's starting noise for the prompt plus tokens [start, start + count)."""
        torch, s3gen = self.compute.torch, self.model.s3gen
        options = {"dtype": s3gen.dtype, "device": self.compute.device, "generator": self.generator}
        if self.prompt_noise is None:
            frames = 2 * int(self.ref["prompt_token"].shape[-1])
            self.prompt_noise = torch.randn(1, 80, frames, **options)
        frames = 2 * (start + count)
        if self.noise is None or self.noise.shape[2] < frames:
            have = 0 if self.noise is None else self.noise.shape[2]
            fresh = torch.randn(1, 80, max(frames, 2 * (len(self.tokens) + 64)) - have, **options)
            self.noise = fresh if self.noise is None else torch.cat([self.noise, fresh], dim=2)
        return torch.cat([self.prompt_noise, self.noise[:, :, 2 * start : frames]], dim=2)

    def _render(self, final: bool) -> np.ndarray:
        started = time.perf_counter()
        compute, cb, s3gen, settings = self.compute, self.compute.cb, self.model.s3gen, self.settings
        torch = compute.torch
        start = max(0, self.committed - _FLOW_CONTEXT_TOKENS) if self.slice > 0 else 0
        tokens = self.tokens[start:] + (list(settings.end_tokens) if final else [])
        # S3Gen's finalize=False path is broken in chatterbox 0.1.7 (its mask keeps the dropped frames), so
        # every call finalizes and a non-final slice just does not trust its last look-ahead tokens.
        end = start + len(tokens) - (0 if final else _FLOW_LOOKAHEAD)
        with compute():
            speech = torch.tensor([tokens], dtype=torch.long, device=compute.device)
            mels = cb.S3Token2Mel.forward(
                s3gen,
                speech,
                ref_wav=None,
                ref_sr=None,
                ref_dict=self.ref,
                n_cfm_timesteps=settings.cfm_steps or (2 if s3gen.meanflow else 10),
                finalize=True,
                noised_mels=self._noise(start, len(tokens)),
            )
        with compute(autocast=False):
            cache = torch.zeros(1, 1, 0, device=compute.device, dtype=s3gen.dtype)
            if self.last is not None and self.last.end > start:
                offset = (start - self.last.start) * SAMPLES_PER_TOKEN
                cache = self.last.source[:, :, offset : (self.last.end - self.last.start) * SAMPLES_PER_TOKEN]
            wav, source = vocode(s3gen.mel2wav, mels.to(dtype=s3gen.dtype), cache, self.generator)
            if start == 0:  # upstream's fade-in against "spillover" from the reference clip
                fade = s3gen.trim_fade
                wav[:, : len(fade)] *= fade
            audio = wav[0].float().cpu().numpy()
        if settings.watermark:
            # Watermark the whole rendering before cutting it: its edges fall in held-back or context audio.
            with compute(autocast=False):
                audio = np.asarray(self.model.watermarker.apply_watermark(audio, sample_rate=SAMPLE_RATE))
        audio = audio.astype(np.float32, copy=False)
        self.last = _Rendering(start, end, source)
        emit_to = end if final else end - _XFADE_TOKENS
        at = SAMPLES_PER_TOKEN
        piece = audio[(self.committed - start) * at : (emit_to - start) * at].copy()
        if self.tail is not None and len(self.tail):
            n = min(len(self.tail), len(piece))
            fade_in = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
            piece[:n] = self.tail[:n] * (1.0 - fade_in) + piece[:n] * fade_in
        self.tail = None if final else audio[(emit_to - start) * at : (end - start) * at]
        self.committed = emit_to
        self.seconds += time.perf_counter() - started
        return piece.astype(np.float32, copy=False)
