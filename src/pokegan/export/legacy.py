"""Checkpoints saved before they named their generator (no `generator` in state.json): rebuilt through
their model family, as the run built them. Only `pokegan export RUN --out DIR` reads them, re-saving the
generator with its description; everything else loads a generator from its own description alone."""
from __future__ import annotations

from pathlib import Path

from pokegan.models import checkpoint as ckpt
from pokegan.config import TrainConfig
from pokegan.core.errors import PokeganError
from pokegan.models.registry import get_family


def family_from_state(state: dict, path: str | Path):
    """The model family a checkpoint's state describes, ready to `build()` its networks as the run did."""
    cfg = TrainConfig.from_dict(state["config"], where=f"{path}: configuration")
    try:
        return get_family(cfg.family)(cfg, int(state["resolution"]), int(state["channels"]))
    except PokeganError as e:
        raise PokeganError(f"{path}: {e}") from None


def load_legacy(path: str | Path, device: str = "cpu"):
    """A SpriteGenerator from a checkpoint without a generator description (its EMA generator where kept),
    built through its family (one that has a description loads through `load_generator`)."""
    from pokegan.generator.sprites import assemble

    state, weights, _ = ckpt.read(path, train_state=False)
    key = "G_ema" if state.get("ema") and any(k.startswith("G_ema.") for k in weights) else "G"
    where = f"{path}: the {state['family']} generator for {state['resolution']}px"
    return assemble(*rebuild(state, weights, key, path, where), state, path, device)


def rebuild(state: dict, weights: dict, key: str, path, where: str):
    """(G, encoder, z_dim, spec) of a checkpoint without a generator description, built through its family."""
    family = family_from_state(state, path)
    nets = family.build()
    G = nets["G"]
    ckpt.load_module(G, weights, key, where)
    if key == "G_ema" and "ema_bn_images" not in state["config"]:
        # saved before checkpoints carried the EMA generator's own batch-norm statistics: recompute them
        from pokegan.models.ema import recalibrate_ema

        recalibrate_ema(G.requires_grad_(False), family.z_dim, family.cfg)
    encoder = None
    if "E" in nets and any(k.startswith("E.") for k in weights):  # AEGAN keeps its encoder
        encoder = nets["E"]
        ckpt.load_module(encoder, weights, "E", f"{path}: the aegan encoder")
    return G, encoder, family.z_dim, family.generator_spec()
