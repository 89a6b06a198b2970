"""Latents any language can draw bit for bit: the portable rule the exported web page (JavaScript) and game
engines follow, so seed S gives the same sprites there as `pokegan generate --latent-rule portable --seed S`."""
from __future__ import annotations

import math

import numpy as np
import torch

from pokegan.core.errors import PokeganError
from pokegan.models.conditioning import N_TYPES

LATENT_RULES = ("torch", "portable")

# Latents any language can draw bit for bit (the exported web page does, in JavaScript); generator.json
# carries this description for engines.
PORTABLE_RULE = {
    "name": "pokegan-portable-1", "seeds": "0 to 2^32 - 1",
    "words": "w_j = mulberry32(seed, j): a = (seed + (j + 1) * 0x6D2B79F5) mod 2^32; t = imul(a ^ (a >> 15), a | 1); "
             "t = ((t + imul(t ^ (t >> 7), t | 61)) mod 2^32) ^ t; w_j = t ^ (t >> 14); imul keeps the low 32 bits",
    "uniforms": "u_j = (w_j + 0.5) / 2^32, in float64",
    "normals": "for pair i: r = sqrt(-2 ln u_2i), theta = 2 pi u_2i+1; value 2i = r cos theta, value 2i+1 = "
               "r sin theta; float64, rounded to float32; values fill the (n, latent_dim) latents in row order",
    "type_sets": "a type-conditioned model's 18 type slots: the asked-for types, or (none asked for) each sprite's "
                 "type set drawn as often as the training data has it: the stream goes on after the noise's words "
                 "(K = n * latent_dim rounded up to even); for sprite i, r = floor(w_(K+i) * T / 2^32) with T the "
                 "total of the 18 x 18 count table (types.counts, row order: [a, a] one type, [a, b] a < b two); "
                 "the set is the first cell whose running total exceeds r; its one or two slots are 1.0",
    "type_sampler": "a model with a type sampler (generator.json types.sampler) asked for types: K (its "
                    "candidates) latents a sprite, the noise of n * K sprites (sprite i's: rows i*K to i*K+K-1); "
                    "s = sharpness * the sum over the asked types of type-sampler.onnx's log_p of each; Gumbel noise "
                    "g_m = -ln(-ln u_m), u_m from word W + mask * n * K + m, W the first word after the noise's (as "
                    "type_sets), mask the sum of 2^slot of the asked types, m = i*K + k; "
                    "sprite i's latent is its candidate with the highest s + g, added in float64",
    "python": "pokegan.generator.latents.portable_latents(n, seed, latent_dim), portable_type_sets(counts, n, seed, "
              "latent_dim), portable_gumbel(count, seed, latent_dim); pokegan generate --latent-rule portable",
}


def _mulberry32(seed: int, count: int, start: int = 0) -> np.ndarray:
    """`count` 32-bit words of the counter-based mulberry32 stream of `seed` from word `start` (see PORTABLE_RULE)."""
    m = np.uint64(0xFFFFFFFF)

    def imul(x, y):
        return (x * y) & m  # low 32 bits (both below 2^32, so the product fits in 64)

    j = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    a = (np.uint64(seed) + j * np.uint64(0x6D2B79F5)) & m
    t = imul(a ^ (a >> np.uint64(15)), a | np.uint64(1))
    t = ((t + imul(t ^ (t >> np.uint64(7)), t | np.uint64(61))) & m) ^ t
    return (t ^ (t >> np.uint64(14))) & m


def portable_latents(n: int, seed: int, z_dim: int) -> torch.Tensor:
    """(n, z_dim) standard normal latents by `PORTABLE_RULE`, which JavaScript, C# or GDScript can follow."""
    if not 0 <= seed < 2 ** 32:
        raise PokeganError(f"seed {seed}: the portable latent rule takes seeds from 0 to 2^32 - 1")
    count = n * z_dim + (n * z_dim) % 2
    u = (_mulberry32(seed, count).astype(np.float64) + 0.5) / 2.0 ** 32
    out = np.empty(count, np.float64)
    for i in range(0, count, 2):  # math's log/cos/sin: the C library's, as close to correctly rounded as JS's
        r, th = math.sqrt(-2.0 * math.log(u[i])), 2.0 * math.pi * u[i + 1]
        out[i], out[i + 1] = r * math.cos(th), r * math.sin(th)
    return torch.from_numpy(out[: n * z_dim].astype(np.float32).reshape(n, z_dim))


def portable_gumbel(count: int, seed: int, z_dim: int, mask: int) -> torch.Tensor:
    """(count,) float64 Gumbel noise for a type sampler's picks among `count` candidates by `PORTABLE_RULE`'s
    "type_sampler": after the noise of `portable_latents(count, seed, z_dim)`, the block of the type set `mask`."""
    start = count * z_dim + (count * z_dim) % 2 + mask * count
    u = (_mulberry32(seed, count, start=start).astype(np.float64) + 0.5) / 2.0 ** 32
    return torch.from_numpy(-np.log(-np.log(u)))


def portable_type_sets(counts, n: int, seed: int, z_dim: int) -> torch.Tensor:
    """(n, 18) type sets drawn as often as `counts` (the 18 x 18 table of a conditional model) has them, by
    `PORTABLE_RULE`'s "type_sets": the words after the noise of `portable_latents(n, seed, z_dim)`."""
    table = np.rint(np.asarray(counts, np.float64)).astype(np.int64).ravel()
    total = int(table.sum())
    if total <= 0:
        raise PokeganError("this model holds no type sets to draw from")
    words = _mulberry32(seed, n, start=n * z_dim + (n * z_dim) % 2)
    r = [(int(w) * total) >> 32 for w in words]                 # integers: any language gets the same cells
    cells = np.searchsorted(np.cumsum(table), r, side="right")
    out = torch.zeros(n, N_TYPES)
    out[torch.arange(n), torch.as_tensor(cells // N_TYPES)] = 1.0
    out[torch.arange(n), torch.as_tensor(cells % N_TYPES)] = 1.0
    return out
