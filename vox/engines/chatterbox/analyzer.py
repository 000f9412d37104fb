"""Multilingual's alignment analyzer (upstream's early stop and anti-repetition), made removable."""

from __future__ import annotations

from typing import Any


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
