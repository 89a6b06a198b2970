"""Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3, averaged over random subsets (as torch-fidelity and clean-fid compute it).

FID is biased at the sizes we work with (hundreds to a few thousand images); KID is not, so the two
together say more. Subsets are sized for small datasets: min(1000, n_real, n_fake).
"""
from __future__ import annotations

import numpy as np


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def _kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a @ b.T / a.shape[1] + 1) ** 3


# Above this many kernel entries (about 0.8 GB in float64 per matrix) each subset computes its own kernels.
_WHOLE_KERNEL_MAX = 100_000_000


def kid(real: np.ndarray, fake: np.ndarray, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 over `subsets` random subsets.

    Subsets overlap heavily at our sizes (1,000 of 1,463), so the kernels are computed once over all images
    and each subset sums its block: 3 matrix products instead of 300 (the same numbers, to rounding)."""
    size = min(subset_size, len(real), len(fake))
    if size < 2:
        raise ValueError("KID needs at least 2 images on each side")
    rng = np.random.default_rng(seed)
    draws = [(rng.choice(len(real), size, replace=False), rng.choice(len(fake), size, replace=False))
             for _ in range(subsets)]
    if max(len(real), len(fake)) ** 2 > _WHOLE_KERNEL_MAX:
        vals = [mmd2_unbiased(real[i], fake[j]) for i, j in draws]
        return float(np.mean(vals)), float(np.std(vals))
    kxx, kyy, kxy = _kernel(real, real), _kernel(fake, fake), _kernel(real, fake)
    m = size
    vals = []
    for i, j in draws:
        sxx = kxx[np.ix_(i, i)]
        syy = kyy[np.ix_(j, j)]
        vals.append(float((sxx.sum() - np.trace(sxx)) / (m * (m - 1)) + (syy.sum() - np.trace(syy)) / (m * (m - 1))
                          - 2 * kxy[np.ix_(i, j)].mean()))
    return float(np.mean(vals)), float(np.std(vals))
