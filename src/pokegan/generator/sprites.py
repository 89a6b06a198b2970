"""Making sprites: load a trained generator and draw through the one sprite pipeline every caller shares.

    from pokegan import load_generator
    g = load_generator()                                        # the shipped model; or a run/checkpoint folder
    images = g.generate(n=16, seed=0, transparent=True, palette=16, scale=2)   # PIL images

`pokegan generate`, `interpolate`, `eval`, the training loop's evaluation and the Python API all finish
sprites the same way, with the same `SpriteOptions`, so the same seed and options give the same pixels
everywhere: latents from the seed (drawn all at once, so image i does not depend on the batch size; picked
by the type sampler when types are asked), scaled by the truncation -> the network in eval mode (EMA
generator where the run kept one) -> the pipeline (pokegan.generator.pipeline: background snapped, keyed,
finishing steps) -> nearest-neighbour scale where files are written.

A generator file names its network's class and arguments, so the network is rebuilt from it alone, without
the training stack.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from pokegan.models import checkpoint as ckpt
from pokegan.config import SpriteOptions
from pokegan.generator.devices import resolve_device
from pokegan.generator.limits import check_batch, check_count, check_seed
from pokegan.generator.latents import LATENT_RULES, portable_gumbel, portable_latents, portable_type_sets
from pokegan.generator.shipped import default_model, pretrained_path, shipped, shipped_models
from pokegan.core.pixels import upscale
from pokegan.generator.pipeline import finish, key_colour, snap_background, to_uint8
from pokegan.core.errors import PokeganError
from pokegan.models.conditioning import N_TYPES, multi_hot, type_input
from pokegan.generator.type_sampler import TypeSampler, load_sampler, type_mask


@dataclass
class SpriteGenerator:
    G: torch.nn.Module
    z_dim: int
    resolution: int
    channels: int
    background: str           # what the model was trained on: white | black | random | transparent
    family: str
    source: str               # where it was loaded from
    device: torch.device
    state: dict
    encoder: torch.nn.Module | None = None   # AEGAN: image -> latent, for interpolating real sprites
    spec: dict | None = None                 # the generator's class and constructor arguments (models/networks.py)
    cache: dict = field(default_factory=dict)  # what is computed once per model: its id, its projection encoder
    sampler: TypeSampler | None = None       # types for a model without type inputs (pokegan.generator.type_sampler)

    @property
    def name(self) -> str:
        """A shipped model's name, else the path it was loaded from."""
        here = Path(self.source).resolve()
        return next((name for name, folder in shipped_models().items() if here == folder.resolve()), str(self.source))

    @property
    def conditional(self) -> bool:
        """Type-conditioned: its latents are [noise, 18 type slots] and `types` picks what it draws."""
        return type_input(self.G) is not None

    @property
    def typed(self) -> bool:
        """Draws a type when asked: type inputs (conditional), or a type sampler that picks its latents."""
        return self.conditional or self.sampler is not None

    @property
    def types_seen(self) -> tuple[str, ...]:
        """The types it can be asked for: a conditional model's training types, a type sampler's, else none."""
        cond = type_input(self.G)
        return cond.seen() if cond is not None else self.sampler.types if self.sampler is not None else ()

    def check(self, opts: SpriteOptions) -> SpriteOptions:
        """`opts` if this model can honour them; a clear error otherwise (before anything is written)."""
        if opts.types and not self.typed:
            raise PokeganError(f"this {self.family} model ({self.source}) cannot be asked for a type; generate without "
                               f"one, fit it a type sampler (`pokegan types-fit {self.source} --data DATA`), or use a "
                               "model trained with --conditional types")
        unseen = [t for t in opts.types if t not in self.types_seen]
        if unseen:
            raise PokeganError(f"this model never saw the type {unseen[0]!r} in training, so it cannot draw it; "
                               f"it knows: {', '.join(self.types_seen)}")
        key_colour(opts, self.background, self.channels, self.source)
        if opts.training_palette:
            self.training_palette()
        return opts

    def training_palette(self) -> np.ndarray:
        """The palette the model's training sprites share, uint8 (K, 3): kept in the run (or the exported
        copy); for runs from before runs kept it, drawn from the run's dataset if it is still where it was."""
        if self.state.get("palette"):
            pal = np.asarray(self.state["palette"])
            if pal.ndim != 2 or pal.shape[1] != 3 or not len(pal) or pal.min() < 0 or pal.max() > 255:
                raise PokeganError(f"{self.source}: its training palette is damaged (not K RGB colours in 0-255)")
            return pal.astype(np.uint8)
        data = self.state.get("data")
        if data and Path(data).is_file():
            from pokegan.steps.palette import training_palette
            from pokegan.data import load_dataset

            self.state["palette"] = training_palette(load_dataset(data).images).tolist()
            return np.asarray(self.state["palette"], np.uint8)
        raise PokeganError(f"{self.source} keeps no training palette and its dataset ({data or 'not recorded'}) is not "
                           "here to draw one from; use --palette K (each sprite's own K colours) instead")

    def latents(self, n: int, seed: int, rule: str = "torch", types: tuple[str, ...] = ()) -> torch.Tensor:
        """(n, z_dim) standard normal latents, a function of the seed alone: torch's generator (pokegan's
        default), or `portable_latents` (the exported web page's, which any language can follow). A conditional
        model's latents end in 18 type slots: `types` for every sprite, or (none given) type sets drawn as often
        as the training data has them, from a generator of their own seeded with `seed` (by the portable rule:
        from the words after the noise's). A model with a type sampler asked for `types` gets its picks
        (`typed_latents`); its latents carry the type, so pass them on with the same options."""
        if types:
            self.check(SpriteOptions(types=types))
            if not self.conditional:
                return self.typed_latents(n, seed, tuple(types), rule)
        z = self.noise(n, seed, rule)
        if not self.conditional:
            return z
        if types:
            c = multi_hot([tuple(types)] * n)
        elif rule == "portable":
            c = portable_type_sets(type_input(self.G).counts.cpu(), n, seed, self.z_dim)
        else:
            c = type_input(self.G).draw(n, torch.Generator().manual_seed(seed)).cpu()
        return torch.cat([z, c], 1)

    def noise(self, n: int, seed: int, rule: str = "torch") -> torch.Tensor:
        """The (n, z_dim) noise part of latents, from the seed alone by `rule` (see `latents`)."""
        check_count(n)
        if rule == "portable":
            return portable_latents(n, check_seed(seed), self.z_dim)
        if rule != "torch":
            raise PokeganError(f"latent rule {rule!r}: one of {', '.join(LATENT_RULES)}")
        return torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(check_seed(seed)))

    def typed_latents(self, n: int, seed: int, types: tuple[str, ...], rule: str = "torch") -> torch.Tensor:
        """A type sampler's latents for `types` (models without type inputs): candidates from the noise rule,
        one kept per sprite (pokegan.generator.type_sampler)."""
        if rule == "portable":  # as the exported page picks (latents.PORTABLE_RULE["type_sampler"])
            count = check_count(n) * self.sampler.candidates
            cand = portable_latents(count, check_seed(seed), self.z_dim).reshape(n, self.sampler.candidates, -1)
            gumbel = portable_gumbel(count, seed, self.z_dim, type_mask(types)).reshape(n, -1)
            return self.sampler.choose(cand, gumbel, types)
        if rule != "torch":
            self.noise(1, seed, rule)   # the same error as an untyped request
        return self.sampler.draw(check_count(n), check_seed(seed), types, self.z_dim)

    def latents_of_type(self, n: int, seed: int, type_name: str) -> torch.Tensor:
        """Latents asking for `type_name`: noise from `seed`, type sets drawn from the training data's sets that
        contain it (Fire alone, Fire/Flying, ...), as often as the data has them; a type sampler's latents of
        `type_name` for a model without type inputs."""
        self.check(SpriteOptions(types=(type_name,)))
        if not self.conditional:
            return self.typed_latents(n, seed, (type_name,))
        c = type_input(self.G).draw(n, torch.Generator().manual_seed(seed), within=type_name).cpu()
        return torch.cat([self.noise(n, seed), c], 1)

    def with_types(self, z: torch.Tensor, types: tuple[str, ...]) -> torch.Tensor:
        """Latents with their type slots set to `types` (a conditional model's; unchanged without types, and for a
        type sampler's model, whose latents carry their type already)."""
        if not types or not self.conditional:
            return z
        self.check(SpriteOptions(types=types))
        return torch.cat([z[:, :self.z_dim], multi_hot([tuple(types)] * len(z))], 1)

    def truncate(self, z: torch.Tensor, truncation: float) -> torch.Tensor:
        """The noise part of latents scaled by `truncation` (type slots stay as they are)."""
        if truncation == 1.0:
            return z
        return torch.cat([z[:, :self.z_dim] * truncation, z[:, self.z_dim:]], 1)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor, bg_tolerance: int = SpriteOptions.bg_tolerance, batch: int = 256,
               offsets: dict | None = None, style: torch.Tensor | None = None) -> torch.Tensor:
        """Latents (N, z) -> images (N, C, H, W) in [-1, 1] on the CPU, in batches of `batch`, the
        background snapped to its exact colour (`bg_tolerance` levels; 0 = raw). `offsets`: a projection's
        feature offsets ({side: (1 or N, C, side, side)}, FastGAN generators), added where the network draws;
        `style`: latents (N, z) whose skip-layer excitations (colours, texture) the sprites take (FastGAN)."""
        outs = []
        for i in range(0, len(z), check_batch(batch)):
            extra = {}
            if offsets:
                extra["offsets"] = {k: (v if len(v) == 1 else v[i:i + batch]).to(self.device) for k, v in offsets.items()}
            if style is not None:
                extra["style"] = style[i:i + batch].to(self.device)
            x = self.G(z[i:i + batch].to(self.device), **extra).float().clamp(-1, 1).cpu()
            if not torch.isfinite(x).all():
                raise PokeganError(f"{self.source}: the generator's output is not finite (NaN weights?); use an "
                                   "earlier checkpoint or snapshot")
            outs.append(snap_background(x, self.background, bg_tolerance))
        return torch.cat(outs) if outs else torch.empty(0, self.channels, self.resolution, self.resolution)

    def sprites(self, z: torch.Tensor, opts: SpriteOptions | None = None, batch: int = 256,
                offsets: dict | None = None, style: torch.Tensor | None = None) -> np.ndarray:
        """Given latents (and a projection's feature `offsets`, another sprite's `style`: see `decode`) ->
        finished sprites, uint8 (N, H, W, C) at the model's own size (no `scale`)."""
        opts = self.check(opts or SpriteOptions())
        width = self.z_dim + (N_TYPES if self.conditional else 0)
        if z.ndim != 2 or z.shape[1] != width:
            raise PokeganError(f"latents of shape {tuple(z.shape)}: this model takes (N, {width})"
                               + (f" ({self.z_dim} noise values, then 18 type slots)" if self.conditional else ""))
        z = self.truncate(self.with_types(z, opts.types), opts.truncation)
        if style is not None:
            style = self.truncate(self.with_types(style, opts.types), opts.truncation)
        return finish(to_uint8(self.decode(z, opts.bg_tolerance, batch, offsets, style)), opts, self.background, self.source,
                      self.training_palette() if opts.training_palette else None)

    def arrays(self, n: int, seed: int = 0, options: SpriteOptions | None = None, batch: int = 256,
               **settings) -> np.ndarray:
        """n finished sprites, uint8 (N, H, W, C) at the model's own size: RGB, or RGBA for transparent ones."""
        opts = SpriteOptions.of(options, **settings)
        return self.sprites(self.latents(n, seed, types=opts.types), opts, batch)

    def by_type(self, per_type: int = 8, seed: int = 0, options: SpriteOptions | None = None,
                types: tuple[str, ...] | None = None, **settings) -> tuple[list[str], np.ndarray]:
        """One row per type (every type the model saw, or `types`): (names, uint8 (T, per_type, H, W, C)). A
        conditional model keeps the seed's noise in every row, so a column shows one latent across types; a type
        sampler draws each row's own picks from the seed's candidates."""
        if not self.typed:
            raise PokeganError(f"by type: this {self.family} model ({self.source}) cannot be asked for a type; fit it "
                               f"a type sampler (`pokegan types-fit {self.source} --data DATA`) or use the shipped one")
        opts = SpriteOptions.of(options, **settings)
        names = list(types or self.types_seen)
        if not self.conditional:  # a type sampler: each row the seed's own picks for its type
            rows = [self.sprites(self.latents(per_type, seed, types=(t,)), SpriteOptions.of(opts, types=(t,)))
                    for t in names]
            return names, np.stack(rows)
        z = self.latents(per_type, seed)
        rows = [self.sprites(z, SpriteOptions.of(opts, types=(t,))) for t in names]
        return names, np.stack(rows)

    @torch.inference_mode()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) in [-1, 1] -> latents, for models with an encoder (AEGAN)."""
        if self.encoder is None:
            raise PokeganError(f"this {self.family} model has no encoder; only an aegan model can encode "
                               "real sprites (interpolate between seeds instead)")
        return self.encoder(images.to(self.device)).float().cpu()

    def generate(self, n: int = 16, seed: int = 0, options: SpriteOptions | None = None, batch: int = 256,
                 near=None, spread: float | None = None, data: str | None = None, **settings) -> list:
        """n new sprites as PIL images, finished and scaled exactly as `pokegan generate` writes them.

        Settings are `SpriteOptions` fields: truncation, transparent, min_fragment, outline, palette,
        training_palette, scale, bg_tolerance, alpha_threshold, key_tolerance, types. `near`: a projection, a
        latent file, an image file or a Pokémon's name (in the dataset `data`): the first sprite is its projection,
        the others variations `spread` away (pokegan.projection.near); with `types`, redrawn as those types.
        """
        from PIL import Image

        opts = SpriteOptions.of(options, **settings)
        if near is not None:
            from pokegan.projection import DEFAULT_SPREAD, near as around, resolve

            origin = resolve(self, near, data)
            z, style = around(self, origin, check_count(n), DEFAULT_SPREAD if spread is None else spread, seed,
                              opts.types)
            arr = self.sprites(z, opts, batch, origin.offsets, style)
        else:
            arr = self.arrays(n, seed, opts, batch)
        mode = "RGBA" if arr.shape[-1] == 4 else "RGB"
        return [Image.fromarray(np.ascontiguousarray(upscale(a, opts.scale)), mode) for a in arr]

    def project(self, source, data: str | None = None, shiny: bool = False, refine: bool = True, seed: int = 0):
        """The projection of a Pokémon's name (in the dataset `data`) or an image file: a
        `pokegan.projection.Projection` (latent, types, image, figures; `.save(folder)`)."""
        from pokegan.projection import project

        return project(self, source, data=data, shiny=shiny, refine=refine, seed=seed)

    def fuse(self, a, b, n: int = 8, data: str | None = None) -> dict:
        """Two Pokémon (names in `data`, image files, latent files or projections) fused: {"row": n sprites from
        one to the other, "middle": the midpoint, "mix": shape-of-one in colours-of-the-other (FastGAN)}."""
        from pokegan.projection import fuse, resolve

        return fuse(self, resolve(self, a, data), resolve(self, b, data), n)


def load_generator(path: str | Path | None = None, device: str = "cpu", ema: bool = True,
                   conditional: bool = False, transparent: bool = False) -> SpriteGenerator:
    """A generator from a run folder, a checkpoint folder or a shipped model's name (`pokegan models`);
    None = the shipped default, which every request uses (`conditional` and `transparent` are kept for callers
    that say what they will ask; it takes types and draws transparent sprites). `ema`: the EMA generator where
    the run kept one."""
    if path is None:
        path = pretrained_path(default_model(conditional, transparent))
    elif conditional:
        raise PokeganError("conditional=True asks for the shipped model that takes types; give it without a path")
    elif (folder := shipped(path)) is not None:
        path = folder
    try:
        state, weights, _ = ckpt.read(path, train_state=False)
    except PokeganError as e:
        if shipped(path, paths_first=False) is None:
            raise
        raise PokeganError(f"{e} A path named {str(path)!r} is here, and a path comes before the shipped model of that "
                           "name: give the model as its path, move what is here, or leave the model out for the "
                           f"default ({default_model()})") from None
    key = "G_ema" if ema and state.get("ema") and any(k.startswith("G_ema.") for k in weights) else "G"
    where = f"{path}: the {state['family']} generator for {state['resolution']}px"
    if "generator" not in state:
        raise PokeganError(f"{path}: saved before checkpoints named their generator; re-save it once with "
                           f"`pokegan export {path} --out DIR` and use DIR")
    from pokegan.models.networks import build_network  # the generator's own class and arguments: nothing else

    spec, encoder = state["generator"], None
    G = build_network(spec, where, ckpt.subdict(weights, key))
    ckpt.load_module(G, weights, key, where)
    if isinstance(state.get("encoder"), dict) and any(k.startswith("E.") for k in weights):  # AEGAN's
        encoder = build_network(state["encoder"], f"{path}: the encoder", ckpt.subdict(weights, "E"))
        ckpt.load_module(encoder, weights, "E", f"{path}: the aegan encoder")
    z_dim = spec["args"].get("z_dim")
    if not isinstance(z_dim, int) or isinstance(z_dim, bool):
        raise PokeganError(f"{where}: its description has no latent size (z_dim)")
    return assemble(G, encoder, z_dim, spec, state, path, device)


def assemble(G, encoder, z_dim: int, spec: dict, state: dict, path, device: str) -> SpriteGenerator:
    """A SpriteGenerator around networks already loaded, on `device`, in eval mode."""
    dev = resolve_device(device)
    G = G.to(dev).eval().requires_grad_(False)
    if encoder is not None:
        encoder = encoder.to(dev).eval().requires_grad_(False)
    sampler = None if type_input(G) is not None else load_sampler(ckpt.find(path), z_dim)
    return SpriteGenerator(G=G, z_dim=z_dim, resolution=int(state["resolution"]), channels=int(state["channels"]),
                           background=state["background"], family=state["family"], source=str(path), device=dev,
                           state=state, encoder=encoder, spec=spec, sampler=sampler)
