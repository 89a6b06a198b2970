"""Every model family by name: importing the family modules registers them (`@register_family`)."""
from __future__ import annotations

from pokegan.core.errors import PokeganError
from pokegan.models import aegan, dcgan, fastgan, progan, wgan  # noqa: F401  (registers the families)
from pokegan.models.base import FAMILIES, Family


def get_family(name: str) -> type[Family]:
    if name not in FAMILIES:
        raise PokeganError(f"unknown model family {name!r}; valid: {', '.join(sorted(FAMILIES))}")
    return FAMILIES[name]
