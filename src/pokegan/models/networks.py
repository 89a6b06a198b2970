"""The networks a generator file names, rebuilt from their class name and constructor arguments alone.

A generator file (a shipped model, `pokegan export --out`, every checkpoint's state) keeps
`{"generator": {"class": ..., "args": {...}}}` as diffusers' config.json and nanoGPT's `model_args` do, so
loading one builds just that network: no family, no discriminator, no training configuration.
"""
from __future__ import annotations

import inspect

from torch import nn

from pokegan.core.errors import PokeganError
from pokegan.models.aegan import Encoder
from pokegan.models.dcgan import DCGANGenerator
from pokegan.models.fastgan import FastGenerator
from pokegan.models.inverter import SpriteEncoder
from pokegan.models.norms import as_plain, shapes_only
from pokegan.models.progan import ProGenerator

NETWORKS: dict[str, type[nn.Module]] = {cls.__name__: cls for cls in (FastGenerator, DCGANGenerator, ProGenerator,
                                                                       Encoder, SpriteEncoder)}


def build_network(spec, where, weights: dict | None = None) -> nn.Module:
    """The network `spec` ({"class", "args"}) describes, or an error naming the file and what is wrong;
    with `weights` (its state dict), their shapes are checked before any memory is taken."""
    if not isinstance(spec, dict) or not isinstance(spec.get("args"), dict):
        raise PokeganError(f"{where}: the network description should be an object with 'class' and 'args'")
    cls = NETWORKS.get(spec.get("class")) if isinstance(spec.get("class"), str) else None
    if cls is None:
        raise PokeganError(f"{where}: unknown network {str(spec.get('class'))[:40]!r}; this pokegan builds "
                           f"{', '.join(NETWORKS)}")
    params = inspect.signature(cls.__init__).parameters
    args = spec["args"]
    for k, v in args.items():
        p = params.get(k)
        if p is None or k == "self":
            raise PokeganError(f"{where}: {cls.__name__} takes no argument {k[:40]!r}")
        if not isinstance(v, (int, str)) or (p.default is not inspect.Parameter.empty and
                                              type(p.default) is bool and not isinstance(v, bool)):
            raise PokeganError(f"{where}: {cls.__name__} argument {k}={str(v)[:40]!r} is of the wrong kind")
    if any(isinstance(v, int) and not isinstance(v, bool) and not 0 <= v <= 8192 for v in args.values()):
        raise PokeganError(f"{where}: {cls.__name__} arguments out of range: {args}")
    def make(device=None):
        import torch

        try:
            with (torch.device(device) if device else _nothing()), (shapes_only() if device == "meta" else _nothing()):
                return cls(**args)
        except (TypeError, ValueError, RuntimeError) as e:
            raise PokeganError(f"{where}: {cls.__name__} cannot be built from {args} ({e})") from None
        except PokeganError as e:
            raise PokeganError(f"{where}: {e}") from None

    if weights is not None:  # shapes first, on no memory: arguments that disagree with the weights never allocate
        shapes = {k: tuple(v.shape) for k, v in make("meta").state_dict().items()}
        saved = as_plain({k: tuple(v.shape) for k, v in weights.items()})
        if shapes != saved:
            wrong = sorted(set(shapes.items()) ^ set(saved.items()))[0][0]
            raise PokeganError(f"{where}: the weights do not fit {cls.__name__}({args}) (first difference: "
                               f"{wrong}); is the file damaged?")
    return make()


def _nothing():
    import contextlib

    return contextlib.nullcontext()
