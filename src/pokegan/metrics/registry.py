"""Every metric by name: one registered function each, reading one `Scoring` of generated against real
images (StyleGAN2-ADA's `metric_main` idea). `pokegan eval`, evaluation during training and the report
read the names, headline figures and floors from here; `evaluate.evaluate_arrays` runs them all."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from pokegan.metrics.fid import fid
from pokegan.metrics.kid import kid
from pokegan.metrics.novelty import novelty
from pokegan.metrics.precision_recall import precision_recall
from pokegan.metrics.sprite_shape import measure


@dataclass
class Scoring:
    """What a metric reads: Inception features (N, 2048) and pixels in [0, 1] (N, H*W*3) of both sets, two
    random halves of the real features (the real-vs-real floor), and the evaluation settings."""

    real: np.ndarray
    fake: np.ndarray
    real_px: np.ndarray
    gen_px: np.ndarray
    halves: tuple[np.ndarray, np.ndarray]
    cfg: object                               # metrics.evaluate.EvalConfig
    gen_rgba: np.ndarray | None = None        # uint8 (N, H, W, 4): the sprites with their transparency
    real_rgba: np.ndarray | None = None
    extras: dict = field(default_factory=dict)  # what a metric leaves for pictures (novelty's neighbours)


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[Scoring], dict]
    headline: tuple[str, ...]       # the figures logged during training and shown first
    floors: dict                    # figure -> the key of its real-vs-real floor, for plots over training


METRICS: dict[str, Metric] = {}


def register_metric(name: str, headline: tuple[str, ...] = (), floors: dict | None = None):
    def deco(fn):
        METRICS[name] = Metric(name, fn, headline, floors or {})
        return fn

    return deco


def headline_keys() -> tuple[str, ...]:
    return tuple(k for m in METRICS.values() for k in m.headline)


def curves() -> list[tuple[str, str]]:
    """(figure, its floor) for every figure plotted over training."""
    return [(k, f) for m in METRICS.values() for k, f in m.floors.items()]


@register_metric("fid", headline=("fid",), floors={"fid": "floor_fid"})
def _fid(s: Scoring) -> dict:
    """Fréchet Inception Distance (Heusel et al. 2017), pytorch-fid's protocol."""
    return {"fid": fid(s.real, s.fake), "floor_fid": fid(*s.halves)}


@register_metric("kid", headline=("kid",), floors={"kid": "floor_kid"})
def _kid(s: Scoring) -> dict:
    """Kernel Inception Distance (Bińkowski et al. 2018): unbiased, so it compares across set sizes."""
    mean, std = kid(s.real, s.fake, s.cfg.kid_subsets, s.cfg.kid_subset_size)
    floor, _ = kid(*s.halves, s.cfg.kid_subsets, s.cfg.kid_subset_size)
    return {"kid": mean, "kid_std": std, "floor_kid": floor}


@register_metric("precision_recall", headline=("precision", "recall"))
def _precision_recall(s: Scoring) -> dict:
    """Improved precision and recall (Kynkäänniemi et al. 2019), k nearest neighbours."""
    prec, rec = precision_recall(s.real, s.fake, s.cfg.k)
    return {"precision": prec, "recall": rec}


@register_metric("novelty", headline=("near_copy_share",))
def _novelty(s: Scoring) -> dict:
    """Near-copies of training sprites, in Inception features and in pixels, beside the real data's own."""
    nov = novelty(s.fake, s.real, s.gen_px, s.real_px, s.cfg.near_copy_tau)
    s.extras["novelty"] = nov
    return nov.summary()


@register_metric("sprite_shape")
def _sprite_shape(s: Scoring) -> dict:
    """Game-readiness of the sprites as a game would draw them (metrics.sprite_shape), generated beside real."""
    if s.gen_rgba is None or s.real_rgba is None:
        return {}
    return {**{f"sprite_{k}": v for k, v in measure(s.gen_rgba).items()},
            **{f"real_sprite_{k}": v for k, v in measure(s.real_rgba).items()}}
