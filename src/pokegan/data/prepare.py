"""Turn a source (gen5, dreamworld, a folder or zip) into one dataset file.

Work is spread over processes (one per core); results come back in source order, so the same source and
options always give the same file. Files that cannot be used are skipped with one line each and counted;
nothing is written unless the whole run succeeded, and then atomically.
"""
from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from pokegan.data import images as im_ops
from pokegan.data import sources
from pokegan.data.dataset import BACKGROUNDS, save_dataset
from pokegan.core.errors import NothingUsable, PokeganError, shown


@dataclass(frozen=True)
class PrepareConfig:
    source: str = "gen5"           # gen5 | dreamworld | a folder or .zip of images
    size: int = 64                 # output side in pixels (16..256); 64 is what the reports trained at
    canvas: str = "box96"          # box96 keeps relative sizes (small Pokémon stay small); tight fills the frame
    resample: str = "bicubic"      # nearest keeps hard pixel-art edges; bicubic/lanczos are smoother
    sides: str = "front"           # gen5: front | back | both
    colors: str = "both"           # gen5: normal | shiny | both (shiny doubles the data, as report 001 did)
    female: bool = False           # gen5: add the 96 female variants per set (mostly near-duplicates)
    frames: str = "first"          # first | all: every animation frame (~69k front frames) is real augmentation
    background: str = "white"      # what models and metrics see behind the sprite unless told otherwise
    box: int = 96                  # the box96 canvas side: the native Black/White sprite box
    max_pixels: int = im_ops.DEFAULT_MAX_PIXELS  # larger images are refused (decompression bombs)
    svg_render: int = 0            # dreamworld: render side before canvas/resize; 0 = 2 x size
    # > 0: keep this fraction of the species out (all their sprites: normal, shiny, female, frames), chosen by
    # a fixed shuffle of their dex numbers, so a model trained on the file can be tested on creatures it never
    # saw (projection benchmarks); the file's info lists them
    hold_out: float = 0.0

    def validate(self) -> None:
        def bad(what: str, value, allowed) -> PokeganError:
            return PokeganError(f"{what} {value!r} is not one of: {', '.join(map(str, allowed))}")

        if not 16 <= self.size <= 256:
            raise PokeganError(f"size {self.size} is outside 16..256")
        if self.canvas not in im_ops.CANVASES:
            raise bad("canvas", self.canvas, im_ops.CANVASES)
        if self.resample not in im_ops.RESAMPLE:
            raise bad("resample filter", self.resample, im_ops.RESAMPLE)
        if self.sides not in ("front", "back", "both"):
            raise bad("sides", self.sides, ("front", "back", "both"))
        if self.colors not in ("normal", "shiny", "both"):
            raise bad("colors", self.colors, ("normal", "shiny", "both"))
        if self.frames not in ("first", "all"):
            raise bad("frames", self.frames, ("first", "all"))
        if self.background not in BACKGROUNDS:
            raise bad("background", self.background, BACKGROUNDS)
        if not (isinstance(self.hold_out, (int, float)) and 0.0 <= self.hold_out < 1.0):
            raise PokeganError(f"hold_out {self.hold_out!r}: the fraction of species to keep out, from 0 to below 1 "
                               "(0.1 keeps a tenth out)")
        if not 16 * 16 <= self.max_pixels <= 2 ** 31:
            raise PokeganError(f"max_pixels {self.max_pixels}: the largest image to read, in pixels, from 256 (16x16) "
                               f"to {2 ** 31:,}; the default {im_ops.DEFAULT_MAX_PIXELS:,} suits every sprite")


PRESETS: dict[str, tuple[PrepareConfig, str]] = {
    "gen5-64": (PrepareConfig(source="gen5", size=64, canvas="box96", resample="bicubic", sides="front",
                              colors="both", female=False, frames="first", background="white"),
                "the benchmark data: Gen-5 front sprites, normal and shiny, first frame, box96, bicubic "
                "64x64, shown on white (the reports' view); about 1,550 images"),
    "gen5-64-frames": (PrepareConfig(source="gen5", size=64, frames="all"),
                       "every front animation frame, normal and shiny, 64x64 (tens of thousands of images)"),
    "gen5-96": (PrepareConfig(source="gen5", size=96, canvas="box96", resample="nearest", background="transparent"),
                "the Gen-5 front sprites, normal and shiny, first frame, at their own 96x96 pixels (no resampling "
                "but for the few larger ones, nearest), binary alpha, trained transparent (RGBA)"),
    "gen5-32": (PrepareConfig(source="gen5", size=32), "gen5-64 at 32x32, for quick experiments"),
    "gen5-128": (PrepareConfig(source="gen5", size=128), "gen5-64 at 128x128, as report 002 trained"),
    "dreamworld-128": (PrepareConfig(source="dreamworld", size=128, canvas="tight", colors="normal"),
                       "the dream-world artworks rendered at 128x128, tight canvas"),
}


def preset(name: str) -> PrepareConfig:
    if name not in PRESETS:
        raise PokeganError(f"unknown data preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name][0]


@dataclass
class PrepareReport:
    files: int = 0
    images: int = 0
    duplicates: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def skip_counts(self) -> dict[str, int]:
        return dict(Counter(_reason_kind(r) for _, r in self.skipped))

    def note_counts(self) -> dict[str, int]:
        return dict(Counter(_reason_kind(r) for _, r in self.notes))


def _reason_kind(reason: str) -> str:
    return reason.split(" (")[0].split(":")[0]


# What makes an SVG reach beyond itself: a link to another file or URL (only "#fragment" and data: stay
# inside), a stylesheet import, or a DTD entity (external ones read files; internal ones can expand without
# bound). An SVG is a picture to draw, so one that asks for any of these is not drawn at all.
_SVG_OUTSIDE = re.compile(r"""(?:\bhref|\bsrc)\s*=\s*["']\s*(?!#|data:)|url\(\s*["']?\s*(?!#|data:)|@import|<!ENTITY""",
                          re.IGNORECASE)


def _render_svg(item: sources.Item, side: int) -> list:
    import io

    import resvg_py
    from PIL import Image

    try:
        text = item.read().decode("utf-8")
    except sources.Unreadable as e:
        raise im_ops.SkipImage(str(e)) from None
    except UnicodeDecodeError:
        raise im_ops.SkipImage("SVG is not UTF-8 text") from None
    found = _SVG_OUTSIDE.search(text)
    if found:
        raise im_ops.SkipImage(f"SVG refers to something outside itself ({found.group(0).strip()[:24]!r}); "
                               "pokegan draws only self-contained SVGs")
    try:  # no resources folder: nothing beside the SVG can be read
        png = resvg_py.svg_to_bytes(svg_string=text, width=side, skip_system_fonts=True)
        return [Image.open(io.BytesIO(bytes(png))).convert("RGBA")]
    except Exception as e:  # resvg raises plain exceptions for malformed SVG
        raise im_ops.SkipImage(f"SVG could not be rendered ({str(e)[:200]})") from None


def _process(args: tuple[sources.Item, PrepareConfig]):
    """Worker: one file -> (frames as uint8 arrays, skip reason or None, note or None)."""
    item, cfg = args
    try:
        if item.kind == "svg":
            frames, note = _render_svg(item, cfg.svg_render or 2 * cfg.size), None
        else:
            try:
                data = item.read()
            except sources.Unreadable as e:
                raise im_ops.SkipImage(str(e)) from None
            dec = im_ops.decode(data, all_frames=cfg.frames == "all", max_pixels=cfg.max_pixels)
            frames, note = dec.frames, dec.note
            if item.label["source"] == "gen5" and note and note.startswith("animated"):
                note = None  # for the sprite package, first-frame-only is the option the user chose
        out = []
        for i, fr in enumerate(frames):
            try:
                out.append((i, im_ops.place(fr, cfg.canvas, cfg.size, cfg.resample, cfg.box)))
            except im_ops.SkipImage:
                if len(frames) == 1:
                    raise
                # an empty frame inside an animation is dropped quietly; the others are kept
        if not out:
            raise im_ops.SkipImage("every frame is fully transparent")
        return out, None, note
    except im_ops.SkipImage as e:
        return [], str(e), None
    except Exception as e:  # never crash part-way: an unexpected decoder failure skips this one file
        return [], f"unexpected error ({type(e).__name__}: {str(e)[:200]})", None


def _items_for(cfg: PrepareConfig, log) -> tuple[list[sources.Item], list[tuple[str, str]]]:
    if cfg.source == "gen5":
        return sources.gen5_items(cfg.sides, cfg.colors, cfg.female), []
    if cfg.source == "dreamworld":
        return sources.dreamworld_items(), []
    return sources.folder_items(cfg.source, log=log)


def collect(cfg: PrepareConfig, workers: int = 0, log=print) -> tuple[np.ndarray, list[dict], PrepareReport]:
    """Decode, place and de-duplicate every image of the source. Returns (images, labels, report)."""
    cfg.validate()
    t0 = time.perf_counter()
    items, skipped = _items_for(cfg, log)
    report = PrepareReport(files=len(items), skipped=list(skipped))
    for f, r in skipped:
        log(f"skip {f}: {r}")
    workers = workers or min(os.cpu_count() or 1, 8)
    jobs = [(it, cfg) for it in items]
    if workers > 1 and len(items) >= 64:
        # fork where the platform has it: no re-import of the caller's main module (scripts without a
        # __main__ guard keep working); spawn elsewhere.
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        with mp.get_context(method).Pool(workers) as pool:
            results = list(pool.imap(_process, jobs, chunksize=max(1, min(32, len(jobs) // (workers * 8)))))
    else:
        results = [_process(j) for j in jobs]

    arrays: list[np.ndarray] = []
    labels: list[dict] = []
    seen: set[bytes] = set()
    for item, (frames, reason, note) in zip(items, results):
        if reason is not None:
            report.skipped.append((item.display(), reason))
            log(f"skip {item.display()}: {reason}")
            continue
        if note:
            report.notes.append((item.display(), note))
            log(f"note {item.display()}: {note}")
        for frame_index, arr in frames:
            digest = hashlib.blake2b(arr.tobytes(), digest_size=16).digest()
            if digest in seen:
                report.duplicates += 1
                continue
            seen.add(digest)
            arrays.append(arr)
            labels.append({**item.label, "frame": frame_index})
    report.images = len(arrays)
    report.seconds = time.perf_counter() - t0
    if not arrays:
        raise NothingUsable(f"{shown(cfg.source)}: no usable images ({report.files} files looked at, "
                           f"{len(report.skipped)} skipped: {report.skip_counts() or 'none'}). "
                           "Nothing was written. Check the path and that it holds PNG, JPEG, GIF, WebP or "
                           "BMP images.")
    return np.stack(arrays), labels, report


def species_key(label: dict) -> str:
    """The species a sprite shows: its name (normal, shiny, female and frames of one species share it)."""
    return str(label.get("name") or label.get("dex") or label.get("file") or "")


def held_out_species(labels: list[dict], fraction: float, seed: int = 0) -> set[str]:
    """The species `hold_out` keeps out: round(fraction x species) of them by a fixed shuffle of their keys."""
    if fraction <= 0:
        return set()
    keys = sorted({species_key(lab) for lab in labels})
    order = np.random.default_rng(seed).permutation(len(keys))
    return {keys[i] for i in order[: int(round(fraction * len(keys)))]}


def prepare(cfg: PrepareConfig, out: str, preset_name: str | None = None, workers: int = 0,
            log=print) -> PrepareReport:
    """Prepare a dataset file at `out`. Raises PokeganError (and writes nothing) on an empty result."""
    images, labels, report = collect(cfg, workers=workers, log=log)
    held = held_out_species(labels, cfg.hold_out)
    if held:
        keep = [i for i, lab in enumerate(labels) if species_key(lab) not in held]
        if not keep:
            raise NothingUsable(f"hold_out {cfg.hold_out}: every species was held out; nothing was written")
        images, labels = images[keep], [labels[i] for i in keep]
        log(f"held out {len(held)} species ({report.images - len(keep)} images): {', '.join(sorted(held)[:8])}"
            + (", ..." if len(held) > 8 else ""))
        report.images = len(keep)
    info = {
        "preset": preset_name,
        "config": asdict(replace(cfg, source=cfg.source if cfg.source in sources.NAMED_SOURCES
                                 else os.path.basename(os.path.normpath(cfg.source)))),
        "background": cfg.background,
        "files": report.files,
        "images": report.images,
        "duplicates_removed": report.duplicates,
        "skipped": report.skip_counts(),
        "notes": report.note_counts(),
    }
    if held:
        info["held_out"] = sorted(held)
    save_dataset(out, images, labels, info)
    return report
