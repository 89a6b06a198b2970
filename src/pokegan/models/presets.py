"""Named training presets: each a `TrainConfig` following a published recipe and the report that used it.

Presets that reproduce a report stay faithful to it: no EMA, no augmentation, nothing added. A preset
adapts to the dataset's size (the networks add or remove doubling layers); `kimg` is its default length.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from pokegan.errors import PokeganError
from pokegan.training.config import TrainConfig


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
    _p("fastgan", "pokegan's default for small data on small compute: FastGAN (Liu et al. 2021) generator with "
                  "skip-layer excitation, spectral-norm discriminator with a self-supervised decoder, hinge "
                  "loss, DiffAugment colour/translation/cutout (Zhao et al. 2020), EMA; Adam (0, 0.99) as "
                  "StyleGAN2-ADA (FID 64.2 and 69.6 at 110 kimg, two seeds, against FastGAN's (0.5, 0.999) 70.4 "
                  "and 70.7; 53.6 against 57.2 at 330 kimg) at 3e-4 (the hour 62.0 on three seeds against 64.0 "
                  "at 2e-4; 47.8 against 50.3 at 552 kimg), "
                  "batch 16 (twice the steps per image of 32: FID 60.0 against 71.6 after a CPU hour); "
                  "the G step scores the D step's fakes and CPUs with native bf16 train under bf16 autocast where timed faster "
                  "(1.5x the images of a CPU hour for the same learning per image: FID 43.6 and KID 0.0143 "
                  "after 541 kimg against 45.5 and 0.0155 after 355); a half-width generator with LeCam "
                  "regularisation of D (Tseng et al. 2021) at 0.3: 1.5-1.6x the images of a CPU hour and about level or "
                  "better per image, D held back where it pulled ahead of the narrow generator (FID 47.4 and 49.0 on two "
                  "seeds after a 2-core Xeon's hour against the full width's 56.1 and the half width's 54.0); "
                  "the reals mirrored half the time, as FastGAN's own training and StyleGAN2-ADA's --mirror: twice "
                  "the sprites for D to learn, so it pulls ahead later (FID 40.9 and 41.0, KID 0.0146 and 0.0129, on "
                  "two seeds after a CPU hour of 693-777 kimg, against 42.7 and 0.0159 after 601 without; behind "
                  "per image at 420 kimg, 44.4 against 42.1; mirrored sprites cost the real data 0.4 FID); "
                  "the generator at full width again (g_base 16): with mirrors and LeCam the half width stayed "
                  "flat from about 600 kimg, the full width ends a CPU hour at FID 37.2 and KID 0.0112 after "
                  "595 kimg (one seed, 2-core AMD EPYC)",
       family="fastgan", batch=16, lr_g=3e-4, lr_d=3e-4, betas_g=(0.0, 0.99), betas_d=(0.0, 0.99), z_dim=128,
       ema_kimg=10.0,  # capped at 5% of the kimg so far: ~8 at the hour, the best of 1-32 there (RESULTS.md)
       diffaug="color,translation,cutout", kimg=500.0,
       augment="flip",  # exact left-right mirrors of half the reals (sprites face either way in games)
       # Both only buy images: one generator pass fewer per step (the DCGAN tutorial's way) and oneDNN's native
       # bf16 convolutions where a timing at the start finds them 1.1x faster (fp32 elsewhere: CUDA has its own
       # `amp`, CPUs without AVX512-BF16/AMX would emulate, and one Xeon with AVX512-BF16 ran it at 0.79x)
       # the full-width generator again (g_base 16): with mirrors and LeCam the hour on a 2-core AMD EPYC ends at
       # FID 37.2 / KID 0.0112 after 595 kimg against the half width's 40.9-41.6 after 693-790 (session 32)
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
