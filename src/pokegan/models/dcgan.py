"""DCGAN (Radford et al. 2016) as the PyTorch DCGAN tutorial builds it, with the reports' variants.

Generator: z -> 4x4 by a transposed conv (or a dense layer, report 002), then stride-2 transposed convs
with batch norm and ReLU, doubling to the target size, tanh output. Discriminator: the mirror, stride-2
convs with LeakyReLU 0.2 (batch norm after the first), down to 4x4, then one logit. N(0, 0.02) init.
Reference: https://pytorch.org/tutorials/beginner/dcgan_faces_tutorial.html (report 001).
Variants: doubled generator layers and a generator head start (report 000); dense first layer and 5x5
kernels for 128x128 (report 002). The tutorial's 64x64 shapes are exact; other sizes add or remove
stride-2 layers, widths capped at 8x the base.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from pokegan.models.base import Family, Phase, check_power_of_two, register_family
from pokegan.models.conditioning import EMBED_DIM, TypeInput, TypeProjection


def init_dcgan_weights(m: nn.Module) -> None:
    """The tutorial's init: conv weights N(0, 0.02); batch-norm scale N(1, 0.02), shift 0."""
    name = type(m).__name__
    if "Conv" in name or isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def _up(cin: int, cout: int, kernel: int) -> nn.ConvTranspose2d:
    """A transposed conv that doubles the side exactly (4x4 stride 2, or 5x5 with output padding)."""
    if kernel == 4:
        return nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)
    return nn.ConvTranspose2d(cin, cout, 5, 2, 2, output_padding=1, bias=False)


def _down(cin: int, cout: int, kernel: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, 2, (kernel - 1) // 2 if kernel == 5 else 1, bias=False)


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int, resolution: int, channels: int, base: int = 64, kernel: int = 4,
                 deep: bool = False, dense_first: bool = False, max_mult: int = 8, conditional: bool = False):
        super().__init__()
        n = check_power_of_two("dcgan", resolution) - 2          # stride-2 steps from 4x4
        mults = [min(2 ** (n - 1 - i), max_mult) for i in range(n)]  # 64px: 8, 4, 2, 1 (the tutorial)
        c0 = base * mults[0]
        self.z_dim, self.dense_first, self.c0 = z_dim, dense_first, c0
        if conditional:  # the classic conditional DCGAN: a type embedding joins the noise
            self.cond = TypeInput(z_dim)
            z_dim += EMBED_DIM
        if dense_first:
            self.head = nn.Sequential(nn.Linear(z_dim, c0 * 16, bias=False), nn.BatchNorm1d(c0 * 16),
                                      nn.ReLU(True))
        else:
            self.head = nn.Sequential(nn.ConvTranspose2d(z_dim, c0, 4, 1, 0, bias=False), nn.BatchNorm2d(c0),
                                      nn.ReLU(True))
        layers: list[nn.Module] = []
        for i in range(n):
            cin = base * mults[i]
            if deep:  # report 000: a stride-1 conv after each up-sampling layer doubles the depth
                layers += [nn.Conv2d(cin, cin, 3, 1, 1, bias=False), nn.BatchNorm2d(cin), nn.ReLU(True)]
            if i < n - 1:
                cout = base * mults[i + 1]
                layers += [_up(cin, cout, kernel), nn.BatchNorm2d(cout), nn.ReLU(True)]
            else:
                layers += [_up(cin, channels, kernel), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        self.apply(init_dcgan_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, z) or (B, z + 18) -> (B, C, R, R) in [-1, 1]
        if hasattr(self, "cond"):
            z = self.cond(z)
        if self.dense_first:
            return self.body(self.head(z).view(-1, self.c0, 4, 4))
        return self.body(self.head(z.view(z.shape[0], -1, 1, 1)))


class DCGANDiscriminator(nn.Module):
    """Outputs one raw value per image: a logit (BCE families) or a critic score (Wasserstein)."""

    def __init__(self, resolution: int, channels: int, base: int = 64, kernel: int = 4, norm: str = "batch",
                 dropout: float = 0.0, deep: bool = False, max_mult: int = 8, conditional: bool = False):
        super().__init__()
        n = check_power_of_two("dcgan", resolution) - 2
        layers: list[nn.Module] = []
        cin = channels
        for i in range(n):
            cout = base * min(2 ** i, max_mult)
            layers.append(_down(cin, cout, kernel))
            if i > 0 and norm == "batch":  # the tutorial has no batch norm on the first layer
                layers.append(nn.BatchNorm2d(cout))
            elif i > 0 and norm == "layer":
                layers.append(nn.GroupNorm(1, cout))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            if dropout > 0:
                layers.append(nn.Dropout2d(dropout))
            if deep:
                layers += [nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
            cin = cout
        layers.append(nn.Conv2d(cin, 1, 4, 1, 0, bias=False))
        self.body = nn.Sequential(*layers)
        self.apply(init_dcgan_weights)
        if conditional:  # a projection head on the 4x4 features (Miyato & Koyama 2018)
            self.proj = TypeProjection(cin)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:  # (B, C, R, R) -> (B,)
        if c is None or not hasattr(self, "proj"):
            return self.body(x).flatten()
        h = self.body[:-1](x)
        return self.body[-1](h).flatten() + self.proj(h, c)


@dataclass
class DCGANOptions:
    g_base: int = 64          # the tutorial's ngf
    d_base: int = 64          # the tutorial's ndf
    kernel: int = 4           # 5: report 002's 128x128 variant
    deep_g: bool = False      # report 000: doubled generator layers
    deep_d: bool = False      # report 000 also tried the mirror in D (no visible change)
    dense_first: bool = False  # report 002: dense layer from z to the first 4x4 feature map
    head_start: int = 0       # report 000: generator-only iterations before D starts training
    d_norm: str = "batch"     # batch | layer | none
    d_dropout: float = 0.0    # report 004: dropout in the discriminator

    def __post_init__(self):
        if self.kernel not in (4, 5):
            raise ValueError(f"kernel must be 4 or 5, not {self.kernel}")
        if self.d_norm not in ("batch", "layer", "none"):
            raise ValueError(f"d_norm must be batch, layer or none, not {self.d_norm!r}")


class ConvGANFamily(Family):
    """Shared by the DCGAN-shaped families: build G and D from the options, Adam on both."""

    Options = DCGANOptions

    def generator_spec(self) -> dict:
        o = self.opts
        return {"class": "DCGANGenerator", "args": dict(
            z_dim=self.z_dim, resolution=self.resolution, channels=self.channels, base=o.g_base, kernel=o.kernel,
            deep=o.deep_g, dense_first=o.dense_first, conditional=self.conditional)}

    def build(self):
        o = self.opts
        self.nets = {
            "G": DCGANGenerator(**self.generator_spec()["args"]),
            "D": DCGANDiscriminator(self.resolution, self.channels, o.d_base, o.kernel, o.d_norm, o.d_dropout,
                                    o.deep_d, conditional=self.conditional),
        }
        return self.nets

    def optimizers(self):
        c = self.cfg
        return {"G": self.adam(self.nets["G"].parameters(), c.lr_g, c.betas_g),
                "D": self.adam(self.nets["D"].parameters(), c.lr_d, c.betas_d)}


@register_family("dcgan")
class DCGAN(ConvGANFamily):
    paper = "Radford et al. 2016; PyTorch DCGAN tutorial"
    conditions = True  # --conditional types: the classic conditional DCGAN, with a projection D

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self._fake: torch.Tensor | None = None  # the tutorial's G step reuses the D step's fakes

    def d_loss(self, real):
        z = self.sample_z(real.shape[0], real.device)
        fake = self.nets["G"](z)
        self._fake = (fake, z)
        real_out = self.disc(real, real=True, c=self.real_types)
        fake_out = self.disc(fake.detach(), c=self.types_of(z))
        loss = self.adv.d(real_out, fake_out)
        return loss, {"loss_d": loss, "d_real": torch.sigmoid(real_out).mean(),
                      "d_fake": torch.sigmoid(fake_out).mean()}

    def g_loss(self, _real):
        kept, self._fake = self._fake, None
        if kept is None:  # no D step this iteration (head start)
            z = self.sample_z(self.cfg.batch, next(self.nets["G"].parameters()).device)
            kept = (self.nets["G"](z), z)
        fake, z = kept
        out = self.disc(fake, c=self.types_of(z))
        loss = self.adv.g(out)
        return loss, {"loss_g": loss, "d_fake_g": torch.sigmoid(out).mean()}

    def phases(self):
        return [Phase("D", "D", self.d_loss, counts_kimg=True, start_step=self.opts.head_start, grads=("D", "G")),
                Phase("G", "G", self.g_loss, uses_real=False)]
