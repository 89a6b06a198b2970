"""The data pipeline on tiny synthetic sprites: decoding every mode, canvases, bad input, the file format."""
from __future__ import annotations

import io
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from pokegan.data import load_dataset
from pokegan.data.images import SkipImage, decode, place
from pokegan.data.prepare import PrepareConfig, collect, prepare
from pokegan.core.errors import PokeganError

from conftest import sprite


def png_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG", **kw)
    return buf.getvalue()


def bomb_png(w=100_000, h=100_000) -> bytes:
    """A tiny PNG whose header claims w x h pixels."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + \
        chunk(b"IEND", b"")


def test_palette_gif_keeps_transparency():
    mask = np.asarray(sprite(1))[..., 3] > 0
    im = Image.fromarray(mask.astype(np.uint8), "P")  # index 0: background, 1: the creature
    im.putpalette([0, 255, 0, 200, 30, 30] + [0] * 762)
    buf = io.BytesIO()
    im.save(buf, format="GIF", transparency=0)
    dec = decode(buf.getvalue(), all_frames=False)
    alpha = np.asarray(dec.frames[0])[..., 3]
    assert set(np.unique(alpha)) <= {0, 255} and (alpha == 0).any() and (alpha == 255).any()


def test_animated_gif_frames():
    frames = [sprite(i) for i in range(5)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], disposal=2, duration=50)
    assert len(decode(buf.getvalue(), all_frames=True).frames) == 5
    first = decode(buf.getvalue(), all_frames=False)
    assert len(first.frames) == 1 and "animated (5 frames)" in first.note


@pytest.mark.parametrize("mode", ["L", "LA", "P", "CMYK", "I;16", "RGB"])
def test_every_mode_becomes_rgba(mode):
    base = sprite(3)
    if mode == "I;16":
        grey = (np.asarray(base.convert("L"), np.uint16) * 257)
        im = Image.fromarray(grey.astype("<u2"))  # Pillow picks mode I;16 for little-endian uint16
        data = png_bytes(im)
    elif mode == "CMYK":
        buf = io.BytesIO()
        base.convert("RGB").convert("CMYK").save(buf, format="JPEG")
        data = buf.getvalue()
    else:
        data = png_bytes(base.convert(mode))
    out = decode(data, all_frames=False).frames[0]
    assert out.mode == "RGBA" and out.size == base.size
    if mode == "I;16":  # scaled, not clipped: the brightest 16-bit value maps to the brightest 8-bit one
        assert np.asarray(out)[..., 0].max() == np.asarray(base.convert("L")).max()


@pytest.mark.parametrize("data,reason", [
    (b"", "empty file"),
    (b"this is not an image at all", "not an image"),
    (png_bytes(sprite(1))[:60], "corrupt or truncated"),
    (bomb_png(), "decompression bomb"),
])
def test_bad_bytes_are_skipped_with_reason(data, reason):
    with pytest.raises(SkipImage, match=reason):
        decode(data, all_frames=False)


def test_box96_keeps_relative_size_and_tight_fills():
    small = Image.new("RGBA", (24, 24), (255, 0, 0, 255))
    boxed = place(small, "box96", 96, "nearest")
    assert (boxed[..., 3] > 0).sum() == 24 * 24          # unscaled, centred in the 96 box
    assert boxed[36, 36, 3] == 255 and boxed[0, 0, 3] == 0
    tight = place(small, "tight", 32, "nearest")
    assert (tight[..., 3] == 255).all()                   # fills the frame
    big = Image.new("RGBA", (150, 100), (0, 0, 255, 255))
    assert place(big, "box96", 64, "bicubic").shape == (64, 64, 4)


def test_transparent_colour_is_canonical():
    im = sprite(4)
    arr = np.asarray(im).copy()
    arr[arr[..., 3] == 0, :3] = 77  # junk colour under transparency
    out = place(Image.fromarray(arr, "RGBA"), "box96", 48, "bicubic")
    assert (out[out[..., 3] == 0, :3] == 0).all()


def test_prepare_folder_roundtrip(sprite_folder, tmp_path):
    (sprite_folder / "copy.png").write_bytes((sprite_folder / "1.png").read_bytes())  # exact duplicate
    (sprite_folder / "empty.png").write_bytes(b"")
    (sprite_folder / "notes.jpg").write_text("not a picture")
    (sprite_folder / "dangling.png").symlink_to(sprite_folder / "nowhere.png")  # inside the folder, missing
    out = tmp_path / "d.data"
    lines = []
    rep = prepare(PrepareConfig(source=str(sprite_folder), size=32), str(out), log=lines.append, workers=1)
    ds = load_dataset(out)
    assert ds.images.shape == (12, 32, 32, 4) and ds.images.dtype == np.uint8
    assert rep.duplicates == 1 and len(rep.skipped) == 3
    assert any("empty.png" in l and "empty file" in l for l in lines)
    assert any("notes.jpg" in l and "not an image" in l for l in lines)
    assert any("dangling.png" in l and "unreadable" in l for l in lines)
    lab = {l["file"]: l for l in ds.labels}
    assert lab["1.png"]["dex"] == 1 and lab["1.png"]["name"] == "bulbasaur"
    assert lab["1.png"]["types"] == ["grass", "poison"] and lab["shiny/1.png"]["shiny"] is True
    assert lab["photo.jpg"]["dex"] is None
    for key in ("file", "dex", "name", "types", "shiny", "frame"):
        assert key in ds.labels[0]
    assert ds.info["skipped"] and ds.info["duplicates_removed"] == 1


def test_prepare_is_deterministic_and_parallel_matches_serial(sprite_folder, tmp_path):
    for i in range(60):  # enough files for the process pool to be used
        sprite(100 + i).save(sprite_folder / f"extra{i}.png")
    a, b = tmp_path / "a.data", tmp_path / "b.data"
    prepare(PrepareConfig(source=str(sprite_folder), size=32), str(a), log=lambda *_: None, workers=1)
    prepare(PrepareConfig(source=str(sprite_folder), size=32), str(b), log=lambda *_: None, workers=2)
    assert a.read_bytes() == b.read_bytes()


def test_zip_source_and_all_frames(tmp_path):
    frames = [sprite(i) for i in range(4)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], disposal=2)
    z = tmp_path / "s.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("anim/25.gif", buf.getvalue())
        zf.writestr("a/still.png", png_bytes(sprite(9)))
    images, labels, rep = collect(PrepareConfig(source=str(z), size=16, frames="all"), log=lambda *_: None)
    assert len(images) == 5 and sorted(l["frame"] for l in labels if l["dex"] == 25) == [0, 1, 2, 3]


def test_empty_result_is_an_error_and_nothing_is_lost(tmp_path):
    src = tmp_path / "junk"
    src.mkdir()
    (src / "a.png").write_bytes(b"")
    out = tmp_path / "keep.data"
    out.write_bytes(b"precious")
    with pytest.raises(PokeganError, match="no usable images"):
        prepare(PrepareConfig(source=str(src)), str(out), log=lambda *_: None)
    assert out.read_bytes() == b"precious"


def test_load_dataset_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.data"
    bad.write_bytes(b"garbage" * 10)
    with pytest.raises(PokeganError, match="bad.data"):
        load_dataset(bad)
    with pytest.raises(PokeganError, match="no such dataset"):
        load_dataset(tmp_path / "missing.data")


@pytest.mark.slow
def test_cli_prepare_and_show(sprite_folder, tmp_path):
    out = tmp_path / "cli.data"
    exe = [sys.executable, "-m", "pokegan.cli.main"]
    r = subprocess.run(exe + ["data", "prepare", str(sprite_folder), "--size", "24", "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "12 images" in r.stdout
    r = subprocess.run(exe + ["data", "show", str(out), "--out", str(tmp_path / "s.png"), "--by-type"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path / "s.png").size[0] > 24
    assert "12 images" in r.stdout
    r = subprocess.run(exe + ["data", "prepare", str(tmp_path / "nope"), "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "nope" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(exe + ["data", "prepare", "--presett", "gen5-64", "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "did you mean --preset" in r.stderr


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">'
       '<circle cx="50" cy="50" r="30" fill="{}"/></svg>')


def test_svg_files_in_a_folder_and_a_zip_are_rendered(tmp_path):
    """Vector art (the dream-world source, or a user's own SVGs) is rendered with transparency kept."""
    root = tmp_path / "art"
    root.mkdir()
    (root / "25.svg").write_text(SVG.format("#ffd700"))
    (root / "4.svg").write_text(SVG.format("#ff4500"))
    (root / "broken.svg").write_text("<svg><circle")
    (root / "latin1.svg").write_bytes(SVG.format("red").replace("svg ", "svg \xe9 ", 1).encode("latin-1"))
    lines = []
    rep = prepare(PrepareConfig(source=str(root), size=32, canvas="tight"), str(tmp_path / "s.data"),
                  log=lines.append, workers=1)
    ds = load_dataset(tmp_path / "s.data")
    assert ds.images.shape == (2, 32, 32, 4) and len(rep.skipped) == 2
    assert any("broken.svg" in l and "SVG could not be rendered" in l for l in lines)
    assert any("latin1.svg" in l and "not UTF-8" in l for l in lines)
    lab = {l["file"]: i for i, l in enumerate(ds.labels)}
    pika = ds.images[lab["25.svg"]]
    assert ds.labels[lab["25.svg"]]["name"] == "pikachu"
    assert pika[16, 16, 3] == 255 and pika[0, 0, 3] == 0          # a disc on transparency
    assert abs(int(pika[16, 16, 0]) - 0xff) <= 2 and abs(int(pika[16, 16, 1]) - 0xd7) <= 2
    with zipfile.ZipFile(tmp_path / "art.zip", "w") as z:
        z.write(root / "25.svg", "art/25.svg")
    prepare(PrepareConfig(source=str(tmp_path / "art.zip"), size=32, canvas="tight"),
            str(tmp_path / "z.data"), log=lambda *_: None, workers=1)
    assert np.array_equal(load_dataset(tmp_path / "z.data").images[0], pika)
