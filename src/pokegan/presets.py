"""Named training presets: each a `TrainConfig` following a published recipe and the report that used it.

Presets that reproduce a report stay faithful to it: no EMA, no augmentation, nothing added. A preset
adapts to the dataset's size (the networks add or remove doubling layers); `kimg` is its default length.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from pokegan.core.errors import PokeganError
from pokegan.config import TrainConfig


@dataclass(frozen=True)
class Preset:
    name: str
    config: TrainConfig
    source: str


def _p(name: str, source: str, **kw) -> Preset:
    return Preset(name, TrainConfig(preset=name, **kw), source)


_DCGAN = dict(family="dcgan", batch=128, lr_g=2e-4, lr_d=2e-4, betas_g=(0.5, 0.999), betas_d=(0.5, 0.999),
              z_dim=100, kimg=190.0)

PRESETS: dict[str, Preset] = {p.name: p for p in [
    _p("dcgan", "PyTorch DCGAN tutorial (Radford et al. 2016), as report 001 trained it: z 100, width 64, "
                "BCE, Adam 2e-4 (0.5, 0.999), batch 128; 190 kimg ~ its 130 epochs", **_DCGAN),
    _p("dcgan-deep", "report 000: the tutorial's DCGAN with the generator's layers doubled",
       **{**_DCGAN, "options": {"deep_g": True}}),
    _p("dcgan-headstart", "report 000's first fix: the generator trains alone for 100 iterations first",
       **{**_DCGAN, "options": {"head_start": 100}}),
    _p("dcgan-128", "report 002: DCGAN for 128x128 with a dense first layer and 5x5 kernels, batch 64",
       **{**_DCGAN, "batch": 64, "options": {"dense_first": True, "kernel": 5}}),
    _p("wgan", "Arjovsky et al. 2017 (report 002): weight clipping 0.01, 5 critic steps, RMSprop 5e-5, "
               "batch 64", family="wgan", batch=64, lr_g=5e-5, lr_d=5e-5, z_dim=100, kimg=190.0),
    _p("wgan-gp", "Gulrajani et al. 2017 (report 004): gradient penalty 10, 5 critic steps, Adam 1e-4 "
                  "(0, 0.9), no batch norm in the critic, batch 64", family="wgan-gp", batch=64, lr_g=1e-4,
       lr_d=1e-4, betas_g=(0.0, 0.9), betas_d=(0.0, 0.9), z_dim=100, kimg=190.0),
    _p("aegan", "Lazarou 2020 (report 003): generator, encoder, image and latent discriminators, latent 16, "
                "Adam 2e-4 (0.5, 0.999), batch 64", family="aegan", batch=64, z_dim=16, kimg=190.0),
    _p("fastgan", "pokegan's default for small data on a CPU: FastGAN (Liu et al. 2021) generator with "
                  "skip-layer excitation, spectral-norm D with a self-supervised decoder, hinge loss, "
                  "DiffAugment colour/translation/cutout (Zhao et al. 2020), half the reals mirrored, LeCam "
                  "regularisation 0.3 (Tseng et al. 2021), EMA; Adam 3e-4 (0, 0.99), batch 16; FID 37.2 after "
                  "a 2-core CPU hour on gen5-64",
       family="fastgan", batch=16, lr_g=3e-4, lr_d=3e-4, betas_g=(0.0, 0.99), betas_d=(0.0, 0.99), z_dim=128,
       ema_kimg=10.0,   # capped at 5% of the kimg so far: ~8 at the hour, the best of 1-32 there
       diffaug="color,translation,cutout", kimg=500.0,
       augment="flip",  # exact left-right mirrors of half the reals (sprites face either way in games)
       # reuse_fakes: the G step scores the D step's fakes (one generator pass fewer, 1.2x the images);
       # amp_cpu: bf16 where this CPU runs it natively and faster
       options={"reuse_fakes": True, "g_base": 16, "lecam_weight": 0.3}, amp_cpu=True),
    _p("fastgan-ada", "fastgan with adaptive augmentation (ADA, Karras et al. 2020) steering the probability of "
                      "flip/colour/translation/cutout towards E[sign D(x)] = 0.6; its own batch 32 and Adam "
                      "(0.5, 0.999), not the default's 16 and (0, 0.99)", family="fastgan", batch=32,
       lr_g=2e-4, lr_d=2e-4, z_dim=128, ema_kimg=10.0, diffaug="flip,color,translation,cutout", ada_target=0.6,
       ada_kimg=50.0, kimg=500.0),
    _p("progan", "Karras et al. 2018 (report 004): progressive growing from 4x4, equalised lr, pixel norm, "
                 "minibatch stddev, WGAN-GP + drift 0.001, Adam 1e-3 (0, 0.99), batch 64", family="progan",
       batch=64, lr_g=1e-3, lr_d=1e-3, betas_g=(0.0, 0.99), betas_d=(0.0, 0.99), z_dim=512, kimg=200.0),
]}

DEFAULT_PRESET = "fastgan"


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        import difflib

        close = difflib.get_close_matches(name, PRESETS, n=3)
        raise PokeganError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}"
                           + (f" (did you mean {' or '.join(close)}?)" if close else ""))
    return PRESETS[name]


def preset_config(name: str, **overrides) -> TrainConfig:
    return replace(get_preset(name).config, **overrides)
