"""A static web page that makes sprites in the browser with no server: from disk (file://) or any static
host (itch.io, GitHub Pages).

The folder holds `index.html`, our own `exported.js` and `style.css` (the stylesheet `pokegan serve` uses),
the ONNX model (`generator.onnx` + `generator.json`, as `--onnx` writes them), and onnxruntime-web's
single-threaded WebAssembly build, vendored from its npm package (fetched once with `npm pack`, checked
against the pinned sha512, cached). A page opened from file:// may not fetch files or import modules, so
the model, the runtime's WebAssembly and its glue module are also written as plain scripts that define
base64 strings (`model.js`, `ort-wasm.js`, `ort-glue.js`); the page hands them to the runtime as bytes and a
blob URL. Where the model has a projection encoder (`encoder.onnx`, as `encoder.js`), a dropped image gets its
instant projection and variations around it, in the browser too. Latents follow `pokegan.generator.latents.PORTABLE_RULE`, so seed S gives the sprites of
`pokegan generate --seed S --latent-rule portable --transparent`; a model that takes types has a type picker
(one or two of the types it saw; none: as the data has them, by the same rule): a conditional model's slots,
or its type sampler (`type-sampler.onnx`, in model.js) picking each sprite's latent among its candidates.
"""
from __future__ import annotations

import base64
import json
import tarfile
from importlib.resources import files
from pathlib import Path

from pokegan.core.errors import PokeganError
from pokegan.export.onnx import DEFAULT_OPSET, export_onnx
from pokegan.npm import NpmPackage, cached_tarball
from pokegan.core.paths import atomic_write_bytes

ORT_WEB = NpmPackage("onnxruntime-web", "1.31.1",
                     "sha512-5GeH+bWQ+HxM10z7erGlsWqryrwMbSvm/1tkIsKTT48g0fI19VXVVC435t4t7VsPdSQeS7NmuZPXrQ73k82URw==",
                     "about 40 MB")
# From the package's dist/: the UMD runtime (a classic script), its WebAssembly and the glue module.
ORT_FILES = {"runtime": "ort.wasm.min.js", "wasm": "ort-wasm-simd-threaded.wasm", "glue": "ort-wasm-simd-threaded.mjs"}
HOW_TO = (f"The page needs {ORT_WEB.spec} from the npm registry once (then it is cached): run the export on a "
          "machine with npm and network, or `npm pack onnxruntime-web@1.31.1` there and copy the .tgz into "
          "pokegan's cache folder.")


def _ort_files(log=print) -> dict[str, bytes]:
    tgz = cached_tarball(ORT_WEB, log, HOW_TO)
    out = {}
    try:
        with tarfile.open(tgz, "r:gz") as tar:
            for key, name in ORT_FILES.items():
                member = tar.extractfile(f"package/dist/{name}")
                if member is None:
                    raise KeyError(name)
                out[key] = member.read()
            meta = json.load(tar.extractfile("package/package.json"))
            out["licence"] = (f"{ORT_WEB.spec}: {meta.get('license', 'see its package')} licence, "
                              f"{meta.get('homepage', 'https://github.com/microsoft/onnxruntime')}\n").encode()
    except (tarfile.TarError, KeyError, ValueError, TypeError) as e:
        raise PokeganError(f"{tgz}: not the expected {ORT_WEB.spec} package ({e}); delete it and export again") from None
    return out


def _b64_script(var: str, data: bytes) -> bytes:
    return f"window.{var} = \"".encode() + base64.b64encode(data) + b"\";\n"


def export_web(model: str | Path | None, out: str | Path, opset: int = DEFAULT_OPSET, log=print) -> Path:
    """Write the static page into the folder `out` (made if missing); returns it."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PokeganError(f"--web {out}: that is a file; give a folder to write the page into")
    ort = _ort_files(log)          # before anything is written: a missing runtime leaves no half folder
    export_onnx(model, out, opset=opset)
    onnx_bytes = (out / "generator.onnx").read_bytes()
    meta = json.loads((out / "generator.json").read_text())
    page = files("pokegan.export") / "page"
    for name in ("index.html", "exported.js"):
        atomic_write_bytes(out / name, (page / name).read_bytes())
    atomic_write_bytes(out / "style.css", (files("pokegan.web") / "static" / "style.css").read_bytes())
    atomic_write_bytes(out / "ort.wasm.min.js", ort["runtime"])
    atomic_write_bytes(out / "ort-wasm.js", _b64_script("POKEGAN_ORT_WASM", ort["wasm"]))
    atomic_write_bytes(out / "ort-glue.js", _b64_script("POKEGAN_ORT_GLUE", ort["glue"]))
    sampler = out / "type-sampler.onnx"
    atomic_write_bytes(out / "model.js", _b64_script("POKEGAN_MODEL", onnx_bytes)
                       + f"window.POKEGAN_META = {json.dumps(meta)};\n".encode()
                       + (_b64_script("POKEGAN_SAMPLER", sampler.read_bytes()) if sampler.is_file()
                          else b"window.POKEGAN_SAMPLER = null;\n"))
    encoder = out / "encoder.onnx"
    atomic_write_bytes(out / "encoder.js", _b64_script("POKEGAN_ENCODER", encoder.read_bytes()) if encoder.is_file()
                       else b"window.POKEGAN_ENCODER = null;\n")
    atomic_write_bytes(out / "LICENSE-onnxruntime-web.txt", ort["licence"])
    return out
