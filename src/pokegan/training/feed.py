"""Real batches for training: the whole dataset lives on the device as uint8, batches are drawn by
shuffled epochs, augmented, and composited on the chosen background.

Its position (epoch permutation, index, generator state) is part of every checkpoint, so a resumed run
sees exactly the batches an uninterrupted run would.
"""
from __future__ import annotations

import numpy as np
import torch

from pokegan.augment import classic_augment
from pokegan.data.dataset import BACKGROUNDS, Dataset, to_model_space  # noqa: F401 (re-exported)
from pokegan.core.errors import PokeganError

def resolve_background(requested: str, ds: Dataset) -> str:
    bg = ds.background if requested in ("dataset", "", None) else requested
    if bg not in BACKGROUNDS:
        raise PokeganError(f"background {bg!r} is not one of: {', '.join(BACKGROUNDS)}, dataset")
    return bg


class RealFeed:
    def __init__(self, ds: Dataset, background: str, device: torch.device, seed: int,
                 augment: str = "", aug_prob: float = 0.5, aug_rotate_deg: float = 10.0,
                 aug_shift: float = 0.1, aug_zoom: float = 0.1):
        self.background = resolve_background(background, ds)
        self.channels = 4 if self.background == "transparent" else 3
        # (N, 4, H, W) uint8 on the device: 1,500 64x64 sprites are 25 MB
        self.images = torch.from_numpy(np.ascontiguousarray(ds.images)).permute(0, 3, 1, 2).contiguous().to(device)
        self.n = len(ds)
        self.device = device
        # each image's one or two types, multi-hot (N, 18), for conditional models
        from pokegan.models.conditioning import multi_hot

        self.types = multi_hot([tuple(lab.get("types") or ()) for lab in ds.labels]).to(device)
        self.last_types: torch.Tensor | None = None  # the types of the last batch `next` gave
        self.kinds = {k.strip() for k in augment.split(",") if k.strip()}
        bad = self.kinds - {"flip", "rotate", "shift", "zoom"}
        if bad:
            raise PokeganError(f"unknown augmentation {', '.join(sorted(bad))}; use flip, rotate, shift, zoom")
        self.aug = dict(prob=aug_prob, rotate_deg=aug_rotate_deg, shift=aug_shift, zoom=aug_zoom)
        self.gen = torch.Generator().manual_seed(seed)
        self.perm = torch.randperm(self.n, generator=self.gen)
        self.pos = 0
        self.epoch = 0

    def _indices(self, b: int) -> torch.Tensor:
        out = []
        while b > 0:
            if self.pos >= self.n:
                self.perm, self.pos, self.epoch = torch.randperm(self.n, generator=self.gen), 0, self.epoch + 1
            take = min(b, self.n - self.pos)
            out.append(self.perm[self.pos:self.pos + take])
            self.pos += take
            b -= take
        return torch.cat(out)

    def fill(self) -> torch.Tensor:
        """The background in model space: what augmentations fill uncovered pixels with."""
        if self.background == "transparent":
            return torch.full((4,), -1.0)
        return {"white": torch.ones(3), "black": -torch.ones(3)}.get(self.background, torch.zeros(3))

    def premultiplied(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.images[idx.to(self.device)].float().div_(255.0)
        return torch.cat([x[:, :3] * x[:, 3:4], x[:, 3:4]], 1)

    def next(self, b: int, rank: int = 0, world: int = 1) -> torch.Tensor:
        """A batch of `b` images, or this process's share of it: every rank draws the same indices (so the
        feed's position is one state for all) and keeps its own slice."""
        idx = self._indices(b)
        if world > 1:
            share = b // world
            idx = idx[rank * share:(rank + 1) * share]
        self.last_types = self.types[idx.to(self.device)]
        x = self.premultiplied(idx)
        x = classic_augment(x, self.kinds, **self.aug)
        return to_model_space(x, self.background)

    def fixed(self, n: int, seed: int) -> torch.Tensor:
        """A fixed, unaugmented set of real images (for the monitor), drawn without touching the feed."""
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(self.n, generator=g)[:n]
        return to_model_space(self.premultiplied(idx), "white" if self.background == "random" else self.background)

    # -- checkpoint state ------------------------------------------------------------------------------
    def state(self) -> tuple[dict, dict[str, torch.Tensor]]:
        return ({"pos": self.pos, "epoch": self.epoch},
                {"feed.gen": self.gen.get_state(), "feed.perm": self.perm.clone()})

    def load_state(self, meta: dict, tensors: dict[str, torch.Tensor]) -> None:
        self.pos, self.epoch = int(meta["pos"]), int(meta["epoch"])
        self.gen.set_state(tensors["feed.gen"])
        self.perm = tensors["feed.perm"].clone()
        if len(self.perm) != self.n:
            raise PokeganError(f"the checkpoint was trained on {len(self.perm)} images but this dataset has "
                               f"{self.n}; resume with the same --data.")
