"""The sprite pipeline's options and finishing steps, as one ordered registry.

Each option declares its name, kind, default, bounds, one line of help, whether the server takes it (and up
to what), whether the exported ONNX graph carries it, and how `eval` describes it. Everything that offers
sprite options derives from here: the `SpriteOptions` dataclass (pokegan.config), the command line's flags
(cli/options.py), the server's query parameters, limits and `/api/options` (web/query.py, web/server.py), `eval`'s
description, the `generator.json` of an export, and the page's controls. Named recipes ("game-ready") are
defined here once.

A finishing step is one file in this package that calls `register(Option(..., run=...))`: it runs on each
transparent (or RGB) sprite at its own size, in `order`, after alpha is made binary or the background keyed.
Adding a step is that file and its test; nothing else changes.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Option:
    name: str                    # the SpriteOptions field, the --flag (dashes), the query parameter
    kind: type                   # int, float or bool
    default: object
    help: str                    # one line, for --help and the page
    lo: float = 0                # bounds (ints and floats; inclusive, except a float's lo when lo_open)
    hi: float = 0
    rule: str = ""               # how a bad value is explained: "give ..."
    web_hi: float | None = None  # the server's top where it is lower than the library's (None: hi; 0: not served)
    web_lo: float | None = None  # the server's bottom where it is higher (None: lo)
    cli: bool = True             # a flag of `generate` (scale and the types are the commands' own)
    walk: bool = False           # `interpolate` takes it too (the walk's frames are finished sprites)
    needs_transparent: bool = False   # works on transparent sprites only
    in_onnx: bool = False        # the exported graph carries it
    order: int = 0               # finishing steps: the position in the pipeline
    run: Callable | None = None  # finishing steps: (sprite uint8 (H, W, C), value, context) -> sprite
    lo_open: bool = False        # a float's lower bound excluded (truncation > 0)
    forbid: tuple = ()           # values inside the bounds that are still refused (palette 1)
    # the value on sprites asked to be transparent when the option is not given ("on unless switched off"),
    # or a function of the sprites' size giving it; the option's field then defaults to None, "automatic"
    auto: object = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def field_default(self):
        """The SpriteOptions field's default: None ("automatic") for an option with an `auto` value."""
        return None if self.auto is not None else self.default

    def value(self, opts, transparent: bool, size: int = 64):
        """This option's value in `opts`, an automatic one resolved for `size`px sprites that are (not)
        transparent."""
        v = getattr(opts, self.name)
        if v is not None:
            return v
        return self.auto_at(size) if transparent else self.default

    def auto_at(self, size: int):
        """The automatic value for `size`px transparent sprites (None: the option has none)."""
        return self.auto(size) if callable(self.auto) else self.auto

    @property
    def auto_help(self) -> str:
        """How --help names the automatic value: 'on', '2', '24 at 64px'."""
        if self.auto is None:
            return ""
        v = self.auto_at(64)
        return "on" if v is True else f"{v} at 64px" if callable(self.auto) else str(v)

    def check(self, value) -> str | None:
        """None if `value` is allowed, else why not."""
        if value is None and self.auto is not None:
            return None
        if self.kind is bool:
            return None if isinstance(value, bool) else "true or false"
        whole = self.kind is int
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (not whole or isinstance(value, int))
        if ok and not ((self.lo < value if self.lo_open else self.lo <= value) and value <= self.hi):
            ok = False
        if ok and value in self.forbid:
            ok = False
        return None if ok else self.rule

    def describe(self, value) -> str:
        """How `eval` and the page name this option at `value`: 'dehalo 3', 'outline'."""
        label = self.name.replace("_", " ")
        return label if self.kind is bool else f"{label} {value}"

    @property
    def served(self) -> tuple[float, float] | None:
        """The server's bounds of a number option (None for a flag)."""
        if self.kind is bool:
            return None
        return (self.lo if self.web_lo is None else self.web_lo, self.hi if self.web_hi is None else self.web_hi)

    def to_json(self) -> dict:
        lo, hi = self.served or (None, None)
        return {"name": self.name, "flag": self.flag, "kind": self.kind.__name__, "default": self.default,
                "auto": self.auto_at(64), "min": lo, "max": hi,
                "help": self.help, "needs_transparent": self.needs_transparent, "in_onnx": self.in_onnx,
                "step": self.run is not None, "served": self.web_hi != 0}


# The options every sprite has, read by the pipeline itself (not steps): how latents and the network's output
# become pixels, transparency, and the upscale applied when files are written.
CORE = [
    Option("truncation", float, 1.0, "< 1: safer, less varied sprites (1 = off)", 0.0, 2.0,
           "give a number in (0, 2]; 1 = no truncation", lo_open=True, web_lo=0.05, walk=True),
    # A tanh output reaches +-1 only in the limit, so a generator trained on white paints its background at
    # 250-254: an invisible haze that breaks colour keys and that the FID network sees (the shipped model: FID
    # 43.0 -> 38.4 snapped).
    Option("bg_tolerance", int, 5, "uint8 levels: pixels this close to a white or black training background, in "
           "every channel, are drawn as the background itself; 0 = raw", 0, 127, "uint8 levels from 0 (off) to 127",
           web_hi=0, walk=True, in_onnx=True),
    Option("alpha_threshold", int, 128, "RGBA models: alpha at or above this is opaque, below is clear; 0 = soft",
           0, 255, "give 1-255, or 0 to keep the soft alpha", web_hi=0, walk=True, in_onnx=True),
    Option("transparent", bool, False, "models trained on white or black: that background, where it reaches the "
           "border, becomes transparent (RGBA PNGs and sheet), for game engines", in_onnx=True),
    # pixels this close to the background count as background: clears the pale fringe resizing left around
    # outlines (white eyes inside the outline stay: they do not touch the border)
    Option("key_tolerance", int, 32, "--transparent: pixels this many uint8 levels or fewer from the background, "
           "in every channel, count as background; 0 = the exact colour", 0, 255,
           "uint8 levels from 0 (the exact colour) to 255", web_hi=0, in_onnx=True),
    Option("scale", int, 1, "nearest-neighbour upscale factor of the files", 1, 32,
           "a whole upscale factor from 1 to 32", web_hi=8, cli=False),
]

def min_fragment_for(size: int) -> int:
    """Loose pieces under about half a percent of the canvas: 24 pixels at 64px, 48 at 96px and above."""
    return 48 if size >= 96 else 24


_STEPS: dict[str, Option] = {}


def register(option: Option) -> Option:
    """Add a finishing step (its module calls this when imported)."""
    if option.run is None:
        raise ValueError(f"step {option.name}: a step needs run(sprite, value, context)")
    if option.name in _STEPS or any(o.name == option.name for o in CORE):
        raise ValueError(f"step {option.name}: registered twice")
    _STEPS[option.name] = option
    return option


def _discover() -> None:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


_discover()
STEPS: list[Option] = sorted(_STEPS.values(), key=lambda o: (o.order, o.name))   # the pipeline's order
OPTIONS: list[Option] = CORE + STEPS                                             # every sprite option
BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}


def game_ready(size: int, channels: int) -> dict:
    """Transparent sprites ready for a game: the clean-up steps that are automatic on transparent sprites
    (`auto`), spelt out at their values for `size`px (each step's cost in FID: benchmarks/RESULTS.md)."""
    return {"transparent": True, **automatic(size)}


def automatic_off() -> dict:
    """Every option with an automatic value, switched off: {'dehalo': 0, 'min_fragment': 0, ...}; what an exported
    graph, which carries none of them, is compared with."""
    return {s.name: s.kind(0) for s in STEPS if s.auto is not None}


def automatic(size: int) -> dict:
    """Every option with an automatic value, at its value for `size`px transparent sprites."""
    return {s.name: s.auto_at(size) for s in STEPS if s.auto is not None}


# Named recipes: settings for a model of a given size and channel count; chosen with `--recipe NAME`, the
# server's `recipe=NAME` and the page's checkbox. Options given beside a recipe win over its settings.
RECIPES: dict[str, Callable[[int, int], dict]] = {"game-ready": game_ready}


def recipe(name: str, size: int, channels: int) -> dict:
    from pokegan.core.errors import PokeganError

    if name not in RECIPES:
        raise PokeganError(f"unknown recipe {name[:40]!r}; the recipes: {', '.join(RECIPES)}")
    return RECIPES[name](size, channels)


def as_flags(settings: dict) -> str:
    """Settings as the command line's flags: {'transparent': True, 'dehalo': 3} -> '--transparent --dehalo 3'."""
    return " ".join(BY_NAME[k].flag if BY_NAME[k].kind is bool else f"{BY_NAME[k].flag} {v}"
                    for k, v in settings.items() if v not in (False, None))
