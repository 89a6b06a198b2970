"""`pokegan eval --per-type`: for each type a model takes (type inputs or a type sampler), how often its sprites
asked for that type look like it to a classifier trained on real sprites only (adherence, beside the
classifier's species-grouped ceiling), how close they are to that type's real sprites (KID), and whether the
type collapsed (the health monitor's diversity measure, generated over real, per type)."""
from __future__ import annotations

import math

import numpy as np
import torch

from pokegan.data import Dataset
from pokegan.core.errors import PokeganError
from pokegan.core.pixels import diversity
from pokegan.metrics.evaluate import EvalConfig, as_rgb, cached_real_features, real_rgb
from pokegan.metrics.inception import InceptionFeatures
from pokegan.metrics.kid import kid
from pokegan.metrics.type_classifier import TypeClassifier, targets, type_classifier
from pokegan.core.type_names import TYPES


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a share `hits / n` (95% at z = 1.96): honest near 0 and for small n, where
    a type's adherence often sits (flying: about 10% of 200 sprites)."""
    if n <= 0:
        return float("nan"), float("nan")
    p, d = hits / n, 1 + z * z / n
    c, h = (p + z * z / (2 * n)) / d, z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def _diversity(rgb: np.ndarray) -> float:
    return diversity(torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float() / 127.5 - 1)


def per_type(g, ds: Dataset, cfg: EvalConfig, extractor: InceptionFeatures | None = None,
             classifier: TypeClassifier | None = None, log=print) -> dict:
    """{"per_type": {type: figures}, "per_type_summary": {...}} for a conditional generator `g`."""
    if not g.typed:
        raise PokeganError(f"--per-type: {g.source} cannot be asked for a type; evaluate a model trained with "
                           f"--conditional types, fit it a type sampler (`pokegan types-fit {g.source} --data DATA`), "
                           "or evaluate the shipped one (`pokegan models`)")
    clf = classifier or type_classifier(ds, log=log)
    extractor = extractor or InceptionFeatures(cfg.device, batch=cfg.batch)
    real_feats = cached_real_features(ds, extractor, log=log)
    rgb_real, y = real_rgb(ds), targets(ds).numpy() > 0
    n = cfg.num or 200
    out = {}
    for t in g.types_seen:
        i = TYPES.index(t)
        members = np.flatnonzero(y[:, i])
        if len(members) < 2 or t not in clf.ceiling["per_type"]:
            continue  # no real sprites of the type to compare with
        gen = g.sprites(g.latents_of_type(n, cfg.seed + 1 + i, t), cfg.sprite)
        rgb = as_rgb(gen, ds)
        log(f"{t}: {n} sprites asked for {t}, against {len(members)} real ones")
        feats = extractor(rgb)
        k_mean, k_std = kid(real_feats[members], feats, cfg.kid_subsets, cfg.kid_subset_size)
        ceil = clf.ceiling["per_type"][t]
        adh = clf.adherence(rgb, t, 2)
        out[t] = {"adherence": adh, "adherence_interval": wilson(round(adh * len(rgb)), len(rgb)),
                  "adherence_top1": clf.adherence(rgb, t, 1), "ceiling": ceil["top2"], "ceiling_top1": ceil["top1"], "kid": k_mean, "kid_std": k_std,
                  "diversity": _diversity(rgb) / max(_diversity(rgb_real[members]), 1e-8),
                  "num_generated": int(n), "num_real": int(len(members))}
    if not out:
        raise PokeganError(f"--per-type: none of the model's types has real sprites in {ds.path} to compare with")
    adh = np.array([v["adherence"] for v in out.values()])
    ceil = np.array([v["ceiling"] for v in out.values()])
    ratio = {t: v["adherence"] / v["ceiling"] for t, v in out.items() if v["ceiling"] > 0}
    summary = {"mean_adherence": float(adh.mean()), "mean_ceiling": float(ceil.mean()),
               "adherence_over_ceiling": float(adh.mean() / max(ceil.mean(), 1e-12)),
               "lowest_type": min(ratio, key=ratio.get) if ratio else None,
               "lowest_adherence_over_ceiling": min(ratio.values()) if ratio else None,
               "chance_top2": clf.ceiling["chance_top2"], "chance_top1": clf.ceiling["chance_top1"],
               "classifier": "trained on real sprites only; ceiling: species-grouped "
                             f"{clf.ceiling['folds']}-fold cross-validation, top-2 hit rate",
               "mean_kid": float(np.mean([v["kid"] for v in out.values()])),
               "min_diversity": float(min(v["diversity"] for v in out.values())),
               "types": len(out)}
    return {"per_type": out, "per_type_summary": summary}


def format_per_type(res: dict) -> str:
    s = res["per_type_summary"]
    lines = [f"  {'type':<10}{'adherence':>10}{'95% interval':>15}{'ceiling':>9}{'ratio':>7}{'KID':>9}{'diversity':>11}"]
    for t, v in res["per_type"].items():
        ratio = v["adherence"] / v["ceiling"] if v["ceiling"] else float("nan")
        lo, hi = v.get("adherence_interval", (float("nan"),) * 2)
        lines.append(f"  {t:<10}{v['adherence']:>10.3f}{f'{lo:.3f}-{hi:.3f}':>15}{v['ceiling']:>9.3f}{ratio:>7.2f}"
                     f"{v['kid']:>9.4f}{v['diversity']:>11.2f}")
    lines.append(f"  {'mean':<10}{s['mean_adherence']:>10.3f}{'':>15}{s['mean_ceiling']:>9.3f}"
                 f"{s['adherence_over_ceiling']:>7.2f}{s['mean_kid']:>9.4f}{s['min_diversity']:>11.2f} (min)")
    lines.append(f"  adherence: share of sprites asked for a type whose classifier top-2 holds it (Wilson 95% interval: "
                 f"--num sets the sprites per type); ceiling: the same on held-out real species; chance {s['chance_top2']:.3f}")
    return "\n".join(lines)
