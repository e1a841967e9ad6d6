"""Seeded terrain for the coverage tests."""

from __future__ import annotations

import numpy as np


def fractal_relief(n: int, seed: int, relief_m: float = 300.0) -> np.ndarray:
    """Seeded rough terrain, 0 to ``relief_m`` (float32): noise with a ``k**-3.6`` spectrum."""
    rng = np.random.default_rng(seed)
    k = np.hypot(np.fft.fftfreq(n)[:, None], np.fft.rfftfreq(n)[None, :])
    k[0, 0] = 1.0
    spec = (rng.normal(size=k.shape) + 1j * rng.normal(size=k.shape)) * k ** -1.8
    spec[0, 0] = 0.0
    z = np.fft.irfft2(spec, s=(n, n))
    return ((z - z.min()) / (z.max() - z.min()) * relief_m).astype(np.float32)
