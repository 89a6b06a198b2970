"""`pokegan export`: a generator for use elsewhere: fp16 safetensors, ONNX for engines, or a static web page."""
from __future__ import annotations

import argparse
from pathlib import Path

EXPORT_EXAMPLES = """examples:
  pokegan export runs/00000-fastgan-gen5-64 --out my-model/     # small fp16 copy for sharing
  pokegan export --onnx engine/                                 # the shipped model for Unity, Godot, ...
  pokegan export runs/00000-fastgan-gen5-64 --web site/          # a page for itch.io or GitHub Pages
"""

def add_parser(sub) -> None:
    e = sub.add_parser("export", help="a generator for use elsewhere: fp16 safetensors, ONNX, or a static web page",
                       description="Export a run's generator (EMA if kept; the shipped model when no run is given): "
                                   "--out writes a small fp16 copy that pokegan reads (only its two files; anything "
                                   "else in the folder stays); --onnx writes generator.onnx + generator.json with "
                                   "the sprite pipeline inside the graph, for game engines; --web writes a static "
                                   "page that makes sprites in the browser with no server.", epilog=EXPORT_EXAMPLES)
    e.add_argument("model", nargs="?", help="run folder or checkpoint (default: the pretrained model)")
    e.add_argument("--out", help="folder for the fp16 safetensors copy (made if missing)")
    e.add_argument("--onnx", help="folder for generator.onnx and generator.json")
    e.add_argument("--web", help="folder for the static page (index.html, the model, onnxruntime-web)")
    e.add_argument("--opset", type=int, default=15, help="ONNX opset, 13 to 17 (15: the top of Unity Sentis's range)")
    e.add_argument("--fp32", action="store_true", help="--out: keep float32 weights")
    e.set_defaults(func=run_export, parser=e)


def run_export(args: argparse.Namespace) -> int:
    from pokegan.core.errors import PokeganError

    if not (args.out or args.onnx or args.web):
        raise PokeganError("give --out DIR (fp16 safetensors), --onnx DIR (for game engines) or --web DIR (a static page)")
    if args.out:
        if not args.model:
            raise PokeganError("--out copies a run's generator; give the run (the shipped model is already small)")
        from pokegan.export.slim import export_generator

        out = export_generator(args.model, args.out, half=not args.fp32)
        size = sum((Path(out) / name).stat().st_size for name in ("weights.safetensors", "state.json"))
        print(f"wrote {out} ({size / 2**20:.1f} MB); use it with `pokegan generate {out}`")
    if args.onnx or args.web:
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise PokeganError("--onnx and --web need the export extra: pip install 'pokegan[export]'") from None
    if args.onnx:
        from pokegan.export.onnx import export_onnx

        out = export_onnx(args.model, args.onnx, opset=args.opset)
        size = (Path(out) / "generator.onnx").stat().st_size
        extra = [f for f in ("type-sampler.onnx", "encoder.onnx") if (Path(out) / f).is_file()]
        print(f"wrote {out}/generator.onnx ({size / 2**20:.1f} MB, opset {args.opset}), generator.json"
              + "".join(f", {f}" for f in extra) + (" (types: generator.json's types.sampler)" if extra[:1] ==
                                                   ["type-sampler.onnx"] else ""))
    if args.web:
        from pokegan.export.web import export_web

        out = export_web(args.model, args.web, opset=args.opset)
        size = sum(p.stat().st_size for p in Path(out).iterdir())
        print(f"wrote {out}/index.html and its files ({size / 2**20:.1f} MB); open it from disk or any static host")
    return 0
