"""Types for a model without type inputs: a small network on the latent that tells which type a latent draws,
and typed sprites picked by it from the model's own latents.

Bayes' rule gives what "a Fire sprite from this model" means for a model that draws every type:
p(z | fire) is proportional to p(z) p(fire | z). The sampler draws `candidates` latents from the normal prior
for each sprite and keeps one of them with probability proportional to p(type | z) ** sharpness
(sampling-importance-resampling; the choice is a Gumbel-max, so it is a function of the seed). The sprites
stay the model's own: nothing is drawn that the unconditional model would not draw, and without a type asked
types come as the model (and so the data) has them.

p(type | z) is a 128 -> 256 -> 256 -> 18 network fitted to what a type classifier says of the model's own
sprites: a *second* classifier (`ClassifierConfig(seed=1)`, trained on the real sprites), not the shipped one
`eval --per-type` measures adherence with, so the figures are not the judge marking its own picks.
Fitting (`pokegan.type_sampler_fit`, `pokegan types-fit`) draws 30,000 sprites and takes about 5 minutes on
2 CPU cores; picking adds a millisecond per sprite. Its files sit beside the model's: type-sampler.safetensors and .json.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from pokegan.core.errors import PokeganError
from pokegan.runfiles import SAMPLER_META as META, SAMPLER_WEIGHTS as WEIGHTS
from pokegan.core.type_names import TYPES

FORMAT = "pokegan-type-sampler-1"


class LatentTypeNet(nn.Module):
    def __init__(self, z_dim: int, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, len(TYPES)))

    def forward(self, z):  # (N, z_dim) -> (N, 18) log p(type | z)
        return torch.log_softmax(self.net(z), -1)


@dataclass
class TypeSampler:
    net: LatentTypeNet
    types: tuple[str, ...]     # the types it picks for: those with real sprites in its dataset
    candidates: int
    sharpness: float
    meta: dict

    def score(self, z: torch.Tensor, types: tuple[str, ...]) -> torch.Tensor:
        """(..., z_dim) latents -> (...) sharpness * sum of log p(type | z) over the asked types."""
        idx = [TYPES.index(t) for t in types]
        with torch.no_grad():
            return self.sharpness * self.net(z.float())[..., idx].sum(-1)

    def choose(self, candidates: torch.Tensor, gumbel: torch.Tensor, types: tuple[str, ...]) -> torch.Tensor:
        """(N, K, z) candidate latents and (N, K) Gumbel noise -> (N, z): per sprite the candidate that wins
        score + noise (a draw in proportion to p(types | z) ** sharpness)."""
        pick = (self.score(candidates, types).double() + gumbel.double()).argmax(1)  # float64: as the page adds
        return candidates[torch.arange(len(candidates)), pick]

    def pick(self, candidates: torch.Tensor, seed: int, types: tuple[str, ...]) -> torch.Tensor:
        """(N, K, z) candidates -> (N, z), the Gumbel noise from a generator of its own seeded with `seed` and the
        type set: one seed's candidates are shared by every type, its draws among them are not (otherwise a type
        the network is unsure of would repeat the same winner in every row of a by-type sheet)."""
        return self.choose(candidates, _gumbel(candidates.shape[:2], _gumbel_source(seed, types)), types)

    def draw(self, n: int, seed: int, types: tuple[str, ...], z_dim: int, chunk: int = 2048) -> torch.Tensor:
        """n latents of `types`: the candidates are torch's standard normal noise of `seed` (sprite i's are rows
        i*K to i*K+K-1 of `torch.randn(n * K, z_dim)`), drawn and picked `chunk` sprites at a time so a large n
        never holds all n * K candidates (the generator's stream is the same drawn in pieces)."""
        k, noise, source, out = self.candidates, torch.Generator().manual_seed(seed), _gumbel_source(seed, types), []
        for i in range(0, n, chunk):
            m = min(chunk, n - i)
            cand = torch.randn(m * k, z_dim, generator=noise).reshape(m, k, z_dim)
            out.append(self.choose(cand, _gumbel((m, k), source), types))
        return torch.cat(out)

    def save(self, folder: str | Path) -> None:
        """type-sampler.safetensors and .json into `folder`, each written whole or not at all."""
        from safetensors.torch import save

        from pokegan.core.paths import atomic_write_bytes

        folder = Path(folder)
        atomic_write_bytes(folder / WEIGHTS, save({k: v.contiguous() for k, v in self.net.state_dict().items()}))
        atomic_write_bytes(folder / META, json.dumps({"format": FORMAT, "types": list(self.types),
                                                      "candidates": self.candidates, "sharpness": self.sharpness,
                                                      **self.meta}, indent=1).encode())


def _gumbel_source(seed: int, types) -> torch.Generator:
    """The Gumbel noise's own generator: seeded with `seed` and the type set (see `TypeSampler.pick`)."""
    return torch.Generator().manual_seed((seed * 0x10001 + 0x5A17 + type_mask(types)) % 2 ** 63)


def _gumbel(shape, source: torch.Generator) -> torch.Tensor:
    u = torch.rand(shape, generator=source, dtype=torch.float64)
    return -torch.log(-torch.log(u.clamp(1e-12, 1 - 1e-12)))


def type_mask(types) -> int:
    """A type set as a number: the sum of 2 ** (slot) of its types (latents.PORTABLE_RULE's `mask`)."""
    return sum(1 << TYPES.index(t) for t in set(types))


def load_sampler(folder: str | Path, z_dim: int) -> TypeSampler | None:
    """The type sampler saved beside a model (None when there is none); a damaged one is a clear error."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    w, j = folder / WEIGHTS, folder / META
    if not (w.is_file() and j.is_file()):
        return None
    try:
        meta = json.loads(j.read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT}")
        types = tuple(meta["types"])
        if not types or any(t not in TYPES for t in types):
            raise ValueError("its types are not Pokémon types")
        net = LatentTypeNet(z_dim, int(meta.get("hidden", 256)))
        net.load_state_dict(load_file(str(w)))
        return TypeSampler(net.eval().requires_grad_(False), types, int(meta["candidates"]), float(meta["sharpness"]),
                           {k: v for k, v in meta.items() if k not in ("format", "types", "candidates", "sharpness")})
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as e:
        raise PokeganError(f"{folder}: its type sampler ({WEIGHTS}, {META}) is damaged: {e}; fit it again with "
                           f"`pokegan types-fit {folder} --data DATA`") from None
