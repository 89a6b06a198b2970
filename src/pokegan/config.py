"""Typed configuration: how to train (`TrainConfig`) and how to finish sprites (`SpriteOptions`). Every
field has a default and the reason for it.

A preset (`pokegan.presets.PRESETS`) is a named `TrainConfig`; command-line options override single
fields; `validate()` checks every field before any data is loaded or any run folder made; the resolved
configuration is saved in the run folder and in every checkpoint, and rebuilds the model from it alone
(this module imports neither torch nor the training stack).
"""
from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, field

from pokegan.core.errors import PokeganError
from pokegan.core.type_names import check_type_set, parse_types


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

    # Data as the model sees it
    types: tuple[str, ...] = ()      # train on the sprites of these types only (report 002's per-class runs)
    # "types": the model is conditioned on each sprite's one or two types; "" = unconditional
    conditional: str = ""
    # Transitional training (Shahbazi et al. 2022): the conditional parts' weight is 0 until this kimg (the
    # model first learns sprites from all the data, the few dozen per type alone collapse)...
    cond_start_kimg: float = 50.0
    cond_end_kimg: float = 200.0     # ... and reaches 1 here, linearly: fully conditional for the hour's last 2/3
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
    ada_kimg: float = 100.0          # ADA speed: p can go from 0 to 1 in this many kimg
    ada_interval: int = 4            # D steps between adjustments

    # Generator EMA: 0 = off (the reports' presets stay faithful); else half-life in kimg
    ema_kimg: float = 0.0
    ema_rampup: float = 0.05         # early on, half-life at most this fraction of the kimg so far (StyleGAN2-ADA)
    ema_bn_images: int = 512         # EMA G's batch-norm stats recomputed from this many latents before it is
                                     # saved or sampled (its own weights, not G's); 0 = copy G's

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
    amp: bool = False                # bf16 autocast on CUDA; off: small 64px models ran slower with it on an H100
    amp_cpu: bool = False            # bf16 autocast on CPUs with native bf16, where a timing of the run's own
                                     # iterations finds it 1.1x faster (1.3-1.5x on AMD EPYCs; fp32 elsewhere)
    channels_last: bool = True       # NHWC weights on CPU/CUDA: oneDNN's fast convolutions (fastgan 1.24x here)
    deterministic: bool = False      # deterministic kernels: bit-exact resume on CPU, slower on GPU

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d, where: str = "checkpoint configuration") -> "TrainConfig":
        """A config from its saved dict; settings since removed load where they are at their no-op value."""
        if not isinstance(d, dict):
            raise PokeganError(f"{where}: expected a JSON object of training settings, not {type(d).__name__}")
        d = drop_retired(d, RETIRED_SETTINGS, where)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise PokeganError(f"{where}: unknown training settings: {', '.join(sorted(unknown))}")
        if isinstance(d.get("types"), list):
            d["types"] = tuple(d["types"])
        for k in ("betas_g", "betas_d"):
            if k in d:
                if not isinstance(d[k], (list, tuple)):
                    raise PokeganError(f"{where}: {k} must be two numbers, not {d[k]!r}")
                d[k] = tuple(d[k])
        try:
            return cls(**d).validate()
        except PokeganError as e:
            raise PokeganError(f"{where}: {e}") from None

    def validate(self) -> "TrainConfig":
        """Every setting in its range, or one error naming it; called before any data loads."""
        def need(ok: bool, name: str, rule: str) -> None:
            if not ok:
                raise PokeganError(f"{name}={getattr(self, name)!r}: {rule}")

        for f in dataclasses.fields(self):  # types first: a JSON config or --set may carry anything
            v, t = getattr(self, f.name), str(f.type)
            if t == "int" and (not isinstance(v, int) or isinstance(v, bool)):
                need(False, f.name, "must be a whole number")
            if t == "float" and (not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v)):
                need(False, f.name, "must be a finite number")
            if t == "bool" and not isinstance(v, bool):
                need(False, f.name, "must be true or false")
            if t == "str" and not isinstance(v, str):
                need(False, f.name, "must be text")
        need(isinstance(self.options, dict), "options", "must be a set of KEY=VALUE family options")
        need(1 <= self.batch <= 65536, "batch", "images per step: 1 to 65536")
        for k in ("lr_g", "lr_d"):
            need(0 < getattr(self, k) <= 1, k, "a learning rate above 0 and at most 1")
        for k in ("betas_g", "betas_d"):
            b = getattr(self, k)
            need(len(b) == 2 and all(isinstance(x, (int, float)) and 0 <= x < 1 for x in b), k,
                 "two Adam betas in [0, 1)")
        need(1 <= self.z_dim <= 4096, "z_dim", "a latent size from 1 to 4096")
        need(self.background in BACKGROUNDS, "background", f"one of {', '.join(BACKGROUNDS)}")
        for k in ("aug_prob", "diffaug_p"):
            need(0 <= getattr(self, k) <= 1, k, "a probability from 0 to 1")
        need(0 <= self.aug_rotate_deg <= 180, "aug_rotate_deg", "degrees from 0 to 180")
        for k in ("aug_shift", "aug_zoom"):
            need(0 <= getattr(self, k) < 1, k, "a fraction of the side from 0 to below 1")
        need(0 <= self.ada_target < 1, "ada_target", "0 (off) or ADA's target E[sign D(x)] below 1 (0.6 is ADA's)")
        need(self.ada_kimg > 0, "ada_kimg", "kimg for ADA's probability to go from 0 to 1: above 0")
        need(self.ada_interval >= 1, "ada_interval", "D steps between ADA's adjustments: 1 or more")
        for k in ("ema_kimg", "ema_rampup", "kimg", "epochs", "minutes", "sample_every_kimg", "save_every_kimg",
                  "snapshot_every_kimg", "eval_every_kimg"):
            need(getattr(self, k) >= 0, k, "must be 0 or more")
        for k in ("ema_bn_images", "keep_snapshots", "eval_num", "max_rollbacks"):
            need(getattr(self, k) >= 0, k, "must be 0 or more")
        need(self.conditional in ("", "types"), "conditional", "'types' (condition on each sprite's types) or ''")
        need(0 <= self.cond_start_kimg <= self.cond_end_kimg, "cond_start_kimg",
             f"0 or more, and at most cond_end_kimg ({self.cond_end_kimg})")
        need(isinstance(self.types, tuple) and all(isinstance(t, str) for t in self.types), "types",
             "type names, e.g. fire,water")
        if self.types:
            self.types = parse_types(self.types, "type in types")
        need(self.tick_kimg > 0, "tick_kimg", "kimg per stats row: above 0")
        need(1 <= self.grid_size <= 1024, "grid_size", "sample-grid images: 1 to 1024")
        need(0 <= self.seed < 2 ** 63, "seed", "a seed from 0 to 2**63 - 1")
        return self


BACKGROUNDS = ("dataset", "white", "black", "random", "transparent")

# Settings removed because they lost their measurement (their figures are in the benchmark results), each
# with the value at which it did nothing and what a run uses instead. A saved config that carries one at
# that value loads as before; any other value is refused with the message.
RETIRED_SETTINGS = {
    "lr_decay": (0.0, "learning rates stay constant (a decay over the budget's end cost FID)"),
    "average_tail": (0.0, "a run gives its EMA generator (averaging the budget's end gained nothing reliable)"),
    "ada_ops": ("", "--ada-target steers every --diffaug op, as ADA does"),
}


def drop_retired(d: dict, retired: dict, where: str) -> dict:
    """`d` without the retired keys at their no-op values; an error for a retired key set to anything else."""
    out = dict(d)
    for k, (noop, instead) in retired.items():
        if k in out:
            v = out.pop(k)
            if v != noop:
                raise PokeganError(f"{where}: {k}={v!r} was removed from pokegan; {instead}. Train again without it "
                                   "(an older pokegan can still load this run).")
    return out


def _sprite_post_init(self):
    """Every option checked against its registry entry (pokegan.steps); the types parsed and checked."""
    from pokegan.steps import OPTIONS

    for opt in OPTIONS:
        why = opt.check(getattr(self, opt.name))
        if why:
            raise PokeganError(f"{opt.name} {getattr(self, opt.name)!r}: {why}")
    object.__setattr__(self, "types", check_type_set(parse_types(self.types)))


def _sprite_of(cls, options=None, **settings):
    """`options` with `settings` replaced (names checked), e.g. `SpriteOptions.of(palette=16)`."""
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in settings if k not in valid]
    if unknown:
        raise PokeganError(f"unknown sprite option {unknown[0]!r}; valid: {', '.join(valid)}")
    return dataclasses.replace(options or cls(), **settings)


def _sprite_options():
    from pokegan.steps import OPTIONS

    fields = [(o.name, o.kind, field(default=o.field_default)) for o in OPTIONS]
    fields.append(("types", tuple, field(default=())))   # type conditioning (conditional models only)
    return dataclasses.make_dataclass(
        "SpriteOptions", fields, frozen=True,
        namespace={"__post_init__": _sprite_post_init, "of": classmethod(_sprite_of),
                   "__doc__": "How the network's output becomes finished sprites: one field per option of the "
                              "registry in pokegan.steps (its default is `pokegan generate`'s), then the types."})


SpriteOptions = _sprite_options()
SpriteOptions.__module__ = __name__


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
            out = float(value)
            if not math.isfinite(out):
                raise ValueError(value)
            return out
        if origin is tuple or typ in ("tuple[float, float]",):
            return tuple(float(v) for v in value.split(","))
        return value
    except ValueError:
        raise PokeganError(f"{name}={value!r}: expected {'a finite ' if typ in (float, 'float') else ''}"
                       f"{getattr(typ, '__name__', typ)}") from None


def check_option_types(options: dict, options_cls, where: str) -> dict:
    """Options read from a file (a run's config) checked against their fields' types, so a value of the
    wrong kind is named instead of failing deep inside a comparison."""
    kinds = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}
    for f in dataclasses.fields(options_cls):
        if f.name not in options:
            continue
        v, want = options[f.name], kinds.get(str(f.type))
        if want is None:
            continue
        ok = isinstance(v, want) and (str(f.type) == "bool" or not isinstance(v, bool))
        if ok and isinstance(v, float) and not math.isfinite(v):
            ok = False
        if not ok:
            raise PokeganError(f"{where}: {f.name}={json.dumps(v)[:40]} should be a{' finite' if f.type == 'float' else ''} "
                               f"{f.type}")
    return options


def apply_options(options_cls, base: dict, overrides: dict[str, str]) -> dict:
    """Merge `key=value` strings into a family options dict, checking names and types."""
    valid = {f.name: f for f in dataclasses.fields(options_cls)}
    out = dict(base)
    for k, v in overrides.items():
        if k in getattr(options_cls, "RETIRED", {}):
            raise PokeganError(f"--set {k}: removed from pokegan; {options_cls.RETIRED[k][1]}")
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
