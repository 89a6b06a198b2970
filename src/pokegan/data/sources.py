"""Where images come from: the Black/White sprites, the dream-world artworks, or any folder or zip.

A source lists `Item`s (one file each, with its base labels); `pokegan.data.prepare` decodes them.
"""
from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pokegan.data import fetch, pokedex
from pokegan.core.errors import PokeganError, shown

RASTER_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")
MAX_FILE_BYTES = 64 << 20  # one sprite file is kilobytes; anything over this is refused unread


class Unreadable(Exception):
    """A file that is not read: the reason, in a few words (the caller skips it)."""
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
    root: str | None = None  # the folder the user gave: a symlink may not lead out of it

    def display(self) -> str:
        """The file's name, safe to print (odd bytes and control characters escaped)."""
        return shown(f"{self.path}:{self.member}" if self.member else self.path)

    def read(self) -> bytes:
        """The file's bytes, read only if it is a regular file of at most MAX_FILE_BYTES inside the folder
        the user gave (`Unreadable` otherwise). Every file pokegan prepares is read here."""
        if self.member is None:
            return read_bounded(self.path, self.root)
        try:
            with zipfile.ZipFile(read_path(self.path, self.root)) as z:
                info = z.getinfo(self.member)
                if info.file_size > MAX_FILE_BYTES:
                    raise Unreadable(f"zip member of {info.file_size >> 20} MB is over the {MAX_FILE_BYTES >> 20} MB limit")
                with z.open(info) as f:
                    data = f.read(MAX_FILE_BYTES + 1)   # a member that lies about its size stops here
        except (zipfile.BadZipFile, KeyError, NotImplementedError, RuntimeError, EOFError, OSError) as e:
            raise Unreadable(f"unreadable zip member ({type(e).__name__}: {shown(e, 120)})") from None
        if len(data) > MAX_FILE_BYTES:
            raise Unreadable(f"zip member is over the {MAX_FILE_BYTES >> 20} MB limit")
        return data


def read_path(path: str, root: str | None) -> str:
    """`path` if it may be read: a regular file (not a FIFO, device or socket: they hang or never end), and,
    for a symlink, one whose target stays inside `root`. `Unreadable` otherwise; nothing is opened."""
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            target = os.path.realpath(path)
            if root is not None and os.path.commonpath([target, os.path.realpath(root)]) != os.path.realpath(root):
                raise Unreadable("a symlink that leads out of the folder (not followed)")
            st = os.stat(path)
    except (OSError, ValueError) as e:
        raise Unreadable(f"unreadable ({getattr(e, 'strerror', None) or e})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(
            st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode)
            else "not a regular file")
        raise Unreadable(f"{kind}, not an image file")
    if st.st_size > MAX_FILE_BYTES:
        raise Unreadable(f"{st.st_size >> 20} MB is over the {MAX_FILE_BYTES >> 20} MB limit for one file")
    return path


def read_bounded(path: str, root: str | None = None) -> bytes:
    """A file's bytes after `read_path`'s checks, at most MAX_FILE_BYTES (a file that grows is cut off)."""
    read_path(path, root)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise Unreadable(f"unreadable ({e.strerror or e})") from None
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(f"over the {MAX_FILE_BYTES >> 20} MB limit for one file")
    return data


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
        try:
            with zipfile.ZipFile(path) as z:
                names = sorted((n for n in z.namelist() if not n.endswith("/")), key=_natural_key)
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise PokeganError(f"{shown(path)}: a damaged zip archive ({shown(e, 120)})") from None
        for n in names:
            if n.lower().endswith(IMAGE_EXTENSIONS) and "__MACOSX" not in n:
                items.append(Item(_kind(n), str(path), n, _guess_label(n, str(path))))
        return items, skipped
    if path.is_file():
        raise PokeganError(f"{shown(path)}: a file that is not a zip archive. Give a folder of images, a .zip, "
                           f"or one of the named sources: {', '.join(NAMED_SOURCES)}.")
    if not path.is_dir():
        raise PokeganError(f"{shown(path)}: no such folder or zip. Give a folder of images, a .zip, "
                           f"or one of the named sources: {', '.join(NAMED_SOURCES)}.")

    def onerror(err: OSError):
        skipped.append((shown(err.filename), f"unreadable folder ({err.strerror})"))

    found = []
    for dirpath, dirnames, filenames in os.walk(path, onerror=onerror):
        dirnames.sort(key=_natural_key)
        for name in filenames:
            if name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(Path(dirpath) / name)
    found.sort(key=lambda p: _natural_key(p.relative_to(path).as_posix()))
    for p in found:
        items.append(Item(_kind(p.name), str(p), None, _guess_label(p.relative_to(path).as_posix(), str(path)),
                          root=str(path)))
    return items, skipped
