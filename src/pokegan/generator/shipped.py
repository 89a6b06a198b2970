"""The pretrained generators shipped inside the package (folders under pokegan/assets/), and which one a
request without a model gets."""
from __future__ import annotations

from pathlib import Path

from pokegan.models import checkpoint as ckpt
from pokegan.core.errors import PokeganError

# The shipped model every request without a model gets: plain, transparent (keyed from white and cleaned,
# `pokegan.steps`) and typed (its type sampler picks, `pokegan.generator.type_sampler`)
DEFAULT_MODEL = "pretrained"

# Shipped models that were retired: the model that answers the name now, and why
RETIRED = {"pretrained-sprites": (DEFAULT_MODEL, "the RGBA model for transparent sprites (FID 85.5): the default "
                                                 "keyed from white and cleaned draws better ones (FID 40.6)"),
           "pretrained-types": (DEFAULT_MODEL, "the type-conditioned model, FID 46.7 at 300 kimg: the default's type "
                                               "sampler draws asked-for types from its own sprites, FID 38.5")}


def default_model(conditional: bool = False, transparent: bool = False) -> str:
    """The shipped model a request without a model uses: one flagship for every request (types, transparency)."""
    return DEFAULT_MODEL


def shipped_models() -> dict[str, Path]:
    """Name -> folder of every pretrained generator shipped inside the package."""
    root = Path(__file__).parents[1] / "assets"
    return {p.name: p for p in sorted(root.iterdir()) if (p / ckpt.STATE).is_file()} if root.is_dir() else {}


def shipped(name, paths_first: bool = True) -> Path | None:
    """The folder of a shipped model by its name or a retired name (None for anything else: a path). A name the
    user gives is a path first where one exists (`paths_first`); the name of the default, which no user typed,
    never is, so a folder called `pretrained` where pokegan runs does not hide the shipped model."""
    name = str(name)
    if paths_first and Path(name).exists():
        return None
    models = shipped_models()
    if name in RETIRED and name not in models:
        name = RETIRED[name][0]
    return models.get(name)


def answered_by(name) -> str | None:
    """For a retired name: the line that says which model answers it now, and why."""
    name = str(name)
    if name in RETIRED and name not in shipped_models() and not Path(name).exists():
        return f"{name} is retired ({RETIRED[name][1]}); {RETIRED[name][0]} answers it"
    return None


def pretrained_path(name: str = DEFAULT_MODEL) -> Path:
    """A pretrained generator shipped inside the package (the default one unless named), or a clear error; only
    the package's own folders are looked at, never the working directory."""
    path = shipped(name, paths_first=False)
    if path is None:
        models = shipped_models()
        raise PokeganError(f"no pretrained model {name!r} is shipped in this install"
                           + (f" (shipped: {', '.join(models)})" if models else "")
                           + "; give a run folder or checkpoint, or train one with `pokegan train`")
    return path
