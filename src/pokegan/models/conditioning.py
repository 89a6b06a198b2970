"""Type conditioning: a sprite's one or two types (multi-hot over the 18) into the generator and the
discriminator, ramped in over training.

Design, for 40 to 190 sprites per type:
- **Transitional training** (Shahbazi et al. 2022, "Collapse by Conditioning", ICLR): a GAN conditioned on
  a few dozen images per class from the start collapses where the unconditional one does not. Both
  networks' conditional parts are multiplied by a weight `lambda` that is 0 until `cond_start_kimg`, rises
  linearly to 1 at `cond_end_kimg` and stays there: the model first learns sprites from all 1,463, then
  learns what each type looks like. `lambda` is a buffer of both networks, set from the kimg alone, so it
  is saved with the weights and a resumed run is bit-exact.
- **Generator**: a learned embedding of the type set (the mean of its types' vectors, BigGAN's shared
  embedding with multi-hot input) times `lambda`, concatenated to the noise. The latent a conditional
  generator takes is `[noise, types]` (types multi-hot, 18 wide), so everything that passes latents around
  (EMA, sampling, interpolation, ONNX) carries the types with them, and interpolating the type part walks
  from one type to another at a fixed seed.
- **Discriminator**: its unconditional output plus `lambda` times a projection term (Miyato & Koyama 2018):
  the inner product of its pooled features with an embedding of the type set. Realism is judged as before;
  the projection adds "and of this type".
- **Fake types** are drawn as often as the data has them: the generator keeps the data's type-set counts
  (an 18 x 18 table: [a, a] for single types, [a, b] with a < b for pairs) as a buffer, which is also how a
  loaded model knows which types it saw.
"""
from __future__ import annotations

import torch
from torch import nn

from pokegan.core.errors import PokeganError
from pokegan.models.norms import spectral_norm
from pokegan.core.type_names import MAX_TYPES, TYPES

N_TYPES = len(TYPES)
EMBED_DIM = 64


def multi_hot(types_list) -> torch.Tensor:
    """A list of type-name tuples -> (N, 18) float multi-hot."""
    out = torch.zeros(len(types_list), N_TYPES)
    for i, ts in enumerate(types_list):
        for t in ts:
            out[i, TYPES.index(t)] = 1.0
    return out


def type_set_counts(types_list) -> torch.Tensor:
    """The data's type sets as an 18 x 18 count table: [a, a] one type, [a, b] (a < b) two."""
    counts = torch.zeros(N_TYPES, N_TYPES, dtype=torch.float64)
    for ts in types_list:
        idx = sorted(TYPES.index(t) for t in ts if t in TYPES)[:MAX_TYPES]
        if idx:
            counts[idx[0], idx[-1]] += 1
    return counts


def ramp(kimg: float, start: float, end: float) -> float:
    """The conditional parts' weight: 0 before `start` kimg, 1 from `end`, linear between."""
    if kimg >= end:
        return 1.0
    if kimg <= start:
        return 0.0
    return (kimg - start) / (end - start)


def _normalised(c: torch.Tensor) -> torch.Tensor:
    return c / c.sum(dim=1, keepdim=True).clamp_min(1.0)  # the mean of the set's type vectors


class TypeInput(nn.Module):
    """The generator's side: latent [noise, types] -> [noise, lambda * embed(types)]; owns the data's type-set
    counts and draws type sets from them."""

    def __init__(self, z_dim: int, dim: int = EMBED_DIM):
        super().__init__()
        self.z_dim, self.dim = z_dim, dim
        self.embed = nn.Linear(N_TYPES, dim, bias=False)
        self.register_buffer("weight", torch.zeros(()))            # lambda, set by the family's schedule
        self.register_buffer("counts", torch.zeros(N_TYPES, N_TYPES))  # the training data's type sets

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        z = latent[:, :self.z_dim]
        return torch.cat([z, self.embedding(latent)], 1)

    def embedding(self, latent: torch.Tensor) -> torch.Tensor:
        """lambda * the type set's embedding (B, dim), from a latent [noise, types]."""
        c = latent[:, self.z_dim:]
        return self.weight.to(latent.dtype) * self.embed(_normalised(c).to(self.embed.weight.dtype)).to(latent.dtype)

    def seen(self) -> tuple[str, ...]:
        """The types the model was trained on (alone or in a pair)."""
        c = self.counts
        hit = (c.sum(0) + c.sum(1)) > 0
        return tuple(t for t, h in zip(TYPES, hit.tolist()) if h)

    def draw(self, n: int, generator: torch.Generator | None = None, within: str | None = None) -> torch.Tensor:
        """(n, 18) type sets drawn as often as the training data has them (only sets containing `within`)."""
        counts = self.counts.detach().double().cpu().clone()
        if within is not None:
            i = TYPES.index(within)
            mask = torch.zeros_like(counts)
            mask[i, :], mask[:, i] = 1, 1
            counts *= mask
        if counts.sum() <= 0:
            raise PokeganError("this model holds no type sets to draw from" if within is None
                               else f"this model never saw the type {within!r}")
        flat = torch.multinomial(counts.flatten().float(), n, replacement=True, generator=generator)
        out = torch.zeros(n, N_TYPES)
        out[torch.arange(n), flat // N_TYPES] = 1.0
        out[torch.arange(n), flat % N_TYPES] = 1.0
        return out.to(self.counts.device)


class TypeProjection(nn.Module):
    """The discriminator's side: lambda * <pooled features, embed(types)> (projection discriminator)."""

    def __init__(self, features: int):
        super().__init__()
        self.embed = spectral_norm(nn.Linear(N_TYPES, features, bias=False))
        self.register_buffer("weight", torch.zeros(()))

    def forward(self, feats: torch.Tensor, c: torch.Tensor) -> torch.Tensor:  # (B, F, h, w), (B, 18) -> (B,)
        h = feats.mean(dim=(2, 3))
        e = self.embed(_normalised(c).to(h.dtype))
        return self.weight.to(h.dtype) * (h * e).sum(dim=1)


class TypeModulation(nn.Module):
    """Per-stage conditioning of the generator (`type_norm`): the type embedding scales and shifts a block's
    channels, h * (1 + gamma(e)) + beta(e), BigGAN's conditional batch norm applied after the block's own
    norm. Zero at the start, so the generator begins as the unconditional one; `e` already carries lambda."""

    def __init__(self, channels: int, dim: int = EMBED_DIM):
        super().__init__()
        self.affine = nn.Linear(dim, 2 * channels)
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)

    def forward(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.affine(e.to(self.affine.weight.dtype)).to(h.dtype)[:, :, None, None].chunk(2, dim=1)
        return h * (1 + gamma) + beta


class TypeClassifier(nn.Module):
    """The discriminator's auxiliary type head (`type_aux_weight`; AC-GAN, Odena et al. 2017, trained on reals
    only as in Kang et al. 2021, ReACGAN): 18 logits from its pooled features. D learns to name the types of
    real sprites; the generator is asked to make sprites this head names as their requested types. Where the
    projection term only says "real of this type or not", this head says which types a sprite shows, which is
    what a type told by shape (wings, bolts) needs. Its loss carries lambda, like every conditional part."""

    def __init__(self, features: int):
        super().__init__()
        self.head = spectral_norm(nn.Linear(features, N_TYPES))
        self.register_buffer("weight", torch.zeros(()))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:  # (B, F, h, w) -> (B, 18) logits
        return self.head(feats.mean(dim=(2, 3)))

    def loss(self, logits: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """lambda * cross-entropy against the type set as a distribution (1/2 each for a pair), so both of a
        pair's types are pushed to the top two."""
        target = _normalised(c).to(torch.float32)
        return self.weight * -(target * torch.log_softmax(logits.float(), dim=1)).sum(dim=1).mean()


def condition_parts(nets) -> list[nn.Module]:
    """The conditional parts (`TypeInput`, `TypeProjection`, `TypeClassifier`) of some networks, whose `lambda` the ramp sets."""
    return [m for net in nets for m in net.modules() if isinstance(m, (TypeInput, TypeProjection, TypeClassifier))]


def type_input(G: nn.Module) -> TypeInput | None:
    """A generator's `TypeInput`, or None for an unconditional one."""
    return getattr(G, "cond", None) if isinstance(getattr(G, "cond", None), TypeInput) else None


def draw_latents(G: nn.Module, n: int, z_dim: int, generator: torch.Generator | None = None,
                 device=None) -> torch.Tensor:
    """Latents for `G`: noise, then (conditional generators) type sets drawn as the data has them."""
    z = torch.randn(n, z_dim, generator=generator)
    cond = type_input(G)
    if cond is not None:
        z = torch.cat([z, cond.draw(n, generator).cpu()], 1)
    return z.to(device) if device is not None else z
