"""Chatterbox Multilingual: the 23-language engine, its CFG token loop, and the removable alignment analyzer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from vox.engines.base import Capabilities
from vox.engines.chatterbox.constants import SUPPORTED_LANGUAGES
from vox.engines.chatterbox.engine import _ChatterboxEngine


class ChatterboxMultilingualEngine(_ChatterboxEngine):
    """Chatterbox Multilingual: 23 languages, Llama T3 with classifier-free guidance, 10-step S3Gen."""

    name = "multilingual"
    title = "Chatterbox Multilingual"
    capabilities = Capabilities(
        title=title, badge="Multilingual", voice_kinds=("clip",), languages=SUPPORTED_LANGUAGES,
        streams_within_chunk=True, speed=False,
        gpu=True,
    )
    config_key = "multilingual_checkpoint"
    repo_id = "ResembleAI/chatterbox"
    weight_files = ("ve.pt", "t3_mtl23ls_v2.safetensors", "s3gen.pt", "grapheme_mtl_merged_expanded_v1.json")
    hub_patterns = (*weight_files, "conds.pt", "Cangjie5_TC.json")
    conds_kwargs: ClassVar[dict[str, Any]] = {"exaggeration": 0.5}
    SUPPORTED_LANGUAGES = SUPPORTED_LANGUAGES

    # Upstream's generate() defaults.
    cfg_weight = 0.5
    temperature = 0.8
    repetition_penalty = 2.0
    min_p = 0.05
    top_p = 1.0

    def _check_language(self, lang: str | None) -> str:
        code = (lang or "en").strip().lower().replace("_", "-").split("-")[0]
        if code not in SUPPORTED_LANGUAGES:
            raise ValueError(
                f"{self.title} does not speak {lang!r}; valid languages: {', '.join(SUPPORTED_LANGUAGES)}"
            )
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

    def _tokens(
        self, model: Any, conds: Any, text: str, lang: str | None, stop: Callable[[], bool]
    ) -> Iterator[int]:
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
            embeds, len_cond = t3.prepare_input_embeds(
                t3_cond=conds.t3, text_tokens=text_tokens, speech_tokens=start, cfg_weight=self.cfg_weight
            )
            bos = torch.tensor([[hp.start_speech_token]], dtype=torch.long, device=self.device)
            bos_embed = t3.speech_emb(bos) + t3.speech_pos_emb.get_fixed_embedding(0)
            inputs = torch.cat([embeds, torch.cat([bos_embed, bos_embed])], dim=1)
            repetition = cb.RepetitionPenaltyLogitsProcessor(penalty=float(self.repetition_penalty))
            min_p = cb.MinPLogitsWarper(min_p=self.min_p)
            top_p = cb.TopPLogitsWarper(top_p=self.top_p)
        analyzer = _Analyzer.attach(cb, t3, len_cond, text_tokens.size(-1))
        try:
            with self.compute():
                out = t3.tfmr(inputs_embeds=inputs, use_cache=True, output_attentions=analyzer.active)
            generated = bos
            for step in range(self.max_new_tokens):
                with self.compute():
                    logits = t3.speech_head(out[0][:, -1, :]).float()
                    cond, uncond = logits[0:1], logits[1:2]
                    logits = cond + self.cfg_weight * (cond - uncond)
                    logits = analyzer.step(logits, int(generated[0, -1]))
                    if step < self.min_new_tokens:
                        logits[..., hp.stop_speech_token] = -float("inf")
                    ids = generated[:1]
                    logits = repetition(ids, logits) / self.temperature
                    logits = top_p(ids, min_p(ids, logits))
                    token = torch.multinomial(torch.softmax(logits, dim=-1), num_samples=1)
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


class _Analyzer:
    """Upstream's AlignmentStreamAnalyzer (early-stop and anti-repetition for Multilingual), made removable.

    Upstream attaches forward hooks to three attention layers and switches the model to eager attention on
    every call, and never undoes either, so hooks pile up. Here both are undone after each generation.
    A model with too few layers or heads for the hooked heads (a small test variant) runs without it.
    """

    def __init__(self, tfmr: Any = None, analyzer: Any = None) -> None:
        self.tfmr = tfmr
        self.analyzer = analyzer
        self.active = analyzer is not None
        self.hooks: list[tuple[Any, set]] = []
        self.config: tuple[Any, Any] = (None, None)

    @classmethod
    def attach(cls, cb: Any, t3: Any, len_cond: int, text_len: int) -> _Analyzer:
        tfmr = t3.tfmr
        heads = cb.LLAMA_ALIGNED_HEADS
        enough = (
            max(layer for layer, _ in heads) < len(tfmr.layers)
            and max(head for _, head in heads) < tfmr.config.num_attention_heads
        )
        if not (t3.hp.is_multilingual and enough):
            return cls()
        attentions = [tfmr.layers[layer].self_attn for layer, _ in heads]
        before = [(attention, set(attention._forward_hooks)) for attention in attentions]
        config = (tfmr.config.output_attentions, tfmr.config._attn_implementation)
        analyzer = cb.AlignmentStreamAnalyzer(
            tfmr,
            None,
            text_tokens_slice=(len_cond, len_cond + text_len),
            alignment_layer_idx=9,
            eos_idx=t3.hp.stop_speech_token,
        )
        made = cls(tfmr, analyzer)
        made.hooks, made.config = before, config
        return made

    def step(self, logits: Any, last_token: int) -> Any:
        return logits if self.analyzer is None else self.analyzer.step(logits, next_token=last_token)

    def detach(self) -> None:
        if self.analyzer is None:
            return
        for attention, before in self.hooks:
            for key in set(attention._forward_hooks) - before:
                del attention._forward_hooks[key]
        self.tfmr.config.output_attentions, self.tfmr.config._attn_implementation = self.config
        self.analyzer = None
        self.active = False
