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


@pytest.mark.slow
def test_every_module_imports_on_its_own():
    """Each module imported first, in a fresh interpreter: an import circle fails here (a partly initialised
    module), whichever side of it is imported first."""
    failed = []
    for m in MODULES:
        r = subprocess.run([sys.executable, "-c", f"import {m}"], capture_output=True, text=True)
        if r.returncode:
            failed.append(f"{m}: {r.stderr.strip().splitlines()[-1]}")
    assert not failed and len(MODULES) > 30, failed


@pytest.mark.slow
@pytest.mark.parametrize("statement", ["from pokegan import load_generator; load_generator().arrays(2, seed=0)",
                                       "from pokegan import load_generator; load_generator().arrays(2, types=('ice',))",
                                       "import pokegan.export.slim"])
def test_making_sprites_does_not_load_the_training_stack(statement):
    loaded = _imported_after(statement)
    assert "pokegan.generator.sprites" in loaded
    assert not {m for m in loaded if m.startswith(("pokegan.training", "pokegan.metrics", "pokegan.cli"))}


def test_the_configuration_needs_no_torch():
    loaded = _imported_after("import pokegan.config, pokegan.presets; import sys; assert 'torch' not in sys.modules")
    assert "pokegan.config" in loaded


@pytest.mark.slow
def test_a_generator_file_builds_only_its_generator():
    """Loading a generator (the shipped model, or a run's) builds the class its state.json names with its own
    arguments: no discriminator is constructed and nothing of training is imported."""
    code = ("import pokegan.models.fastgan as f\n"
            "def boom(*a, **k): raise SystemExit('a discriminator was built')\n"
            "f.FastDiscriminator.__init__ = boom\n"
            "from pokegan import load_generator\n"
            "g = load_generator()\n"
            "assert g.spec['class'] == 'FastGenerator' and g.arrays(2, seed=0).shape[0] == 2\n"
            "import sys; print('\\n'.join(m for m in sys.modules if m.startswith('pokegan')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    assert not {m for m in r.stdout.split() if m.startswith("pokegan.training")}


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["generate", "--n", "2", "--out", "{tmp}/g"],
                                  ["interpolate", "--seeds", "1", "2", "--steps", "3", "--out", "{tmp}/w.gif"],
                                  ["export", "--onnx", "{tmp}/onnx"], ["models"]])
def test_the_inference_verbs_import_nothing_of_training(argv, tmp_path):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code = (f"from pokegan.cli.main import main; code = main({argv!r}); import sys; "
            "print('\\n'.join(m for m in sys.modules if m.startswith('pokegan'))); sys.exit(code)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not {m for m in r.stdout.split() if m.startswith("pokegan.training")}, argv


def test_the_server_and_exporters_import_nothing_of_training():
    loaded = _imported_after("import pokegan.web.server, pokegan.web.catalog, pokegan.export.onnx, pokegan.export.web")
    assert "pokegan.web.server" in loaded and not {m for m in loaded if m.startswith("pokegan.training")}


def test_a_generator_description_that_does_not_fit_its_weights_allocates_nothing(tmp_path):
    import json
    import shutil

    from pokegan.core.errors import PokeganError
    from pokegan.generator.sprites import load_generator
    from pokegan.generator.shipped import pretrained_path

    dst = tmp_path / "m"
    shutil.copytree(pretrained_path(), dst)
    state = json.loads((dst / "state.json").read_text())
    state["generator"]["args"]["base"] = 8192     # would take gigabytes if it were built before the check
    (dst / "state.json").write_text(json.dumps(state))
    with pytest.raises(PokeganError, match="the weights do not fit FastGenerator"):
        load_generator(dst)
    state["generator"]["class"] = "os.system"
    (dst / "state.json").write_text(json.dumps(state))
    with pytest.raises(PokeganError, match="unknown network 'os.system'"):
        load_generator(dst)
