"""Differentiable augmentation of everything the discriminator sees (real and generated alike).

DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"; reference:
github.com/mit-han-lab/data-efficient-gans): colour (brightness, saturation, contrast), translation (up
to 1/8 of the side) and cutout (a square of half the side). Applied to both real and fake images in
every discriminator and generator step, so D never sees an un-augmented image and G is not pushed to
produce augmented-looking images.

Adaptive (ADA; Karras et al. 2020, "Training Generative Adversarial Networks with Limited Data";
reference: github.com/NVlabs/stylegan2-ada-pytorch): each operation is applied to an image with
probability p, and p is steered by the overfitting signal r_t = E[sign(D(real))] towards a target
(0.6): raised when D is too sure of reals, lowered otherwise. p is saved in checkpoints. `geometric` is
ADA's warp (scale, rotation, stretch, fractional shift) in one resampling.

Alpha-aware: images are in model space ([-1, 1], 3 channels composited on a background, or 4 channels
RGBA). Colour operations change visible RGB only (weighted by alpha) and leave alpha alone; translation and cutout move or clear all
channels together and fill with the background (transparent for RGBA), so the generator never learns
holes or edges that the augmentation made; the geometric warp resamples RGBA in premultiplied alpha, so
colour from under transparent pixels never bleeds into the sprite's edges.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

OPS = ("color", "translation", "cutout", "flip", "geometric")


def _mask(b: int, p: float, device) -> torch.Tensor:
    """(B, 1, 1, 1) float: 1 where the op applies to that image."""
    if p >= 1.0:
        return torch.ones(b, 1, 1, 1, device=device)
    return (torch.rand(b, 1, 1, 1, device=device) < p).float()


def color(x: torch.Tensor, p: float) -> torch.Tensor:
    rgb, rest = x[:, :3], x[:, 3:]
    m = _mask(len(x), p, x.device)
    b = len(x)
    # brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5] (DiffAugment's ranges), on [-1, 1] data
    y = rgb + (torch.rand(b, 1, 1, 1, device=x.device) - 0.5)
    mean = y.mean(dim=1, keepdim=True)
    y = (y - mean) * (torch.rand(b, 1, 1, 1, device=x.device) * 2) + mean
    mean = y.mean(dim=(1, 2, 3), keepdim=True)
    y = (y - mean) * (torch.rand(b, 1, 1, 1, device=x.device) + 0.5) + mean
    if rest.shape[1]:  # RGBA: recolour what is visible, in proportion to its alpha; under transparency stays put
        m = m * (rest[:, :1] + 1) / 2
    return torch.cat([rgb + m * (y - rgb), rest], 1)


def translation(x: torch.Tensor, p: float, fill: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    b, c, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    m = _mask(b, p, x.device).view(b, 1, 1)
    ty = (torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device) * m).long()
    tx = (torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device) * m).long()
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    src_y, src_x = gy[None] - ty, gx[None] - tx                      # (B, H, W) source pixel of each output
    inside = ((src_y >= 0) & (src_y < h) & (src_x >= 0) & (src_x < w)).unsqueeze(1)
    idx = (src_y.clamp(0, h - 1) * w + src_x.clamp(0, w - 1)).view(b, 1, h * w).expand(b, c, h * w)
    moved = torch.gather(x.reshape(b, c, h * w), 2, idx).view(b, c, h, w)
    return torch.where(inside, moved, fill.view(1, c, 1, 1).to(x.dtype))


def cutout(x: torch.Tensor, p: float, fill: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    b, c, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    m = _mask(b, p, x.device).view(b, 1, 1) > 0
    cy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    hole = ((gy[None] - cy).abs() <= ch // 2) & ((gx[None] - cx).abs() <= cw // 2) & m
    return torch.where(hole.unsqueeze(1), fill.view(1, c, 1, 1).to(x.dtype), x)


def flip(x: torch.Tensor, p: float) -> torch.Tensor:
    m = _mask(len(x), p, x.device) > 0
    return torch.where(m, x.flip(3), x)


def geometric(x: torch.Tensor, p: float, fill: torch.Tensor) -> torch.Tensor:
    """ADA's geometric group (Karras et al. 2020, their defaults), each part with probability p: isotropic
    scale 2^N(0, 0.2), rotation uniform over the circle (with 1 - sqrt(1 - p) before and after the stretch,
    so some rotation happens with about p), anisotropic stretch 2^N(0, 0.2), fractional shift N(0, 0.125)
    of the side. One bilinear warp per image; pixels from outside are the background (transparent for
    RGBA), and images with no part drawn are returned exactly."""
    b, c, h, w = x.shape
    dev = x.device

    def drawn(q: float) -> torch.Tensor:
        return _mask(b, q, dev).view(b)

    p_rot = 1 - math.sqrt(max(1 - p, 0.0))
    iso = torch.exp2(torch.randn(b, device=dev) * 0.2 * drawn(p))
    rot1 = (torch.rand(b, device=dev) * 2 - 1) * math.pi * drawn(p_rot)
    aniso = torch.exp2(torch.randn(b, device=dev) * 0.2 * drawn(p))
    rot2 = (torch.rand(b, device=dev) * 2 - 1) * math.pi * drawn(p_rot)
    shift = torch.randn(b, 2, device=dev) * 0.125 * drawn(p)[:, None]
    warped = (iso != 1) | (rot1 != 0) | (aniso != 1) | (rot2 != 0) | (shift != 0).any(1)
    if not warped.any():
        return x

    def rotation(a):
        cos, sin = torch.cos(a), torch.sin(a)
        return torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)

    # the map from output to input pixels (affine_grid's theta), in [-1, 1] coordinates: the inverse of
    # rotate . stretch . rotate . scale, then the shift (2 units per side)
    stretch = torch.diag_embed(torch.stack([1 / (iso * aniso), aniso / iso], 1))
    linear = rotation(-rot1) @ stretch @ rotation(-rot2)
    theta = torch.cat([linear, (shift * 2).unsqueeze(2)], 2)
    grid = F.affine_grid(theta, [b, c, h, w], align_corners=False)
    if c == 4:  # premultiplied: transparent pixels carry no colour into the sprite's edges
        a = (x[:, 3:] + 1) / 2
        pm = torch.cat([(x[:, :3] + 1) / 2 * a, a], 1)
        out = F.grid_sample(pm, grid.to(pm.dtype), mode="bilinear", padding_mode="zeros", align_corners=False)
        a2 = out[:, 3:].clamp(0, 1)
        rgb = (out[:, :3] / a2.clamp_min(1e-4)).clamp(0, 1)  # where nothing is covered: the fill, below
        out = torch.cat([rgb * 2 - 1, a2 * 2 - 1], 1)
        out = torch.where(a2 > 1e-4, out, fill.view(1, c, 1, 1).to(x.dtype))
    else:
        f = fill.view(1, c, 1, 1).to(x.dtype)
        out = F.grid_sample(x - f, grid.to(x.dtype), mode="bilinear", padding_mode="zeros",
                            align_corners=False) + f
    return torch.where(warped.view(b, 1, 1, 1), out, x)


class Augmenter:
    """What stands between images and the discriminator: identity, fixed DiffAugment, or adaptive.

    `ops`: which operations; `p`: their probability (DiffAugment: 1); `ada_target` > 0 makes the
    probability of every op adaptive, starting from 0. `self.p` is the probability in use.
    """

    def __init__(self, ops: str = "", p: float = 1.0, ada_target: float = 0.0, ada_kimg: float = 100.0,
                 ada_interval: int = 4, batch: int = 64):
        from pokegan.core.errors import PokeganError

        self.ops = tuple(o.strip() for o in ops.split(",") if o.strip())
        bad = set(self.ops) - set(OPS)
        if bad:
            raise PokeganError(f"unknown augmentation {', '.join(sorted(bad))} in diffaug; choose from "
                               f"{', '.join(OPS)}")
        self.ada_target, self.ada_interval = ada_target, ada_interval
        self.p = 0.0 if ada_target > 0 else p
        self.p_step = batch * ada_interval / (ada_kimg * 1000) if ada_kimg > 0 else 0.0
        self.fill = torch.zeros(3)
        self._signs: list[torch.Tensor] = []
        self.reduce = lambda v: v   # data-parallel training averages the signal over processes here

    @property
    def active(self) -> bool:
        return bool(self.ops) and (self.ada_target > 0 or self.p > 0)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        fill, p = self.fill.to(x.device), self.p
        if p <= 0:
            return x
        for op in self.ops:
            if op == "color":
                x = color(x, p)
            elif op == "translation":
                x = translation(x, p, fill)
            elif op == "cutout":
                x = cutout(x, p, fill)
            elif op == "flip":
                x = flip(x, p)
            elif op == "geometric":
                x = geometric(x, p, fill)
        return x

    def observe(self, real_out: torch.Tensor) -> None:
        """D's raw outputs on augmented reals; every `ada_interval` observations p moves one step."""
        if self.ada_target <= 0:
            return
        self._signs.append(torch.sign(real_out.detach()).mean())
        if len(self._signs) >= self.ada_interval:
            rt = self.reduce(float(torch.stack(self._signs).mean()))
            self._signs.clear()
            self.adjust(rt)

    def adjust(self, rt: float) -> None:
        self.p = float(min(max(self.p + (1 if rt > self.ada_target else -1) * self.p_step, 0.0), 1.0))

    def state(self) -> dict:
        return {"p": self.p, "pending": [float(s) for s in self._signs]}

    def load_state(self, s: dict) -> None:
        self.p = float(s["p"])
        self._signs = [torch.tensor(v) for v in s.get("pending", [])]
