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
- Hinge loss, optionally LeCam regularisation of D (Tseng et al. 2021); DiffAugment (colour, translation,
  cutout) on everything D sees, or ADA; an EMA generator.
Widths are min(w_max, base * 64 / side): at 64x64 with the defaults, 256 at 4x4 down to 16 at 64x64,
about the DCGAN tutorial's speed per image on a 2-core CPU (base 32 is 3x slower there). Works from 32
to 256 pixels, RGB or RGBA.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from pokegan.steps.palette import TRAINING_PALETTE_SIZE
from pokegan.core.errors import PokeganError
from pokegan.losses import LeCam
from pokegan.models.base import Family, Phase, register_family, start_side
from pokegan.models.conditioning import EMBED_DIM, TypeClassifier, TypeInput, TypeModulation, TypeProjection
from pokegan.models.norms import spectral_norm


def sn_conv(cin: int, cout: int, k: int, stride: int = 1, pad: int = 0, bias: bool = False) -> nn.Module:
    return spectral_norm(nn.Conv2d(cin, cout, k, stride, pad, bias=bias))


class GLU(nn.Module):
    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        return a * torch.sigmoid(b)


def up_block(cin: int, cout: int, double: bool) -> nn.Sequential:
    """Nearest up-sampling, then convs to 2 * cout channels, half of them gating the other half (GLU)."""
    layers = [nn.Upsample(scale_factor=2, mode="nearest"), sn_conv(cin, 2 * cout, 3, 1, 1), nn.BatchNorm2d(2 * cout),
              GLU()]
    if double:  # FastGAN's "comp" blocks: a second conv at the same size
        layers += [sn_conv(cout, 2 * cout, 3, 1, 1), nn.BatchNorm2d(2 * cout), GLU()]
    return nn.Sequential(*layers)


class SLE(nn.Module):
    """Skip-layer excitation: a low-resolution feature map gates the channels of a high-resolution one."""

    def __init__(self, c_low: int, c_high: int, side: int = 4):
        """`side`: the pooled size, the generator's start side (4; 3 for 3 x 2^k sizes, which it divides)."""
        super().__init__()
        self.body = nn.Sequential(nn.AdaptiveAvgPool2d(side), sn_conv(c_low, c_high, side), nn.SiLU(),
                                  sn_conv(c_high, c_high, 1), nn.Sigmoid())

    def forward(self, low, high):
        return high * self.body(low)


def widths(resolution: int, base: int, w_max: int) -> dict[int, int]:
    """Channels at each side, from the start side (3 or 4) up to the resolution: min(w_max, base * 64 / side)."""
    out, r = {}, start_side("fastgan", resolution)
    while r <= resolution:
        out[r] = max(8, min(w_max, base * 64 // r))
        r *= 2
    return out


class FastGenerator(nn.Module):
    def __init__(self, z_dim: int, resolution: int, channels: int, base: int = 32, w_max: int = 256,
                 conditional: bool = False, type_norm: bool = False, palette: int = 0):
        """`conditional`: the latent is [noise, 18 type slots] and a type embedding joins the noise;
        `type_norm`: it also scales and shifts every up-block's channels (`TypeModulation`)."""
        super().__init__()
        self.w = widths(resolution, base, w_max)
        res = sorted(self.w)
        self.s0 = s0 = res[0]  # 4, or 3 for 48/96/192: the first block is s0 x s0, then every block doubles
        if conditional:
            self.cond = TypeInput(z_dim)
        cin = z_dim + (EMBED_DIM if conditional else 0)
        self.init = nn.Sequential(spectral_norm(nn.ConvTranspose2d(cin, 2 * self.w[s0], s0, 1, 0, bias=False)),
                                  nn.BatchNorm2d(2 * self.w[s0]), GLU())
        # FastGAN's "comp" blocks (a second conv) at 16, 64 and 256 from 4 (at 12, 48 and 192 from 3)
        self.ups = nn.ModuleDict({str(r): up_block(self.w[r // 2], self.w[r], (r // 2) // s0 in (2, 8, 32))
                                  for r in res[1:]})
        self.sle_pairs = [(r, 8 * r) for r in res if 8 * r <= resolution and r <= 16]
        self.sles = nn.ModuleDict({str(hi): SLE(self.w[lo], self.w[hi], s0) for lo, hi in self.sle_pairs})
        # `palette` > 0: every pixel's colour is a choice among that many colours (a buffer the loop fills with
        # the training palette): logits per colour, their softmax's mix in training, the most likely colour
        # when sampling (eval mode), so sprites come out in flat colours; alpha stays a tanh output
        self.palette_size = palette
        self.to_rgb = sn_conv(self.w[resolution], palette + channels - 3 if palette else channels, 3, 1, 1, bias=True)
        if palette:
            self.register_buffer("palette", torch.zeros(palette, 3))
        if conditional and type_norm:
            self.type_mods = nn.ModuleDict({str(r): TypeModulation(self.w[r]) for r in res[1:]})

    def forward(self, z, style=None, offsets=None):
        """(B, z) or (B, z + 18) -> (B, C, R, R) in [-1, 1]. `style`: latents of another sprite whose 4x4 and 8x8
        features drive the skip-layer excitations (FastGAN's style mixing): the shape of `z`, the colours and
        texture of `style`. `offsets`: {side: (B, C, side, side)} added to the features at that side (a
        projection's extended latent: detail the noise alone cannot reach)."""
        feats, e = self._start(z)
        if offsets and self.s0 in offsets:
            feats[self.s0] = feats[self.s0] + offsets[self.s0]
        lows, e_style = self._start(style) if style is not None else (feats, e)
        r = self.s0
        for key, up in self.ups.items():
            r = int(key)
            h = up(feats[r // 2])
            if key in self.sles:
                if style is not None and r // 8 not in lows:
                    self._up(lows, r // 8, e_style)
                h = self.sles[key](lows[r // 8], h)
            if e is not None:
                h = self.type_mods[key](h, e)
            if offsets and r in offsets:
                h = h + offsets[r]
            feats[r] = h
        return self._output(feats[r])

    def _start(self, z):
        """The first block's features ({s0: ...}) and the type embedding for the type modulations (or None)."""
        e = None
        if hasattr(self, "cond"):
            z = self.cond(z)                      # [noise, lambda * embedding]
            if hasattr(self, "type_mods"):
                e = z[:, self.cond.z_dim:]        # the same embedding for every block, computed once
        return {self.s0: self.init(z.reshape(z.shape[0], -1, 1, 1))}, e

    def _up(self, feats: dict, side: int, e):
        """The features at `side` of a style latent, from its lower ones (the SLE sources sit at 4 and 8, below
        any SLE target)."""
        if side // 2 not in feats:
            self._up(feats, side // 2, e)
        h = self.ups[str(side)](feats[side // 2])
        feats[side] = self.type_mods[str(side)](h, e) if e is not None else h

    def _output(self, h):
        out = self.to_rgb(h)
        k = self.palette_size
        if not k:
            return torch.tanh(out)
        logits, rest = out[:, :k].float(), out[:, k:]
        if self.training:
            w = torch.softmax(logits, dim=1)
        else:
            w = (logits == logits.amax(dim=1, keepdim=True)).float()
            w = w / w.sum(dim=1, keepdim=True)
        rgb = torch.einsum("bkhw,kc->bchw", w, self.palette.float()).to(rest.dtype)
        return torch.cat([rgb, torch.tanh(rest)], dim=1)


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
    def __init__(self, resolution: int, channels: int, base: int = 32, w_max: int = 256, conditional: bool = False,
                 type_head: bool = False):
        super().__init__()
        w = widths(resolution, base, w_max)
        self.from_rgb = nn.Sequential(sn_conv(channels, w[resolution // 2], 4, 2, 1), nn.LeakyReLU(0.2, True))
        downs, r = [], resolution // 2
        while r > 8:
            downs.append(DownBlock(w[r], w[r // 2]))
            r //= 2
        self.downs = nn.Sequential(*downs)
        c8 = w[r]  # the features at 8x8 (6x6 from a 3 x 2^k size)
        self.logits = nn.Sequential(sn_conv(c8, c8, 1), nn.BatchNorm2d(c8), nn.LeakyReLU(0.2, True),
                                    sn_conv(c8, 1, 4))           # 8x8 -> 5x5 patch logits
        self.decoder = nn.Sequential(                           # 8x8 features -> 32x32 image
            nn.Upsample(scale_factor=2), sn_conv(c8, 64, 3, 1, 1), nn.BatchNorm2d(64), GLU(),
            nn.Upsample(scale_factor=2), sn_conv(32, 32, 3, 1, 1), nn.BatchNorm2d(32), GLU(),
            sn_conv(16, channels, 3, 1, 1, bias=True), nn.Tanh())
        if conditional:
            self.proj = TypeProjection(c8)
            if type_head:
                self.type_head = TypeClassifier(c8)

    def forward(self, x, decode: bool = False, c=None, classify: bool = False):
        """(B, C, R, R) -> (B,) scores; with `decode` also the reconstruction (B, C, 32, 32) (24x24 from 6x6),
        with `classify` also the type head's (B, 18) logits, in that order."""
        f8 = self.downs(self.from_rgb(x))
        out = self.logits(f8).mean(dim=(1, 2, 3))
        if c is not None and hasattr(self, "proj"):
            out = out + self.proj(f8, c)
        extra = ([self.decoder(f8)] if decode else []) + ([self.type_head(f8)] if classify else [])
        return (out, *extra) if extra else out


# Instance noise on data prepared without resampling (pixel art, e.g. gen5-96): in 70-minute 96px runs it took
# FID from 132.8 (none, seed 0) to 115.6 and 122.6 (seeds 0 and 1) with fewer kimg; 0.2 gave 112.8 (seed 0);
# benchmarks/ARCHIVE.md "Taking the lead from D at 96 pixels" and "Instance noise, a second seed"
PIXEL_ART_INSTANCE_NOISE = 0.1


@dataclass
class FastGANOptions:
    g_base: int = 16         # widths min(w_max, base * 64 / side): 256 at 4x4 down to 16 at 64x64
    d_base: int = 16
    w_max: int = 256
    rec_weight: float = 1.0  # the self-supervised reconstruction loss on reals (FastGAN's)
    # The G step scores the D step's fakes (kept with their graph) instead of generating new ones, as the
    # DCGAN tutorial does: one generator pass fewer per iteration, 1.2x the images per second
    reuse_fakes: bool = False
    # > 0: LeCam regularisation of D at this weight (their BigGAN + DiffAugment recipe: 0.3), applied after
    # `lecam_start` D steps; holds back a D that pulls ahead of the generator on small data
    lecam_weight: float = 0.0
    lecam_start: int = 1000
    # Type-conditioned runs only (--conditional types). > 0: D also names the types of real sprites (an
    # auxiliary head) and G is asked to make sprites it names as requested, at this weight, ramped in with
    # the rest of the condition: the projection alone left types told by shape weak (mean adherence 27% ->
    # 42% of sprites at 300 kimg, FID 48.0 -> 46.8; benchmarks/ARCHIVE.md "Type conditioning")
    type_aux_weight: float = 0.5
    # the type embedding also scales and shifts every generator block (conditional norm), not only the
    # input: with the head, adherence 42% -> 46%, electric 20% -> 48%, FID 46.8 -> 46.7
    type_norm: bool = True
    # > 0: Gaussian noise of this standard deviation (model space, [-1, 1]) added to everything D sees,
    # real and fake, after DiffAugment (instance noise, Sønderby et al. 2016). On pixel-art data (gen5-96)
    # D reads the sprites' flat colours and wins from the first kimg; there the default is
    # PIXEL_ART_INSTANCE_NOISE (`data_defaults`)
    instance_noise: float = 0.0
    # > 0: G draws each pixel's colour from the training palette (this many of its colours, 64 at most)
    # instead of free RGB: flat colours by construction. It needs lecam_start=0 (refused otherwise): with LeCam on
    # only after 1,000 D steps, D won outright until then and one of two seeds collapsed; from the first step,
    # on gen5-96 in 70 minutes FID 80.9 and 82.1 at 11 and 7 colours a sprite (median), against 112-133 and
    # 1,300-1,400 colours for free RGB (benchmarks/ARCHIVE.md "The palette generator, three seeds")
    palette_output: int = 0

    # Options removed because they lost their measurement: their no-op value, and
    # what a run does instead
    RETIRED: ClassVar[dict] = {
        "snap_fakes": (0, "D sees the generator's raw output; sampling snaps the background"),
        "composite": (False, "train RGBA (--background transparent) for a generator that draws its own alpha"),
        "mbstd_group": (0, "fastgan's D has no minibatch stddev (progan keeps its own)"),
        "glu": (True, "the generator always gates with GLUs"),
        "loss": ("hinge", "fastgan trains with the hinge loss"),
        "r1_gamma": (0.0, "fastgan has no R1 penalty; --set lecam_weight=0.3 regularises D"),
        "r1_every": (16, "fastgan has no R1 penalty"),
    }

    def __post_init__(self):
        if min(self.g_base, self.d_base, self.w_max) < 1:
            raise ValueError(f"g_base, d_base and w_max must be >= 1 (got {self.g_base}, {self.d_base}, {self.w_max})")
        if not 0 <= self.palette_output <= TRAINING_PALETTE_SIZE or self.palette_output == 1:
            raise ValueError(f"palette_output must be 0 (free RGB) or 2-{TRAINING_PALETTE_SIZE} colours of the training "
                             f"palette (got {self.palette_output})")
        if min(self.lecam_weight, self.lecam_start, self.rec_weight, self.type_aux_weight, self.instance_noise) < 0:
            raise ValueError(f"lecam_weight, lecam_start, rec_weight, type_aux_weight and instance_noise must be >= 0 "
                             f"(got {self.lecam_weight}, {self.lecam_start}, {self.rec_weight}, "
                             f"{self.type_aux_weight}, {self.instance_noise})")


@register_family("fastgan")
class FastGAN(Family):
    Options = FastGANOptions
    conditions = True       # --conditional types
    loss = "hinge"
    d_output = "score"      # hinge: patch logits, real > 0
    paper = "Liu et al. 2021 (FastGAN) with DiffAugment (Zhao et al. 2020) and EMA"

    @classmethod
    def check_training(cls, opts) -> None:
        if opts.palette_output and opts.lecam_start != 0:
            raise PokeganError(f"palette_output needs LeCam from the first step: with lecam_start={opts.lecam_start} the "
                               "discriminator wins the first thousand steps outright and one of two seeds collapsed "
                               "(benchmarks/ARCHIVE.md); add --set lecam_start=0")

    @classmethod
    def data_defaults(cls, info: dict) -> dict:
        """Pixel art (a dataset prepared with nearest resampling, so flat colours and hard edges): instance noise."""
        pixel_art = (info.get("config") or {}).get("resample") == "nearest"
        return {"instance_noise": PIXEL_ART_INSTANCE_NOISE} if pixel_art else {}

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self._fake: torch.Tensor | None = None  # the D step's fakes, for the G step (reuse_fakes)
        if self.opts.palette_output and self.channels != 4:  # the palette holds the sprites' colours, no background
            raise PokeganError(f"palette_output draws a sprite's opaque pixels in the training palette and needs sprites "
                               f"with their own alpha, but this run trains on a solid background ({self.channels} "
                               "channels): add --background transparent, or leave palette_output at 0")
        self.lecam = LeCam(start=self.opts.lecam_start) if self.opts.lecam_weight > 0 else None
        self.aux = self.conditional and self.opts.type_aux_weight > 0  # D's auxiliary type head is in use

    def generator_spec(self) -> dict:
        o = self.opts
        return {"class": "FastGenerator", "args": dict(
            z_dim=self.z_dim, resolution=self.resolution, channels=self.channels, base=o.g_base, w_max=o.w_max,
            conditional=self.conditional, type_norm=o.type_norm, palette=o.palette_output)}

    def build(self):
        o = self.opts
        cond = self.conditional
        self.nets = {"G": FastGenerator(**self.generator_spec()["args"]),
                     "D": FastDiscriminator(self.resolution, self.channels, o.d_base, o.w_max, cond,
                                            type_head=self.aux)}
        return self.nets

    def optimizers(self):
        c = self.cfg
        return {"G": self.adam(self.nets["G"].parameters(), c.lr_g, c.betas_g),
                "D": self.adam(self.nets["D"].parameters(), c.lr_d, c.betas_d)}

    def state(self) -> dict:
        return {"lecam": self.lecam.state()} if self.lecam else {}

    def load_state(self, state: dict) -> None:
        if self.lecam and "lecam" in state:
            self.lecam.load_state(state["lecam"])

    def seen(self, x: torch.Tensor) -> torch.Tensor:
        """What D is shown: augmented, then the instance noise if asked for."""
        x = super().seen(x)
        return x + self.opts.instance_noise * torch.randn_like(x) if self.opts.instance_noise > 0 else x

    def d_loss(self, real):
        D = self.nets["D"]
        z = self.sample_z(real.shape[0], real.device)
        with torch.set_grad_enabled(self.opts.reuse_fakes):  # G's graph is kept only to be reused
            fake = self.nets["G"](z)
        self._fake = (fake, z) if self.opts.reuse_fakes else None
        real_aug = self.seen(real)
        aux = self.aux and self.real_types is not None  # (the bf16 timing's copy runs without types)
        real_out, rec, *cls = D(real_aug, decode=True, c=self.real_types, classify=aux)
        self.augment.observe(real_out)
        fake_out = self.disc(fake.detach(), c=self.types_of(z))
        adv = self.adv.d(real_out, fake_out)
        rec_loss = F.l1_loss(rec, F.adaptive_avg_pool2d(real_aug, rec.shape[-1]))
        loss = adv + self.opts.rec_weight * rec_loss
        stats = {"loss_d": adv, "rec": rec_loss, "d_real": real_out.mean(), "d_fake": fake_out.mean()}
        if aux:
            type_loss = D.type_head.loss(cls[0], self.real_types)
            loss = loss + self.opts.type_aux_weight * type_loss
            stats["type_d"] = type_loss
        if self.lecam:
            self.lecam.update(real_out, fake_out)
            if self.lecam.active:
                reg = self.lecam(real_out, fake_out)
                loss = loss + self.opts.lecam_weight * reg
                stats["lecam"] = reg
        return loss, stats

    def g_loss(self, _real):
        G = self.nets["G"]
        kept, self._fake = self._fake, None
        if kept is None:
            z = self.sample_z(self.cfg.batch, next(G.parameters()).device)
            kept = (G(z), z)
        fake, z = kept
        if not self.aux:
            out = self.disc(fake, c=self.types_of(z))
            loss = self.adv.g(out)
            return loss, {"loss_g": loss, "d_fake_g": out.mean()}
        c = self.types_of(z)
        out, cls = self.nets["D"](self.seen(fake), c=c, classify=True)
        adv, type_loss = self.adv.g(out), self.nets["D"].type_head.loss(cls, c)
        loss = adv + self.opts.type_aux_weight * type_loss
        return loss, {"loss_g": adv, "d_fake_g": out.mean(), "type_g": type_loss}

    def phases(self):
        grads = ("D", "G") if self.opts.reuse_fakes else ()
        return [Phase("D", "D", self.d_loss, counts_kimg=True, grads=grads),
                Phase("G", "G", self.g_loss, uses_real=False)]
