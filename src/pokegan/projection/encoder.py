"""Training, saving and finding the projection encoder of a generator (`pokegan.models.inverter`).

Training needs nothing but the generator: a bank of its own samples (latents and the images it draws from
them, background snapped as the sprite pipeline does) is drawn once, then the encoder learns to read each
latent back (mean squared error on the noise; binary cross-entropy on a conditional model's type slots),
epoch after epoch over the bank, with a fresh bank each round so it does not learn the bank by heart.
On 2 cores a 16,384-sprite bank of a 64px model takes about a minute to draw.

The encoder is saved beside the generator's weights as `encoder.safetensors` + `encoder.json` (its class,
arguments, the id of the generator it reads and how it was trained); a run folder keeps it in `RUN/encoder/`,
since its checkpoints are replaced as the run goes on.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from pokegan.core.errors import PokeganError
from pokegan.models.conditioning import N_TYPES
from pokegan.core.paths import atomic_write_bytes

FILE, META = "encoder.safetensors", "encoder.json"


def model_id(g) -> str:
    """A short fingerprint of a generator's weights (and buffers): latents and encoders name the model they
    belong to by it."""
    if "model_id" not in g.cache:
        h = hashlib.blake2b(digest_size=12)
        for k, v in sorted(g.G.state_dict().items()):
            h.update(k.encode())
            h.update(v.detach().float().cpu().numpy().tobytes())
        g.cache["model_id"] = h.hexdigest()
    return g.cache["model_id"]


def encoder_folders(g) -> list[Path]:
    """Where a generator's encoder may be: beside its weights, then a run folder's `encoder/`."""
    from pokegan.models import checkpoint as ckpt

    src = Path(g.source)
    out = []
    try:
        out.append(ckpt.find(src))
    except PokeganError:
        pass
    for cand in (src, *src.parents[:3]):
        if (cand / "checkpoints").is_dir():
            out.append(cand / "encoder")
            break
    return out


def default_encoder_folder(g) -> Path:
    """Where `train_encoder` saves by default: a run folder's `encoder/`, else beside the weights."""
    folders = encoder_folders(g)
    if not folders:
        raise PokeganError(f"{g.source}: no folder to keep an encoder in; give one (--out)")
    return folders[-1]


def load_encoder(g, warn=print):
    """The encoder saved for `g` (None if there is none), read once and kept with `g`; a warning when it was
    trained for other weights."""
    if "encoder" not in g.cache:
        found = _read_encoder(g, warn)
        if found[0] is None:
            return found          # none yet: look again next time (one may be trained meanwhile)
        g.cache["encoder"] = found
    return g.cache["encoder"]


def _read_encoder(g, warn):
    from pokegan.models import checkpoint as ckpt
    from pokegan.models.networks import build_network
    from pokegan.runfiles import read_object

    for folder in encoder_folders(g):
        if not (folder / META).is_file() or not (folder / FILE).is_file():
            continue
        try:
            meta = read_object(folder / META, "encoder description")
            weights = ckpt.read_tensors(folder / FILE, "encoder weights")
            E = build_network(meta.get("encoder"), f"{folder / META}", ckpt.subdict(weights, "E"))
            ckpt.load_module(E, weights, "E", f"{folder / FILE}")
        except PokeganError as e:  # a damaged encoder costs the instant guess, not the projection
            warn(f"warning: {str(e).split('; ')[0]}; projecting without it (train it again: pokegan train-encoder "
                 "MODEL)")
            return None, None
        want = g.z_dim + (N_TYPES if g.conditional else 0)
        got = E.z_dim + (N_TYPES if E.types else 0)
        if got != want or E.types != g.conditional:
            raise PokeganError(f"{folder / META}: this encoder reads latents of width {got}, the model takes {want}; "
                               "train one for it: pokegan train-encoder MODEL")
        if meta.get("model_id") != model_id(g):
            warn(f"note: {folder / META} was trained for other weights of this model ({meta.get('model_id')}); "
                 "its guesses are only a start (retrain: pokegan train-encoder MODEL)")
        return E.to(g.device).eval().requires_grad_(False), meta
    return None, None


def sample_bank(g, n: int, gen: torch.Generator, batch: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """n latents (noise, then type slots for a conditional model) and the images the generator draws from them."""
    from pokegan.models.conditioning import type_input

    z = torch.randn(n, g.z_dim, generator=gen)
    if g.conditional:
        z = torch.cat([z, type_input(g.G).draw(n, gen).cpu()], 1)
    return z, g.decode(z, batch=batch)


def train_encoder(g, minutes: float = 10.0, bank: int = 16384, batch: int = 64, seed: int = 0, base: int = 32,
                  log=print):
    """A SpriteEncoder for `g`, trained for about `minutes` (and at least one pass over a first bank, on a slow or
    busy machine) on banks of `bank` of its samples. Returns
    (encoder, meta): meta says how it was trained and how well it reads held-back samples."""
    from pokegan.models.inverter import SpriteEncoder

    if not 0.05 <= minutes <= 24 * 60:
        raise PokeganError(f"minutes {minutes}: give 0.05 to 1440")
    if not 256 <= bank <= 1 << 20:
        raise PokeganError(f"bank {bank}: give 256 to 1,048,576 samples")
    if not 1 <= batch <= 4096:
        raise PokeganError(f"batch {batch}: give 1 to 4096")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    args = {"resolution": g.resolution, "channels": g.channels, "z_dim": g.z_dim, "types": g.conditional, "base": base}
    E = SpriteEncoder(**args).to(g.device)
    opt = torch.optim.Adam(E.parameters(), lr=2e-4, betas=(0.5, 0.999))
    z_val, x_val = sample_bank(g, 512, torch.Generator().manual_seed(seed + 10_000))
    t0, seen, rounds = time.time(), 0, 0
    deadline = t0 + 60 * minutes
    while rounds == 0 or time.time() < deadline:   # at least one whole pass over the first bank, however slow
        z_bank, x_bank = sample_bank(g, bank, gen)
        rounds += 1
        while True:  # epochs over this bank until it has been seen 8 times or time is up
            for i in torch.randperm(bank, generator=gen).split(batch):
                loss = encoder_loss(E, g, x_bank[i].to(g.device), z_bank[i].to(g.device))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                seen += len(i)
                if time.time() >= deadline and seen >= bank:
                    break
            if time.time() >= deadline or seen >= 8 * bank * rounds:
                break
        figures = evaluate_encoder(E, g, x_val, z_val)
        log(f"encoder: {seen:,} samples, {time.time() - t0:.0f}s, held-back latent error {figures['latent_mse']:.3f}"
            + (f", type accuracy {figures['type_accuracy']:.2f}" if g.conditional else ""))
    meta = {"encoder": {"class": "SpriteEncoder", "args": args}, "model_id": model_id(g),
            "trained": {"samples": seen, "bank": bank, "banks": rounds, "seconds": round(time.time() - t0, 1),
                        "seed": seed},
            "figures": evaluate_encoder(E, g, x_val, z_val)}
    return E.eval().requires_grad_(False), meta


def encoder_loss(E, g, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    out = E(x.to(g.device).float())
    loss = F.mse_loss(out[:, :g.z_dim], z[:, :g.z_dim])
    if g.conditional:
        loss = loss + F.binary_cross_entropy_with_logits(out[:, g.z_dim:], z[:, g.z_dim:])
    return loss


@torch.no_grad()
def evaluate_encoder(E, g, x: torch.Tensor, z: torch.Tensor) -> dict:
    """How well E reads samples it never trained on: latent mean squared error (1.0 = guessing zero) and,
    for a conditional model, how often the top-scored type is one of the sample's."""
    out = E(x.to(g.device).float()).cpu()
    fig = {"latent_mse": round(float(F.mse_loss(out[:, :g.z_dim], z[:, :g.z_dim])), 4)}
    if g.conditional:
        top = out[:, g.z_dim:].argmax(1)
        fig["type_accuracy"] = round(float(z[torch.arange(len(z)), g.z_dim + top].mean()), 4)
    return fig


def save_encoder(E, meta: dict, folder: str | Path) -> Path:
    """encoder.safetensors + encoder.json in `folder` (made if missing), each written atomically."""
    from safetensors.torch import save

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"E.{k}": v.detach().cpu().contiguous() for k, v in E.state_dict().items()}
    atomic_write_bytes(folder / FILE, save(tensors))
    atomic_write_bytes(folder / META, json.dumps(meta, indent=1).encode())
    return folder


def types_from_logits(logits: torch.Tensor, threshold: float = 0.5) -> tuple[int, ...]:
    """A type set from the encoder's 18 logits: the top type, and the second where it is likely too."""
    p = torch.sigmoid(logits.float())
    order = torch.argsort(p, descending=True).tolist()
    return (order[0], order[1]) if float(p[order[1]]) >= threshold else (order[0],)

