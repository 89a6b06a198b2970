"""FastGAN-lite: a small-data, small-compute GAN (Liu, Zhu, Song, Elgammal 2021, "Towards Faster and
Stabilized GAN Training for High-fidelity Few-shot Image Synthesis"; reference:
github.com/odegeasslin/FastGAN-pytorch), sized for a laptop CPU.

Why this family for ~1,500 sprites on 2 cores: FastGAN was designed for 100-1,000 images and a single
GPU-day, and its parts each attack a failure the reports hit.
- Generator: nearest up-sampling + 3x3 convs with GLU gates and batch norm (no transposed-conv
  checkerboards); skip-layer excitation (SLE) lets the 4x4 and 8x8 features gate channels at 8x the
  resolution, a cheap global path that keeps shapes coherent.
- Discriminator: spectral norm everywhere, residual down-blocks (strided conv path + pooled 1x1 path),
  patch logits, and a self-supervised decoder that must reconstruct the real image from D's 8x8
  features (here with L1 instead of LPIPS, which would need downloaded weights). A D that has to describe
  reals cannot simply memorise them: this is FastGAN's answer to the discriminator that wins too fast.
- Hinge loss; DiffAugment (colour, translation, cutout) on everything D sees, or ADA; an EMA generator.
Widths are min(w_max, base * 64 / side): at 64x64 with the defaults, 256 at 4x4 down to 16 at 64x64,
about the DCGAN tutorial's speed per image on a 2-core CPU (base 32 is 3x slower there). Works from 32 to 256 pixels, RGB or RGBA.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from pokegan.errors import PokeganError
from pokegan.losses import LeCamAnchors, bce_d, bce_g, lecam, r1_penalty
from pokegan.models.base import Family, Phase, check_power_of_two, minibatch_stddev, register_family
from pokegan.sampling import snap_background


def sn_conv(cin: int, cout: int, k: int, stride: int = 1, pad: int = 0, bias: bool = False) -> nn.Module:
    return spectral_norm(nn.Conv2d(cin, cout, k, stride, pad, bias=bias))


class GLU(nn.Module):
    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        return a * torch.sigmoid(b)


def gated(cout: int, glu: bool) -> tuple[int, nn.Module]:
    """A generator conv's output width and activation: FastGAN's GLU (2 * cout channels, half of them
    gating the other half), or SiLU on cout channels (x * sigmoid(x): the gate tied to its own input, half
    the conv's multiply-adds)."""
    return (cout * 2, GLU()) if glu else (cout, nn.SiLU())


def up_block(cin: int, cout: int, double: bool, glu: bool = True) -> nn.Sequential:
    width, act = gated(cout, glu)
    layers = [nn.Upsample(scale_factor=2, mode="nearest"), sn_conv(cin, width, 3, 1, 1), nn.BatchNorm2d(width), act]
    if double:  # FastGAN's "comp" blocks: a second conv at the same size
        width, act = gated(cout, glu)
        layers += [sn_conv(cout, width, 3, 1, 1), nn.BatchNorm2d(width), act]
    return nn.Sequential(*layers)


class SLE(nn.Module):
    """Skip-layer excitation: a low-resolution feature map gates the channels of a high-resolution one."""

    def __init__(self, c_low: int, c_high: int):
        super().__init__()
        self.body = nn.Sequential(nn.AdaptiveAvgPool2d(4), sn_conv(c_low, c_high, 4), nn.SiLU(),
                                  sn_conv(c_high, c_high, 1), nn.Sigmoid())

    def forward(self, low, high):
        return high * self.body(low)


def widths(resolution: int, base: int, w_max: int) -> dict[int, int]:
    out, r = {}, 4
    while r <= resolution:
        out[r] = max(8, min(w_max, base * 64 // r))
        r *= 2
    return out


class FastGenerator(nn.Module):
    def __init__(self, z_dim: int, resolution: int, channels: int, base: int = 32, w_max: int = 256,
                 glu: bool = True, composite_bg: float | None = None):
        """`composite_bg`: the solid background's value in model space (+1 white, -1 black) for a generator
        that draws a sprite's colour and its coverage (alpha) and lays them on that background itself;
        None: it paints every pixel, background included."""
        super().__init__()
        check_power_of_two("fastgan", resolution, lo=32)
        self.w = widths(resolution, base, w_max)
        res = sorted(self.w)
        width, act = gated(self.w[4], glu)
        self.init = nn.Sequential(spectral_norm(nn.ConvTranspose2d(z_dim, width, 4, 1, 0, bias=False)),
                                  nn.BatchNorm2d(width), act)
        self.ups = nn.ModuleDict({str(r): up_block(self.w[r // 2], self.w[r], (r // 2) in (8, 32, 128), glu)
                                  for r in res[1:]})
        self.sle_pairs = [(r, 8 * r) for r in res if 8 * r <= resolution and r <= 16]
        self.sles = nn.ModuleDict({str(hi): SLE(self.w[lo], self.w[hi]) for lo, hi in self.sle_pairs})
        self.composite = composite_bg is not None
        self.to_rgb = sn_conv(self.w[resolution], channels + self.composite, 3, 1, 1, bias=True)
        self.bg = composite_bg  # from the run's background, which every checkpoint records

    def forward(self, z):  # (B, z) -> (B, C, R, R) in [-1, 1]
        feats = {4: self.init(z.view(z.shape[0], -1, 1, 1))}
        r = 4
        for key, up in self.ups.items():
            r = int(key)
            h = up(feats[r // 2])
            if key in self.sles:
                h = self.sles[key](feats[r // 8], h)
            feats[r] = h
        out = self.to_rgb(feats[r])
        if not self.composite:
            return torch.tanh(out)
        alpha = torch.sigmoid(out[:, -1:])      # 0: background, 1: the sprite's own colour
        return self.bg + alpha * (torch.tanh(out[:, :-1]) - self.bg)


class DownBlock(nn.Module):
    """FastGAN's DownBlockComp: a strided conv path and a pooled 1x1 path, averaged."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.main = nn.Sequential(sn_conv(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True),
                                  sn_conv(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True))
        self.direct = nn.Sequential(nn.AvgPool2d(2), sn_conv(cin, cout, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True))

    def forward(self, x):
        return (self.main(x) + self.direct(x)) / 2


class FastDiscriminator(nn.Module):
    def __init__(self, resolution: int, channels: int, base: int = 32, w_max: int = 256, mbstd_group: int = 0):
        super().__init__()
        check_power_of_two("fastgan", resolution, lo=32)
        w = widths(resolution, base, w_max)
        self.mbstd_group = mbstd_group
        self.from_rgb = nn.Sequential(sn_conv(channels, w[resolution // 2], 4, 2, 1), nn.LeakyReLU(0.2, True))
        downs, r = [], resolution // 2
        while r > 8:
            downs.append(DownBlock(w[r], w[r // 2]))
            r //= 2
        self.downs = nn.Sequential(*downs)
        c8 = w[8]
        self.logits = nn.Sequential(sn_conv(c8 + (mbstd_group > 0), c8, 1), nn.BatchNorm2d(c8), nn.LeakyReLU(0.2, True),
                                    sn_conv(c8, 1, 4))           # 8x8 -> 5x5 patch logits
        self.decoder = nn.Sequential(                           # 8x8 features -> 32x32 image
            nn.Upsample(scale_factor=2), sn_conv(c8, 64, 3, 1, 1), nn.BatchNorm2d(64), GLU(),
            nn.Upsample(scale_factor=2), sn_conv(32, 32, 3, 1, 1), nn.BatchNorm2d(32), GLU(),
            sn_conv(16, channels, 3, 1, 1, bias=True), nn.Tanh())

    def forward(self, x, decode: bool = False):  # (B, C, R, R) -> (B,) [and (B, C, 32, 32)]
        f8 = self.downs(self.from_rgb(x))
        h = minibatch_stddev(f8, self.mbstd_group) if self.mbstd_group else f8
        out = self.logits(h).mean(dim=(1, 2, 3))
        return (out, self.decoder(f8)) if decode else out


@dataclass
class FastGANOptions:
    # widths min(w_max, base * 64 / side). The `fastgan` preset halved the generator's (g_base 8, sessions
    # 29-31: half its width buys 1.35-1.6x the images of a CPU hour) until mirrored reals let the full width
    # use an hour better (FID 37.2 against 40.9-41.6, session 32); `--set g_base=8` still halves it
    g_base: int = 16
    d_base: int = 16
    w_max: int = 256
    rec_weight: float = 1.0  # the self-supervised reconstruction loss on reals
    # The G step scores the D step's fakes (kept with their graph) instead of generating new ones, as the
    # DCGAN tutorial does: one generator forward pass fewer per iteration, 1.2x the images per second. The
    # `fastgan` preset turns it on (with bf16 on CPUs that have it); off here for the family's other presets.
    reuse_fakes: bool = False
    # > 0: D's logit head also sees the standard deviation of its 8x8 features over groups of this many
    # images (ProGAN's minibatch stddev), a direct signal against low variety; 0 = off (FastGAN has none)
    mbstd_group: int = 0
    # > 0: LeCam regularisation of D (Tseng et al. 2021) at this weight; their BigGAN + DiffAugment recipe
    # uses 0.3, anchors decaying at 0.99, applied after 1,000 D steps. 0 = off (FastGAN has none; at 0.3 the
    # CPU hour on gen5-64 ended at FID 63.9 after 158 kimg, no better per image than without; on a machine
    # that buys 353 kimg, where D pulls ahead late, it held D back and ended level: FID 45.5, KID 0.0170
    # against 45.5 and 0.0155). The `fastgan` preset turns it on at 0.3 with a half-width generator, which
    # D otherwise pulls ahead of after ~170 kimg: a 2-core Xeon's hour ended at FID 47.4 and 49.0 (two
    # seeds) against 54.0 for the narrow generator alone and 56.1 for neither: RESULTS.md)
    lecam_weight: float = 0.0
    lecam_start: int = 1000  # D steps before it applies (the anchors follow D's outputs until then)
    # False: the generator's convs give their width directly, followed by SiLU, instead of twice the width
    # halved by a GLU (FastGAN's): about half the generator's multiply-adds, the larger part of a step's.
    # On by default: without it a CPU hour on gen5-64 saw 1.44x the images but ended at FID 68.3 (69.6 at
    # 190 kimg, where the GLU generator is at 60.0): the gates are worth more per image than they cost
    glu: bool = True
    # > 0: the fakes D sees get sampling's exact background (`sampling.snap_background` at this many uint8
    # levels, straight-through: the gradient passes as if unsnapped). tanh never reaches the white of the
    # real backgrounds, so D can tell every fake by its faint haze; snapped, it has to judge the sprite.
    # 0 = off (D sees the raw output). Off by default: at 5 a CPU hour on gen5-64 ended at FID 49.7 and
    # KID 0.021 (350 kimg) against 45.5 and 0.0155 without, behind by 1.8-5.1 at every snapshot (RESULTS.md)
    snap_fakes: int = 0
    # True: the generator draws each pixel's colour and coverage (a fourth, alpha output) and lays the sprite
    # on the data's solid white or black background itself, so the background is exact wherever the
    # coverage is near 0 and the convs spend nothing on painting it; a prior from layered generators
    # (FineGAN, Singh et al. 2019). RGB data on white or black only (an RGBA run draws alpha already). Off:
    # a CPU hour on gen5-64 ended at FID 65.8 and KID 0.0358 (176 kimg) against the default's 56.1 and
    # 0.0278 (172) on the same machine, behind at 60 and 130 kimg too, D nearer chance (RESULTS.md)
    composite: bool = False
    # "hinge" (FastGAN's, the default) or "ns": the non-saturating logistic loss of StyleGAN2-ADA
    # (Karras et al. 2020), usually paired with an R1 penalty (`r1_gamma`)
    loss: str = "hinge"
    # > 0: R1 penalty on the augmented reals, gamma/2 * E||grad D||^2 (Mescheder et al. 2018), every
    # `r1_every` D steps scaled by that interval (StyleGAN2's lazy regularisation; 16 keeps its double
    # backward to a few percent of the time). StyleGAN2-ADA's heuristic for gamma, 0.0002 * side^2 / batch,
    # gives 0.05 at 64px and batch 16. 0 = off (FastGAN has none). `loss=ns, r1_gamma=0.05` on gen5-64: 0.95x
    # the images, and behind per image at 60 kimg (FID 85.7 against the hinge default's 79.3; RESULTS.md)
    r1_gamma: float = 0.0
    r1_every: int = 16

    def __post_init__(self):
        if self.loss not in ("hinge", "ns"):
            raise ValueError(f"loss={self.loss!r}: 'hinge' (FastGAN's) or 'ns' (non-saturating, StyleGAN2's)")
        if self.r1_gamma < 0 or self.r1_every < 1:
            raise ValueError(f"r1_gamma must be >= 0 and r1_every >= 1 (got {self.r1_gamma}, {self.r1_every})")
        if min(self.lecam_weight, self.lecam_start, self.rec_weight, self.mbstd_group, self.snap_fakes) < 0:
            raise ValueError(f"lecam_weight, lecam_start, rec_weight, mbstd_group and snap_fakes must be >= 0 (got "
                             f"{self.lecam_weight}, {self.lecam_start}, {self.rec_weight}, {self.mbstd_group}, "
                             f"{self.snap_fakes})")
        if self.snap_fakes > 127:
            raise ValueError(f"snap_fakes={self.snap_fakes}: a tolerance in uint8 levels, 0 (off) to 127")


@register_family("fastgan")
class FastGAN(Family):
    Options = FastGANOptions
    d_output = "score"      # hinge: patch logits, real > 0
    paper = "Liu et al. 2021 (FastGAN) with DiffAugment (Zhao et al. 2020) and EMA"

    def build(self):
        o = self.opts
        bg = None
        if o.composite:
            if self.channels != 3 or self.background not in ("white", "black"):
                raise PokeganError(f"composite=true lays sprites on a solid white or black background, but this run's "
                                   f"is {self.background!r} with {self.channels} channels; prepare or train on white or "
                                   "black (--background white), or train RGBA (--background transparent), which draws "
                                   "alpha itself")
            bg = 1.0 if self.background == "white" else -1.0
        self.nets = {"G": FastGenerator(self.z_dim, self.resolution, self.channels, o.g_base, o.w_max, o.glu, bg),
                     "D": FastDiscriminator(self.resolution, self.channels, o.d_base, o.w_max, o.mbstd_group)}
        return self.nets

    def optimizers(self):
        c = self.cfg
        return {"G": self.adam(self.nets["G"].parameters(), c.lr_g, c.betas_g),
                "D": self.adam(self.nets["D"].parameters(), c.lr_d, c.betas_d)}

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self._fake: torch.Tensor | None = None  # the D step's fakes, for the G step (reuse_fakes)
        self._lecam = LeCamAnchors(start=self.opts.lecam_start) if self.opts.lecam_weight > 0 else None
        self._d_steps = 0  # D steps taken: when the lazy R1 penalty is due

    def snap(self, fake: torch.Tensor) -> torch.Tensor:
        """Fakes as D should see them: with the exact background when `snap_fakes` asks for it."""
        if not self.opts.snap_fakes:
            return fake
        snapped = snap_background(fake.detach(), self.background, self.opts.snap_fakes)
        return fake + (snapped - fake.detach())   # straight-through: snapped values, unsnapped gradient

    def state(self) -> dict:
        state = {"d_steps": self._d_steps}
        if self._lecam:
            state["lecam"] = self._lecam.state()
        return state

    def load_state(self, state: dict) -> None:
        self._d_steps = int(state.get("d_steps", 0))
        if self._lecam and "lecam" in state:
            self._lecam.load_state(state["lecam"])

    def adversarial_d(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        if self.opts.loss == "ns":
            return bce_d(real_out, fake_out)
        return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()

    def d_loss(self, real):
        D = self.nets["D"]
        with torch.set_grad_enabled(self.opts.reuse_fakes):  # G's graph is kept only to be reused
            fake = self.nets["G"](self.sample_z(real.shape[0], real.device))
        self._fake = fake if self.opts.reuse_fakes else None
        fake = self.snap(fake.detach())
        real_aug = self.augment(real)
        o = self.opts
        r1_due = o.r1_gamma > 0 and self._d_steps % o.r1_every == 0
        self._d_steps += 1
        if r1_due:
            real_aug = real_aug.detach().requires_grad_(True)
        real_out, rec = D(real_aug, decode=True)
        self.augment.observe(real_out)
        fake_out = self.disc(fake)
        adv = self.adversarial_d(real_out, fake_out)
        rec_loss = F.l1_loss(rec, F.adaptive_avg_pool2d(real_aug, rec.shape[-1]))
        loss = adv + o.rec_weight * rec_loss
        stats = {"loss_d": adv, "rec": rec_loss, "d_real": real_out.mean(), "d_fake": fake_out.mean()}
        if r1_due:
            r1 = r1_penalty(real_out, real_aug)
            loss = loss + (o.r1_gamma / 2 * o.r1_every) * r1
            stats["r1"] = r1
        if self._lecam:
            self._lecam.update(real_out, fake_out)
            if self._lecam.active:
                reg = lecam(real_out, fake_out, self._lecam)
                loss = loss + self.opts.lecam_weight * reg
                stats["lecam"] = reg
        return loss, stats

    def g_loss(self, _real):
        G = self.nets["G"]
        fake, self._fake = self._fake, None
        if fake is None:
            fake = G(self.sample_z(self.cfg.batch, next(G.parameters()).device))
        out = self.disc(self.snap(fake))
        loss = bce_g(out) if self.opts.loss == "ns" else -out.mean()
        return loss, {"loss_g": loss, "d_fake_g": out.mean()}

    def phases(self):
        grads = ("D", "G") if self.opts.reuse_fakes else ()
        return [Phase("D", "D", self.d_loss, counts_kimg=True, grads=grads),
                Phase("G", "G", self.g_loss, uses_real=False)]
