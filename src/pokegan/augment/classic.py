"""Classic augmentation of real images, as the reports used it: flips, small rotations, shifts, zoom.

Works on premultiplied RGBA, so pixels moved in from outside the sprite are transparent and colour never
bleeds from under transparent pixels; the background is composited afterwards. One random affine warp
per image (`grid_sample`), drawn from torch's global generator so runs are reproducible and resumable.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def classic_augment(rgba: torch.Tensor, kinds: set[str], prob: float, rotate_deg: float, shift: float,
                    zoom: float) -> torch.Tensor:
    """rgba: (B, 4, H, W) premultiplied in [0, 1]. Returns the same shape."""
    if not kinds or prob <= 0:
        return rgba
    b, dev = rgba.shape[0], rgba.device

    def chance():
        return (torch.rand(b, device=dev) < prob).float()

    flip = 1.0 - 2.0 * chance() if "flip" in kinds else torch.ones(b, device=dev)
    angle = ((torch.rand(b, device=dev) * 2 - 1) * math.radians(rotate_deg) * chance()
             if "rotate" in kinds else torch.zeros(b, device=dev))
    scale = (1.0 + (torch.rand(b, device=dev) * 2 - 1) * zoom * chance()
             if "zoom" in kinds else torch.ones(b, device=dev))
    if "shift" in kinds:
        t = (torch.rand(b, 2, device=dev) * 2 - 1) * 2 * shift * chance()[:, None]
    else:
        t = torch.zeros(b, 2, device=dev)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, t[:, 0]], 1),
                         torch.stack([sin * flip, cos, t[:, 1]], 1)], 1)  # (B, 2, 3) output->input map
    if not ("rotate" in kinds or "zoom" in kinds or "shift" in kinds):
        return torch.where(flip.view(-1, 1, 1, 1) < 0, rgba.flip(3), rgba)  # flips alone stay exact
    grid = F.affine_grid(theta, list(rgba.shape), align_corners=False)
    return F.grid_sample(rgba, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
