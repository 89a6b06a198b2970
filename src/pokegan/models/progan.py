"""Progressive growing of GANs (Karras, Aila, Laine, Lehtinen 2018; reference:
github.com/tkarras/progressive_growing_of_gans), as report 004 trained it up to 128x128.

Training starts at 4x4 and adds a layer pair per doubling, fading each new layer in linearly over
`level_kimg`, then training it stable for `level_kimg`. Equalised learning rate (weights N(0, 1) scaled
at run time by He's constant), pixel-wise feature normalisation in G, minibatch standard deviation in
the last D block, WGAN-GP loss with drift 0.001, Adam 1e-3 with betas (0, 0.99).

Both networks work on full-size images at every stage: G upsamples its current output (nearest) and D
average-pools its input to the current level, which is exactly equivalent to training at the low size
and keeps the loop unaware of growth. Widths are `min(fmap_max, fmap_base / side)`; the paper's
8192/512 is slow on a CPU, so the defaults are 4096/256 (set them back with `--set`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pokegan.losses import GradientPenalty
from pokegan.models.base import Family, Phase, check_power_of_two, minibatch_stddev, register_family


class EqConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, pad: int = 0, gain: float = math.sqrt(2)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale, self.pad = gain / math.sqrt(cin * k * k), pad

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.pad)


class EqLinear(nn.Module):
    def __init__(self, cin: int, cout: int, gain: float = math.sqrt(2)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale = gain / math.sqrt(cin)

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias)


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


class _Growing(nn.Module):
    """Holds the current level and fade-in alpha; saved in the state dict, mirrored as Python numbers."""

    def __init__(self):
        super().__init__()
        self.register_buffer("growth", torch.tensor([0.0, 1.0]))  # (level, alpha)
        self.level, self.alpha = 0, 1.0
        self.register_load_state_dict_post_hook(lambda m, _: m._sync())

    def _sync(self):
        self.level, self.alpha = int(self.growth[0].item()), float(self.growth[1].item())

    def set_growth(self, level: int, alpha: float):
        if (level, alpha) != (self.level, self.alpha):
            self.level, self.alpha = level, alpha
            self.growth.copy_(torch.tensor([float(level), alpha]))


class ProGenerator(_Growing):
    def __init__(self, z_dim: int, resolution: int, channels: int, fmap_base: int, fmap_max: int):
        super().__init__()
        self.max_level = check_power_of_two("progan", resolution, lo=8) - 2
        nf = [min(fmap_max, fmap_base // (4 * 2 ** l)) for l in range(self.max_level + 1)]
        self.c0 = nf[0]
        self.dense = EqLinear(z_dim, nf[0] * 16, gain=math.sqrt(2) / 4)
        self.convs = nn.ModuleList([EqConv2d(nf[0], nf[0], 3, 1)])
        for l in range(1, self.max_level + 1):
            self.convs.append(nn.Sequential(EqConv2d(nf[l - 1], nf[l], 3, 1), _LReLUNorm(),
                                            EqConv2d(nf[l], nf[l], 3, 1)))
        self.to_rgb = nn.ModuleList([EqConv2d(n, channels, 1, gain=1.0) for n in nf])

    def forward(self, z):  # (B, z) -> (B, C, R, R); the current level upsampled to full size
        h = F.leaky_relu(self.dense(pixel_norm(z)).view(-1, self.c0, 4, 4), 0.2)
        h = pixel_norm(F.leaky_relu(self.convs[0](pixel_norm(h)), 0.2))
        prev = h
        for l in range(1, self.level + 1):
            prev = h
            h = pixel_norm(F.leaky_relu(self.convs[l](F.interpolate(h, scale_factor=2.0)), 0.2))
        out = self.to_rgb[self.level](h)
        if self.level > 0 and self.alpha < 1.0:
            low = F.interpolate(self.to_rgb[self.level - 1](prev), scale_factor=2.0)
            out = torch.lerp(low, out, self.alpha)
        if self.level < self.max_level:
            out = F.interpolate(out, scale_factor=float(2 ** (self.max_level - self.level)))
        return out


class _LReLUNorm(nn.Module):
    def forward(self, x):
        return pixel_norm(F.leaky_relu(x, 0.2))


class ProDiscriminator(_Growing):
    def __init__(self, resolution: int, channels: int, fmap_base: int, fmap_max: int):
        super().__init__()
        self.max_level = check_power_of_two("progan", resolution, lo=8) - 2
        nf = [min(fmap_max, fmap_base // (4 * 2 ** l)) for l in range(self.max_level + 1)]
        self.from_rgb = nn.ModuleList([EqConv2d(channels, n, 1) for n in nf])
        self.blocks = nn.ModuleList([nn.Identity()])
        for l in range(1, self.max_level + 1):
            self.blocks.append(nn.Sequential(EqConv2d(nf[l], nf[l], 3, 1), nn.LeakyReLU(0.2),
                                             EqConv2d(nf[l], nf[l - 1], 3, 1), nn.LeakyReLU(0.2),
                                             nn.AvgPool2d(2)))
        self.final_conv = EqConv2d(nf[0] + 1, nf[0], 3, 1)
        self.final_dense = EqLinear(nf[0] * 16, nf[0])
        self.out = EqLinear(nf[0], 1, gain=1.0)

    def forward(self, x):  # (B, C, R, R) -> (B,)
        if self.level < self.max_level:
            x = F.avg_pool2d(x, 2 ** (self.max_level - self.level))
        h = F.leaky_relu(self.from_rgb[self.level](x), 0.2)
        if self.level > 0:
            h = self.blocks[self.level](h)
            if self.alpha < 1.0:
                low = F.leaky_relu(self.from_rgb[self.level - 1](F.avg_pool2d(x, 2)), 0.2)
                h = torch.lerp(low, h, self.alpha)
            for l in range(self.level - 1, 0, -1):
                h = self.blocks[l](h)
        h = F.leaky_relu(self.final_conv(minibatch_stddev(h)), 0.2)
        h = F.leaky_relu(self.final_dense(h.flatten(1)), 0.2)
        return self.out(h).flatten()


@dataclass
class ProGANOptions:
    level_kimg: float = 15.0   # kimg to fade a new level in, and again to train it stable
    fmap_base: int = 4096      # widths min(fmap_max, fmap_base / side); the paper: 8192
    fmap_max: int = 256        # the paper: 512
    gp: float = 10.0           # WGAN-GP weight
    drift: float = 0.001       # keeps critic scores near zero


def growth_at(kimg: float, level_kimg: float, max_level: int) -> tuple[int, float]:
    """(level, alpha) after `kimg`: level 0 stable, then fade + stable for each further level."""
    t = kimg / level_kimg
    if t < 1.0:
        return 0, 1.0
    k = t - 1.0
    level = 1 + int(k // 2)
    if level > max_level:
        return max_level, 1.0
    return level, min(k - 2 * (level - 1), 1.0)


@register_family("progan")
class ProGAN(Family):
    Options = ProGANOptions
    loss = "wasserstein"
    d_output = "score"
    penalty = GradientPenalty()
    paper = "Karras et al. 2018 (progressive growing)"

    def generator_spec(self) -> dict:
        o = self.opts
        return {"class": "ProGenerator", "args": dict(z_dim=self.z_dim, resolution=self.resolution,
                                                      channels=self.channels, fmap_base=o.fmap_base,
                                                      fmap_max=o.fmap_max)}

    def build(self):
        o = self.opts
        self.nets = {"G": ProGenerator(**self.generator_spec()["args"]),
                     "D": ProDiscriminator(self.resolution, self.channels, o.fmap_base, o.fmap_max)}
        return self.nets

    def optimizers(self):
        c = self.cfg
        return {k: torch.optim.Adam(self.nets[k].parameters(), lr=lr, betas=tuple(b), eps=1e-8)
                for k, lr, b in (("G", c.lr_g, c.betas_g), ("D", c.lr_d, c.betas_d))}

    def schedule(self, kimg: float) -> None:
        level, alpha = growth_at(kimg, self.opts.level_kimg, self.nets["G"].max_level)
        for k in ("G", "D"):
            self.nets[k].set_growth(level, alpha)

    def d_loss(self, real):
        G = self.nets["G"]
        with torch.no_grad():
            fake = G(self.sample_z(real.shape[0], real.device))
        real_out, fake_out = self.disc(real, real=True), self.disc(fake)
        loss = self.adv.d(real_out, fake_out)
        gp = self.penalty(self.disc, real, fake)
        drift = real_out.pow(2).mean()
        return loss + self.opts.gp * gp + self.opts.drift * drift, {
            "loss_d": loss, "gp": gp.detach(), "d_real": real_out.mean(), "d_fake": fake_out.mean(),
            "level": torch.tensor(float(G.level)), "alpha": torch.tensor(G.alpha)}

    def g_loss(self, _real):
        G = self.nets["G"]
        out = self.disc(G(self.sample_z(self.cfg.batch, next(G.parameters()).device)))
        loss = self.adv.g(out)
        return loss, {"loss_g": loss, "d_fake_g": out.mean()}

    def phases(self):
        return [Phase("D", "D", self.d_loss, counts_kimg=True), Phase("G", "G", self.g_loss, uses_real=False)]
