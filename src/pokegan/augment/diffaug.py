"""Differentiable augmentation of everything the discriminator sees (real and generated alike).

DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"; reference:
github.com/mit-han-lab/data-efficient-gans): colour (brightness, saturation, contrast), translation (up
to 1/8 of the side) and cutout (a square of half the side). Applied to both real and fake images in
every discriminator and generator step, so D never sees an un-augmented image and G is not pushed to
produce augmented-looking images.

Adaptive (ADA; Karras et al. 2020, "Training Generative Adversarial Networks with Limited Data";
reference: github.com/NVlabs/stylegan2-ada-pytorch): each operation is applied to an image with
probability p, and p is steered by the overfitting signal r_t = E[sign(D(real))] towards a target
(0.6): raised when D is too sure of reals, lowered otherwise. p is saved in checkpoints.

Alpha-aware: images are in model space ([-1, 1], 3 channels composited on a background, or 4 channels
RGBA). Colour operations change visible RGB only (weighted by alpha) and leave alpha alone; translation and cutout move or clear all
channels together and fill with the background (transparent for RGBA), so the generator never learns
holes or edges that the augmentation made.
"""
from __future__ import annotations

import torch

OPS = ("color", "translation", "cutout", "flip")


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


class Augmenter:
    """What stands between images and the discriminator: identity, fixed DiffAugment, or adaptive.

    `ops`: which operations; `p`: their probability (DiffAugment: 1); `ada_target` > 0 makes p adaptive.
    """

    def __init__(self, ops: str = "", p: float = 1.0, ada_target: float = 0.0, ada_kimg: float = 100.0,
                 ada_interval: int = 4, batch: int = 64):
        self.ops = tuple(o.strip() for o in ops.split(",") if o.strip())
        bad = set(self.ops) - set(OPS)
        if bad:
            from pokegan.errors import PokeganError

            raise PokeganError(f"unknown augmentation {', '.join(sorted(bad))}; choose from {', '.join(OPS)}")
        self.ada_target, self.ada_interval = ada_target, ada_interval
        self.p = 0.0 if ada_target > 0 else p
        self.p_step = batch * ada_interval / (ada_kimg * 1000) if ada_kimg > 0 else 0.0
        self.fill = torch.zeros(3)
        self._signs: list[torch.Tensor] = []
        self.reduce = lambda v: v   # data-parallel training averages the signal over processes here

    @property
    def active(self) -> bool:
        return bool(self.ops) and (self.p > 0 or self.ada_target > 0)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.ops or self.p <= 0:
            return x
        fill = self.fill.to(x.device)
        for op in self.ops:
            if op == "color":
                x = color(x, self.p)
            elif op == "translation":
                x = translation(x, self.p, fill)
            elif op == "cutout":
                x = cutout(x, self.p, fill)
            elif op == "flip":
                x = flip(x, self.p)
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
