"""The generator's exponential moving average (EMA) and the batch-norm statistics of its own weights.

An EMA of the generator's weights (Karras et al. 2018; StyleGAN2-ADA's half-life in images with a
ramp-up) samples better than the training generator. Its batch-norm statistics are recomputed for its
own weights before it is saved or sampled (`recalibrate`). Used by the training loop, and by
`load_generator` for checkpoints saved before they carried those statistics.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from pokegan.models.conditioning import draw_latents


@torch.no_grad()
def recalibrate(G: nn.Module, z_dim: int, images: int = 512, batch: int = 64, seed: int = 0) -> bool:
    """Recompute a generator's batch-norm statistics (and spectral-norm vectors) for its own weights.

    An EMA generator averages the weights but not the batch-norm running statistics, which are the
    training generator's, gathered under other weights; sampling in eval mode with them is measurably
    off (an early shipped fastgan model: FID 65.0 -> 61.5 after recomputing them over 6,400 latents; 512 put
    an image within 0.75/255 of that on average). Same idea as SWA's `update_bn` (Izmailov et al. 2018).
    Cumulative averages over `images` latents drawn from `seed`: the result depends on the weights (and
    the spectral-norm vectors it starts from), not on the statistics there before. Returns False (nothing
    done) for a generator without batch norm.
    """
    bns = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns or images <= 0:
        return False
    momenta = [m.momentum for m in bns]
    was_training = G.training
    device = next(G.parameters()).device
    gen = torch.Generator().manual_seed(int(seed))
    for m in bns:
        m.reset_running_stats()
        m.momentum = None                     # a plain average over all the batches below
    G.train()                                 # spectral norm's power iteration also settles on these weights
    try:
        for i in range(0, images, batch):
            G(draw_latents(G, min(batch, images - i), z_dim, gen, device))
    finally:
        G.train(was_training)
        for m, mom in zip(bns, momenta):
            m.momentum = mom
    return True


def recalibrate_ema(G: nn.Module, z_dim: int, cfg) -> bool:
    """`recalibrate` for a run's EMA generator: `cfg.ema_bn_images` latents from the run's own stream
    (seed + 4), the same in the trainer and when an older checkpoint is loaded."""
    return recalibrate(G, z_dim, cfg.ema_bn_images, seed=cfg.seed + 4)


def ema_half_life(nimg: float, ema_kimg: float, rampup: float) -> float:
    """The EMA generator's half-life in images after `nimg` images: `ema_kimg` thousand, but a young run
    averages over its short history (at most `rampup` times it), not over its random start."""
    return min(ema_kimg * 1000, nimg * rampup) if rampup > 0 else ema_kimg * 1000


@torch.no_grad()
def update_ema(ema: nn.Module, G: nn.Module, batch: int, half_life: float) -> None:
    """One EMA step after a batch: the weights move towards G's by the share that halves in `half_life`
    images; buffers (batch-norm statistics) are copied, as `EmaGenerator.refresh` recomputes them."""
    beta = 0.5 ** (batch / max(half_life, 1e-8))
    torch._foreach_lerp_(list(ema.parameters()), list(G.parameters()), 1.0 - beta)
    for b_ema, b in zip(ema.buffers(), G.buffers()):
        b_ema.copy_(b)


class EmaGenerator:
    """The EMA copy of a generator, with batch-norm statistics refreshed only when its weights moved."""

    def __init__(self, G: nn.Module, cfg, z_dim: int):
        self.net = copy.deepcopy(G).requires_grad_(False)
        self.cfg, self.z_dim = cfg, z_dim
        self.fresh = False   # batch-norm statistics match the current weights

    def update(self, G: nn.Module, nimg: int) -> None:
        c = self.cfg
        update_ema(self.net, G, c.batch, ema_half_life(nimg, c.ema_kimg, c.ema_rampup))
        self.fresh = False

    def refresh(self, device: torch.device) -> nn.Module:
        """The network, its batch-norm statistics recomputed for its weights (random state untouched)."""
        if not self.fresh and self.cfg.ema_bn_images > 0:
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                recalibrate_ema(self.net, self.z_dim, self.cfg)
            self.fresh = True
        return self.net
