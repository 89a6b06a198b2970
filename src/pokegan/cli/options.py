"""What several commands share: the sprite pipeline's options as flags, one per entry of the registry in
pokegan.steps (name, default, bounds and help come from there), `--type` and `--recipe`; and the model a
command loads when it names none."""
from __future__ import annotations

import argparse
import dataclasses

from pokegan.config import SpriteOptions


def add_sprite_options(p, finishing: bool = True) -> None:
    """The registry's options as flags (`finishing`: every one `generate` takes; else a walk's subset)."""
    from pokegan.steps import OPTIONS, RECIPES, as_flags, recipe

    for o in OPTIONS:
        if not o.cli or not (finishing or o.walk):
            continue
        auto = f"; with --transparent: {o.auto_help} unless given" if o.auto is not None else ""
        if o.kind is bool:
            p.add_argument(o.flag, action="store_true", default=None, help=o.help)
        else:
            p.add_argument(o.flag, type=o.kind, default=None, metavar="N" if o.kind is int else "X",
                           help=f"{o.help} ({o.default}{auto})")
    if finishing:
        p.add_argument("--recipe", choices=sorted(RECIPES), default=None,
                       help=f"named settings: game-ready = {as_flags(recipe('game-ready', 64, 3))} at 64px (the "
                            "automatic clean-up of --transparent, spelt out); flags given beside it win")
    p.add_argument("--type", dest="types", action="append", help="draw this type (give two for a pair): models with "
                   "type inputs or a type sampler (the shipped one has one)")


def sprite_options(args: argparse.Namespace, model=None, **fixed) -> SpriteOptions:
    """The `SpriteOptions` a command's flags ask for; a `--recipe` needs the loaded `model` (its size and
    channels), and without one only says that the sprites will be transparent."""
    from pokegan.core.errors import PokeganError
    from pokegan.steps import recipe

    names = [f.name for f in dataclasses.fields(SpriteOptions)]
    given = {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}
    base = {}
    if getattr(args, "recipe", None):
        base = recipe(args.recipe, model.resolution, model.channels) if model is not None else {"transparent": True}
    try:
        return SpriteOptions.of(**{**base, **given, **fixed})
    except PokeganError as e:  # name the flag, not the field
        bad = next((k for k in names if str(e).startswith(k + " ")), None)
        raise PokeganError(f"--{bad.replace('_', '-')}{str(e)[len(bad):]}" if bad else str(e)) from None


def load_model(model, device: str, conditional: bool, transparent: bool = False):
    """The run asked for; with none, the shipped default, for every request (types by its type sampler,
    transparent sprites keyed from white and cleaned)."""
    from pokegan.generator.sprites import load_generator

    if model:
        return load_generator(model, device=device)
    return load_generator(device=device, conditional=conditional, transparent=transparent)


def load_for(sources, model, device: str, conditional: bool = False):
    """The model asked for; without one, the model a latent file among `sources` names if it is shipped or
    present, else the shipped model for the request."""
    import json
    from pathlib import Path

    from pokegan.generator.sprites import load_generator
    from pokegan.generator.shipped import shipped

    if not model:
        for s in sources:
            if str(s).lower().endswith(".json") and Path(s).is_file():
                try:
                    named = json.loads(Path(s).read_text()).get("model", {}).get("source")
                except (OSError, ValueError, AttributeError):
                    named = None
                if isinstance(named, str) and (shipped(named) is not None or Path(named).exists()):
                    g = load_generator(named, device=device)
                    if g.typed or not conditional:
                        return g
    if model:
        return load_generator(model, device=device)
    return load_generator(device=device, conditional=conditional)


def model_and_options(args: argparse.Namespace):
    """`generate`'s model and sprite options: the request's counts checked, then the model (a projection's
    source may name it; types or --by-type ask for a typed one), then the options (a recipe's settings
    depend on the model's size and channels)."""
    from pokegan.generator.limits import check_batch, check_count

    check_count(args.n)
    check_batch(args.batch)
    early = sprite_options(args)   # bad option values fail before a model loads
    if getattr(args, "near", None):
        g = load_for([args.near], args.model, args.device, conditional=bool(early.types))
    else:
        g = load_model(args.model, args.device, conditional=bool(early.types or args.by_type),
                       transparent=early.transparent)
    return g, sprite_options(args, g)
