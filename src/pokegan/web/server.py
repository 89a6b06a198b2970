"""The ASGI app behind `pokegan serve` (Starlette): one static page and a small GET-only API.

Every image comes from the library's sprite pipeline (`pokegan.generator.sprites`, `pokegan.interpolate`,
`pokegan.core.files`): the same seed and options give the bytes `pokegan generate` writes. Models are chosen
by id from the catalog the server started with; every parameter is bounded and a bad one is answered 422
with the limit it broke; nothing a request sends is written anywhere.

Routes (all GET; a sprite is named by the seed of its batch and its index in it, as `generate --seed S`
names file I):
    /                     the page
    /api/models           [{id, family, size, channels, background, kimg, conditional, typed, types}]
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

from importlib.resources import files

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pokegan.core.files import sprite_png
from pokegan.steps import RECIPES, as_flags
from pokegan.web import starting
from pokegan.web.catalog import Catalog
from pokegan.web.query import (FORWARD_BATCH, MAX_BODY, MAX_REQUEST_PIXELS, SERVED, SPRITE_OPTS, BadParam, Query,
                               check_cost, data_uri, guarded)

STATIC = {"/": ("index.html", "text/html; charset=utf-8"), "/style.css": ("style.css", "text/css"),
          "/app.js": ("app.js", "text/javascript"), "/start.js": ("start.js", "text/javascript")}
# The page's own policy: everything from this server, nothing from anywhere else.
CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'"


def create_app(catalog: Catalog, data: str | None = None) -> Starlette:
    """The app over `catalog`'s models; `data`: a prepared dataset whose Pokémon the page offers to project."""

    def key(q: Query, prefix: str = "") -> tuple[int, int]:
        return q.number(prefix + "seed", 0, limit="seed"), q.number(prefix + "index", 0, limit="index")

    def latent(g, seed: int, index: int, types: tuple[str, ...] = ()):
        return g.latents(index + 1, seed, types=types)[index:index + 1]

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
            "budget_pixels": MAX_REQUEST_PIXELS})

    async def sprites(request: Request):
        def work(q):
            n, seed, opts = q.number("n", 16), q.number("seed", 0), q.options()
            check_cost(n, q.size, opts.scale, "sprites")

            def make(g):
                arr = g.sprites(g.latents(n, seed, types=opts.types), opts, FORWARD_BATCH)
                return JSONResponse({"sprites": [data_uri(sprite_png(a, opts.scale)) for a in arr], "seed": seed, "n": n,
                                     "width": arr.shape[2] * opts.scale, "height": arr.shape[1] * opts.scale,
                                     "rgba": arr.shape[-1] == 4})
            return make
        return await guarded(catalog, request, SPRITE_OPTS | {"n", "seed"}, work)

    async def sprite(request: Request):
        def work(q):
            (seed, index), opts = key(q), q.options()
            download = q.flag("download")

            def make(g):
                png = sprite_png(g.sprites(latent(g, seed, index), opts)[0], opts.scale)
                headers = {"Content-Disposition": f'attachment; filename="pokegan-{seed}-{index}.png"'} if download else {}
                return Response(png, media_type="image/png", headers=headers)
            return make
        return await guarded(catalog, request, SPRITE_OPTS | {"seed", "index", "download"}, work)

    def sheet_route(as_json: bool):
        async def route(request: Request):
            def work(q):
                n, seed, opts = q.number("n", 16, limit="sheet_n"), q.number("seed", 0), q.options()
                check_cost(n, q.size, 1, "sheet")

                def make(g):
                    from dataclasses import asdict

                    from pokegan.core.files import sheet_files

                    arr = g.sprites(g.latents(n, seed, types=opts.types), opts, FORWARD_BATCH)
                    names = [f"{i:04d}" for i in range(n)]
                    meta = {"model": q.model, "family": g.family, "seed": seed, **asdict(opts)}
                    png, index = sheet_files(arr, names, meta)
                    return Response(index, media_type="application/json") if as_json else \
                        Response(png, media_type="image/png")
                return make
            return await guarded(catalog, request, SPRITE_OPTS | {"n", "seed"}, work)
        return route

    async def variations(request: Request):
        def work(q):
            (seed, index), opts = key(q), q.options()
            n, strength = q.number("n", 8), q.number("strength", 0.3, float)
            check_cost(n, q.size, opts.scale, "variations")

            def make(g):
                from pokegan.interpolate import variation_seed, variations as near

                z = near(latent(g, seed, index, opts.types)[0], n, strength,
                         seed=variation_seed(seed, index), z_dim=g.z_dim)
                arr = g.sprites(z, opts, FORWARD_BATCH)
                return JSONResponse({"sprites": [data_uri(sprite_png(a, opts.scale)) for a in arr]})
            return make
        return await guarded(catalog, request, SPRITE_OPTS | {"seed", "index", "n", "strength"}, work)

    async def interpolate(request: Request):
        def work(q):
            a, b, opts = key(q, "a_"), key(q, "b_"), q.options()
            steps, fmt, duration = q.number("steps", 12), q.text("format", "json"), q.number("duration", 80)
            if fmt not in ("json", "gif", "png"):
                raise BadParam(f"format={fmt[:20]!r}: json, gif or png")
            check_cost(steps, q.size, opts.scale, "interpolate")

            def make(g):
                import torch

                from pokegan.core.files import gif_bytes, png_bytes
                from pokegan.interpolate import strip, walk_sprites

                keys = g.truncate(torch.cat([latent(g, *a, opts.types), latent(g, *b, opts.types)]), opts.truncation)
                frames = walk_sprites(g, keys, steps, opts, z_dim=g.z_dim)
                if fmt == "gif":
                    return Response(gif_bytes(frames, duration), media_type="image/gif")
                if fmt == "png":
                    return Response(png_bytes(strip(frames)), media_type="image/png")
                return JSONResponse({"frames": [data_uri(png_bytes(f)) for f in frames]})
            return make
        return await guarded(catalog, request, SPRITE_OPTS | {"a_seed", "a_index", "b_seed", "b_index", "steps", "format",
                                                     "duration"}, work)

    async def static(request: Request):
        name, mime = STATIC[request.url.path]
        body = (files("pokegan.web") / "static" / name).read_bytes()
        return Response(body, media_type=mime, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})

    routes = [Route(p, static) for p in STATIC] + [
        Route("/api/models", models), Route("/api/options", options), Route("/api/sprites", sprites), Route("/api/sprite", sprite),
        Route("/api/sheet", sheet_route(False)), Route("/api/sheet.json", sheet_route(True)),
        Route("/api/variations", variations), Route("/api/interpolate", interpolate), *starting.routes(catalog, data)]
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
            limit = starting.MAX_UPLOAD if scope.get("path") == "/api/project" and scope.get("method") == "POST" else MAX_BODY
            if chunked or not length.isdigit() or int(length) > limit:
                await JSONResponse({"error": f"request bodies are limited to {limit:,} bytes"},
                                   status_code=413)(scope, receive, send)
                return
        await self.app(scope, receive, send)
