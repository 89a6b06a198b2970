"""Typed training configuration. Every field has a default and the reason for it.

A preset (`pokegan.models.registry.PRESETS`) is a named `TrainConfig`; command-line options override
single fields; the resolved configuration is saved in the run folder and in every checkpoint.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field

from pokegan.errors import PokeganError


@dataclass
class TrainConfig:
    family: str = "dcgan"            # a registered model family (see `pokegan train --list-presets`)
    preset: str = "dcgan"            # the preset this config started from (for the record)
    # Family-specific options (the family's own dataclass, as a dict so configs stay plain JSON).
    options: dict = field(default_factory=dict)

    # Optimisation
    batch: int = 128                 # images per step; the DCGAN tutorial's 128
    lr_g: float = 2e-4               # Adam 2e-4 is the DCGAN paper's rate
    lr_d: float = 2e-4
    betas_g: tuple[float, float] = (0.5, 0.999)  # beta1 0.5 damps the oscillation GANs suffer with 0.9
    betas_d: tuple[float, float] = (0.5, 0.999)
    z_dim: int = 100                 # latent size; DCGAN's 100
    # > 0: over this last fraction of the run's budget (--minutes, --kimg or --epochs, whichever ends it
    # first) both learning rates fall linearly to 0, as budgeted training does (Li et al. 2020) and
    # pix2pix/CycleGAN's second half; 0 = constant rates (DCGAN's, FastGAN's). Updated once per tick.
    # Off by default: 0.25 cost fastgan's CPU hour (FID 71.7 at 154 kimg; ~65 with constant rates).
    lr_decay: float = 0.0

    # Data as the model sees it
    background: str = "dataset"      # white | black | random | transparent (RGBA output) | dataset's own
    augment: str = ""                # classic real-image augmentation, comma list: flip,rotate,shift,zoom
    aug_prob: float = 0.5            # chance each listed augmentation is applied to an image
    aug_rotate_deg: float = 10.0     # small rotations, as report 002 used
    aug_shift: float = 0.1           # fraction of the side
    aug_zoom: float = 0.1            # +-10% zoom

    # Augmentation of everything D sees (real and fake): DiffAugment ops, fixed or adaptive (ADA)
    diffaug: str = ""                # comma list of color,translation,cutout,flip,geometric; "" = off
    diffaug_p: float = 1.0           # probability of each op when not adaptive (DiffAugment: always)
    ada_target: float = 0.0          # > 0: adapt the probability so E[sign(D(real))] stays here (ADA: 0.6)
    ada_ops: str = ""                # with ada_target: only these ops adaptive, on top of `diffaug` at diffaug_p
                                     # (e.g. "geometric": warps only once D is sure of the reals); "" = ADA
                                     # steers every `diffaug` op, as ADA itself
    ada_kimg: float = 100.0          # ADA speed: p can go from 0 to 1 in this many kimg
    ada_interval: int = 4            # D steps between adjustments

    # Generator EMA: 0 = off (the reports' presets stay faithful); else half-life in kimg
    ema_kimg: float = 0.0
    ema_rampup: float = 0.05         # early on, half-life at most this fraction of the kimg so far (StyleGAN2-ADA)
    ema_bn_images: int = 512         # EMA G's batch-norm stats recomputed from this many latents before it is
                                     # saved or sampled (its own weights, not G's); 0 = copy G's
    # > 0: over this last fraction of the run's budget (as lr_decay: --minutes, --kimg or --epochs, whichever
    # ends it first) the EMA generator is also averaged uniformly, once per tick, and that average is the
    # generator the run's checkpoints give to `generate`, `eval` and `export` (Yazici et al. 2019, "The
    # Unusual Effectiveness of Averaging in GAN Training"). Where a run is no longer improving, the EMA's
    # few-kimg window still follows the generator's wandering; a window of the last ~100 kimg does not.
    # 0 = off; needs an EMA and a budget.
    average_tail: float = 0.0

    # Length: the first limit reached stops the run (0 = no limit from that one)
    kimg: float = 0.0                # thousands of real images shown to the discriminator
    epochs: float = 0.0              # passes over the dataset (converted to kimg)
    minutes: float = 0.0             # wall-clock budget for this invocation

    # Upkeep
    tick_kimg: float = 1.0           # stats are averaged and written once per tick
    sample_every_kimg: float = 5.0   # sample grid from the fixed latents
    save_every_kimg: float = 10.0    # the `latest` checkpoint
    snapshot_every_kimg: float = 50.0  # kept snapshots (0 = none)
    keep_snapshots: int = 5          # retention limit for snapshots (0 = keep every one)
    grid_size: int = 64              # images on a sample grid (fixed latents)

    # Evaluation during training (FID/KID on generated sprites; measurement only, never a loss)
    eval_every_kimg: float = 0.0     # 0 = off; on a 2-core CPU one evaluation of 1,463 images takes minutes
    eval_num: int = 0                # generated images per evaluation; 0 = as many as the dataset has

    # Health monitor
    max_rollbacks: int = 3           # NaN/Inf: roll back to the last good checkpoint at most this often

    # Machine
    seed: int = 0                    # everything random derives from it
    device: str = "auto"             # auto = cuda, then mps, then cpu
    amp: bool = False                # bf16 autocast on CUDA. Off: fastgan at 64px is
                                     # launch-bound on an H100 and bf16's casts made it slower (229 vs 266 img/s at
                                     # batch 16, 3111 vs 4109 at 256)
    amp_cpu: bool = False            # bf16 autocast on CPUs with native bf16 where a timing of the run's own
                                     # iterations finds it 1.1x faster (the fastgan preset's): 1.3-1.5x img/s on
                                     # AMD EPYCs, 0.79x on an Intel Xeon without AMX (fp32 there); its gradients
                                     # match fp32's (cosine 0.99+), so each image teaches as much
    channels_last: bool = True       # NHWC weights on CPU/CUDA: oneDNN's fast convolutions (fastgan 1.24x here)
    deterministic: bool = False      # deterministic kernels: bit-exact resume on CPU, slower on GPU

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise PokeganError(f"unknown training settings: {', '.join(sorted(unknown))}")
        d = dict(d)
        for k in ("betas_g", "betas_d"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


def coerce(value: str, typ, name: str):
    """Turn a command-line string into a field's type (no eval)."""
    origin = typing.get_origin(typ)
    try:
        if typ is bool or typ == "bool":
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if typ in (int, "int"):
            return int(value)
        if typ in (float, "float"):
            return float(value)
        if origin is tuple or typ in ("tuple[float, float]",):
            return tuple(float(v) for v in value.split(","))
        return value
    except ValueError:
        raise PokeganError(f"{name}={value!r}: expected {getattr(typ, '__name__', typ)}") from None


def apply_options(options_cls, base: dict, overrides: dict[str, str]) -> dict:
    """Merge `key=value` strings into a family options dict, checking names and types."""
    valid = {f.name: f for f in dataclasses.fields(options_cls)}
    out = dict(base)
    for k, v in overrides.items():
        if k not in valid:
            import difflib

            close = difflib.get_close_matches(k, valid, n=3)
            raise PokeganError(f"unknown option {k!r} for this family; valid: {', '.join(valid)}"
                               + (f" (did you mean {' or '.join(close)}?)" if close else ""))
        out[k] = coerce(v, valid[k].type, k)
    try:
        options_cls(**out)  # validates the combination
    except (TypeError, ValueError) as e:
        raise PokeganError(f"bad option value ({', '.join(f'{k}={v}' for k, v in overrides.items())}): {e}") from None
    return out
