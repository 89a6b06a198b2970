"""Load a trained generator from a run or checkpoint and make sprites with it.

    from pokegan import load_generator
    g = load_generator("runs/00000-dcgan-gen5-64")   # a run folder, a checkpoint folder
    images = g.generate(n=16, seed=0)                # list of PIL images (RGBA if trained on RGBA)

The checkpoint carries the model's configuration, so the network is rebuilt from it alone; the EMA
generator is used when the run kept one. Latents come from a generator seeded by `seed` and are drawn
all at once, so image i is the same whatever the batch size. Networks run in eval mode (batch-norm
running statistics), so an image does not depend on what else is in the batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pokegan.errors import PokeganError

MAX_IMAGES = 1_000_000  # more than any sensible request; protects against typos like --n 1e12
# A tanh output reaches +-1 only in the limit, so a generator trained on white paints its background at
# 250-254 rather than 255: an invisible haze that breaks colour keys, and that the FID network does see
# (the shipped model: FID 43.0 -> 38.4 with it snapped; RESULTS.md, session 21). Pixels this many uint8
# levels or fewer from a solid background, in every channel, are drawn as the background itself.
BACKGROUND_TOLERANCE = 5


def snap_background(images: torch.Tensor, background: str, tolerance: int = BACKGROUND_TOLERANCE) -> torch.Tensor:
    """Images (N, 3, H, W) in [-1, 1] with near-background pixels set exactly to a white or black
    background. RGBA models (their alpha is thresholded instead), random backgrounds and tolerance 0 are
    left as they are. With 5 levels, a pixel becomes white where every channel would be written as 250-255."""
    check_tolerance(tolerance)
    if tolerance == 0 or images.shape[1] != 3 or background not in ("white", "black"):
        return images
    target = 1.0 if background == "white" else -1.0
    near = ((images - target).abs() <= (tolerance + 0.5) / 127.5).all(dim=1, keepdim=True)
    return torch.where(near, torch.full_like(images, target), images)


def check_tolerance(tolerance) -> int:
    if not isinstance(tolerance, (int, np.integer)) or isinstance(tolerance, bool) or not 0 <= tolerance <= 127:
        raise PokeganError(f"the background tolerance must be a whole number of uint8 levels from 0 (off) to "
                           f"127, not {tolerance!r}")
    return int(tolerance)


@dataclass
class SpriteGenerator:
    G: torch.nn.Module
    z_dim: int
    resolution: int
    channels: int
    background: str           # what the model was trained on: white | black | random | transparent
    family: str
    source: str               # where it was loaded from
    device: torch.device
    state: dict
    encoder: torch.nn.Module | None = None   # AEGAN: image -> latent, for interpolating real sprites
    bg_tolerance: int = BACKGROUND_TOLERANCE  # snap_background's; 0 = the network's raw output

    def latents(self, n: int, seed: int) -> torch.Tensor:
        """(n, z_dim) standard normal latents, a function of the seed alone."""
        check_count(n)
        g = torch.Generator().manual_seed(int(seed))
        return torch.randn(n, self.z_dim, generator=g)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """Latents (N, z) -> images (N, C, H, W) in [-1, 1] on the CPU, in batches of `batch`; the
        background snapped to its exact colour (`bg_tolerance`)."""
        outs = []
        for i in range(0, len(z), batch):
            x = self.G(z[i:i + batch].to(self.device)).float().clamp(-1, 1).cpu()
            outs.append(snap_background(x, self.background, self.bg_tolerance))
        return torch.cat(outs) if outs else torch.empty(0, self.channels, self.resolution, self.resolution)

    def arrays_from(self, z: torch.Tensor, batch: int = 256) -> np.ndarray:
        """Given latents -> uint8 (N, H, W, C)."""
        return to_uint8(self.decode(z, batch))

    def tensors(self, n: int, seed: int = 0, truncation: float = 1.0, batch: int = 256) -> torch.Tensor:
        """n images as a float tensor (N, C, H, W) in [-1, 1]. truncation < 1 trades variety for quality."""
        if not 0 < truncation <= 2:
            raise PokeganError(f"truncation {truncation} must be in (0, 2]; 1 = no truncation")
        return self.decode(self.latents(n, seed) * truncation, batch)

    def arrays(self, n: int, seed: int = 0, truncation: float = 1.0, batch: int = 256) -> np.ndarray:
        """n images as uint8 (N, H, W, C): RGB, or RGBA for a model trained on transparent sprites."""
        return to_uint8(self.tensors(n, seed, truncation, batch))

    @torch.inference_mode()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) in [-1, 1] -> latents, for models with an encoder (AEGAN)."""
        if self.encoder is None:
            raise PokeganError(f"this {self.family} model has no encoder; only an aegan model can encode "
                               "real sprites (interpolate between seeds instead)")
        return self.encoder(images.to(self.device)).float().cpu()

    def generate(self, n: int = 16, seed: int = 0, truncation: float = 1.0, as_tensor: bool = False,
                 batch: int = 256, types: list[str] | None = None):
        """n new sprites: PIL images (default) or a tensor (N, C, H, W) in [-1, 1] with as_tensor=True.

        `types` is for type-conditioned models; the families so far are unconditional and refuse it.
        """
        if types:
            raise PokeganError(f"this {self.family} model is not type-conditioned; generate without a type")
        if as_tensor:
            return self.tensors(n, seed, truncation, batch)
        from PIL import Image

        mode = "RGBA" if self.channels == 4 else "RGB"
        return [Image.fromarray(a, mode) for a in self.arrays(n, seed, truncation, batch)]


def check_count(n) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise PokeganError(f"the number of images must be a whole number, not {n!r}")
    if n < 1 or n > MAX_IMAGES:
        raise PokeganError(f"the number of images must be between 1 and {MAX_IMAGES:,}, not {n}")
    return int(n)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] (N, C, H, W) -> uint8 (N, H, W, C)."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def pretrained_path() -> Path:
    """The pretrained generator shipped inside the package."""
    return Path(__file__).parent / "assets" / "pretrained"


def family_from_state(state: dict, path: str | Path):
    """The model family a checkpoint's state describes, ready to `build()` its networks as the run did:
    its configuration, size, channels and the background the run resolved ("dataset" -> white)."""
    from pokegan.models.base import get_family
    from pokegan.training.config import TrainConfig

    try:
        cfg = TrainConfig.from_dict(state["config"])
    except (PokeganError, TypeError) as e:
        raise PokeganError(f"{path}: checkpoint configuration is from an incompatible pokegan version "
                           f"({state.get('version')}): {e}") from None
    family = get_family(cfg.family)(cfg, int(state["resolution"]), int(state["channels"]))
    family.background = state.get("background", family.background)
    return family


def load_generator(path: str | Path | None = None, device: str = "cpu", ema: bool = True,
                   bg_tolerance: int = BACKGROUND_TOLERANCE) -> SpriteGenerator:
    """A generator from a run folder or checkpoint folder; None = the shipped pretrained model. `ema`: the
    EMA generator where the run kept one (its average over the budget's end, where `average_tail` made one).
    `bg_tolerance`: see `snap_background` (0 = the network's raw output)."""
    from pokegan.training import checkpoint as ckpt

    bg_tolerance = check_tolerance(bg_tolerance)
    if path is None:
        path = pretrained_path()
        if not (path / ckpt.STATE).exists():
            raise PokeganError(f"no pretrained model is shipped in this install ({path}); give a run folder "
                               "or checkpoint, or train one with `pokegan train`")
    state, weights, _ = ckpt.read(path, train_state=False)
    family = family_from_state(state, path)
    cfg = family.cfg
    nets = family.build()
    key = "G_ema" if ema and state.get("ema") and any(k.startswith("G_ema.") for k in weights) else "G"
    if key == "G_ema" and state.get("average") and any(k.startswith("G_avg.") for k in weights):
        key = "G_avg"  # average_tail: the EMA generator averaged over the budget's last stretch
    G = nets["G"]
    try:
        G.load_state_dict(ckpt.subdict(weights, key))
    except RuntimeError as e:
        raise PokeganError(f"{path}: the weights do not fit a {cfg.family} generator for "
                           f"{state['resolution']}px ({str(e).splitlines()[0]}). Is it from another version?") from None
    if key == "G_ema" and "ema_bn_images" not in state["config"]:
        # saved before checkpoints carried the EMA generator's own batch-norm statistics: recompute them
        from pokegan.models.base import recalibrate_ema

        recalibrate_ema(G.requires_grad_(False), family.z_dim, cfg)
    dev = torch.device(device)
    G = G.to(dev).eval().requires_grad_(False)
    encoder = None
    if "E" in nets and any(k.startswith("E.") for k in weights):  # AEGAN keeps its encoder
        encoder = nets["E"]
        encoder.load_state_dict(ckpt.subdict(weights, "E"))
        encoder = encoder.to(dev).eval().requires_grad_(False)
    return SpriteGenerator(G=G, z_dim=family.z_dim, resolution=int(state["resolution"]),
                           channels=int(state["channels"]), background=state.get("background", "white"),
                           family=cfg.family, source=str(path), device=dev, state=state, encoder=encoder,
                           bg_tolerance=bg_tolerance)


def export_generator(run: str | Path, out: str | Path, half: bool = True, extra: dict | None = None) -> Path:
    """Write a small, inference-only copy of a run's generator (EMA if kept): weights as fp16 safetensors
    and state.json with the configuration, into the folder `out` (made if missing; other files in it stay).
    `load_generator(out)` reads it."""
    import json

    from pokegan.training import checkpoint as ckpt

    loaded = load_generator(run)  # the EMA generator if kept, with its own batch-norm statistics
    state = loaded.state
    g = {f"G.{k}": (v.half() if half and v.is_floating_point() else v).contiguous()
         for k, v in loaded.G.state_dict().items()}
    keep = ("config", "family", "resolution", "channels", "background", "version", "kimg", "step",
            "num_images", "dataset", "average")
    slim = {k: state[k] for k in keep if k in state}
    slim.update({"ema": False, "exported_from": str(run), **(extra or {})})
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PokeganError(f"export --out {out}: that is a file; give a folder (new or existing) to write the "
                           "generator into")
    from safetensors.torch import save

    from pokegan.paths import atomic_write_bytes

    # Only the export's two files are written, each atomically; anything else in the folder (a model card) stays.
    atomic_write_bytes(out / ckpt.WEIGHTS, save(g))
    atomic_write_bytes(out / ckpt.STATE, json.dumps(slim, indent=1, sort_keys=True).encode())
    return out

