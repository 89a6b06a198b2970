"""Spectral norm (Miyato et al. 2018) as the families apply it, with a shapes-only mode.

Checking a generator description against its weights builds the network on torch's meta device first, so
arguments that disagree with the weights never allocate memory. Spectral norm's initialisation there (a
power iteration on meta tensors) would load torch's Python reference kernels and dynamo: 3 of the 4 seconds
of `pokegan generate`. In `shapes_only()` (per thread) the layers are left plain and `as_plain` maps saved
keys to theirs: a parametrised `weight` has the shape of the plain one, and its `_u`/`_v` follow from it.
"""
from __future__ import annotations

import contextlib
import contextvars

from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

_SHAPES_ONLY = contextvars.ContextVar("pokegan_shapes_only", default=False)
_ORIGINAL, _VECTORS = ".parametrizations.weight.original", ".parametrizations.weight.0."


def spectral_norm(module):
    """`module` with spectral norm on its weight (plain in `shapes_only()`)."""
    return module if _SHAPES_ONLY.get() else _spectral_norm(module)


@contextlib.contextmanager
def shapes_only():
    token = _SHAPES_ONLY.set(True)
    try:
        yield
    finally:
        _SHAPES_ONLY.reset(token)


def as_plain(shapes: dict) -> dict:
    """Saved {key: shape} as a network built in `shapes_only()` names them (the power-iteration vectors left out)."""
    return {k.replace(_ORIGINAL, ".weight"): v for k, v in shapes.items() if _VECTORS not in k}
