"""Improved precision and recall (Kynkäänniemi et al. 2019), k = 3.

Each set's manifold is the union of balls around its points, of radius the distance to the point's
k-th nearest neighbour in the same set. Precision: the share of generated points inside the real
manifold (quality). Recall: the share of real points inside the generated manifold (coverage).
"""
from __future__ import annotations

import numpy as np


def pairwise_distances(a: np.ndarray, b: np.ndarray, block: int = 1024) -> np.ndarray:
    out = np.empty((len(a), len(b)), np.float64)
    bb = (b * b).sum(1)
    for i in range(0, len(a), block):
        x = a[i:i + block]
        d2 = (x * x).sum(1)[:, None] + bb[None, :] - 2 * x @ b.T
        out[i:i + block] = np.sqrt(np.clip(d2, 0, None))
    return out


def knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    d = pairwise_distances(x, x)
    np.fill_diagonal(d, np.inf)
    return np.partition(d, k - 1, axis=1)[:, k - 1]


def manifold_coverage(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> float:
    """Share of `points` inside at least one ball (centre, radius)."""
    d = pairwise_distances(points, centres)
    return float((d <= radii[None, :]).any(axis=1).mean())


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    precision = manifold_coverage(fake, real, knn_radii(real, k))
    recall = manifold_coverage(real, fake, knn_radii(fake, k))
    return precision, recall
