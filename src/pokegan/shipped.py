"""The pretrained generators shipped inside the package (folders under pokegan/assets/), and which one a
request without a model gets."""
from __future__ import annotations

from pathlib import Path

from pokegan import checkpoint as ckpt
from pokegan.errors import PokeganError

# The shipped models (folders under pokegan/assets/): the default, the one a request with a type picks, and the
# one trained with its own alpha that a request for transparent sprites picks.
DEFAULT_MODEL = "pretrained"
CONDITIONAL_MODEL = "pretrained-types"
ASSET_MODEL = "pretrained-sprites"


def default_model(conditional: bool = False, transparent: bool = False) -> str:
    """The shipped model a request without a model uses: with types the conditional one; for transparent
    sprites the asset model (its own alpha: no halo, one piece) where it is shipped; else the default."""
    if conditional:
        return CONDITIONAL_MODEL
    if transparent and ASSET_MODEL in shipped_models():
        return ASSET_MODEL
    return DEFAULT_MODEL


def shipped_models() -> dict[str, Path]:
    """Name -> folder of every pretrained generator shipped inside the package."""
    root = Path(__file__).parent / "assets"
    return {p.name: p for p in sorted(root.iterdir()) if (p / ckpt.STATE).is_file()} if root.is_dir() else {}


def pretrained_path(name: str = DEFAULT_MODEL) -> Path:
    """A pretrained generator shipped inside the package (the default one unless named), or a clear error."""
    models = shipped_models()
    if name not in models:
        raise PokeganError(f"no pretrained model {name!r} is shipped in this install"
                           + (f" (shipped: {', '.join(models)})" if models else "")
                           + "; give a run folder or checkpoint, or train one with `pokegan train`")
    return models[name]
