"""Fréchet Inception Distance (Heusel et al. 2017), computed as pytorch-fid does, in float64.

FID = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr(sqrt(S1 S2)). The trace of the matrix square root is the
sum of the square roots of the eigenvalues of S1 S2 (real and non-negative for covariance matrices), so
no scipy is needed; rounding can leave tiny negative or imaginary parts, which are dropped.
"""
from __future__ import annotations

import numpy as np


def stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(features, np.float64)
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    s1, s2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    diff = mu1 - mu2
    eig = np.linalg.eigvals(s1 @ s2)
    tr_covmean = np.sqrt(np.clip(eig.real, 0, None)).sum()
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    return frechet_distance(*stats(features_a), *stats(features_b))
