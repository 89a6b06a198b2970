"""A small type classifier trained on real sprites only, and its honest ceiling.

It measures whether a type-conditioned model's "fire" sprites look like Fire types to something that has
only ever seen real sprites; it is never used in training. Its ceiling, what it scores on real sprites it
did not train on, is measured by cross-validation **grouped by species**: a species' normal, shiny and
female sprites are all on one side of every split, so the ceiling is not inflated by recognising a
recolour of a sprite it trained on. A generated sprite's adherence is then read beside that ceiling.

The network: sprites composited on white, area-downsampled to 32x32, three conv/batch-norm/ReLU/max-pool
stages (32, 64, 128 channels), global average pooling, dropout, 18 logits; multi-label BCE (a sprite has one
or two types), AdamW, mirrored sprites and small shifts as augmentation, a fixed seed. It trains in seconds
per fold on a CPU and is cached per dataset content (no download). The classifier of `gen5-64` ships with
pokegan (`assets/type-classifiers/`, 0.4 MB), found by the same content key before the cache: a retrained
one differs in the last bits with the CPU and thread count (its ceiling by up to 4 points a type), so the
shipped one gives every machine the same ceilings and adherence figures, with no minutes of training first.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pokegan.data import Dataset, composite_uint8
from pokegan.core.errors import PokeganError
from pokegan.core.paths import atomic_write_bytes, cache_dir
from pokegan.core.type_names import TYPES

N_TYPES = len(TYPES)
SIDE = 32
_VERSION = "type-classifier-1"
SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "type-classifiers"  # <key>.safetensors + <key>.json


@dataclass(frozen=True)
class ClassifierConfig:
    epochs: int = 40          # on ~1,170 training sprites per fold: the held-out hit rate levels off by then
    batch: int = 64
    lr: float = 2e-3
    weight_decay: float = 5e-4
    folds: int = 5            # species-grouped cross-validation folds for the ceiling
    seed: int = 0
    balanced: bool = True     # BCE with per-type positive weights (see `train`)


class TypeNet(nn.Module):
    def __init__(self):
        super().__init__()
        layers, cin = [], 3
        for cout in (32, 64, 128):
            layers += [nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True), nn.MaxPool2d(2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(cin, N_TYPES))

    def forward(self, x):  # (B, 3, 32, 32) in [-1, 1] -> (B, 18) logits
        return self.head(self.features(x).mean(dim=(2, 3)))


def prepare(rgb: np.ndarray) -> torch.Tensor:
    """uint8 RGB sprites (N, H, W, 3), on white -> (N, 3, 32, 32) in [-1, 1] (area downsampling)."""
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float() / 127.5 - 1
    return F.adaptive_avg_pool2d(x, SIDE) if x.shape[-1] != SIDE else x


def targets(ds: Dataset) -> torch.Tensor:
    y = torch.zeros(len(ds), N_TYPES)
    for i, lab in enumerate(ds.labels):
        for t in lab.get("types") or ():
            if t in TYPES:
                y[i, TYPES.index(t)] = 1.0
    return y


def species_groups(ds: Dataset) -> np.ndarray:
    """One group id per sprite: its national dex number (normal, shiny, female and form sprites of one species
    share it), else its name, else its file."""
    keys = [str(lab.get("dex") or lab.get("name") or lab.get("file") or i) for i, lab in enumerate(ds.labels)]
    _, ids = np.unique(np.array(keys), return_inverse=True)
    return ids


def grouped_folds(groups: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """Indices of each held-out fold: whole species shuffled (fixed seed) and dealt round-robin into folds."""
    uniq = np.unique(groups)
    order = np.random.default_rng(seed).permutation(uniq)
    fold_of = {g: i % folds for i, g in enumerate(order)}
    which = np.array([fold_of[g] for g in groups])
    return [np.flatnonzero(which == f) for f in range(folds)]


def _shift(x: torch.Tensor, gen: torch.Generator, max_px: int = 2) -> torch.Tensor:
    """Mirror half the batch and shift every image by up to `max_px` pixels (filled with white)."""
    flip = torch.rand(len(x), generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    pad = F.pad(x, (max_px,) * 4, value=1.0)
    dx, dy = torch.randint(0, 2 * max_px + 1, (2,), generator=gen).tolist()
    return pad[:, :, dy:dy + SIDE, dx:dx + SIDE]


def train(x: torch.Tensor, y: torch.Tensor, cfg: ClassifierConfig) -> TypeNet:
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    net = TypeNet()
    # each type's positives weighted by its negatives/positives: rare types (fairy: 44 of 1,463) are ranked
    # as readily as common ones (water: 229), so top-k hits measure the type, not its frequency
    pos = y.sum(0).clamp_min(1)
    pos_weight = ((len(y) - pos) / pos) if cfg.balanced else None
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * max(1, -(-len(x) // cfg.batch))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=steps)
    net.train()
    for _ in range(cfg.epochs):
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), cfg.batch):
            idx = perm[i:i + cfg.batch]
            if len(idx) < 2:
                continue
            loss = F.binary_cross_entropy_with_logits(net(_shift(x[idx], gen)), y[idx], pos_weight=pos_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return net.eval()


@torch.no_grad()
def scores(net: TypeNet, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([net(x[i:i + 512]) for i in range(0, len(x), 512)]) if len(x) else torch.empty(0, N_TYPES)


def top_k_hits(logits: torch.Tensor, type_index: int, k: int) -> np.ndarray:
    """Per sprite: is the type among its top-k predictions?"""
    return (logits.topk(k, dim=1).indices == type_index).any(dim=1).numpy()


@dataclass
class TypeClassifier:
    net: TypeNet
    ceiling: dict       # per type: {"top1", "top2", "n"} on held-out species, plus "mean_top1"/"mean_top2"/chance
    config: ClassifierConfig

    def logits(self, rgb: np.ndarray) -> torch.Tensor:
        return scores(self.net, prepare(rgb))

    def adherence(self, rgb: np.ndarray, type_name: str, k: int = 2) -> float:
        """Share of sprites (uint8 RGB on white) whose top-k predicted types contain `type_name`."""
        return float(top_k_hits(self.logits(rgb), TYPES.index(type_name), k).mean()) if len(rgb) else float("nan")


def measure_ceiling(x: torch.Tensor, y: torch.Tensor, groups: np.ndarray, cfg: ClassifierConfig, log=print) -> dict:
    """Cross-validated hit rates on held-out species: per type and averaged over types."""
    logits = torch.zeros(len(x), N_TYPES)
    folds = grouped_folds(groups, cfg.folds, cfg.seed)
    for f, held in enumerate(folds):
        train_idx = np.setdiff1d(np.arange(len(x)), held)
        log(f"type classifier: fold {f + 1} of {cfg.folds} ({len(train_idx)} sprites to train, {len(held)} held out)")
        net = train(x[train_idx], y[train_idx], cfg)
        logits[held] = scores(net, x[held])
    per = {}
    for i, t in enumerate(TYPES):
        members = np.flatnonzero(y[:, i].numpy() > 0)
        if len(members) == 0:
            continue
        per[t] = {"top1": float(top_k_hits(logits[members], i, 1).mean()),
                  "top2": float(top_k_hits(logits[members], i, 2).mean()), "n": int(len(members))}
    return {"per_type": per, "mean_top1": float(np.mean([v["top1"] for v in per.values()])),
            "mean_top2": float(np.mean([v["top2"] for v in per.values()])),
            "chance_top1": 1 / N_TYPES, "chance_top2": 2 / N_TYPES, "folds": cfg.folds,
            "grouped_by": "species (national dex number)"}


def classifier_key(rgb: np.ndarray, y: torch.Tensor, cfg: ClassifierConfig) -> str:
    """The content key a classifier is shipped and cached under: the sprites on white, their types, the
    config, this module's version and torch's."""
    return hashlib.sha256(rgb.tobytes() + y.numpy().tobytes() + json.dumps(asdict(cfg)).encode()
                          + _VERSION.encode() + torch.__version__.encode()).hexdigest()[:24]


def type_classifier(ds: Dataset, cfg: ClassifierConfig | None = None, log=print) -> TypeClassifier:
    """The classifier for a dataset: from the cache, or trained (ceiling folds, then on all sprites) and cached."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, save_file

    cfg = cfg or ClassifierConfig()
    y = targets(ds)
    if (y.sum(1) == 0).all():
        raise PokeganError(f"{ds.path}: no sprite carries a type, so there is nothing to classify; prepare Pokémon "
                           "sprites with `pokegan data prepare --preset gen5-64`")
    rgb = composite_uint8(ds.images, "white")
    key = classifier_key(rgb, y, cfg)
    folder = cache_dir() / "type-classifiers"
    wpath, jpath = folder / f"{key}.safetensors", folder / f"{key}.json"
    for w, j in ((SHIPPED / wpath.name, SHIPPED / jpath.name), (wpath, jpath)):  # shipped first, then the cache
        if w.is_file() and j.is_file():
            try:
                net = TypeNet()
                net.load_state_dict(load_file(str(w)))
                return TypeClassifier(net.eval(), json.loads(j.read_text())["ceiling"], cfg)
            except (OSError, ValueError, RuntimeError, KeyError, SafetensorError):
                pass  # a damaged entry: the next one, or train again
    x = prepare(rgb)
    log(f"training the type classifier on {len(ds)} real sprites (species-grouped {cfg.folds}-fold ceiling, then "
        "all sprites; cached afterwards)...")
    ceiling = measure_ceiling(x, y, species_groups(ds), cfg, log)
    net = train(x, y, cfg)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = wpath.with_suffix(".tmp")
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(tmp))
    tmp.replace(wpath)
    atomic_write_bytes(jpath, json.dumps({"ceiling": ceiling, "config": asdict(cfg)}, indent=1).encode())
    return TypeClassifier(net, ceiling, cfg)
