"""Where and how the models compute: the torch namespace, the device, and the context of every model step."""

from __future__ import annotations

import contextlib
import types


class Compute:
    """The device the engine loaded on, and the context each model step runs in.

    ``compute()`` is inference_mode (no autograd state, no leak) plus bf16 autocast on CUDA. It is entered
    around each step, never across a ``yield``, so the thread that consumes the audio is left as it was.
    """

    def __init__(self, cb: types.SimpleNamespace, device: str) -> None:
        self.cb = cb
        self.torch = cb.torch
        self.device = device

    def __call__(self, autocast: bool = True) -> contextlib.ExitStack:
        stack = contextlib.ExitStack()
        stack.enter_context(self.torch.inference_mode())
        if autocast and self.device == "cuda":
            stack.enter_context(self.torch.autocast("cuda", dtype=self.torch.bfloat16))
        return stack

    def generator(self, seed: int):
        """A random generator of its own for one reply: sampling and vocoder noise draw only from it, so a
        seed reproduces the audio whatever else uses torch's global generator meanwhile."""
        return self.torch.Generator(device=self.device).manual_seed(seed)
