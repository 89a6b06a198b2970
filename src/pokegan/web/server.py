"""The ASGI app behind `pokegan serve` (Starlette): one static page and a small GET-only API.

Every image comes from the library's sprite pipeline (`pokegan.sprites`, `pokegan.interpolate`,
`pokegan.files`): the same seed and options give the bytes `pokegan generate` writes. Models are chosen
by id from the catalog the server started with; every parameter is bounded and a bad one is answered 422
with the limit it broke; nothing a request sends is written anywhere.

Routes (all GET; a sprite is named by the seed of its batch and its index in it, as `generate --seed S`
names file I):
    /                     the page
    /api/models           [{id, family, size, channels, background, kimg, conditional, types}]
    /api/options          the sprite options (bounds, help), the recipes' settings per model, the pixel budget
    /api/sprites          a batch as JSON: {"sprites": [PNG data URIs], "width", "height", ...}
    /api/sprite           one sprite as a PNG (RGBA where transparent)
    /api/sheet            the batch as a sprite-sheet PNG; /api/sheet.json its index
    /api/variations       sprites near one sprite, as JSON data URIs
    /api/interpolate      a walk between two sprites: format=json (frames), gif or png (a strip)
    /api/pokemon          the names of the Pokémon of the dataset the server was given (--data), to project
    /api/project          a projection (GET ?name=pikachu, or POST an image as the body): its id, the target,
                          the projection and its figures; projections are kept in memory (the last few)
    /api/near             variations of a projection (and a type swap with type=...), as JSON data URIs
    /api/fuse             two projections fused: format=json (row, middle, mix), gif or png
    /api/latent           a projection's latent.json, as `pokegan project` writes it
"""
from __future__ import annotations

import base64
import functools
import math
from importlib.resources import files

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pokegan.config import SpriteOptions
from pokegan.errors import PokeganError
from pokegan.sprites import MAX_SEED, sprite_png
from pokegan.steps import OPTIONS, RECIPES, as_flags, recipe
from pokegan.web.catalog import Busy, Catalog

# Bounds on every parameter (name: (lowest, highest)); a request outside one is answered 422.
# The sprite options' bounds come from their registry (pokegan.steps), at the server's top where it is lower.
SERVED = [o for o in OPTIONS if o.web_hi != 0]
LIMITS = {"n": (1, 64), "sheet_n": (1, 256), "seed": (0, MAX_SEED), "index": (0, 4095), "steps": (2, 32),
          "strength": (0.01, 2.0), "duration": (20, 2000), "spread": (0.0, 4.0), "fuse_steps": (3, 32),
          **{o.name: o.served for o in SERVED if o.served}}
MAX_BODY = 1024          # bytes: no route takes a body but an upload to project
MAX_UPLOAD = 2 << 20     # bytes: an image to project (sprites are kilobytes; a photo is refused or scaled down)
MAX_PROJECTIONS = 16     # projections kept in memory for near/fuse (the least recently used is dropped)
PROJECT_WAITING = 2      # projections that may wait for the one running; more are answered 503
# A request's cost is known before it runs: the pixels it makes (images x (size x scale)^2). The budget lets
# every request of a 64px model at its top through (64 sprites at 8x) and keeps the server's peak memory
# bounded on every model; a request beyond it is answered 422 with the budget and the way round.
MAX_REQUEST_PIXELS = 64 * (64 * 8) ** 2
FORWARD_BATCH = 32       # sprites per forward pass: a 96px generator's activations for 256 at once take gigabytes
STATIC = {"/": ("index.html", "text/html; charset=utf-8"), "/style.css": ("style.css", "text/css"),
          "/app.js": ("app.js", "text/javascript")}
# The page's own policy: everything from this server, nothing from anywhere else.
CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'"


class BadParam(Exception):
    pass


def check_cost(images: int, size: int, scale: int, what: str) -> int:
    """The pixels a request makes, or BadParam naming the budget and what fits in it."""
    pixels = images * (size * scale) ** 2
    if pixels > MAX_REQUEST_PIXELS:
        fits = max(1, MAX_REQUEST_PIXELS // (size * scale) ** 2)
        raise BadParam(f"{what}: {images} images of {size * scale}x{size * scale} pixels is {pixels:,} pixels, over "
                       f"this server's budget of {MAX_REQUEST_PIXELS:,} a request; ask for at most {fits} at scale "
                       f"{scale}, or a smaller scale")
    return pixels


def give_back_memory() -> None:
    """Return freed heap pages to the system after a request (glibc keeps them otherwise, so the server's
    memory would stay at its largest request's level); a no-op where there is no glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


class Query:
    """A request's query parameters, read with their types and bounds; unknown names are refused."""

    def __init__(self, request: Request, allowed: set[str]):
        self.q = request.query_params
        unknown = sorted(set(self.q) - allowed)
        if unknown:
            raise BadParam(f"unknown parameter {unknown[0]!r}; this route takes {', '.join(sorted(allowed))}")

    def number(self, name: str, default, kind=int, limit: str | None = None):
        raw = self.q.get(name)
        if raw is None:
            return default
        lo, hi = LIMITS[limit or name]
        try:
            value = kind(raw)
        except ValueError:
            raise BadParam(f"{name}={raw[:40]!r}: expected a {'whole ' if kind is int else ''}number") from None
        if isinstance(value, float) and not math.isfinite(value) or not lo <= value <= hi:
            raise BadParam(f"{name}={raw[:40]}: must be between {lo} and {hi}")
        return value

    def flag(self, name: str) -> bool:
        raw = self.q.get(name, "0").lower()
        if raw not in ("0", "1", "true", "false", "yes", "no", "on", "off", ""):
            raise BadParam(f"{name}={raw[:40]!r}: expected 1 or 0")
        return raw in ("1", "true", "yes", "on")

    def text(self, name: str, default: str = "") -> str:
        return self.q.get(name, default)

    def options(self) -> SpriteOptions:
        """The sprite pipeline's options, as `pokegan generate`'s flags of the same names; `recipe=NAME` gives
        a named recipe's settings for this model, and options given beside it win."""
        settings = {}
        name = self.q.get("recipe")
        if name:
            try:
                settings = recipe(name, self.size, self.channels)
            except PokeganError as e:
                raise BadParam(str(e)) from None
        for o in SERVED:
            if o.name in self.q:
                settings[o.name] = self.flag(o.name) if o.kind is bool else self.number(o.name, o.default, o.kind)
        try:
            return SpriteOptions(**settings, types=tuple(t for t in self.q.getlist("type") if t))
        except PokeganError as e:
            raise BadParam(str(e)) from None


SPRITE_OPTS = {"model", "type", "recipe", *(o.name for o in SERVED)}


def _uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


class Projections:
    """The last MAX_PROJECTIONS projections, by a random id, with the model each belongs to; and the lane
    projections run in: one at a time, at most PROJECT_WAITING waiting, outside the models' own queues, so a
    burst of uploads neither grows memory nor holds up anyone's sprites."""

    def __init__(self):
        import asyncio
        from collections import OrderedDict

        self.items: OrderedDict = OrderedDict()
        self.lock, self.waiting = asyncio.Lock(), 0

    def add(self, model: str, projection) -> str:
        import secrets

        pid = secrets.token_hex(8)
        self.items[pid] = (model, projection)
        while len(self.items) > MAX_PROJECTIONS:
            self.items.popitem(last=False)
        return pid

    def get(self, pid: str):
        if pid not in self.items:
            raise BadParam(f"no projection {pid[:20]!r} here (this server keeps the last {MAX_PROJECTIONS}); project "
                           "the Pokémon again")
        self.items.move_to_end(pid)
        return self.items[pid]

    async def run(self, work):
        import anyio

        if self.waiting >= PROJECT_WAITING + 1:
            raise Busy("project")
        self.waiting += 1
        try:
            async with self.lock:
                return await anyio.to_thread.run_sync(work)
        finally:
            self.waiting -= 1


def create_app(catalog: Catalog, data: str | None = None) -> Starlette:
    """The app over `catalog`'s models; `data`: a prepared dataset whose Pokémon the page offers to project."""
    projections = Projections()

    async def guarded(request: Request, allowed: set[str], work):
        """Parse, then run `work(query, generator)` for the request's model; every failure a clear answer."""
        try:
            q = Query(request, allowed | {"model"})
            model = q.text("model", "pretrained" if "pretrained" in catalog.entries else next(iter(catalog.entries)))
            try:
                catalog.entry(model)
            except KeyError:
                return JSONResponse({"error": f"unknown model {model[:80]!r}; valid: {', '.join(catalog.entries)}"},
                                    status_code=404)
            info = catalog.entry(model).info
            q.model, q.size, q.channels = model, int(info["size"]), int(info["channels"])
            job = work(q)  # parameters are read and checked here, before the queue
            try:
                return await catalog.run(model, job)
            finally:
                give_back_memory()
        except (BadParam, PokeganError) as e:
            return JSONResponse({"error": str(e)}, status_code=422)
        except Busy:
            return JSONResponse({"error": "this model is busy; try again in a moment"}, status_code=503,
                                headers={"Retry-After": "1"})

    def key(q: Query, prefix: str = "") -> tuple[int, int]:
        return q.number(prefix + "seed", 0, limit="seed"), q.number(prefix + "index", 0, limit="index")

    def latent(g, seed: int, index: int):
        return g.latents(index + 1, seed)[index:index + 1]

    async def models(_request: Request):
        return JSONResponse(catalog.list())

    async def options(_request: Request):
        """Every sprite option the server takes, with its bounds and help, and each recipe's settings for
        each model (what the page builds its controls from)."""
        return JSONResponse({
            "options": [o.to_json() for o in SERVED],
            "recipes": {name: {m["id"]: {"settings": make(m["size"], m["channels"]),
                                         "flags": as_flags(make(m["size"], m["channels"]))}
                               for m in catalog.list()} for name, make in RECIPES.items()},
            "budget_pixels": MAX_REQUEST_PIXELS, "default_models": default_models()})

    def default_models() -> dict:
        """The shipped model the library picks for a plain, a transparent and a typed request, where served."""
        from pokegan.shipped import default_model

        picks = {"plain": default_model(), "transparent": default_model(transparent=True),
                 "types": default_model(conditional=True)}
        return {k: v if v in catalog.entries else None for k, v in picks.items()}

    async def sprites(request: Request):
        def work(q):
            n, seed, opts = q.number("n", 16), q.number("seed", 0), q.options()
            check_cost(n, q.size, opts.scale, "sprites")

            def make(g):
                arr = g.sprites(g.latents(n, seed), opts, FORWARD_BATCH)
                return JSONResponse({"sprites": [_uri(sprite_png(a, opts)) for a in arr], "seed": seed, "n": n,
                                     "width": arr.shape[2] * opts.scale, "height": arr.shape[1] * opts.scale,
                                     "rgba": arr.shape[-1] == 4})
            return make
        return await guarded(request, SPRITE_OPTS | {"n", "seed"}, work)

    async def sprite(request: Request):
        def work(q):
            (seed, index), opts = key(q), q.options()
            download = q.flag("download")

            def make(g):
                png = sprite_png(g.sprites(latent(g, seed, index), opts)[0], opts)
                headers = {"Content-Disposition": f'attachment; filename="pokegan-{seed}-{index}.png"'} if download else {}
                return Response(png, media_type="image/png", headers=headers)
            return make
        return await guarded(request, SPRITE_OPTS | {"seed", "index", "download"}, work)

    def sheet_route(as_json: bool):
        async def route(request: Request):
            def work(q):
                n, seed, opts = q.number("n", 16, limit="sheet_n"), q.number("seed", 0), q.options()
                check_cost(n, q.size, 1, "sheet")

                def make(g):
                    from dataclasses import asdict

                    from pokegan.files import sheet_files

                    arr = g.sprites(g.latents(n, seed), opts, FORWARD_BATCH)
                    names = [f"{i:04d}" for i in range(n)]
                    meta = {"model": q.model, "family": g.family, "seed": seed, **asdict(opts)}
                    png, index = sheet_files(arr, names, meta)
                    return Response(index, media_type="application/json") if as_json else \
                        Response(png, media_type="image/png")
                return make
            return await guarded(request, SPRITE_OPTS | {"n", "seed"}, work)
        return route

    async def variations(request: Request):
        def work(q):
            (seed, index), opts = key(q), q.options()
            n, strength = q.number("n", 8), q.number("strength", 0.3, float)
            check_cost(n, q.size, opts.scale, "variations")

            def make(g):
                from pokegan.interpolate import variation_seed, variations as near

                z = near(g.with_types(latent(g, seed, index), opts.types)[0], n, strength,
                         seed=variation_seed(seed, index), z_dim=g.z_dim)
                arr = g.sprites(z, opts, FORWARD_BATCH)
                return JSONResponse({"sprites": [_uri(sprite_png(a, opts)) for a in arr]})
            return make
        return await guarded(request, SPRITE_OPTS | {"seed", "index", "n", "strength"}, work)

    async def interpolate(request: Request):
        def work(q):
            a, b, opts = key(q, "a_"), key(q, "b_"), q.options()
            steps, fmt, duration = q.number("steps", 12), q.text("format", "json"), q.number("duration", 80)
            if fmt not in ("json", "gif", "png"):
                raise BadParam(f"format={fmt[:20]!r}: json, gif or png")
            check_cost(steps, q.size, opts.scale, "interpolate")

            def make(g):
                import torch

                from pokegan.files import gif_bytes, png_bytes
                from pokegan.interpolate import strip, walk_sprites

                keys = g.truncate(g.with_types(torch.cat([latent(g, *a), latent(g, *b)]), opts.types), opts.truncation)
                frames = walk_sprites(g, keys, steps, opts, z_dim=g.z_dim)
                if fmt == "gif":
                    return Response(gif_bytes(frames, duration), media_type="image/gif")
                if fmt == "png":
                    return Response(png_bytes(strip(frames)), media_type="image/png")
                return JSONResponse({"frames": [_uri(png_bytes(f)) for f in frames]})
            return make
        return await guarded(request, SPRITE_OPTS | {"a_seed", "a_index", "b_seed", "b_index", "steps", "format",
                                                     "duration"}, work)

    async def pokemon(_request: Request):
        if not data:
            return JSONResponse({"names": [], "note": "start pokegan serve with --data DATASET to pick Pokémon by name"})
        from pokegan.data import load_dataset

        ds = load_dataset(data)
        return JSONResponse({"names": sorted({lab["name"] for lab in ds.labels if lab.get("name")})})

    async def project_route(request: Request):
        """GET ?name=NAME[&shiny=1] (from --data) or POST an image file as the body; ?fast=1 for the encoder's
        guess alone."""
        from pokegan.projection import project
        from pokegan.projection.targets import decode_target, read_species

        try:
            q = Query(request, {"model", "name", "shiny", "fast"})
            model = q.text("model", "pretrained" if "pretrained" in catalog.entries else next(iter(catalog.entries)))
            if model not in catalog.entries:
                return JSONResponse({"error": f"unknown model {model[:80]!r}; valid: {', '.join(catalog.entries)}"},
                                    status_code=404)
            size = int(catalog.entry(model).info["size"])
            if request.method == "POST":
                raw = await request.body()
                if not raw:
                    raise BadParam("send the image file as the request body (PNG, GIF, JPEG, WebP or BMP)")
                target = decode_target(raw, size, "the uploaded image")
            else:
                name = q.text("name").strip()
                if not name:
                    raise BadParam("name=...: a Pokémon's name (see /api/pokemon), or POST an image")
                if not data:
                    raise BadParam("this server was started without --data, so it knows no Pokémon by name; upload "
                                   "an image instead")
                target = read_species(name[:80], size, data, q.flag("shiny"))
            fast = q.flag("fast")
            g = await catalog.run(model, lambda g: g)
            warnings: list[str] = []
            p = await projections.run(lambda: project(g, target, refine=not fast, warn=warnings.append))
            fig = p.figures.get("refined") or p.figures.get("encoder")
            from pokegan.files import png_bytes

            return JSONResponse({"id": projections.add(model, p), "model": model, "name": p.source.get("name"),
                                 "types": list(p.types), "figures": fig, "warnings": warnings,
                                 "target": _uri(png_bytes(p.target.rgba)), "projection": _uri(png_bytes(p.image))})
        except (BadParam, PokeganError) as e:
            return JSONResponse({"error": str(e)}, status_code=422)
        except Busy:
            return JSONResponse({"error": "projections are busy; try again in a few seconds"}, status_code=503,
                                headers={"Retry-After": "5"})
        finally:
            give_back_memory()

    def projected(q: Query, name: str = "id"):
        """The stored projection a request names, checked to belong to the request's model."""
        model, p = projections.get(q.text(name))
        if model != q.model:
            raise BadParam(f"{name}: that projection belongs to the model {model}; ask with model={model}")
        return p

    async def near_route(request: Request):
        def work(q):
            p, opts = projected(q), q.options()
            n, spread, seed = q.number("n", 8), q.number("spread", 0.4, float), q.number("seed", 0)
            check_cost(n, q.size, opts.scale, "near")

            def make(g):
                from pokegan.projection import near

                arr = g.sprites(near(g, p, n, spread, seed, opts.types), opts, FORWARD_BATCH, p.offsets)
                return JSONResponse({"sprites": [_uri(sprite_png(a, opts)) for a in arr]})
            return make
        return await guarded(request, SPRITE_OPTS | {"id", "n", "spread", "seed"}, work)

    async def fuse_route(request: Request):
        def work(q):
            a, b = projected(q, "a"), projected(q, "b")
            steps, fmt, scale = q.number("steps", 8, limit="fuse_steps"), q.text("format", "json"), q.number("scale", 2)
            if fmt not in ("json", "gif", "png"):
                raise BadParam(f"format={fmt[:20]!r}: json, gif or png")
            check_cost(steps + 3, q.size, scale, "fuse")

            def make(g):
                import numpy as np

                from pokegan.files import gif_bytes, png_bytes
                from pokegan.pixels import upscale
                from pokegan.projection import fuse

                f = fuse(g, a, b, steps)
                row = [upscale(x, scale) for x in f["row"]]
                if fmt == "gif":
                    return Response(gif_bytes(row + row[-2:0:-1], 120), media_type="image/gif")
                if fmt == "png":
                    return Response(png_bytes(np.concatenate(row, axis=1)), media_type="image/png")
                return JSONResponse({"row": [_uri(png_bytes(x)) for x in row],
                                     "middle": _uri(png_bytes(upscale(f["middle"], scale))),
                                     "mix": [_uri(png_bytes(upscale(x, scale))) for x in f.get("mix", [])]})
            return make
        return await guarded(request, {"a", "b", "steps", "format", "scale"}, work)

    async def latent_route(request: Request):
        try:
            q = Query(request, {"id"})
            _, p = projections.get(q.text("id"))
        except BadParam as e:
            return JSONResponse({"error": str(e)}, status_code=422)
        return JSONResponse(p.to_json(), headers={"Content-Disposition": 'attachment; filename="latent.json"'})

    async def static(request: Request):
        name, mime = STATIC[request.url.path]
        body = (files("pokegan.web") / "static" / name).read_bytes()
        return Response(body, media_type=mime, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})

    routes = [Route(p, static) for p in STATIC] + [
        Route("/api/models", models), Route("/api/options", options), Route("/api/sprites", sprites), Route("/api/sprite", sprite),
        Route("/api/sheet", sheet_route(False)), Route("/api/sheet.json", sheet_route(True)),
        Route("/api/variations", variations), Route("/api/interpolate", interpolate),
        Route("/api/pokemon", pokemon), Route("/api/project", project_route, methods=["GET", "POST"]),
        Route("/api/near", near_route), Route("/api/fuse", fuse_route), Route("/api/latent", latent_route)]
    return Starlette(routes=routes, middleware=[Middleware(BodyLimit)])


class BodyLimit:
    """Refuses request bodies over MAX_BODY bytes (413) before anything reads them, MAX_UPLOAD for an image
    POSTed to /api/project; a body must say its length (no chunked uploads)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            length = headers.get(b"content-length", b"0")
            chunked = b"chunked" in headers.get(b"transfer-encoding", b"")
            limit = MAX_UPLOAD if scope.get("path") == "/api/project" and scope.get("method") == "POST" else MAX_BODY
            if chunked or not length.isdigit() or int(length) > limit:
                await JSONResponse({"error": f"request bodies are limited to {limit:,} bytes"},
                                   status_code=413)(scope, receive, send)
                return
        await self.app(scope, receive, send)
