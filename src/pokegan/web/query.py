"""What every API route shares: its query parameters read with their types and bounds (the sprite options'
bounds from their registry, pokegan.steps), the cost of a request checked before it runs, memory handed back
after it, and `guarded`, which turns every failure into a clear answer."""
from __future__ import annotations

import base64
import functools
import math

from starlette.requests import Request
from starlette.responses import JSONResponse

from pokegan.config import SpriteOptions
from pokegan.core.errors import PokeganError
from pokegan.generator.limits import MAX_SEED
from pokegan.steps import OPTIONS, recipe
from pokegan.web.catalog import Busy

# Bounds on every parameter (name: (lowest, highest)); a request outside one is answered 422.
# The sprite options' bounds come from their registry (pokegan.steps), at the server's top where it is lower.
SERVED = [o for o in OPTIONS if o.web_hi != 0]
LIMITS = {"n": (1, 64), "sheet_n": (1, 256), "seed": (0, MAX_SEED), "index": (0, 4095), "steps": (2, 32),
          "strength": (0.01, 2.0), "duration": (20, 2000), "spread": (0.0, 4.0), "fuse_steps": (3, 32),
          **{o.name: o.served for o in SERVED if o.served}}
MAX_BODY = 1024          # bytes: no route takes a body but an upload to project
# A request's cost is known before it runs: the pixels it makes (images x (size x scale)^2). The budget lets
# every request of a 64px model at its top through (64 sprites at 8x) and keeps the server's peak memory
# bounded on every model; a request beyond it is answered 422 with the budget and the way round.
MAX_REQUEST_PIXELS = 64 * (64 * 8) ** 2
FORWARD_BATCH = 32       # sprites per forward pass: a 96px generator's activations for 256 at once take gigabytes


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


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


async def guarded(catalog, request: Request, allowed: set[str], work):
    """Parse, then run `work(query)`'s job on the request's model (one of `catalog`'s); every failure a clear
    answer: 422 for a bad parameter, 404 for an unknown model, 503 when the model's queue is full."""
    try:
        q = Query(request, allowed | {"model"})
        model = catalog.resolve(asked := q.text("model", catalog.default))
        if model is None:
            return JSONResponse({"error": f"unknown model {asked[:80]!r}; valid: {', '.join(catalog.entries)}"},
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
