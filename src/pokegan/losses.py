"""GAN losses as small named objects, chosen by name (`get_loss("hinge")`).

Adversarial losses map discriminator outputs to D's and G's losses:
- `ns`: the non-saturating loss (Goodfellow et al. 2014), the DCGAN tutorial's `nn.BCELoss` on sigmoid
  outputs, computed from logits (`binary_cross_entropy_with_logits`: the same value, numerically safer).
- `hinge`: Lim & Ye 2017, as FastGAN and BigGAN use it.
- `wasserstein`: Arjovsky et al. 2017 (a critic, no sigmoid).
Regularisers of D:
- `GradientPenalty`: Gulrajani et al. 2017 (WGAN-GP); ProGAN adds a small drift term (Karras et al. 2018).
- `LeCam`: Tseng et al. 2021, "Regularizing Generative Adversarial Networks under Limited Data" (with
  hinge loss and DiffAugment, as in their BigGAN recipe).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from pokegan.core.errors import PokeganError


class AdversarialLoss:
    """`d(real_out, fake_out)`: D's loss; `g(fake_out)`: G's loss. Subclasses are registered by name."""

    name = ""

    def d(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g(self, fake_out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


LOSSES: dict[str, type[AdversarialLoss]] = {}


def register_loss(name: str):
    def deco(cls):
        cls.name = name
        LOSSES[name] = cls
        return cls

    return deco


def get_loss(name: str) -> AdversarialLoss:
    if name not in LOSSES:
        raise PokeganError(f"unknown loss {name!r}; valid: {', '.join(sorted(LOSSES))}")
    return LOSSES[name]()


@register_loss("ns")
class NonSaturating(AdversarialLoss):
    """D labels reals 1 and fakes 0; G makes D label its fakes 1 (not: keeps D from labelling them 0)."""

    def d(self, real_out, fake_out):
        return (F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out))
                + F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out)))

    def g(self, fake_out):
        return F.binary_cross_entropy_with_logits(fake_out, torch.ones_like(fake_out))


@register_loss("hinge")
class Hinge(AdversarialLoss):
    """D pushes reals above +1 and fakes below -1 and stops there; G raises D's score of its fakes."""

    def d(self, real_out, fake_out):
        return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()

    def g(self, fake_out):
        return -fake_out.mean()


@register_loss("wasserstein")
class Wasserstein(AdversarialLoss):
    """The critic maximises E[D(x)] - E[D(G(z))]; as a loss to minimise, its negative."""

    def d(self, real_out, fake_out):
        return fake_out.mean() - real_out.mean()

    def g(self, fake_out):
        return -fake_out.mean()


class GradientPenalty:
    """E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates x_hat between real and fake images."""

    def __call__(self, critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        scores = critic(x_hat)
        (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
        return ((grad.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()


class LeCam:
    """E[relu(D(x) - a_fake)^2] + E[relu(a_real - D(G(z)))^2]: D's outputs on reals are pulled towards the
    moving average of its outputs on fakes and vice versa, but only where they have crossed it; a bound
    on how far D can separate the two, against a discriminator that memorises a small training set.

    The anchors are moving averages of D's mean output on reals and on fakes, as in the paper's BigGAN
    code: decay 0.99; for the first `start` updates they simply follow the latest batch and the term is
    not applied (`active` is False), so they start from D's outputs after its first steps rather than
    from zero. Kept as 0-d tensors on D's device (no host sync per step); saved as plain floats.
    """

    def __init__(self, decay: float = 0.99, start: int = 1000):
        self.decay, self.start = decay, start
        self.real = self.fake = torch.zeros(())
        self.updates = 0

    @property
    def active(self) -> bool:
        return self.updates > self.start

    @torch.no_grad()
    def update(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> None:
        d = self.decay if self.updates >= self.start else 0.0
        self.real = d * self.real.to(real_out.device) + (1 - d) * real_out.float().mean()
        self.fake = d * self.fake.to(fake_out.device) + (1 - d) * fake_out.float().mean()
        self.updates += 1

    def __call__(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return (F.relu(real_out - self.fake).pow(2).mean()
                + F.relu(self.real - fake_out).pow(2).mean())

    def state(self) -> dict:
        return {"real": float(self.real), "fake": float(self.fake), "updates": self.updates}

    def load_state(self, s: dict) -> None:
        self.real, self.fake = torch.tensor(float(s["real"])), torch.tensor(float(s["fake"]))
        self.updates = int(s["updates"])
