"""Wasserstein GANs on the DCGAN networks: weight clipping and gradient penalty.

- `wgan`: Arjovsky, Chintala, Bottou 2017, "Wasserstein GAN" (reference: github.com/martinarjovsky/
  WassersteinGAN). Critic without sigmoid, weights clipped to [-0.01, 0.01] after every critic step,
  5 critic steps per generator step, RMSprop 5e-5, batch 64. Report 002 trained it at 128x128; report 000
  saw it diverge.
- `wgan-gp`: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs" (reference:
  github.com/igul222/improved_wgan_training). Penalty 10 on the critic's gradient norm at random
  interpolates, 5 critic steps, Adam 1e-4 with betas (0, 0.9), no batch norm in the critic. Report 004
  adds a dense input layer to the generator and dropout in the critic (both options here).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from pokegan.losses import GradientPenalty
from pokegan.models.base import Phase, register_family
from pokegan.models.dcgan import ConvGANFamily, DCGANOptions


class _Wasserstein(ConvGANFamily):
    loss = "wasserstein"
    d_output = "score"
    penalty = GradientPenalty()

    def g_loss(self, _real):
        G = self.nets["G"]
        out = self.disc(G(self.sample_z(self.cfg.batch, next(G.parameters()).device)))
        loss = self.adv.g(out)
        return loss, {"loss_g": loss, "d_fake_g": out.mean()}

    def critic_terms(self, real):
        with torch.no_grad():
            fake = self.nets["G"](self.sample_z(real.shape[0], real.device))
        real_out, fake_out = self.disc(real, real=True), self.disc(fake)
        loss = self.adv.d(real_out, fake_out)
        return fake, loss, {"loss_d": loss, "d_real": real_out.mean(), "d_fake": fake_out.mean(),
                            "w_dist": -loss.detach()}


@dataclass
class WGANOptions(DCGANOptions):
    clip: float = 0.01        # the paper's clipping box
    n_critic: int = 5         # critic steps per generator step


@register_family("wgan")
class WGAN(_Wasserstein):
    Options = WGANOptions
    paper = "Arjovsky et al. 2017 (weight clipping)"

    def optimizers(self):
        c = self.cfg
        return {"G": torch.optim.RMSprop(self.nets["G"].parameters(), lr=c.lr_g),
                "D": torch.optim.RMSprop(self.nets["D"].parameters(), lr=c.lr_d)}

    def d_loss(self, real):
        _, loss, stats = self.critic_terms(real)
        return loss, stats

    @torch.no_grad()
    def clip(self):
        for p in self.nets["D"].parameters():
            p.clamp_(-self.opts.clip, self.opts.clip)

    def phases(self):
        return [Phase("D", "D", self.d_loss, steps=self.opts.n_critic, counts_kimg=True,
                      start_step=self.opts.head_start, after_step=self.clip),
                Phase("G", "G", self.g_loss, uses_real=False)]


@dataclass
class WGANGPOptions(DCGANOptions):
    gp: float = 10.0          # the paper's penalty weight
    n_critic: int = 5
    d_norm: str = "none"      # batch norm breaks the per-sample gradient penalty


@register_family("wgan-gp")
class WGANGP(_Wasserstein):
    Options = WGANGPOptions
    paper = "Gulrajani et al. 2017 (gradient penalty)"

    def d_loss(self, real):
        fake, loss, stats = self.critic_terms(real)
        gp = self.penalty(self.disc, real, fake)
        stats["gp"] = gp.detach()
        return loss + self.opts.gp * gp, stats

    def phases(self):
        return [Phase("D", "D", self.d_loss, steps=self.opts.n_critic, counts_kimg=True,
                      start_step=self.opts.head_start),
                Phase("G", "G", self.g_loss, uses_real=False)]
