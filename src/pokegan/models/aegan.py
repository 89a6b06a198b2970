"""AEGAN: the autoencoding GAN (Lazarou 2020, "Autoencoding Generative Adversarial Networks";
reference: github.com/ConorLazarou/AEGAN), as report 003 trained it on Pokémon.

Four networks: generator G (z -> x), encoder E (x -> z), image discriminator Dx and latent discriminator
Dz. G and E are trained together so that G(z), G(E(x)) look real to Dx and E(x), E(G(z)) look like prior
samples to Dz, with L1 image reconstruction |G(E(x)) - x| and L2 latent reconstruction |E(G(z)) - z|^2.
Loss weights are the reference code's (1, 0.5, 0.005, 0.1); latent size 16 as in report 003. The encoder
is saved with the model, so real sprites can be encoded later (interpolating between two Pokémon).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pokegan.models.base import Family, Phase, register_family
from pokegan.models.dcgan import DCGANDiscriminator, DCGANGenerator, init_dcgan_weights


class Encoder(nn.Module):
    """The DCGAN discriminator's shape with a z_dim-wide head: (B, C, R, R) -> (B, z)."""

    def __init__(self, resolution: int, channels: int, z_dim: int, base: int):
        super().__init__()
        self.trunk = DCGANDiscriminator(resolution, channels, base)
        last = self.trunk.body[-1]
        self.trunk.body[-1] = nn.Conv2d(last.in_channels, z_dim, 4, 1, 0)
        self.trunk.body[-1].apply(init_dcgan_weights)

    def forward(self, x):
        return self.trunk.body(x).flatten(1)


class LatentDiscriminator(nn.Module):
    def __init__(self, z_dim: int, width: int = 256, dropout: float = 0.2):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(z_dim, width), nn.LeakyReLU(0.2, True), nn.Dropout(dropout),
                                  nn.Linear(width, width), nn.LeakyReLU(0.2, True), nn.Dropout(dropout),
                                  nn.Linear(width, 1))

    def forward(self, z):
        return self.body(z).flatten()


@dataclass
class AEGANOptions:
    g_base: int = 64
    d_base: int = 64
    w_rec_x: float = 1.0      # L1 image reconstruction (reference code)
    w_rec_z: float = 0.5      # L2 latent reconstruction
    w_adv_x: float = 0.005    # fooling the image discriminator
    w_adv_z: float = 0.1      # fooling the latent discriminator


@register_family("aegan")
class AEGAN(Family):
    Options = AEGANOptions
    paper = "Lazarou 2020 (autoencoding GAN)"

    def generator_spec(self) -> dict:
        return {"class": "DCGANGenerator", "args": dict(z_dim=self.z_dim, resolution=self.resolution,
                                                        channels=self.channels, base=self.opts.g_base)}

    def encoder_spec(self) -> dict:
        return {"class": "Encoder", "args": dict(resolution=self.resolution, channels=self.channels,
                                                 z_dim=self.z_dim, base=self.opts.d_base)}

    def build(self):
        o, r, c, z = self.opts, self.resolution, self.channels, self.z_dim
        self.nets = {"G": DCGANGenerator(**self.generator_spec()["args"]), "E": Encoder(**self.encoder_spec()["args"]),
                     "D": DCGANDiscriminator(r, c, o.d_base), "Dz": LatentDiscriminator(z)}
        return self.nets

    def optimizers(self):
        n, c = self.nets, self.cfg
        return {"GE": self.adam(list(n["G"].parameters()) + list(n["E"].parameters()), c.lr_g, c.betas_g),
                "D": self.adam(list(n["D"].parameters()) + list(n["Dz"].parameters()), c.lr_d, c.betas_d)}

    def d_loss(self, x):
        G, E, Dz = (self.nets[k] for k in ("G", "E", "Dz"))
        z = self.sample_z(x.shape[0], x.device)
        with torch.no_grad():
            gz, ex = G(z), E(x)
            gex, egz = G(ex), E(gz)
        real_x, fake_gz, fake_gex = self.disc(x, real=True), self.disc(gz), self.disc(gex)
        real_z, fake_ex, fake_egz = Dz(z), Dz(ex), Dz(egz)
        loss_x = self.adv.d(real_x, fake_gz) + self.adv.d(real_x, fake_gex)
        loss_z = self.adv.d(real_z, fake_ex) + self.adv.d(real_z, fake_egz)
        loss = loss_x + loss_z
        return loss, {"loss_d": loss, "loss_dx": loss_x, "loss_dz": loss_z,
                      "d_real": torch.sigmoid(real_x).mean(), "d_fake": torch.sigmoid(fake_gz).mean()}

    def ge_loss(self, x):
        G, E, Dz = (self.nets[k] for k in ("G", "E", "Dz"))
        o = self.opts
        z = self.sample_z(x.shape[0], x.device)
        gz, ex = G(z), E(x)
        gex, egz = G(ex), E(gz)
        out_gz = self.disc(gz)
        adv_x = self.adv.g(out_gz) + self.adv.g(self.disc(gex))
        adv_z = self.adv.g(Dz(ex)) + self.adv.g(Dz(egz))
        rec_x = F.l1_loss(gex, x)
        rec_z = F.mse_loss(egz, z)
        loss = o.w_rec_x * rec_x + o.w_rec_z * rec_z + o.w_adv_x * adv_x + o.w_adv_z * adv_z
        return loss, {"loss_g": loss, "rec_x": rec_x, "rec_z": rec_z, "adv_x": adv_x, "adv_z": adv_z,
                      "d_fake_g": torch.sigmoid(out_gz).mean()}

    def phases(self):
        return [Phase("D", "D", self.d_loss, counts_kimg=True),
                Phase("G", "GE", self.ge_loss)]
