"""Command-line flags shared by several commands: the sprite pipeline's options (`SpriteOptions`)."""
from __future__ import annotations

import dataclasses

from pokegan.config import SpriteOptions


def add_sprite_options(p, finishing: bool = True) -> None:
    """The sprite pipeline's options as flags, their defaults and meanings from `SpriteOptions`."""
    d = SpriteOptions()
    p.add_argument("--truncation", type=float, default=d.truncation, help="< 1: safer, less varied sprites (1 = off)")
    p.add_argument("--bg-tolerance", type=int, default=d.bg_tolerance,
                   help="uint8 levels: pixels this close to a white or black training background, in every "
                        f"channel, are drawn as the background itself (tanh leaves a 250-254 haze); 0 = raw ({d.bg_tolerance})")
    p.add_argument("--alpha-threshold", type=int, default=d.alpha_threshold,
                   help=f"RGBA models: alpha at or above this is opaque, below is clear; 0 = soft ({d.alpha_threshold})")
    if not finishing:
        return
    p.add_argument("--transparent", action="store_true",
                   help="models trained on white or black: that background, where it reaches the border, becomes "
                        "transparent in the PNGs and sheet (RGBA), for game engines")
    p.add_argument("--key-tolerance", type=int, default=d.key_tolerance,
                   help="--transparent: pixels this many uint8 levels or fewer from the background, in every channel, "
                        f"count as background (clears the pale fringe around outlines); 0 = the exact colour ({d.key_tolerance})")
    p.add_argument("--dehalo", type=int, default=d.dehalo,
                   help="transparent sprites: clear near-white pixels on the edge, N rings deep at most (the white "
                        "rim a dark scene shows; a white body behind a dark outline stays)")
    p.add_argument("--min-fragment", type=int, default=d.min_fragment,
                   help="transparent sprites: remove loose opaque pieces smaller than N pixels (the largest stays)")
    p.add_argument("--outline", action="store_true",
                   help="transparent sprites: a one-pixel dark outline where the sprite has none")
    p.add_argument("--palette", type=int, default=d.palette, help="reduce each sprite to K colours (pixel-art look)")
    p.add_argument("--training-palette", action="store_true",
                   help="draw every sprite in the colours of the palette the training sprites share (64, kept with "
                        "the model): one palette for a whole game; with --palette K, K of those colours per sprite")
    p.add_argument("--type", dest="types", action="append", help="type conditioning (conditional models only)")


def sprite_options(args, **fixed) -> SpriteOptions:
    """The `SpriteOptions` a command's flags ask for."""
    from pokegan.errors import PokeganError

    names = [f.name for f in dataclasses.fields(SpriteOptions)]
    given = {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}
    try:
        return SpriteOptions.of(**{**given, **fixed})
    except PokeganError as e:  # name the flag, not the field
        bad = next((k for k in names if str(e).startswith(k + " ")), None)
        raise PokeganError(f"--{bad.replace('_', '-')}{str(e)[len(bad):]}" if bad else str(e)) from None
