"""pokegan: generate new Pokémon sprites with GANs.

Layout:
    data/       fetching the sprite package, preparing datasets, the dataset file format
    models/     one file per GAN family, registered by name
    training/   the one training loop, checkpoints, the health monitor
    cli/        the `pokegan` command line (thin: it calls the library)
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pokegan")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+local"

from pokegan.errors import PokeganError  # noqa: E402

__all__ = ["PokeganError", "__version__", "load_generator"]


def __getattr__(name):  # torch is imported only when the generator API is used
    if name == "load_generator":
        from pokegan.sprites import load_generator

        return load_generator
    raise AttributeError(f"module 'pokegan' has no attribute {name!r}")
