"""The interface every model family implements, and the registry that names them.

A family declares its networks, its optimisers and its update phases (a loss, which optimiser steps,
how many times, from which step, what runs after the step). The one training loop
(`pokegan.training.loop`) runs the phases; it never asks which family it is running. Families register
themselves here by name; `pokegan.models.registry.get_family` finds them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from pokegan.config import check_option_types, drop_retired
from pokegan.core.errors import PokeganError
from pokegan.losses import get_loss


def settle_vector_math() -> None:
    """Call tanh, exp and log once, small enough to run on this thread alone, before any network runs.

    The first *parallel* torch.tanh of a process was seen, now and then, to compute the worker thread's
    half of a tensor with a coarser tanh (errors up to 9e-5, not 3e-8; every later call exact), moving
    generated pixels by one uint8 level: 2 of 100 processes sampling the shipped model under load, 0 of 100
    with this call first. A rare race in the math library's first-use set-up, most likely."""
    x = torch.ones(64)
    for fn in (torch.tanh, torch.exp, torch.log):
        fn(x)


settle_vector_math()

LossFn = Callable[[torch.Tensor | None], tuple[torch.Tensor, dict[str, torch.Tensor]]]


@dataclass
class Phase:
    """One update: `loss(real)` -> (loss, stats); then `optimizer` steps."""

    name: str                       # "D", "G", ...
    optimizer: str                  # key into Family.optimizers
    loss: LossFn
    steps: int = 1                  # repeats per training iteration (WGAN's 5 critic steps)
    uses_real: bool = True          # draw a real batch for it
    counts_kimg: bool = False       # real images it shows the discriminator count towards kimg
    start_step: int = 0             # first iteration it runs at (a generator head start delays D)
    after_step: Callable[[], None] | None = None  # e.g. WGAN weight clipping
    # Optimisers whose parameters need weight gradients while this phase runs (default: its own).
    # DCGAN's D step also keeps G's graph, because the tutorial's G step reuses the same fakes.
    grads: tuple[str, ...] = ()


class Family:
    """Base class: subclasses set `name`, `Options`, `loss`, and implement `build`, `optimizers`, `phases`."""

    name: str = ""
    Options: type = object
    loss: str = "ns"                # the adversarial loss, by name (pokegan.losses)
    d_output: str = "prob"          # "prob": D gives logits of real; "score": an unbounded critic
    conditions: bool = False        # can be type-conditioned (--conditional types; models/conditioning.py)
    paper: str = ""                  # the recipe it follows, for the README and --list-presets

    def __init__(self, cfg, resolution: int, channels: int):
        self.cfg = cfg
        self.resolution = resolution
        self.channels = channels
        self.opts = self.check_options(cfg.options)
        if self.conditional and not self.conditions:
            raise PokeganError(f"{self.name} cannot be type-conditioned; --conditional types works with: "
                               + ", ".join(n for n, f in FAMILIES.items() if f.conditions))
        self.real_types: torch.Tensor | None = None  # the real batch's types (N, 18), set by the loop
        self._cond_parts: list[nn.Module] | None = None  # found once, then only their lambda is set
        self.adv = get_loss(self.loss)
        self.nets: dict[str, nn.Module] = {}
        # Set by the loop: differentiable/adaptive augmentation before D (identity unless asked for).
        from pokegan.augment import Augmenter

        self.augment = Augmenter()

    @classmethod
    def check_options(cls, options) -> object:
        """The family's options object from a config's dict; options since removed load at their no-op value."""
        where = f"options of family {cls.name}"
        if not isinstance(options, dict):
            raise PokeganError(f"{where}: expected KEY=VALUE settings, not {options!r}")
        try:
            kept = drop_retired(options, getattr(cls.Options, "RETIRED", {}), where)
            return cls.Options(**check_option_types(kept, cls.Options, where))
        except (TypeError, ValueError) as e:
            raise PokeganError(f"bad {where}: {e}") from None

    @classmethod
    def check_training(cls, opts) -> None:
        """Option combinations that load but are known not to train, refused when a run starts (naming the fix);
        a saved model with them still loads."""

    @classmethod
    def data_defaults(cls, info: dict) -> dict:
        """Options this family takes on a dataset like this one (its `info`) where the user gave none."""
        return {}

    # -- what a family provides ----------------------------------------------------------------------
    def build(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def generator_spec(self) -> dict:
        """The generator's class and constructor arguments (plain JSON): what a generator file keeps so that
        `load_generator` rebuilds it alone (models/networks.py), without the family or a discriminator."""
        raise NotImplementedError

    def encoder_spec(self) -> dict | None:
        """An encoder a generator file keeps beside the generator (AEGAN's), or None."""
        return None

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    @property
    def z_dim(self) -> int:
        return self.cfg.z_dim

    @property
    def conditional(self) -> bool:
        return self.cfg.conditional == "types"

    def sample_z(self, n: int, device, generator: torch.Generator | None = None) -> torch.Tensor:
        """Latents: noise, then for a conditional model type sets drawn as often as the data has them."""
        z = torch.randn(n, self.z_dim, device=device, generator=generator)
        if self.conditional:
            z = torch.cat([z, self.nets["G"].cond.draw(n, generator).to(z.device)], 1)
        return z

    def types_of(self, z: torch.Tensor) -> torch.Tensor | None:
        """The type part of latents (None for an unconditional model)."""
        return z[:, self.z_dim:] if self.conditional else None

    def set_progress(self, kimg: float) -> None:
        """Called by the loop before every iteration: the conditional parts' ramp, then `schedule`."""
        if self.conditional:
            from pokegan.models.conditioning import condition_parts, ramp

            if self._cond_parts is None:
                self._cond_parts = condition_parts(self.nets.values())
            w = ramp(kimg, self.cfg.cond_start_kimg, self.cfg.cond_end_kimg)
            with torch.no_grad():
                for m in self._cond_parts:
                    m.weight.fill_(w)
        self.schedule(kimg)

    def schedule(self, kimg: float) -> None:
        """Called before every iteration with the progress so far (ProGAN grows here)."""

    def disc(self, x: torch.Tensor, real: bool = False, c: torch.Tensor | None = None) -> torch.Tensor:
        """D's raw output on augmented images (judged against types `c` where conditional); outputs on reals
        feed ADA's overfitting signal."""
        out = self.nets["D"](self.seen(x), c=c) if c is not None else self.nets["D"](self.seen(x))
        if real:
            self.augment.observe(out)
        return out

    def seen(self, x: torch.Tensor) -> torch.Tensor:
        """What D is shown of a training batch: augmented (DiffAugment/ADA); a family may add to it."""
        return self.augment(x)

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """D's raw output on images as they are (no augmentation), for the monitor."""
        return self.nets["D"](x).flatten()

    def state(self) -> dict:
        """What the family keeps between steps besides weights and optimisers (JSON-safe), for checkpoints."""
        return {}

    def load_state(self, state: dict) -> None:
        pass

    def to_display(self, d_out: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(d_out) if self.d_output == "prob" else d_out

    # -- shared helpers --------------------------------------------------------------------------------
    def adam(self, params, lr, betas):
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas))


FAMILIES: dict[str, type[Family]] = {}


def register_family(name: str):
    def deco(cls: type[Family]) -> type[Family]:
        cls.name = name
        FAMILIES[name] = cls
        return cls

    return deco


def start_side(family: str, resolution: int, lo: int = 32, hi: int = 256) -> int:
    """The side (3 or 4) a network that doubles up to `resolution` starts from: sizes 4 x 2^k (32, 64, 128,
    256) and 3 x 2^k (48, 96, 192, the Black/White sprites' native 96 among them), or an error listing them."""
    s = resolution
    while s > 4 and s % 2 == 0:
        s //= 2
    if s not in (3, 4) or not lo <= resolution <= hi:
        sizes = sorted(b << k for b in (3, 4) for k in range(2, 9) if lo <= b << k <= hi)
        raise PokeganError(f"{family} builds its networks by doubling from 3x3 or 4x4, so it trains at "
                           f"{', '.join(map(str, sizes))} pixels; {resolution}x{resolution} is not one of them. "
                           f"Prepare data with one of those --size values.")
    return s


def check_power_of_two(family: str, resolution: int, lo: int = 16, hi: int = 256) -> int:
    """log2 of the resolution, or an error saying which sizes the family can train at."""
    if resolution < lo or resolution > hi or resolution & (resolution - 1):
        raise PokeganError(f"{family} builds its networks by doubling from 4x4, so it needs a power-of-two "
                           f"image size between {lo} and {hi}, not {resolution}x{resolution}. "
                           f"Prepare data with --size 32, 64, 128 or 256.")
    return resolution.bit_length() - 1


def minibatch_stddev(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """Append the average standard deviation over groups of images as one more feature map (ProGAN,
    Karras et al. 2018): D sees how varied a batch is, so a generator that collapses to few modes is caught."""
    b, c, h, w = x.shape
    g = min(group, b)
    if b % g:
        g = 1
    y = x.view(g, -1, c, h, w)
    y = (y - y.mean(0)).pow(2).mean(0).add(1e-8).sqrt().mean(dim=(1, 2, 3))  # (B/g,)
    y = y.view(-1, 1, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)
