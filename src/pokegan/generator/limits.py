"""The limits every request is checked against before any work: how many sprites, which seed, what batch."""
from __future__ import annotations

import numpy as np

from pokegan.core.errors import PokeganError

MAX_IMAGES = 1_000_000  # more than any sensible request; protects against typos like --n 1e12
MAX_SEED = 2 ** 63 - 1  # torch.Generator's seeds are 64-bit


def check_count(n) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise PokeganError(f"the number of images must be a whole number, not {n!r}")
    if n < 1 or n > MAX_IMAGES:
        raise PokeganError(f"the number of images must be between 1 and {MAX_IMAGES:,}, not {n}")
    return int(n)


def check_seed(seed) -> int:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise PokeganError(f"seed {seed!r}: give a whole number from 0 to {MAX_SEED}")
    return int(seed)


def check_batch(batch) -> int:
    if not isinstance(batch, (int, np.integer)) or isinstance(batch, bool) or not 1 <= batch <= 65536:
        raise PokeganError(f"batch {batch!r}: images per forward pass, 1 to 65536")
    return int(batch)
