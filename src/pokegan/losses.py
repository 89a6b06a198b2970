"""GAN losses, each a small function of discriminator outputs.

- Non-saturating BCE: Goodfellow et al. 2014; the DCGAN tutorial's `nn.BCELoss` on sigmoid outputs,
  computed here from logits (`binary_cross_entropy_with_logits`, the same value, numerically safer).
- Wasserstein: Arjovsky et al. 2017. Gradient penalty: Gulrajani et al. 2017. Drift: Karras et al. 2018.
- R1: Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?"; applied lazily
  (every k-th D step, scaled by k) as in StyleGAN2 (Karras et al. 2020).
- LeCam regularisation: Tseng et al. 2021, "Regularizing Generative Adversarial Networks under Limited
  Data" (with hinge loss and DiffAugment, as in their BigGAN recipe).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def bce_d(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D's loss: label reals 1 and fakes 0."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def bce_g(fake_logits: torch.Tensor) -> torch.Tensor:
    """G's non-saturating loss: make D label fakes 1."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def wasserstein_d(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The critic maximises E[D(x)] - E[D(G(z))]; as a loss to minimise, its negative."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_g(fake_scores: torch.Tensor) -> torch.Tensor:
    return -fake_scores.mean()


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates x_hat between real and fake images."""
    eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()


def r1_penalty(real_out: torch.Tensor, real_in: torch.Tensor) -> torch.Tensor:
    """E[||grad_x D(x)||^2] on the real images D just scored (`real_in` must require grad): D's slope at
    the data, penalised so that it cannot sharpen without bound around the few training images."""
    (grad,) = torch.autograd.grad(real_out.sum(), real_in, create_graph=True)
    return grad.float().square().flatten(1).sum(1).mean()


class LeCamAnchors:
    """Moving averages of D's mean output on reals and on fakes, the anchors of `lecam`.

    As in the paper's BigGAN code: decay 0.99; for the first `start` updates the anchors simply follow the
    latest batch and the regulariser is not applied (`active` is False), so they start from D's outputs
    after its first steps rather than from zero. Kept as 0-d tensors on D's device (no host sync per
    step); saved as plain floats with the checkpoint's state.
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

    def state(self) -> dict:
        return {"real": float(self.real), "fake": float(self.fake), "updates": self.updates}

    def load_state(self, s: dict) -> None:
        self.real, self.fake = torch.tensor(float(s["real"])), torch.tensor(float(s["fake"]))
        self.updates = int(s["updates"])


def lecam(real_out: torch.Tensor, fake_out: torch.Tensor, anchors: LeCamAnchors) -> torch.Tensor:
    """E[relu(D(x) - a_fake)^2] + E[relu(a_real - D(G(z)))^2]: D's outputs on reals are pulled towards the
    moving average of its outputs on fakes and vice versa, but only where they have crossed it; a bound
    on how far D can separate the two, against a discriminator that memorises a small training set."""
    return (F.relu(real_out - anchors.fake).pow(2).mean()
            + F.relu(anchors.real - fake_out).pow(2).mean())
