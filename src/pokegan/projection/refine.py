"""Finding the latent whose sprite is closest to a target: the encoder's guess, then optimisation.

The loss compares what the generator draws with the target as the model sees it (composited on its
background): pixels, the same at a quarter of the size (shape before detail), the silhouette (a soft
mask of what differs from the background against the target's alpha), and, where the model has an
encoder, its features (a feature space trained on this model's sprites: nothing to download). A small
prior keeps the noise on the Gaussian shell the generator knows. Several starts run as one batch; the
best continues alone.

Noise alone reaches a sprite's colours and rough shape (silhouette IoU about 0.8, 21 dB on five training
species of the shipped model). FastGAN generators also take **feature offsets** at their two sides after the
first (8 and 16 at 64 pixels): added to the features there, optimised with the noise under an L2 penalty, they
carry the detail noise cannot (0.93 and 30 dB on the same five); the extended latent is the noise plus
these offsets, so variations and type swaps move the noise and keep the detail.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from pokegan.core.errors import PokeganError

STARTS = 6          # starts optimised together: the encoder's guess, its neighbours, random draws
STEPS_TOGETHER = 40  # noise only, all starts
STEPS_ALONE = 120    # the best start, with its feature offsets
OFFSET_WEIGHT = 0.1  # the L2 penalty on feature offsets
RANDOM_POOL = 256   # without an encoder, the best of this many random latents start


def target_tensors(g, rgba: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """A target (R, R, 4) uint8 -> (the model's view (1, C, R, R) in [-1, 1], its alpha (1, 1, R, R) in [0, 1])."""
    from pokegan.data.dataset import to_model_space

    x = torch.from_numpy(np.ascontiguousarray(rgba)).permute(2, 0, 1)[None].float() / 255
    premul = torch.cat([x[:, :3] * x[:, 3:], x[:, 3:]], 1)
    return to_model_space(premul, g.background).to(g.device), x[:, 3:].to(g.device)


def soft_alpha(g, x: torch.Tensor) -> torch.Tensor:
    """How opaque each pixel of generated images looks: the alpha channel of an RGBA model, else how far the
    pixel is from the background colour (full at 0.1 of the range, about 25 levels)."""
    if x.shape[1] == 4:
        return (x[:, 3:4] + 1) / 2
    dev = (1 - x) if g.background == "white" else (x + 1)
    return (dev.amax(1, keepdim=True) / 2 / 0.1).clamp(0, 1)


def check_projectable(g) -> None:
    if g.background not in ("white", "black", "transparent"):
        raise PokeganError(f"{g.source}: trained on {g.background!r} backgrounds, so its sprites have no fixed "
                           "background to compare a target on; projection needs a white, black or transparent model")
    if getattr(g.G, "palette_size", 0):
        raise PokeganError(f"{g.source}: draws every pixel as a choice among its palette's colours, which has no "
                           "gradient to follow; project with a model trained without palette_output")


def losses(g, x: torch.Tensor, t: torch.Tensor, alpha: torch.Tensor, z: torch.Tensor, encoder=None,
           t_feats=None) -> torch.Tensor:
    """Per-sample loss (B,) of images x against the target."""
    loss = (x - t).pow(2).mean((1, 2, 3))
    loss = loss + (F.avg_pool2d(x, 4) - F.avg_pool2d(t, 4)).pow(2).mean((1, 2, 3))
    loss = loss + 0.5 * (soft_alpha(g, x) - alpha).pow(2).mean((1, 2, 3))
    if encoder is not None:
        for fx, ft in zip(encoder.features(x), t_feats):
            loss = loss + 0.05 * (fx - ft).pow(2).mean((1, 2, 3))
    return loss + 0.01 * (z.pow(2).mean(1) - 1).pow(2)


def offset_sides(g) -> tuple[int, ...]:
    """The sides whose features a projection may offset: the two after the first (FastGAN), else none."""
    import inspect

    if "offsets" not in inspect.signature(g.G.forward).parameters or not hasattr(g.G, "w"):
        return ()
    return tuple(sorted(g.G.w)[1:3])


def guess(g, encoder, t: torch.Tensor) -> torch.Tensor:
    """The encoder's noise for target images t, scaled onto the Gaussian shell (a regression towards the mean
    is shorter than any latent the generator saw)."""
    z = encoder(t)[:, :g.z_dim].cpu()
    return z * (g.z_dim ** 0.5 / z.norm(dim=1, keepdim=True).clamp_min(1e-6))


def starts(g, t: torch.Tensor, types: torch.Tensor | None, encoder, seed: int) -> torch.Tensor:
    """(STARTS, z_dim) noise to start from: the encoder's guess and neighbours of it, or the best random draws."""
    gen = torch.Generator().manual_seed(seed)
    if encoder is not None:
        first = guess(g, encoder, t)
        near = first + 0.5 * torch.randn(STARTS - 2, g.z_dim, generator=gen)
        return torch.cat([first, near, torch.randn(1, g.z_dim, generator=gen)])
    pool = torch.randn(RANDOM_POOL, g.z_dim, generator=gen)
    with torch.no_grad():
        x = g.G(with_types(pool, types).to(g.device)).float()
        score = (F.avg_pool2d(x, 4) - F.avg_pool2d(t, 4)).pow(2).mean((1, 2, 3)).cpu()
    return pool[score.argsort()[:STARTS]]


def with_types(z: torch.Tensor, types: torch.Tensor | None) -> torch.Tensor:
    return z if types is None else torch.cat([z, types.expand(len(z), -1).to(z)], 1)


def refine(g, rgba: np.ndarray, noise0: torch.Tensor, types: torch.Tensor | None, encoder=None,
           steps: tuple[int, int] | None = None, extended: bool = True):
    """Optimise the noise from the starts `noise0` (K, z_dim) (type slots fixed) towards the target, then the
    best start alone, with feature offsets where the generator takes them and `extended`. Returns (noise
    (z_dim,), offsets {side: (1, C, side, side)} or None, loss)."""
    steps = steps or (STEPS_TOGETHER, STEPS_ALONE)
    t, alpha = target_tensors(g, rgba)
    t_feats = [f.detach() for f in encoder.features(t)] if encoder is not None else None
    ty = types.to(g.device) if types is not None else None
    z = noise0.clone().to(g.device).requires_grad_(True)
    offsets = None

    def loss_of(z, offsets):
        x = g.G(with_types(z, ty), offsets=offsets) if offsets else g.G(with_types(z, ty))
        loss = losses(g, x.float(), t, alpha, z, encoder, t_feats)
        if offsets:
            loss = loss + OFFSET_WEIGHT * sum(o.pow(2).mean() for o in offsets.values())
        return loss

    for phase, n in enumerate(steps):
        params = [z]
        if phase == 1:  # the best start goes on alone, with its offsets
            with torch.no_grad():
                best = int(loss_of(z, None).argmin())
            z = z[best:best + 1].detach().clone().requires_grad_(True)
            params = [z]
            if extended and offset_sides(g):
                offsets = {s: torch.zeros(1, g.G.w[s], s, s, device=g.device, requires_grad=True)
                           for s in offset_sides(g)}
                params += list(offsets.values())
        lr0 = 0.05 if phase == 0 else 0.02
        opt = torch.optim.Adam(params, lr=lr0)
        for i in range(n):
            for group in opt.param_groups:  # cosine decay to a tenth
                group["lr"] = lr0 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * i / max(n, 1))))
            loss = loss_of(z, offsets)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
    with torch.no_grad():
        final = loss_of(z, offsets)
    i = int(final.argmin())
    kept = {s: o.detach().cpu() for s, o in offsets.items()} if offsets else None
    return z[i].detach().cpu(), kept, float(final[i])


def figures(projection: np.ndarray, target: np.ndarray) -> dict:
    """How close a projected sprite (R, R, 4) is to the target (R, R, 4): silhouette IoU (alpha at 128) and
    PSNR of both composited on white."""
    from pokegan.data.dataset import composite_uint8

    a, b = projection[..., 3] >= 128, target[..., 3] >= 128
    union = (a | b).sum()
    iou = float((a & b).sum() / union) if union else 1.0
    pa, pb = composite_uint8(projection[None], "white")[0], composite_uint8(target[None], "white")[0]
    mse = float(((pa.astype(np.float64) - pb) ** 2).mean())
    psnr = 99.0 if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)
    return {"iou": round(iou, 4), "psnr_white": round(psnr, 2)}
