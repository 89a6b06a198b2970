"""pokegan: generate new Pokémon sprites with GANs.

Layout, from the ground up:
    core/                   errors, atomic files and the cache, PNGs/sheets/GIFs, pixel operations, type names
    npm, config, presets    pinned npm packages; typed configuration and named recipes; no torch
    runfiles, steps/        reading a run's files defensively; the sprite options and finishing steps
    data/, augment/, losses the sprite data, augmentation, GAN losses as named objects
    models/                 one file per GAN family, registered by name; the EMA generator; networks by name;
                            the checkpoint format (safetensors + JSON)
    generator/              loading a generator, latents, the type sampler, the one sprite pipeline, its files
    interpolate, projection latent walks; starting from a real Pokémon
    metrics/, web/          FID/KID/PR/novelty/sprite measures by name; `pokegan serve`
    training/, export/      the one training loop; slim, ONNX and static-page export
    report, cli/            the HTML report; the `pokegan` command line (thin: it calls the library)
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pokegan")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+local"

from pokegan.core.errors import PokeganError  # noqa: E402

__all__ = ["PokeganError", "__version__", "load_generator"]


def __getattr__(name):  # torch is imported only when the generator API is used
    if name == "load_generator":
        from pokegan.generator.sprites import load_generator

        return load_generator
    raise AttributeError(f"module 'pokegan' has no attribute {name!r}")
