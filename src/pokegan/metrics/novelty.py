"""Novelty: are generated sprites new, or copies of training sprites?

A GAN that memorises its training set scores a perfect FID, so every evaluation also finds, for each
generated image, its nearest training image in Inception-feature space and in pixel space, and compares
those distances with the training set's own nearest-neighbour distances (each training image against
the others). A generated image is a *near-copy* when its nearest training image is closer than `tau`
times the median training nearest-neighbour distance in either space. The same rule applied to the
training set (leave one out) gives the real data's own near-copy share: shiny and normal sprites of one
species, or a species and its forms, are close in both spaces, so it is not zero. A model that makes new
Pokémon should stay at or below it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pokegan.metrics.precision_recall import pairwise_distances


def nearest(a: np.ndarray, b: np.ndarray, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(distance, index) of each row of `a`'s nearest row in `b`."""
    d = pairwise_distances(a, b)
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    idx = d.argmin(axis=1)
    return d[np.arange(len(a)), idx], idx


@dataclass
class Novelty:
    near_copy_share: float          # generated images that are near-copies
    real_near_copy_share: float     # training images with a near-copy among the other training images
    nn_ratio_median_feat: float     # median generated->train NN distance / median train->train (features)
    nn_ratio_median_px: float       # the same in pixels; well below 1 means copying
    gen_ratio: np.ndarray           # per generated image: min over spaces of distance / train median
    nearest_px: np.ndarray          # index of each generated image's nearest training image (pixels)
    nearest_feat: np.ndarray        # ... and in feature space

    def summary(self) -> dict:
        return {"near_copy_share": self.near_copy_share, "real_near_copy_share": self.real_near_copy_share,
                "nn_ratio_median_feat": self.nn_ratio_median_feat, "nn_ratio_median_px": self.nn_ratio_median_px}


def novelty(gen_feat: np.ndarray, train_feat: np.ndarray, gen_px: np.ndarray, train_px: np.ndarray,
            tau: float = 0.5) -> Novelty:
    """Features (N, 2048) and pixels flattened as float (N, H*W*3) in [0, 1], for generated and training."""
    tf, _ = nearest(train_feat, train_feat, exclude_self=True)
    tp, _ = nearest(train_px, train_px, exclude_self=True)
    gf, idx_f = nearest(gen_feat, train_feat)
    gp, idx_p = nearest(gen_px, train_px)
    mf, mp = max(np.median(tf), 1e-12), max(np.median(tp), 1e-12)
    gen_ratio = np.minimum(gf / mf, gp / mp)
    train_ratio = np.minimum(tf / mf, tp / mp)
    return Novelty(near_copy_share=float((gen_ratio < tau).mean()),
                   real_near_copy_share=float((train_ratio < tau).mean()),
                   nn_ratio_median_feat=float(np.median(gf) / mf), nn_ratio_median_px=float(np.median(gp) / mp),
                   gen_ratio=gen_ratio, nearest_px=idx_p, nearest_feat=idx_f)
