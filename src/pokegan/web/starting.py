"""Starting from a Pokémon on the page: the routes that project a name or an uploaded image, and draw
variations, type swaps and fusions of the projections they keep (in memory, the last few, by a random id)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pokegan.core.errors import PokeganError
from pokegan.projection import DEFAULT_SPREAD
from pokegan.core.files import sprite_png
from pokegan.web.catalog import Busy, Catalog
from pokegan.web.query import (FORWARD_BATCH, SPRITE_OPTS, BadParam, Query, check_cost, data_uri, give_back_memory,
                               guarded)

MAX_UPLOAD = 2 << 20     # bytes: an image to project (sprites are kilobytes; a photo is refused or scaled down)
MAX_PROJECTIONS = 16     # projections kept in memory for near/fuse (the least recently used is dropped)
PROJECT_WAITING = 2      # projections that may wait for the one running; more are answered 503


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


def routes(catalog: Catalog, data: str | None) -> list[Route]:
    """The routes of the page's start-from-a-Pokémon panel over `catalog`'s models; `data`: the prepared
    dataset whose Pokémon can be named (None: images only)."""
    projections = Projections()
    dataset = []   # the dataset, read on first use and kept

    def names_data():
        from pokegan.data import load_dataset

        if not dataset:
            dataset.append(load_dataset(data))
        return dataset[0]

    async def pokemon(_request: Request):
        if not data:
            return JSONResponse({"names": [], "note": "start pokegan serve with --data DATASET to pick Pokémon by name"})
        ds = names_data()
        return JSONResponse({"names": sorted({lab["name"] for lab in ds.labels if lab.get("name")})})

    async def project_route(request: Request):
        """GET ?name=NAME[&shiny=1] (from --data) or POST an image file as the body; ?fast=1 for the encoder's
        guess alone."""
        from pokegan.projection import project
        from pokegan.projection.targets import decode_target, read_species

        try:
            q = Query(request, {"model", "name", "shiny", "fast"})
            model = catalog.resolve(asked := q.text("model", catalog.default))
            if model is None:
                return JSONResponse({"error": f"unknown model {asked[:80]!r}; valid: {', '.join(catalog.entries)}"},
                                    status_code=404)
            size = int(catalog.entry(model).info["size"])
            if request.method == "POST":
                raw = await request.body()
                if not raw:
                    raise BadParam("send the image file as the request body (PNG, GIF, JPEG, WebP or BMP)")
                def target():   # decoded in the projection lane: off the event loop, one at a time
                    return decode_target(raw, size, "the uploaded image")
            else:
                name = q.text("name").strip()
                if not name:
                    raise BadParam("name=...: a Pokémon's name (see /api/pokemon), or POST an image")
                if not data:
                    raise BadParam("this server was started without --data, so it knows no Pokémon by name; upload "
                                   "an image instead")
                found = read_species(name[:80], size, names_data(), q.flag("shiny"))

                def target():
                    return found
            fast = q.flag("fast")
            g = await catalog.run(model, lambda g: g)
            warnings: list[str] = []
            p = await projections.run(lambda: project(g, target(), refine=not fast, warn=warnings.append))
            fig = p.figures.get("refined") or p.figures.get("encoder")
            from pokegan.core.files import png_bytes

            return JSONResponse({"id": projections.add(model, p), "model": model, "name": p.source.get("name"),
                                 "types": list(p.types), "figures": fig, "warnings": warnings,
                                 "target": data_uri(png_bytes(p.target.rgba)), "projection": data_uri(png_bytes(p.image))})
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
            n, spread, seed = q.number("n", 8), q.number("spread", DEFAULT_SPREAD, float), q.number("seed", 0)
            check_cost(n, q.size, opts.scale, "near")

            def make(g):
                from pokegan.projection import near

                z, style = near(g, p, n, spread, seed, opts.types)
                arr = g.sprites(z, opts, FORWARD_BATCH, p.offsets, style)
                return JSONResponse({"sprites": [data_uri(sprite_png(a, opts.scale)) for a in arr]})
            return make
        return await guarded(catalog, request, SPRITE_OPTS | {"id", "n", "spread", "seed"}, work)

    async def fuse_route(request: Request):
        def work(q):
            a, b = projected(q, "a"), projected(q, "b")
            steps, fmt, scale = q.number("steps", 8, limit="fuse_steps"), q.text("format", "json"), q.number("scale", 2)
            if fmt not in ("json", "gif", "png"):
                raise BadParam(f"format={fmt[:20]!r}: json, gif or png")
            check_cost(steps + 3, q.size, scale, "fuse")

            def make(g):
                import numpy as np

                from pokegan.core.files import gif_bytes, png_bytes
                from pokegan.core.pixels import upscale
                from pokegan.projection import fuse

                f = fuse(g, a, b, steps)
                row = [upscale(x, scale) for x in f["row"]]
                if fmt == "gif":
                    return Response(gif_bytes(row + row[-2:0:-1], 120), media_type="image/gif")
                if fmt == "png":
                    return Response(png_bytes(np.concatenate(row, axis=1)), media_type="image/png")
                return JSONResponse({"row": [data_uri(png_bytes(x)) for x in row],
                                     "middle": data_uri(png_bytes(upscale(f["middle"], scale))),
                                     "mix": [data_uri(png_bytes(upscale(x, scale))) for x in f.get("mix", [])]})
            return make
        return await guarded(catalog, request, {"a", "b", "steps", "format", "scale"}, work)

    async def latent_route(request: Request):
        try:
            q = Query(request, {"id"})
            _, p = projections.get(q.text("id"))
        except BadParam as e:
            return JSONResponse({"error": str(e)}, status_code=422)
        return Response(p.json_text(), media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="latent.json"'})

    return [Route("/api/pokemon", pokemon), Route("/api/project", project_route, methods=["GET", "POST"]),
            Route("/api/near", near_route), Route("/api/fuse", fuse_route), Route("/api/latent", latent_route)]
