"""The 18 Pokémon type names and how a user's type request is read (torch-free: configuration uses it)."""
from __future__ import annotations

import difflib

from pokegan.core.errors import PokeganError

TYPES = ("normal", "fire", "water", "grass", "electric", "ice", "fighting", "poison", "ground", "flying",
         "psychic", "bug", "rock", "ghost", "dragon", "dark", "steel", "fairy")
MAX_TYPES = 2   # a Pokémon has one or two types


def parse_types(names, what: str = "type") -> tuple[str, ...]:
    """Type names as a user writes them ("Fire", "fire,flying", "fire/flying") -> a tuple in the 18's order; an
    error listing the valid names and the nearest match for an unknown one, or for more than two."""
    if isinstance(names, str):
        names = [names]
    out: list[str] = []
    for raw in names or ():
        for part in str(raw).replace("/", ",").split(","):
            name = part.strip().lower()
            if not name:
                continue
            if name not in TYPES:
                close = difflib.get_close_matches(name, TYPES, n=1, cutoff=0.5)
                raise PokeganError(f"unknown {what} {part.strip()!r}" + (f" (did you mean {close[0]}?)" if close else "")
                                   + f"; the types are: {', '.join(TYPES)}")
            if name not in out:
                out.append(name)
    return tuple(sorted(out, key=TYPES.index))


def check_type_set(types: tuple[str, ...]) -> tuple[str, ...]:
    """A type set a sprite can have: one or two types."""
    if len(types) > MAX_TYPES:
        raise PokeganError(f"{len(types)} types ({', '.join(types)}): a Pokémon has one or two types; ask for at most two")
    return types
