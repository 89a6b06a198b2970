"""Load on `pokegan serve`: mixed requests from a few concurrent clients over loopback.

    .venv/bin/python benchmarks/bench_serve.py --requests 1000 --clients 4
    .venv/bin/python benchmarks/bench_serve.py --top      # every parameter at its top, on every shipped model
    .venv/bin/python benchmarks/bench_serve.py --requests 300 --clients 2 --uploads 4   # beside a burst of uploads

Starts `pokegan serve` (the shipped model) on a free port, sends REQUESTS requests drawn from a fixed mix
(grids, single sprites, sheets, variations, walks, the model list, and bad requests that must be refused)
from CLIENTS threads, and samples the server's resident memory every half second. Prints the status codes
(any 5xx other than the designed 503 is a failure), latency percentiles per route, and memory at each
tenth of the run (it must level off, not grow with requests). `--uploads K`: K more clients POST an image to
/api/project, one after another, for as long as the others run (the page's "start from a Pokémon"), so the
sprite routes' latencies show what a burst of projections costs them. Prints Markdown.
"""
from __future__ import annotations

import argparse
import http.client
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict

MIX = [  # (weight, route name, query maker)
    (30, "sprites n=16", lambda r: f"/api/sprites?model=pretrained&n=16&seed={r.randrange(10**6)}&scale=2"),
    (20, "sprite", lambda r: f"/api/sprite?model=pretrained&seed={r.randrange(10**6)}&index={r.randrange(16)}"
                             "&transparent=1"),
    (10, "sheet n=64", lambda r: f"/api/sheet?model=pretrained&n=64&seed={r.randrange(10**6)}&palette=16"),
    (10, "variations", lambda r: f"/api/variations?model=pretrained&seed={r.randrange(100)}&index=2&n=8"),
    (10, "interpolate", lambda r: f"/api/interpolate?model=pretrained&a_seed={r.randrange(100)}&b_seed=7&steps=12"),
    (10, "models", lambda r: "/api/models"),
    (10, "bad (422/404)", lambda r: r.choice(["/api/sprites?n=100000", "/api/sprite?model=../../etc/passwd",
                                              "/api/sprites?seed=-5", "/api/sheet?palette=1"])),
]


TOP = "truncation=2&palette=64&transparent=1&min_fragment=256&dehalo=8&soft_edge=4&outline=1"


def top_queries(models: list[str]) -> list[tuple[str, str]]:
    """Each route with every declared limit at its top, for each model: the memory budget's worst cases."""
    big = "seed=9223372036854775807&index=4095"
    out = []
    for m in models:
        for scale in (8, 4):
            out += [(f"{m} sprites n=64 x{scale}", f"/api/sprites?model={m}&n=64&scale={scale}&seed=9223372036854775807&{TOP}"),
                    (f"{m} sheet n=256", f"/api/sheet?model={m}&n=256&scale={scale}&seed=9223372036854775807&{TOP}"),
                    (f"{m} variations n=64 x{scale}", f"/api/variations?model={m}&n=64&strength=2&scale={scale}&{big}&{TOP}")]
            out += [(f"{m} walk {fmt} x{scale}", f"/api/interpolate?model={m}&a_{big.replace('&', '&a_')}&b_{big.replace('&', '&b_')}"
                     f"&steps=32&duration=2000&format={fmt}&scale={scale}&{TOP}") for fmt in ("json", "gif", "png")]
    return out


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _sprite_png() -> bytes:
    """A 96x96 transparent sprite-like image (a body, a head, eyes) to upload."""
    import io

    import numpy as np
    from PIL import Image

    a = np.zeros((96, 96, 4), np.uint8)
    yy, xx = np.mgrid[:96, :96]
    a[((yy - 60) ** 2 + (xx - 48) ** 2) < 22 ** 2] = (230, 120, 40, 255)
    a[((yy - 32) ** 2 + (xx - 48) ** 2) < 14 ** 2] = (240, 150, 60, 255)
    a[((yy - 30) ** 2 + (xx - 42) ** 2) < 3 ** 2] = (20, 20, 30, 255)
    buf = io.BytesIO()
    Image.fromarray(a, "RGBA").save(buf, format="PNG")
    return buf.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--top", action="store_true", help="every parameter at its top on every shipped model, twice over")
    ap.add_argument("--uploads", type=int, default=0, help="clients uploading images to project meanwhile")
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "pokegan.cli.main", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/api/models")
            c.getresponse().read()
            break
        except OSError:
            time.sleep(0.1)
    rng = random.Random(args.seed)
    weights = [w for w, _, _ in MIX]
    jobs = [rng.choices(MIX, weights)[0] for _ in range(args.requests)]
    queries = [(name, make(rng)) for _, name, make in jobs]
    if args.top:
        import json

        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/api/models")
        models = [m["id"] for m in json.loads(c.getresponse().read())]
        for m in models:  # each model loaded once by a small request: the level the server works at
            c.request("GET", f"/api/sprites?model={m}&n=1")
            c.getresponse().read()
        queries = top_queries(models) * 2
        time.sleep(1.0)
    idle_mb = rss_mb(proc.pid)
    lock = threading.Lock()
    results: list[tuple[str, int, float]] = []
    memory: list[tuple[float, float]] = []
    done = threading.Event()
    t_start = time.perf_counter()

    def sampler():
        while not done.is_set():
            memory.append((time.perf_counter() - t_start, rss_mb(proc.pid)))
            time.sleep(0.5)

    def client(k: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for i in range(k, len(queries), args.clients):
            name, q = queries[i]
            t0 = time.perf_counter()
            try:
                conn.request("GET", q)
                r = conn.getresponse()
                r.read()
                status = r.status
            except OSError:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                status = 0
            with lock:
                results.append((name, status, time.perf_counter() - t0))

    upload = _sprite_png()
    clients_done = threading.Event()

    def uploader():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while not clients_done.is_set():
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/api/project?model=pretrained", body=upload,
                             headers={"Content-Type": "image/png"})
                r = conn.getresponse()
                r.read()
                status = r.status
            except OSError:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                status = 0
            with lock:
                results.append(("project (upload)", status, time.perf_counter() - t0))
            if status == 503:
                time.sleep(0.5)

    workers = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    uploaders = [threading.Thread(target=uploader) for _ in range(args.uploads)]
    threads = [threading.Thread(target=sampler)] + workers + uploaders
    for t in threads:
        t.start()
    for t in workers:
        t.join()
    clients_done.set()
    for t in uploaders:
        t.join()
    done.set()
    threads[0].join()
    wall = time.perf_counter() - t_start
    time.sleep(2.0)
    after_mb = rss_mb(proc.pid)
    proc.terminate()
    proc.wait(timeout=30)

    codes = Counter(s for _, s, _ in results)
    bad5xx = sum(n for s, n in codes.items() if s >= 500 and s != 503) + codes.get(0, 0)
    print(f"{len(results)} requests from {args.clients} clients in {wall:.1f} s; status codes: "
          + ", ".join(f"{s}: {n}" for s, n in sorted(codes.items())) + f"; unexpected 5xx or failures: {bad5xx}\n")
    print("| route | requests | 503 | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    by = defaultdict(list)
    for name, s, dt in results:
        by[name].append((s, dt * 1000))
    for name in dict.fromkeys([n for n, _ in queries] + ["project (upload)"]):
        rows = by.get(name, [])
        ok = sorted(dt for s, dt in rows if s != 503)
        if not ok:
            continue
        q = statistics.quantiles(ok, n=100) if len(ok) > 1 else [ok[0]] * 99
        print(f"| {name} | {len(rows)} | {sum(1 for s, _ in rows if s == 503)} | {q[49]:.0f} | {q[89]:.0f} | "
              f"{q[98]:.0f} | {ok[-1]:.0f} |")
    print("\nserver memory (RSS, MB) at each tenth of the run: " + ", ".join(
        f"{memory[min(len(memory) - 1, int(len(memory) * k / 10))][1]:.0f}" for k in range(11)))
    print(f"\nserver RSS: {idle_mb:.0f} MB before the large requests (every model loaded), peak {max(m for _, m in memory):.0f} MB, "
          f"{after_mb:.0f} MB two seconds after the last")
    if args.top:
        print("\nrefused by the budget (422): " + ", ".join(sorted({n for n, s, _ in results if s == 422})))
    return 1 if bad5xx else 0


if __name__ == "__main__":
    sys.exit(main())
