"""GAN losses, each a small function of discriminator outputs.

- Non-saturating BCE: Goodfellow et al. 2014; the DCGAN tutorial's `nn.BCELoss` on sigmoid outputs,
  computed here from logits (`binary_cross_entropy_with_logits`, the same value, numerically safer).
- Wasserstein: Arjovsky et al. 2017. Gradient penalty: Gulrajani et al. 2017. Drift: Karras et al. 2018.
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
