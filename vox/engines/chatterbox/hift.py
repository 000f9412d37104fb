"""S3Gen's HiFT vocoder (mel to waveform) with its noise drawn from a generator Vox passes in.

HiFT excites its filter with a harmonic source: sines at the predicted F0 and its overtones, each with a
random start phase, plus Gaussian noise. Upstream draws both from torch's global generator, so the same
speech tokens never give the same samples twice. ``vocode`` builds the same source (the arithmetic of
chatterbox 0.1.7's ``SineGen`` and ``SourceModuleHnNSF``, drawn in the same order, so a generator seeded
like the global one gives upstream's exact output) from the reply's own generator, and then runs HiFT's own
layers (``f0_predictor``, ``m_source``'s merge, ``decode``) unchanged.
"""

from __future__ import annotations

import math
from typing import Any


def excitation(hift: Any, f0: Any, generator: Any) -> Any:
    """HiFT's source signal (batch, 1, samples) for an upsampled F0 track (batch, 1, samples)."""
    import torch

    sine = hift.m_source.l_sin_gen
    harmonics = torch.arange(1, sine.harmonic_num + 2, device=f0.device, dtype=torch.float32).view(1, -1, 1)
    per_sample = f0.float() * harmonics / sine.sampling_rate  # cycles per sample, per harmonic
    theta = 2 * math.pi * (torch.cumsum(per_sample, dim=-1) % 1)
    shape = (f0.size(0), sine.harmonic_num + 1, 1)
    phase = (torch.rand(shape, generator=generator, device=f0.device) * 2 - 1) * math.pi
    phase[:, 0, :] = 0
    waves = sine.sine_amp * torch.sin(theta + phase)
    voiced = (f0 > sine.voiced_threshold).float()
    noise_amp = voiced * sine.noise_std + (1 - voiced) * sine.sine_amp / 3
    noise = noise_amp * torch.randn(waves.shape, generator=generator, device=f0.device)
    waves = waves * voiced + noise
    merge = hift.m_source.l_linear
    merged = hift.m_source.l_tanh(merge(waves.transpose(1, 2).to(merge.weight.dtype)))
    return merged.transpose(1, 2)


def vocode(hift: Any, mels: Any, cache_source: Any, generator: Any) -> tuple[Any, Any]:
    """Waveform and source for ``mels``, as ``HiFTGenerator.inference`` but with ``generator``'s noise. The
    first samples of the source are ``cache_source`` (the previous rendering's), so overlapping renderings
    share their excitation."""
    f0 = hift.f0_predictor(mels)
    source = excitation(hift, hift.f0_upsamp(f0[:, None]), generator)
    if cache_source.shape[2]:
        source[:, :, : cache_source.shape[2]] = cache_source
    return hift.decode(x=mels, s=source), source
