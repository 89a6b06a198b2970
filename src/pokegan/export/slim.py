"""Exporting a trained generator for use elsewhere: a small inference-only copy (fp16 safetensors +
state.json) that `load_generator` and `pokegan generate` read like any checkpoint."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save

from pokegan.models import checkpoint as ckpt
from pokegan.core.errors import PokeganError
from pokegan.core.paths import atomic_write_bytes
from pokegan.generator.sprites import load_generator

# What an inference-only copy keeps of a checkpoint's state: enough to rebuild and describe the generator.
KEEP = ("config", "family", "resolution", "channels", "background", "version", "kimg", "step", "num_images",
        "dataset", "palette", "generator", "encoder")


def export_generator(run: str | Path, out: str | Path, half: bool = True, extra: dict | None = None) -> Path:
    """Write a run's generator (EMA if kept, with its own batch-norm statistics) as safetensors (fp16 unless
    `half` is False) and state.json into the folder `out` (made if missing), and its type sampler where it has
    one. Only those files are written, the first two atomically; anything else in the folder (a model card) stays."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PokeganError(f"export --out {out}: that is a file; give a folder (new or existing) to write the "
                           "generator into")
    state, _, _ = ckpt.read(run, train_state=False)
    if "generator" in state:
        loaded = load_generator(run)
    else:  # saved before checkpoints named their generator: re-saved with its description
        from pokegan.export.legacy import load_legacy

        loaded = load_legacy(run)
    loaded.decode(loaded.latents(4, 0))   # a generator whose output is not finite is refused here, by name
    nets = {"G": loaded.G, **({"E": loaded.encoder} if loaded.encoder is not None else {})}
    g = {f"{name}.{k}": (v.half() if half and v.is_floating_point() else v).contiguous()
         for name, net in nets.items() for k, v in net.state_dict().items()}
    big = [k for k, v in g.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if big:
        raise PokeganError(f"{run}: {big[0]} holds values beyond float16's range; export it with --fp32")
    slim = {k: loaded.state[k] for k in KEEP if k in loaded.state}
    slim["generator"] = loaded.spec
    slim.update({"ema": False, "exported_from": str(run), **(extra or {})})
    if "palette" not in slim and Path(loaded.state.get("data", "")).is_file():  # trained before runs kept it
        slim["palette"] = loaded.training_palette().tolist()
    if loaded.conditional:  # which types it can draw, for `pokegan models` and the page, without the weights
        slim["types_seen"] = list(loaded.types_seen)
    atomic_write_bytes(out / ckpt.WEIGHTS, save(g))
    atomic_write_bytes(out / ckpt.STATE, json.dumps(slim, indent=1, sort_keys=True).encode())
    if loaded.sampler is not None:  # its type sampler goes with it (it belongs to these weights)
        loaded.sampler.save(out)
    return out
