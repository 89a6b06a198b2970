"""The package's layers: no import circles, and making sprites does not need the training stack."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import pokegan

PACKAGE = Path(pokegan.__file__).parent
MODULES = sorted(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
                 for p in PACKAGE.rglob("*.py"))


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(m for m in sys.modules if m.startswith('pokegan')))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())


def test_every_module_imports_on_its_own():
    """Each module imported first, in a fresh interpreter: an import circle fails here (a partly initialised
    module), whichever side of it is imported first."""
    failed = []
    for m in MODULES:
        r = subprocess.run([sys.executable, "-c", f"import {m}"], capture_output=True, text=True)
        if r.returncode:
            failed.append(f"{m}: {r.stderr.strip().splitlines()[-1]}")
    assert not failed and len(MODULES) > 30, failed


@pytest.mark.parametrize("statement", ["from pokegan import load_generator; load_generator().arrays(2, seed=0)",
                                       "import pokegan.export.slim"])
def test_making_sprites_does_not_load_the_training_stack(statement):
    loaded = _imported_after(statement)
    assert "pokegan.sprites" in loaded
    assert not {m for m in loaded if m.startswith(("pokegan.training", "pokegan.metrics", "pokegan.cli"))}


def test_the_configuration_needs_no_torch():
    loaded = _imported_after("import pokegan.config, pokegan.presets; import sys; assert 'torch' not in sys.modules")
    assert "pokegan.config" in loaded
