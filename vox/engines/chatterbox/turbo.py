"""Chatterbox Turbo: the English engine and its T3 token loop.

Turbo's ``generate()`` uses temperature, top_k, top_p and repetition_penalty; it ignores cfg_weight,
exaggeration and min_p (it warns that Turbo does not support them), so Vox declares only the options Turbo
uses and refuses the others with a clear 400. Turbo performs paralinguistic tags ([laugh], [sigh] ...), one
token each in its tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vox.engines.base import Capabilities
from vox.engines.chatterbox.checkpoint import CheckpointSpec
from vox.engines.chatterbox.engine import ChatterboxEngine
from vox.engines.chatterbox.sampling import Sampling

_SILENCE_TOKEN = 4299  # S3GEN_SIL: Turbo appends three so an utterance ends cleanly
TOP_K = 1000  # upstream's default; not a request option
_WEIGHTS = ("ve.safetensors", "t3_turbo_v1.safetensors", "s3gen_meanflow.safetensors", "tokenizer_config.json")


class ChatterboxTurboEngine(ChatterboxEngine):
    """Chatterbox Turbo: English, GPT-2 T3 without CFG, 2-step meanflow S3Gen. The fast one."""

    name = "turbo"
    capabilities = Capabilities(
        title="Chatterbox Turbo", badge="Turbo", voice_kinds=("clip",), streams_within_chunk=True,
        paralinguistic_tags=True, options=frozenset({"temperature", "top_p", "repetition_penalty", "seed"}), gpu=True,
    )  # fmt: skip
    checkpoint = CheckpointSpec(
        title=capabilities.title,
        config_key="turbo_checkpoint",
        repo_id="ResembleAI/chatterbox-turbo",
        weight_files=_WEIGHTS,
        hub_patterns=("*.safetensors", "*.json", "*.txt", "*.pt", "*.model"),
    )
    model_defaults = Sampling(temperature=0.8, top_p=0.95, repetition_penalty=1.2)
    conds_kwargs: ClassVar[dict[str, Any]] = {"exaggeration": 0.0, "norm_loudness": True}
    end_tokens = (_SILENCE_TOKEN,) * 3

    def _from_local(self, checkpoint: Path) -> Any:
        tts = self.cb.tts_turbo
        self.conditionals_class = tts.Conditionals
        model = tts.ChatterboxTurboTTS.from_local(str(checkpoint), self.device)
        # chatterbox was written for numpy 1: under numpy 2 its loudness gain (a float64 scalar) turns the
        # reference into float64, which S3Gen's tokenizer rejects. Keep the clip float32.
        norm_loudness = model.norm_loudness
        model.norm_loudness = lambda wav, sr, *args, **kwargs: np.asarray(
            norm_loudness(wav, sr, *args, **kwargs), dtype=np.float32
        )
        return model

    def text_tokens(self, text: str) -> Any:
        """Turbo's text tokens for ``text``, as upstream makes them (punctuation normalised, then its GPT-2
        tokenizer, where each paralinguistic tag is one token)."""
        text = self.cb.tts_turbo.punc_norm(text)
        return self._model.tokenizer(text, return_tensors="pt", padding=True, truncation=True).input_ids

    def _tokens(self, model: Any, conds: Any, text: str, lang: str | None, sampling: Sampling, generator: Any,
                stop: Callable[[], bool]) -> Iterator[int]:  # fmt: skip
        """Turbo's T3 loop (as ``T3.inference_turbo``), one token per iteration, checking ``stop`` first."""
        cb, t3 = self.cb, model.t3
        torch = cb.torch
        with self.compute():
            text_tokens = self.text_tokens(text).to(self.device)
            processors = cb.LogitsProcessorList([
                cb.TemperatureLogitsWarper(sampling.temperature),
                cb.TopKLogitsWarper(TOP_K),
                cb.TopPLogitsWarper(sampling.top_p),
                cb.RepetitionPenaltyLogitsProcessor(sampling.repetition_penalty),
            ])  # fmt: skip
            start = t3.hp.start_speech_token * torch.ones_like(text_tokens[:, :1])
            embeds, _ = t3.prepare_input_embeds(
                t3_cond=conds.t3, text_tokens=text_tokens, speech_tokens=start, cfg_weight=0.0
            )
            out = t3.tfmr(inputs_embeds=embeds, use_cache=True)
            past = out.past_key_values
            token = self._sample(processors, start, t3.speech_head(out[0][:, -1, :]), 0, generator)
        history = [token]
        for count in range(1, self.max_new_tokens + 1):
            if token is None or int(token.item()) == t3.hp.stop_speech_token:
                return
            yield int(token.item())
            if stop() or count == self.max_new_tokens:
                return
            with self.compute():
                out = t3.tfmr(inputs_embeds=t3.speech_emb(token), past_key_values=past, use_cache=True)
                past = out.past_key_values
                logits = t3.speech_head(out[0][:, -1, :])
                token = self._sample(processors, torch.cat(history, dim=1), logits, count, generator)
            history.append(token)

    def _sample(self, processors: Any, ids: Any, logits: Any, count: int, generator: Any) -> Any:
        """Upstream's sampling (processors, softmax, multinomial) from the reply's generator; None when every
        logit is -inf."""
        torch = self.cb.torch
        logits = logits.float()
        if count < self.min_new_tokens:
            logits[..., self._model.t3.hp.stop_speech_token] = -float("inf")
        logits = processors(ids, logits)
        if torch.all(logits == -float("inf")):
            return None
        return torch.multinomial(torch.softmax(logits, dim=-1), num_samples=1, generator=generator)
