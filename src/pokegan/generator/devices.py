"""The torch device a command asked for: auto (CUDA, then Apple's MPS, then the CPU) or a named one, with a
clear error for one this build or machine lacks."""
from __future__ import annotations

import torch

from pokegan.core.errors import PokeganError


def resolve_device(name: str) -> torch.device:
    """A torch device from a name; auto = cuda, then mps, then cpu. A clear error for one this build lacks."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError):
        raise PokeganError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise PokeganError(f"--device {name} was asked for but this torch build sees no CUDA GPU; use --device cpu")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise PokeganError(f"--device {name}: no Apple GPU here; use --device cpu")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise PokeganError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps")
    return dev
