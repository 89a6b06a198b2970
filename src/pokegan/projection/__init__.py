"""Starting from a Pokémon a fan knows: projection, variations, type swaps and fusions.

    from pokegan import load_generator
    g = load_generator()
    p = g.project("pikachu", data="data/gen5-64.data")   # or an image file; p.latent, p.image, p.figures
    p.save("pikachu/")                                   # target.png, projection.png, latent.json
    near = g.generate(near=p, n=16, spread=0.3)          # variations that keep its identity
    row = g.fuse("pikachu", "charmander", data="data/gen5-64.data")

A projection is the latent the generator draws closest to the target: the projection encoder's guess in one
forward pass (`refine=False`), then refined by optimisation (`refine.py`). Its latent file names the model
it belongs to, so it is never silently drawn by another.
"""
from __future__ import annotations

import inspect
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from pokegan.config import SpriteOptions
from pokegan.core.errors import PokeganError
from pokegan.projection.targets import Target, read_target

LATENT_FORMAT = "pokegan-latent/1"
DEFAULT_SPREAD = 0.3   # variations: noise of this strength added to the projection's, renormalised
MAX_SPREAD = 4.0
SWAP_SHARPNESS = 3     # a type swap by style: p(type | z) ** this picks the latents it paints with (of 1.5, 3, 6
#                        measured, 3 drew the asked type most often: benchmarks/RESULTS.md)
SWAP_CANDIDATES = 16   # a type swap by style: repaints tried per sprite, the one read most as the type kept (16: 55.6%
#                        of swaps read as the type, 8: 51.4%, 1: 48.6%, on 24 species; benchmarks/RESULTS.md)
SWAP_SPREAD = 0.6      # a type sampler's type swap: how far around the projection it looks for the asked type


@dataclass
class Projection:
    latent: torch.Tensor            # (width,): the noise, then a conditional model's 18 type slots
    offsets: dict | None            # FastGAN's feature offsets {side: (1, C, side, side)} (refine.py), or None
    types: tuple[str, ...]          # the type set it was drawn with (conditional models), or the source's
    image: np.ndarray               # (R, R, 4) the projected sprite, transparent
    target: Target | None           # what it was projected from (None when read from a latent file)
    figures: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)   # id, source, family, z_dim, conditional
    source: dict = field(default_factory=dict)  # kind, name, types

    def to_json(self) -> dict:
        return {"format": LATENT_FORMAT, "model": self.model, "source": self.source, "types": list(self.types),
                "latent": [round(float(v), 6) for v in self.latent],
                "offsets": {str(k): {"shape": list(v.shape[1:]), "values": [round(float(x), 5) for x in v.flatten()]}
                            for k, v in (self.offsets or {}).items()},
                "figures": self.figures}

    def json_text(self) -> str:
        """latent.json's text: one top-level field a line (the long lists of numbers stay on theirs)."""
        fields = self.to_json()
        return "{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in fields.items()) + "\n}\n"

    def save(self, folder: str | Path) -> Path:
        """target.png (the source as the model saw it), projection.png and latent.json in `folder`."""
        from pokegan.core.files import check_output_dir, save_png
        from pokegan.core.paths import atomic_write_bytes

        out = check_output_dir(folder)
        if self.target is not None:
            save_png(self.target.rgba, out / "target.png")
        save_png(self.image, out / "projection.png")
        atomic_write_bytes(out / "latent.json", self.json_text().encode())
        return out


def model_card(g) -> dict:
    from pokegan.projection.encoder import model_id

    return {"id": model_id(g), "source": g.name, "family": g.family, "z_dim": g.z_dim,
            "conditional": g.conditional}


def transparent_sprites(g, z: torch.Tensor, offsets: dict | None = None) -> np.ndarray:
    """The finished, transparent sprites (N, R, R, 4) of latents (N, width) and feature offsets."""
    from pokegan.config import SpriteOptions

    return g.sprites(z, SpriteOptions(transparent=True), offsets=offsets)


def project(g, source, data: str | None = None, shiny: bool = False, refine: bool = True, seed: int = 0,
            extended: bool = True, warn=print) -> Projection:
    """The projection of `source` (a Pokémon's name in the dataset `data`, an image file, or a Target): the
    encoder's guess, refined unless `refine` is False; `extended`: with feature offsets where the model takes
    them (FastGAN), else the noise alone."""
    from pokegan.projection import refine as rf
    from pokegan.projection.encoder import load_encoder, types_from_logits
    from pokegan.core.type_names import TYPES

    rf.check_projectable(g)
    t0 = time.perf_counter()
    target = source if isinstance(source, Target) else read_target(str(source), g.resolution, data, shiny)
    for w in target.warnings:
        warn(f"warning: {w}")
    encoder, _ = load_encoder(g, warn=warn)
    reader = encoder if encoder is not None else g.encoder   # else AEGAN's own encoder, where there is one
    if reader is None and not refine:
        raise PokeganError(f"{g.name} has no projection encoder, so there is no instant projection; refine "
                           "instead, or train one: pokegan train-encoder MODEL")
    t, _ = rf.target_tensors(g, target.rgba)
    types_vec, types = None, ()
    if g.conditional:
        seen = set(g.types_seen)
        known = tuple(x for x in target.types if x in seen)
        if known:
            types = known[:2]
        elif encoder is not None:
            with torch.no_grad():
                types = tuple(TYPES[i] for i in types_from_logits(encoder(t)[0, g.z_dim:].cpu()))
        else:
            types = (g.types_seen[0],)
            warn(f"warning: no types known for {target.label} and no encoder to guess them; drawing it as {types[0]}")
        from pokegan.models.conditioning import multi_hot

        types_vec = multi_hot([types])
    else:
        types = tuple(target.types)
    figures, offsets = {}, None
    if reader is not None:
        with torch.no_grad():
            z = rf.guess(g, reader, t)[0]
        img = transparent_sprites(g, rf.with_types(z[None], types_vec))[0]
        figures["encoder"] = {**rf.figures(img, target.rgba), "seconds": round(time.perf_counter() - t0, 3)}
    if refine:
        z, offsets, loss = rf.refine(g, target.rgba, rf.starts(g, t, types_vec, reader, seed), types_vec, encoder,
                                     extended=extended)
        img = transparent_sprites(g, rf.with_types(z[None], types_vec), offsets)[0]
        figures["refined"] = {**rf.figures(img, target.rgba), "seconds": round(time.perf_counter() - t0, 3),
                              "loss": round(loss, 5), "offsets": bool(offsets)}
    latent = rf.with_types(z[None], types_vec)[0]
    image = transparent_sprites(g, latent[None], offsets)[0]
    return Projection(latent=latent, offsets=offsets, types=types, image=image, target=target, figures=figures,
                      model=model_card(g), source=target.describe())


def read_latent(g, path: str | Path, warn=print) -> Projection:
    """A latent file (`latent.json`) as a Projection for `g`: an error if its width does not fit the model, a
    warning when it was made with other weights."""
    from pokegan.runfiles import read_object

    meta = read_object(path, "latent file")
    if meta.get("format") != LATENT_FORMAT:
        raise PokeganError(f"{path}: not a pokegan latent file (format {str(meta.get('format'))[:40]!r}, expected "
                           f"{LATENT_FORMAT!r})")
    values = meta.get("latent")
    width = g.z_dim + (18 if g.conditional else 0)
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise PokeganError(f"{path}: 'latent' should be a list of numbers")
    made = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    if len(values) != width:
        raise PokeganError(f"{path}: a latent of {len(values)} values, made with {str(made.get('source'))[:80]}; "
                           f"{g.name} takes {width}. Project the source again with this model (pokegan project "
                           "SOURCE --model ...), or draw it with the model it names")
    latent = torch.tensor(values, dtype=torch.float32)
    if not torch.isfinite(latent).all() or latent.abs().max() > 1e4:
        raise PokeganError(f"{path}: the latent holds values that are not finite or are far out of range")
    from pokegan.projection.encoder import model_id

    if made.get("id") != model_id(g):
        warn(f"warning: {path} was projected with {str(made.get('source'))[:80]}, not {g.name}: the same numbers "
             "draw a different creature here")
    offsets = read_offsets(g, meta.get("offsets"), path)
    types = tuple(t for t in meta.get("types", []) if isinstance(t, str))[:2] if isinstance(meta.get("types"), list) else ()
    src = meta.get("source") if isinstance(meta.get("source"), dict) else {}
    return Projection(latent=latent, offsets=offsets, types=types, target=None,
                      image=transparent_sprites(g, latent[None], offsets)[0],
                      figures=meta.get("figures") if isinstance(meta.get("figures"), dict) else {},
                      model=model_card(g), source=src)


def read_offsets(g, raw, path) -> dict | None:
    """A latent file's feature offsets, checked against the sides and widths the model has."""
    from pokegan.projection.refine import offset_sides

    if not raw:
        return None
    sides = offset_sides(g)
    if not isinstance(raw, dict):
        raise PokeganError(f"{path}: 'offsets' should be an object of sides")
    out = {}
    for key, entry in raw.items():
        side = int(key) if isinstance(key, str) and key.isdigit() else None
        if side not in sides:
            raise PokeganError(f"{path}: offsets at side {str(key)[:12]!r}, but {g.name} takes them at "
                               f"{', '.join(map(str, sides)) or 'no side (noise only)'}")
        want = [g.G.w[side], side, side]
        values = entry.get("values") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or entry.get("shape") != want or not isinstance(values, list) \
                or len(values) != want[0] * side * side:
            raise PokeganError(f"{path}: the offsets at side {side} should have shape {want} and as many values")
        try:
            v = torch.tensor(values, dtype=torch.float32).reshape(1, *want)
        except (TypeError, ValueError):
            raise PokeganError(f"{path}: the offsets at side {side} should be numbers") from None
        if not torch.isfinite(v).all() or v.abs().max() > 1e4:
            raise PokeganError(f"{path}: the offsets at side {side} hold values that are not finite or far out of range")
        out[side] = v
    return out


def resolve(g, source, data: str | None = None, shiny: bool = False, warn=print) -> Projection:
    """A Projection from whatever names a starting point: a Projection, a latent file, a name or an image."""
    if isinstance(source, Projection):
        return source
    if isinstance(source, (str, Path)) and str(source).lower().endswith(".json"):
        return read_latent(g, source, warn)
    return project(g, source, data=data, shiny=shiny, warn=warn)


def near(g, start: Projection, n: int, spread: float = DEFAULT_SPREAD, seed: int = 0,
         types: tuple[str, ...] = ()) -> tuple[torch.Tensor, torch.Tensor | None]:
    """n latents (n, width) around a projection, and the latents whose skip-layer excitations they take (None: their
    own). The first is the projection itself, the others its noise moved by `spread` (renormalised to its length).
    `types` redraws them all as those types (a type swap): a conditional model sets its type slots; a type sampler
    with a generator that mixes styles (FastGAN) keeps the shapes and takes the colours and texture of latents it
    draws for the types, the repaint read most as the types kept (`_paint`: silhouette IoU 0.93 with the
    projection, 60.7% of swaps read as the type, benchmarks/RESULTS.md);
    another type sampler picks among `candidates` latents around the projection at a spread of at least
    SWAP_SPREAD. Draw them with the projection's feature offsets:
    g.sprites(z, opts, offsets=start.offsets, style=style)."""
    from pokegan.interpolate import variations

    if not isinstance(spread, (int, float)) or isinstance(spread, bool) or not 0 <= spread <= MAX_SPREAD:
        raise PokeganError(f"spread {spread!r}: give 0 (the projection itself) to {MAX_SPREAD} (far from it)")
    if types and not g.typed:
        raise PokeganError(f"a type swap needs a model that can be asked for a type; {g.name} cannot: fit it a "
                           f"type sampler (`pokegan types-fit {g.source} --data DATA`) or use the shipped one")
    z = start.latent
    out = torch.cat([z[None], variations(z, n - 1, float(spread), seed, g.z_dim)]) if n > 1 else z[None]
    if not types:
        return out, None
    if g.conditional:
        return g.with_types(out, tuple(types)), None
    g.check(SpriteOptions(types=tuple(types)))
    if mixes_styles(g):
        return out, _paint(g, out, start.offsets, tuple(types), seed)
    k = g.sampler.candidates
    cand = variations(z, n * k, max(float(spread), SWAP_SPREAD), seed, g.z_dim).reshape(n, k, -1)
    return g.sampler.pick(cand, seed, tuple(types)), None


def _paint(g, shapes: torch.Tensor, offsets: dict | None, types: tuple[str, ...], seed: int) -> torch.Tensor:
    """The style latents a type swap paints `shapes` (n, z) with: for each, SWAP_CANDIDATES latents the type sampler
    draws for the types (p(type | z) ** SWAP_SHARPNESS among its candidates), each shape drawn in each, and the
    repaint whose projection-encoder reading the type sampler finds most of the types in is kept (the model's own
    parts judge the repaint, as a colour change on another shape reads differently from the latent it came
    from). Without a projection encoder: the first draw."""
    from pokegan.core.type_names import TYPES
    from pokegan.projection import refine as rf
    from pokegan.projection.encoder import load_encoder

    painter, n, k = replace(g.sampler, sharpness=SWAP_SHARPNESS), len(shapes), SWAP_CANDIDATES
    encoder, _ = load_encoder(g, warn=lambda message: None)
    if encoder is None:
        return painter.draw(n, seed, types, g.z_dim)
    styles = painter.draw(n * k, seed, types, g.z_dim)                  # sprite i's: rows i*k to i*k+k-1
    drawn = g.decode(shapes.repeat_interleave(k, 0), offsets=offsets, style=styles)
    with torch.no_grad():
        score = g.sampler.net(rf.guess(g, encoder, drawn.to(g.device)))[:, [TYPES.index(t) for t in types]].sum(-1)
    best = score.reshape(n, k).argmax(1)
    return styles.reshape(n, k, -1)[torch.arange(n), best]


def mixes_styles(g) -> bool:
    """Whether the generator draws one latent's shape in another's skip-layer excitations (FastGAN)."""
    return "style" in inspect.signature(g.G.forward).parameters


def fuse(g, a: Projection, b: Projection, steps: int = 8) -> dict:
    """A fusion of two projections: `row`, the walk from a to b (steps frames, uint8 (T, R, R, 4)), `middle`,
    its midpoint, and for generators with skip-layer excitation (FastGAN) `mix`: a's shape in b's colours
    and b's shape in a's colours."""
    from pokegan.interpolate import walk

    if not 3 <= steps <= 64:
        raise PokeganError(f"steps {steps}: give 3 to 64 frames from one to the other")
    keys = torch.stack([a.latent, b.latent])
    t = torch.linspace(0, 1, steps)
    row = transparent_sprites(g, walk(keys, steps, "slerp", g.z_dim), blend(a.offsets, b.offsets, t))
    half = torch.tensor([0.5])
    middle = transparent_sprites(g, walk(keys, 3, "slerp", g.z_dim)[1:2], blend(a.offsets, b.offsets, half))[0]
    out = {"row": row, "middle": middle}
    if mixes_styles(g):
        out["mix"] = np.concatenate([mixed(g, a.latent[None], b.latent[None], a.offsets),
                                     mixed(g, b.latent[None], a.latent[None], b.offsets)])
    return out


def save_fusion(f: dict, a: Projection, b: Projection, out: str | Path, scale: int = 1,
                duration: int = 80) -> list[str]:
    """A fusion's files in the folder `out`: fusion.gif (there and back, `duration` ms a frame), fusion.png (the
    row as a strip), middle.png, mix.png where the family mixes, each upscaled `scale` times, and fusion.json
    (both projections, the files). Returns the names of the pictures written."""
    from pokegan.core.files import check_output_dir, gif_bytes, save_png
    from pokegan.core.paths import atomic_write_bytes
    from pokegan.core.pixels import upscale

    out = check_output_dir(out)
    frames = [upscale(x, scale) for x in f["row"]]
    atomic_write_bytes(out / "fusion.gif", gif_bytes(frames + frames[-2:0:-1], duration))
    save_png(np.concatenate(frames, axis=1), out / "fusion.png")
    save_png(upscale(f["middle"], scale), out / "middle.png")
    written = ["fusion.gif", "fusion.png", "middle.png"]
    if "mix" in f:
        save_png(upscale(np.concatenate(list(f["mix"]), axis=1), scale), out / "mix.png")
        written.append("mix.png")
    meta = {"model": a.model, "first": {**a.source, "latent": a.to_json()["latent"], "figures": a.figures},
            "second": {**b.source, "latent": b.to_json()["latent"], "figures": b.figures}, "steps": len(f["row"]),
            "files": written}
    atomic_write_bytes(out / "fusion.json", json.dumps(meta, indent=1).encode())
    return written


def blend(a: dict | None, b: dict | None, t: torch.Tensor) -> dict | None:
    """Feature offsets from a's to b's at fractions t (T,): (T, C, s, s) per side (a missing side is zeros)."""
    if not a and not b:
        return None
    out = {}
    for side in sorted(set(a or {}) | set(b or {})):
        oa = (a or {}).get(side)
        ob = (b or {}).get(side)
        oa = torch.zeros_like(ob) if oa is None else oa
        ob = torch.zeros_like(oa) if ob is None else ob
        out[side] = (1 - t)[:, None, None, None] * oa + t[:, None, None, None] * ob
    return out


def mixed(g, shape: torch.Tensor, colours: torch.Tensor, offsets: dict | None = None) -> np.ndarray:
    """Sprites with the shapes of latents `shape` (and its feature offsets) and the skip-layer excitations
    (colours, texture) of `colours`, finished as transparent sprites."""
    from pokegan.config import SpriteOptions

    return g.sprites(shape, SpriteOptions(transparent=True), offsets=offsets, style=colours)
