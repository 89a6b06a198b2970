"""Fine-tuning from a trained generator (`pokegan train --init-from MODEL --d-warmup-kimg K`).

A generator fine-tuned against a fresh discriminator is taken apart before the discriminator has learnt
anything (measured: a shipped FID-38 generator at FID 64 after 136 kimg). So the discriminator first trains
alone against the frozen generator for `d_warmup_kimg` (TrainConfig), and only then does the generator move.
An unconditional generator may start a conditional run: the inputs it lacks start at zero, so at the start
it draws exactly what it drew before.
"""
from __future__ import annotations

from pathlib import Path

import torch

from pokegan import checkpoint as ckpt
from pokegan.errors import PokeganError


def widened(saved: dict[str, torch.Tensor], target: dict[str, torch.Tensor], where: str) -> dict[str, torch.Tensor]:
    """An unconditional generator's weights for its conditional twin: tensors that gained inputs (the first
    layer's, which also reads the type embedding after the noise) are zero-padded at the end, so the new
    inputs start with no effect and the singular values (spectral norm) stay as they were; parts the
    unconditional model lacks (the type input, the per-block modulation) keep the new network's own start.
    Anything else that differs is an error."""
    out = {}
    for k, t in target.items():
        v = saved.get(k)
        if v is None:
            if not k.startswith(("cond.", "type_mods.")):
                raise PokeganError(f"{where}: its generator has no {k}; it is not this family's unconditional twin")
            out[k] = t
        elif v.shape == t.shape:
            out[k] = v
        elif v.ndim == t.ndim and sum(a != b for a, b in zip(v.shape, t.shape)) == 1 and \
                all(a <= b for a, b in zip(v.shape, t.shape)):
            pad = torch.zeros_like(t, dtype=v.dtype)
            pad[tuple(slice(0, n) for n in v.shape)] = v
            out[k] = pad
        else:
            raise PokeganError(f"{where}: {k} is {tuple(v.shape)} there and {tuple(t.shape)} here")
    return out


def init_generator(trainer, source: str) -> str:
    """Start `trainer`'s generator (and its EMA) from another model's generator: a shipped model's name, or a
    run or checkpoint folder of the same family, size and channels. The discriminator, optimisers and kimg
    start fresh; returns the folder the weights came from (kept in the run's record)."""
    from pokegan.models.conditioning import type_set_counts
    from pokegan.shipped import shipped

    path = shipped(source) or Path(source)
    state, weights, _ = ckpt.read(path, train_state=False)
    where = f"--init-from {source}"
    cfg = trainer.cfg
    theirs = (state["family"], state["resolution"], state["channels"], bool(state["config"].get("conditional")))
    ours = (cfg.family, trainer.ds.size, trainer.feed.channels, bool(cfg.conditional))
    widen = theirs[3] is False and ours[3] is True
    if theirs[:3] != ours[:3] or (theirs[3] != ours[3] and not widen):
        raise PokeganError(f"{where}: that model is a {theirs[0]} at {theirs[1]}px with {theirs[2]} channels"
                           f"{', type-conditioned' if theirs[3] else ''}; this run trains a {ours[0]} at "
                           f"{ours[1]}px with {ours[2]} channels{', type-conditioned' if ours[3] else ''}")
    key = "G_ema" if any(k.startswith("G_ema.") for k in weights) else "G"
    part = {k: v.float() for k, v in ckpt.subdict(weights, key).items()}
    if widen:
        part = widened(part, trainer.G.state_dict(), where)
    ckpt.load_module(trainer.G, {f"G.{k}": v for k, v in part.items()}, "G", f"{where}: its generator")
    if trainer.family.conditional:  # this run's data keeps its own type-set counts
        trainer.G.cond.counts.copy_(type_set_counts([lab.get("types") or () for lab in trainer.ds.labels]))
    if trainer.ema is not None:
        trainer.ema.net.load_state_dict(trainer.G.state_dict())
        trainer.ema.fresh = False
    return str(path)
