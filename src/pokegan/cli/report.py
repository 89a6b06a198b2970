"""`pokegan report RUN --out FILE.html`: one self-contained HTML page about a run."""
from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="a self-contained HTML report of a run",
                       description="Write one HTML file (images embedded, readable offline) with a run's "
                                   "configuration, loss curves, D outputs, health warnings, FID/KID over time, the "
                                   "evolution of its samples and its nearest real sprites.",
                       epilog="example:\n  pokegan report runs/00000-fastgan-gen5-64 --out report.html\n")
    p.add_argument("run", help="a run folder")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.set_defaults(func=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from pokegan.core.paths import atomic_write_bytes
    from pokegan.report import build_report

    page = build_report(args.run)
    atomic_write_bytes(args.out, page.encode("utf-8"))
    print(f"wrote {args.out} ({len(page) / 1024:.0f} KB, self-contained)")
    return 0
