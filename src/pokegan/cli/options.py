"""Command-line flags shared by several commands: the sprite pipeline's options, one flag per entry of the
registry in pokegan.steps (name, default, bounds and help come from there), `--type` and `--recipe`."""
from __future__ import annotations

import argparse
import dataclasses

from pokegan.config import SpriteOptions


def add_sprite_options(p, finishing: bool = True) -> None:
    """The registry's options as flags (`finishing`: every one `generate` takes; else a walk's subset)."""
    from pokegan.steps import OPTIONS, RECIPES

    for o in OPTIONS:
        if not o.cli or not (finishing or o.walk):
            continue
        if o.kind is bool:
            p.add_argument(o.flag, action="store_true", default=None, help=o.help)
        else:
            p.add_argument(o.flag, type=o.kind, default=None, metavar="N" if o.kind is int else "X",
                           help=f"{o.help} ({o.default})")
    if finishing:
        p.add_argument("--recipe", choices=sorted(RECIPES), default=None,
                       help="named settings: game-ready = --transparent --dehalo 3 --min-fragment 24 (48 at 96px and "
                            "up), and --outline for a model keyed from white; flags given beside it win")
    p.add_argument("--type", dest="types", action="append", help="type conditioning (conditional models only)")


def sprite_options(args: argparse.Namespace, model=None, **fixed) -> SpriteOptions:
    """The `SpriteOptions` a command's flags ask for; a `--recipe` needs the loaded `model` (its size and
    channels), and without one only says that the sprites will be transparent."""
    from pokegan.errors import PokeganError
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
