"""Shared by the benchmark scripts: run a measurement in a fresh process, so one measurement's threads,
caches and allocator state cannot colour the next. The child prints one `RESULT {json}` line."""
from __future__ import annotations

import json
import subprocess
import sys


def run_child(script: str, *argv) -> dict:
    r = subprocess.run([sys.executable, script, *argv], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(r.stderr[-2000:])
