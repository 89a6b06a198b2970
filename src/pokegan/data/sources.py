"""Where images come from: the Black/White sprites, the dream-world artworks, or any folder or zip.

A source lists `Item`s (one file each, with its base labels); `pokegan.data.prepare` decodes them.
"""
from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pokegan.data import fetch, pokedex
from pokegan.errors import PokeganError

RASTER_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")
IMAGE_EXTENSIONS = RASTER_EXTENSIONS + (".svg",)


def _kind(name: str) -> str:
    return "svg" if name.lower().endswith(".svg") else "raster"
NAMED_SOURCES = ("gen5", "dreamworld")


@dataclass(frozen=True)
class Item:
    kind: str            # "raster" or "svg"
    path: str            # file on disk, or the zip archive
    member: str | None   # member inside the zip, else None
    label: dict          # base labels: file, source, dex, name, form, types, generation, shiny, female, back

    def display(self) -> str:
        return f"{self.path}:{self.member}" if self.member else self.path

    def read(self) -> bytes:
        if self.member is None:
            with open(self.path, "rb") as f:
                return f.read()
        with zipfile.ZipFile(self.path) as z:
            return z.read(self.member)


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def species_label(stem: str, file: str, source: str, shiny=False, female=False, back=False) -> dict:
    sp = pokedex.lookup(stem)
    return {"file": file, "source": source, "dex": sp.dex, "name": sp.name, "form": sp.form,
            "types": list(sp.types), "generation": sp.generation, "shiny": shiny, "female": female,
            "back": back}


def gen5_items(sides: str = "front", colors: str = "both", female: bool = False) -> list[Item]:
    """The Black/White animated sprites. sides: front|back|both; colors: normal|shiny|both."""
    root = fetch.require_package()
    base = root / fetch.GEN5_DIR
    side_list = {"front": [False], "back": [True], "both": [False, True]}[sides]
    color_list = {"normal": [False], "shiny": [True], "both": [False, True]}[colors]
    items = []
    for back in side_list:
        for shiny in color_list:
            for fem in ([False, True] if female else [False]):
                folder = base / ("back" if back else "") / ("shiny" if shiny else "") / ("female" if fem else "")
                if not folder.is_dir():
                    continue
                files = sorted((p for p in folder.glob("*.gif") if p.stem != "substitute"),
                               key=lambda p: _natural_key(p.stem))
                for p in files:
                    rel = p.relative_to(root).as_posix()
                    items.append(Item("raster", str(p), None,
                                      species_label(p.stem, rel, "gen5", shiny=shiny, female=fem, back=back)))
    return items


def dreamworld_items() -> list[Item]:
    root = fetch.require_package()
    folder = root / fetch.DREAMWORLD_DIR
    items = []
    for sub, fem in (("", False), ("female", True)):
        for p in sorted((folder / sub).glob("*.svg"), key=lambda p: _natural_key(p.stem)):
            rel = p.relative_to(root).as_posix()
            items.append(Item("svg", str(p), None, species_label(p.stem, rel, "dreamworld", female=fem)))
    return items


def _guess_label(rel: str, source: str) -> dict:
    """Labels for a user's file: a species if the file is named like `25.png` or `201-a.png`."""
    parts = [s.lower() for s in Path(rel).parts]
    stem = Path(rel).stem
    label = species_label(stem, rel, source, shiny="shiny" in parts[:-1], female="female" in parts[:-1],
                          back="back" in parts[:-1])
    return label


def folder_items(path: str | Path, log=print) -> tuple[list[Item], list[tuple[str, str]]]:
    """Every image file below a folder (recursively) or inside a zip. Returns (items, skipped)."""
    path = Path(path).expanduser()
    skipped: list[tuple[str, str]] = []
    items: list[Item] = []
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = sorted((n for n in z.namelist() if not n.endswith("/")), key=_natural_key)
        for n in names:
            if n.lower().endswith(IMAGE_EXTENSIONS) and "__MACOSX" not in n:
                items.append(Item(_kind(n), str(path), n, _guess_label(n, str(path))))
        return items, skipped
    if path.is_file():
        raise PokeganError(f"{path}: a file that is not a zip archive. Give a folder of images, a .zip, "
                           f"or one of the named sources: {', '.join(NAMED_SOURCES)}.")
    if not path.is_dir():
        raise PokeganError(f"{path}: no such folder or zip. Give a folder of images, a .zip, "
                           f"or one of the named sources: {', '.join(NAMED_SOURCES)}.")

    def onerror(err: OSError):
        skipped.append((str(err.filename), f"unreadable folder ({err.strerror})"))

    found = []
    for dirpath, dirnames, filenames in os.walk(path, onerror=onerror):
        dirnames.sort(key=_natural_key)
        for name in filenames:
            if name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(Path(dirpath) / name)
    found.sort(key=lambda p: _natural_key(p.relative_to(path).as_posix()))
    for p in found:
        items.append(Item(_kind(p.name), str(p), None, _guess_label(p.relative_to(path).as_posix(), str(path))))
    return items, skipped
