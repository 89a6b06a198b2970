"""Pixel diversity: what the health monitor watches for collapse and `eval --per-type` reports per type."""
from __future__ import annotations

import torch


def diversity(images: torch.Tensor) -> float:
    """Mean pairwise L2 distance between images, downsampled to 16x16 (B, C, H, W)."""
    x = torch.nn.functional.adaptive_avg_pool2d(images.float()[:, :3], 16).flatten(1)
    return float(torch.pdist(x).mean()) if len(x) > 1 else 0.0
