"""A generated corpus of hostile and broken inputs, for the fault tests and `benchmarks/bench_hostile.py`.

`make_folder(root, outside, scale)` fills `root` with good sprites and every kind of bad file the tests
know (broken images, bombs, special files, symlinks out of the folder, SVGs that reach for other files,
hostile zips, odd names); `outside` is a folder beside it holding a "secret" image whose colour must never
appear in what pokegan prepares. `scale` repeats the bad kinds with variations (the benchmark's 1,000).
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

SECRET = (13, 211, 97)  # the outside image's colour: seeing it in a dataset means a file was read it should not


def _png(size=24, colour=(200, 40, 40), seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    a = np.zeros((size, size, 4), np.uint8)
    a[4:-4, 4:-4, :3] = colour
    a[4:-4, 4:-4, 3] = 255
    a[6:9, 6:9, :3] = rng.integers(0, 255, 3)
    buf = io.BytesIO()
    Image.fromarray(a, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def _gif_frames(n: int, side: int) -> bytes:
    frames = [Image.new("P", (side, side), i % 255) for i in range(n)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def _bomb_png(side: int = 40000) -> bytes:
    """A tiny PNG whose header claims side x side pixels."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress(b"\0" * (side + 1) * 16)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def _svg(body: str, extra: str = "") -> bytes:
    return (f'<?xml version="1.0"?>{extra}<svg xmlns="http://www.w3.org/2000/svg" '
            f'xmlns:xlink="http://www.w3.org/1999/xlink" width="32" height="32">{body}</svg>').encode()


def make_folder(root: Path, outside: Path, scale: int = 1, big: bool = False) -> dict[str, int]:
    """Fill `root`; returns how many files of each kind were written. `big` adds the slow, large cases
    (a 3 GB sparse file, a zip member of 1.5 GiB)."""
    root.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.png"
    secret.write_bytes(_png(colour=SECRET))
    counts: dict[str, int] = {}

    def put(kind: str, name: str, data: bytes | None = None, make=None):
        counts[kind] = counts.get(kind, 0) + 1
        p = root / name
        if make is not None:
            make(p)
        else:
            p.write_bytes(data)

    for i in range(6):
        put("good", f"good{i}.png", _png(seed=i, colour=(40 * i, 90, 200)))
    for k in range(scale):
        put("zero bytes", f"empty{k}.png", b"")
        put("truncated", f"trunc{k}.png", _png(seed=k)[: 30 + k])
        put("random bytes", f"noise{k}.png", os.urandom(200 + k))
        put("text as image", f"text{k}.gif", b"GIF89a is not what this is " * (k + 1))
        put("wrong extension", f"really_png{k}.jpg", _png(seed=100 + k))
        put("decompression bomb", f"bomb{k}.png", _bomb_png(30000 + k))
        put("animation bomb", f"frames{k}.gif", _gif_frames(100, 1024))
        put("svg absolute href", f"abs{k}.svg", _svg(f'<image href="{secret}" width="32" height="32"/>'))
        put("svg relative href", f"rel{k}.svg", _svg('<image href="../outside/secret.png" width="32" height="32"/>'))
        put("svg xlink href", f"xlink{k}.svg", _svg(f'<image xlink:href="file://{secret}" width="32" height="32"/>'))
        put("svg css url", f"css{k}.svg", _svg(f'<rect width="32" height="32" style="fill:url({secret})"/>'))
        put("svg external entity", f"xxe{k}.svg", _svg("<text>&x;</text>", f'<!DOCTYPE svg [<!ENTITY x SYSTEM "file://{secret}">]>'))
        put("svg entity expansion", f"laughs{k}.svg", _svg("<text>&e;</text>", '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
                                                           + "".join(f'<!ENTITY {c} "&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};">'
                                                                     for p, c in zip("abcd", "bcde")) + "]>"))
        put("svg malformed", f"broken{k}.svg", b"<svg><rect")
        put("svg not utf-8", f"latin{k}.svg", "<svg>\xe9</svg>".encode("latin-1"))
        put("symlink to /dev/zero", f"zero{k}.png", make=lambda p: p.symlink_to("/dev/zero"))
        put("symlink out of the folder", f"leak{k}.png", make=lambda p: p.symlink_to(secret))
        put("dangling symlink", f"dangling{k}.png", make=lambda p: p.symlink_to(root / "nowhere.png"))
        put("symlink loop", f"loop{k}.png", make=lambda p: p.symlink_to(p))
        put("FIFO", f"fifo{k}.png", make=lambda p: os.mkfifo(p))
        put("folder named like an image", f"dir{k}.png", make=lambda p: p.mkdir())
        put("odd name: not UTF-8", os.fsdecode(b"caf\xe9" + str(k).encode() + b".png"), _png(seed=200 + k))
        put("odd name: newline", f"new\nline{k}.png", _png(seed=300 + k))
        put("odd name: terminal escape", f"\x1b[31mred{k}.png", _png(seed=400 + k))
        put("odd name: long", ("n" * 240) + f"{k:03d}.png", _png(seed=500 + k))
        put("zip traversal", f"travel{k}.zip", make=lambda p: _zip(p, {"../../evil.png": _png(seed=600)}))
        put("zip member bomb", f"zbomb{k}.zip", make=lambda p: _zip(p, {"big.png": b"\0" * (80 << 20)}))
        put("zip corrupt", f"corrupt{k}.zip", b"PK\x03\x04" + os.urandom(100))
    if big:
        put("sparse 3 GB file", "sparse.png", make=lambda p: _sparse(p, 3 << 30))
        put("zip member of 1.5 GiB", "huge.zip", make=lambda p: _zip(p, {"huge.png": None}))
    return counts


def _sparse(p: Path, size: int) -> None:
    with open(p, "wb") as f:
        f.truncate(size)


def _zip(path: Path, members: dict[str, bytes | None]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            if data is None:  # 1.5 GiB of zeros, written in chunks (about 1.5 MB compressed)
                with z.open(zipfile.ZipInfo(name), "w", force_zip64=True) as f:
                    block = b"\0" * (16 << 20)
                    for _ in range(96):
                        f.write(block)
            else:
                z.writestr(name, data)


def add_odd_broken_names(root: Path) -> None:
    """Broken files with names that printing must not mangle or choke on (their skip lines are printed)."""
    (root / os.fsdecode(b"bad\xff\xfe.png")).write_bytes(b"\x89PNG broken")
    (root / "bad\nname.png").write_bytes(b"not an image")
    (root / "bad\x1b]0;pwned\x07\x1b[2J.png").write_bytes(b"not an image")
