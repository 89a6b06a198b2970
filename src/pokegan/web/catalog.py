"""The models a server may use: fixed when it starts, chosen by id (never by a path from a request), loaded
on first use into a small cache, each generating one request at a time behind a short bounded queue."""
from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from pokegan.models import checkpoint as ckpt
from pokegan.core.errors import PokeganError
from pokegan.generator.sprites import SpriteGenerator, load_generator
from pokegan.generator.shipped import DEFAULT_MODEL, RETIRED, shipped_models

MAX_LOADED = 3    # generators kept in memory at once (the least recently used is dropped)
MAX_WAITING = 4   # requests that may wait for one model; more get 503 rather than an ever-growing backlog


class Busy(Exception):
    """A model's queue is full."""


@dataclass
class Entry:
    id: str
    path: Path
    info: dict         # what /api/models shows
    lock: asyncio.Lock
    waiting: int = 0


def describe(model_id: str, path: Path) -> dict:
    """What the page needs to know of a model, read from its checkpoint's state alone (no weights)."""
    from pokegan.runfiles import model_info

    state, _, _ = ckpt.read(path, train_state=False)
    return {"id": model_id, **model_info(state, ckpt.find(path))}


def _model_id(path: Path, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", path.name).strip("-.") or "model"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}-{k}", k + 1
    return name


class Catalog:
    def __init__(self, models: list[str | Path] = (), runs: str | Path | None = None, pretrained: bool = True):
        """`models`: run or checkpoint folders; `runs`: a folder whose run folders are all offered."""
        self.entries: dict[str, Entry] = {}
        paths: list[tuple[str | None, Path]] = []
        if pretrained:
            paths += list(shipped_models().items())
        paths += [(None, Path(m)) for m in models]
        if runs is not None:
            root = Path(runs)
            if not root.is_dir():
                raise PokeganError(f"--runs {root}: not a folder; give the folder `pokegan train --run-dir` wrote into")
            paths += [(None, p) for p in sorted(root.iterdir())
                      if p.is_dir() and (p / "checkpoints" / "latest" / ckpt.STATE).is_file()]
        for wanted, path in paths:
            try:
                ckpt.find(path)
            except PokeganError as e:
                raise PokeganError(f"serve: {e}") from None
            mid = wanted or _model_id(path, set(self.entries))
            self.entries[mid] = Entry(mid, path, describe(mid, path), asyncio.Lock())
        if not self.entries:
            raise PokeganError("serve: no model to serve; give a run folder or --runs DIR (or install the shipped model)")
        self._loaded: OrderedDict[str, SpriteGenerator] = OrderedDict()

    def list(self) -> list[dict]:
        return [e.info for e in self.entries.values()]

    @property
    def default(self) -> str:
        """The model a request without one gets: the shipped default where served, else the first."""
        return DEFAULT_MODEL if DEFAULT_MODEL in self.entries else next(iter(self.entries))

    def resolve(self, model_id: str) -> str | None:
        """The served model's id for a requested one (a retired shipped name, from old links: the model that
        answers it now), or None for an unknown one."""
        if model_id not in self.entries and model_id in RETIRED and RETIRED[model_id][0] in self.entries:
            return RETIRED[model_id][0]
        return model_id if model_id in self.entries else None

    def entry(self, model_id: str) -> Entry:
        if self.resolve(model_id) is None:
            raise KeyError(model_id)
        return self.entries[self.resolve(model_id)]

    def generator(self, entry: Entry) -> SpriteGenerator:
        """The loaded generator (called with the entry's lock held)."""
        if entry.id in self._loaded:
            self._loaded.move_to_end(entry.id)
            return self._loaded[entry.id]
        g = load_generator(entry.path)
        self._loaded[entry.id] = g
        while len(self._loaded) > MAX_LOADED:
            self._loaded.popitem(last=False)
        return g

    async def run(self, model_id: str, work):
        """`work(generator)` in a worker thread, one at a time per model; `Busy` when the queue is full."""
        import anyio

        entry = self.entry(model_id)
        if entry.waiting >= MAX_WAITING:
            raise Busy(model_id)
        entry.waiting += 1
        try:
            async with entry.lock:
                return await anyio.to_thread.run_sync(lambda: work(self.generator(entry)))
        finally:
            entry.waiting -= 1
