"""The projection encoder: a sprite -> the latent a generator would draw it from (and, for a type-conditioned
generator, the sprite's types), in one forward pass.

It is trained on the generator's own samples (`pokegan.projection.encoder`), so it needs no labels and no
download, and it is small enough to ship beside a generator and to run in the exported ONNX file and the
static page. Strided 4x4 convolutions with leaky ReLUs halve the side down to 4 (3 for 3 x 2^k sizes),
then two linear layers; no batch norm, so one sprite and a batch give the same answer.
"""
from __future__ import annotations

import torch
from torch import nn

from pokegan.models.conditioning import N_TYPES


class SpriteEncoder(nn.Module):
    def __init__(self, resolution: int, channels: int, z_dim: int, types: bool = False, base: int = 32,
                 width: int = 256):
        """(B, channels, R, R) in [-1, 1], as the generator draws them -> (B, z_dim) noise, followed by
        (B, 18) type logits when `types`."""
        super().__init__()
        self.z_dim, self.types = z_dim, types
        layers, c, side = [], channels, resolution
        while side > 4:
            out = min(256, base * 2 ** len(layers))
            layers.append(nn.Sequential(nn.Conv2d(c, out, 4, 2, 1), nn.LeakyReLU(0.2)))
            c, side = out, side // 2
        self.blocks = nn.ModuleList(layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * side * side, width), nn.LeakyReLU(0.2),
                                  nn.Linear(width, z_dim + (N_TYPES if types else 0)))

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The activations after each block: a sprite-trained feature space for the projector's loss."""
        out = []
        for block in self.blocks:
            x = block(x)
            out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)[-1])
