"""Fitting a type sampler (pokegan.generator.type_sampler) for a model without type inputs: a second type classifier
reads the model's own sprites, and a small network learns to tell that reading from the latent alone."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from pokegan.core.errors import PokeganError
from pokegan.core.type_names import TYPES
from pokegan.generator.type_sampler import LatentTypeNet, TypeSampler


@dataclass(frozen=True)
class SamplerConfig:
    samples: int = 30_000      # the model's sprites the latent network learns from (held-out agreement levels off)
    epochs: int = 40
    batch: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-2
    hidden: int = 256
    seed: int = 0
    judge_seed: int = 1        # the classifier that labels the sprites: not the evaluator's (seed 0)
    candidates: int = 64       # latents drawn per sprite; the sprite is one of them
    sharpness: float = 1.5     # p(type | z) ** sharpness: 1 is Bayes' rule for the network's p, which is less sure
    #                            than an image classifier (flying and dragon 0.58 of the classifier's ceiling);
    #                            1.5 lifts every type to 0.67+ with diversity 0.82+ of real (two seeds); 2 makes
    #                            caricatures (psychic 3.4x the ceiling, its diversity 0.77): benchmarks/RESULTS.md


def fit(g, ds, cfg: SamplerConfig | None = None, log=print) -> TypeSampler:
    """Fit a type sampler for the unconditional generator `g` on the dataset `ds` (Pokémon sprites with types)."""
    from pokegan.data import composite_uint8
    from pokegan.metrics.type_classifier import ClassifierConfig, prepare, scores, targets, train

    cfg = cfg or SamplerConfig()
    if g.conditional:
        raise PokeganError(f"{g.source} takes types as inputs already; a type sampler is for models without them")
    y = targets(ds)
    seen = tuple(t for i, t in enumerate(TYPES) if y[:, i].sum() > 0)
    if not seen:
        raise PokeganError(f"{ds.path}: no sprite carries a type; prepare Pokémon sprites with "
                           "`pokegan data prepare --preset gen5-64`")
    log(f"training the judge: a type classifier on {len(ds)} real sprites (seed {cfg.judge_seed})...")
    judge = train(prepare(composite_uint8(ds.images, "white")), y, ClassifierConfig(seed=cfg.judge_seed))
    log(f"drawing {cfg.samples:,} sprites and asking the judge their types...")
    z = g.noise(cfg.samples, cfg.seed)
    target = []
    for i in range(0, len(z), 1024):
        rgb = g.sprites(z[i:i + 1024])
        rgb = composite_uint8(rgb, "white") if rgb.shape[-1] == 4 else rgb
        target.append(torch.softmax(scores(judge, prepare(rgb)), 1))
    target = torch.cat(target)
    held = max(1, len(z) // 10)
    torch.manual_seed(cfg.seed)
    net = LatentTypeNet(g.z_dim, cfg.hidden)
    opt = torch.optim.AdamW(net.parameters(), cfg.lr, weight_decay=cfg.weight_decay)
    ntr = len(z) - held
    gen = torch.Generator().manual_seed(cfg.seed)
    log(f"fitting p(type | latent) on {ntr:,} of them ({cfg.epochs} epochs)...")
    for _ in range(cfg.epochs):
        perm = torch.randperm(ntr, generator=gen)
        for i in range(0, ntr, cfg.batch):
            idx = perm[i:i + cfg.batch]
            loss = -(target[idx] * net(z[idx])).sum(1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    with torch.no_grad():
        pv, tv = net(z[ntr:]).numpy(), torch.log(target[ntr:].clamp_min(1e-12)).numpy()
    agree = {t: float(np.corrcoef(pv[:, TYPES.index(t)], tv[:, TYPES.index(t)])[0, 1]) for t in seen}
    log(f"held-out agreement with the judge (correlation of log p): mean {np.mean(list(agree.values())):.3f}, "
        f"lowest {min(agree, key=agree.get)} {min(agree.values()):.3f}")
    meta = {"hidden": cfg.hidden, "fitted": {**asdict(cfg), "dataset": str(ds.path), "model": g.source},
            "agreement": agree, "held_out": held}
    return TypeSampler(net.eval().requires_grad_(False), seen, cfg.candidates, cfg.sharpness, meta)

