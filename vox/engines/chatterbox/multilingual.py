"""Chatterbox Multilingual: the 23-language engine and its CFG token loop.

Its ``generate()`` uses exaggeration (the voice's emotion strength, part of the T3 conditionals),
cfg_weight, temperature, repetition_penalty, min_p and top_p; Vox takes all but min_p per request (min_p
stays upstream's 0.05). Tags such as [laugh] are not in its tokenizer: they are removed from its text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from vox.engines.base import GENERATION_OPTIONS, Capabilities
from vox.engines.chatterbox.analyzer import _Analyzer
from vox.engines.chatterbox.checkpoint import CheckpointSpec
from vox.engines.chatterbox.constants import SUPPORTED_LANGUAGES
from vox.engines.chatterbox.engine import ChatterboxEngine
from vox.engines.chatterbox.sampling import Sampling
from vox.errors import UnsupportedLanguage

MIN_P = 0.05  # upstream's default; not a request option
_WEIGHTS = ("ve.pt", "t3_mtl23ls_v2.safetensors", "s3gen.pt", "grapheme_mtl_merged_expanded_v1.json")


class ChatterboxMultilingualEngine(ChatterboxEngine):
    """Chatterbox Multilingual: 23 languages, Llama T3 with classifier-free guidance, 10-step S3Gen."""

    name = "multilingual"
    capabilities = Capabilities(
        title="Chatterbox Multilingual", badge="Multilingual", voice_kinds=("clip",), languages=SUPPORTED_LANGUAGES,
        streams_within_chunk=True, options=frozenset(GENERATION_OPTIONS), gpu=True,
    )  # fmt: skip
    checkpoint = CheckpointSpec(
        title=capabilities.title,
        config_key="multilingual_checkpoint",
        repo_id="ResembleAI/chatterbox",
        weight_files=_WEIGHTS,
        hub_patterns=(*_WEIGHTS, "conds.pt", "Cangjie5_TC.json"),
    )
    model_defaults = Sampling(temperature=0.8, top_p=1.0, repetition_penalty=2.0, cfg_weight=0.5, exaggeration=0.5)
    conds_kwargs: ClassVar[dict[str, Any]] = {"exaggeration": 0.5}
    SUPPORTED_LANGUAGES = SUPPORTED_LANGUAGES

    def _check_language(self, lang: str | None) -> str:
        code = (lang or "en").strip().lower().replace("_", "-").split("-")[0]
        if code not in SUPPORTED_LANGUAGES:
            raise UnsupportedLanguage(
                f"{self.title} does not speak {lang!r}. Use one of: {', '.join(SUPPORTED_LANGUAGES)}.",
                lang=lang, languages=list(SUPPORTED_LANGUAGES),
            )  # fmt: skip
        return code

    def _from_local(self, checkpoint: Path) -> Any:
        tts = self.cb.mtl_tts
        self.conditionals_class = tts.Conditionals
        # The tokenizer asks the hub for Cangjie5_TC.json (Chinese) and carries on without it; offline that
        # ask can hang, so look only in the local cache while loading.
        from huggingface_hub import constants

        offline, constants.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE, True
        try:
            return tts.ChatterboxMultilingualTTS.from_local(str(checkpoint), self.device)
        finally:
            constants.HF_HUB_OFFLINE = offline

    def _with_exaggeration(self, t3_cond: Any, exaggeration: float) -> Any:
        """The voice's T3 conditionals with this reply's emotion strength; the cached ones stay as they are."""
        if float(t3_cond.emotion_adv.flatten()[0]) == exaggeration:
            return t3_cond
        strength = exaggeration * self.cb.torch.ones(1, 1, 1, device=self.device)
        return dataclasses.replace(t3_cond, emotion_adv=strength)

    def _tokens(self, model: Any, conds: Any, text: str, lang: str | None, sampling: Sampling, generator: Any,
                stop: Callable[[], bool]) -> Iterator[int]:  # fmt: skip
        """Multilingual's T3 loop (as ``T3.inference``: CFG batch of two, alignment analyzer), per token."""
        cb, t3 = self.cb, model.t3
        torch, F = cb.torch, cb.torch.nn.functional
        hp = t3.hp
        with self.compute():
            text = cb.mtl_tts.punc_norm(text)
            text_tokens = model.tokenizer.text_to_tokens(text, language_id=lang).to(self.device)
            text_tokens = torch.cat([text_tokens, text_tokens], dim=0)  # conditional and unconditional rows
            text_tokens = F.pad(text_tokens, (1, 0), value=hp.start_text_token)
            text_tokens = F.pad(text_tokens, (0, 1), value=hp.stop_text_token)
            text_tokens = text_tokens.to(dtype=torch.long)
            start = hp.start_speech_token * torch.ones_like(text_tokens[:, :1])
            t3_cond = self._with_exaggeration(conds.t3, sampling.exaggeration)
            embeds, len_cond = t3.prepare_input_embeds(
                t3_cond=t3_cond, text_tokens=text_tokens, speech_tokens=start, cfg_weight=sampling.cfg_weight
            )
            bos = torch.tensor([[hp.start_speech_token]], dtype=torch.long, device=self.device)
            bos_embed = t3.speech_emb(bos) + t3.speech_pos_emb.get_fixed_embedding(0)
            inputs = torch.cat([embeds, torch.cat([bos_embed, bos_embed])], dim=1)
            repetition = cb.RepetitionPenaltyLogitsProcessor(penalty=float(sampling.repetition_penalty))
            min_p = cb.MinPLogitsWarper(min_p=MIN_P)
            top_p = cb.TopPLogitsWarper(top_p=sampling.top_p)
        analyzer = _Analyzer.attach(cb, t3, len_cond, text_tokens.size(-1))
        try:
            with self.compute():
                out = t3.tfmr(inputs_embeds=inputs, use_cache=True, output_attentions=analyzer.active)
            generated = bos
            for step in range(self.max_new_tokens):
                with self.compute():
                    logits = t3.speech_head(out[0][:, -1, :]).float()
                    cond, uncond = logits[0:1], logits[1:2]
                    logits = cond + sampling.cfg_weight * (cond - uncond)
                    logits = analyzer.step(logits, int(generated[0, -1]))
                    if step < self.min_new_tokens:
                        logits[..., hp.stop_speech_token] = -float("inf")
                    ids = generated[:1]
                    logits = repetition(ids, logits) / sampling.temperature
                    logits = top_p(ids, min_p(ids, logits))
                    probs = torch.softmax(logits, dim=-1)
                    token = torch.multinomial(probs, num_samples=1, generator=generator)
                    generated = torch.cat([generated, token], dim=1)
                value = int(token.item())
                if value == hp.stop_speech_token:
                    return
                yield value
                if stop():
                    return
                with self.compute():
                    embed = t3.speech_emb(token) + t3.speech_pos_emb.get_fixed_embedding(step + 1)
                    out = t3.tfmr(
                        inputs_embeds=torch.cat([embed, embed]),
                        past_key_values=out.past_key_values,
                        use_cache=True,
                        output_attentions=analyzer.active,
                    )
        finally:
            analyzer.detach()
