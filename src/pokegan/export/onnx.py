"""ONNX export: the generator plus the sprite pipeline's finishing steps in one graph, for game engines.

    latents (N, z) float32 -> sprites (N, H, W, 4) uint8 RGBA, ready to draw
                           -> image   (N, C, H, W) float32 in [-1, 1], the background snapped

The generator is exported with its spectral-norm parametrisations baked into plain weights and its
batch norms in eval mode (torch's TorchScript-based exporter); the finishing steps are ONNX nodes of our
own, written to match `pokegan.generator.pipeline` step for step: clamp, the background snapped to its exact
colour, uint8 by round-half-to-even, then binary alpha (RGBA models) or the background keyed to
transparency where it reaches the border (RGB models on white or black: a flood fill from the border, an
ONNX Loop of 4-neighbour dilations that stops when nothing changes, as `pixels.key_background` does).
Palette reduction and scaling are not in the graph (an engine scales by nearest neighbour itself).

Opsets 13 to 17 (default 15, the top of Unity Sentis's documented range; the graph needs 13 for Loop and
ReduceMin with attributes, LessOrEqual and Round).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pokegan import __version__
from pokegan.config import SpriteOptions
from pokegan.steps import OPTIONS, automatic
from pokegan.core.errors import PokeganError
from pokegan.core.type_names import TYPES

N_TYPES = len(TYPES)
from pokegan.core.paths import atomic_write_bytes
from pokegan.generator.sprites import SpriteGenerator, load_generator

OPSETS = (13, 17)
DEFAULT_OPSET = 15
LICENCE = ("The model's weights were trained on Pokémon sprites, which are copyright The Pokémon Company; use "
           "what it makes accordingly. pokegan's code is MIT-licensed.")


def baked_generator(g: SpriteGenerator):
    """A copy of the generator in eval mode with every parametrisation (spectral norm) folded into a plain
    weight, so the exported graph is convolutions, batch norms and activations only."""
    import copy

    from torch.nn.utils import parametrize

    G = copy.deepcopy(g.G).cpu().eval()
    for m in list(G.modules()):
        if parametrize.is_parametrized(m):
            for name in list(m.parametrizations.keys()):
                parametrize.remove_parametrizations(m, name, leave_parametrized=True)
    return G.requires_grad_(False)


class _Graph:
    """A small helper that appends named nodes and constants to an ONNX graph."""

    def __init__(self, graph, prefix: str = "post/"):
        self.graph, self.prefix, self.n = graph, prefix, 0

    def name(self, hint: str) -> str:
        self.n += 1
        return f"{self.prefix}{hint}_{self.n}"

    def const(self, value, dtype=np.float32, hint: str = "c") -> str:
        from onnx import numpy_helper

        name = self.name(hint)
        self.graph.initializer.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, out: str | None = None, **attrs) -> str:
        from onnx import helper

        out = out or self.name(hint or op_type.lower())
        self.graph.node.append(helper.make_node(op_type, inputs, [out], name=self.name(op_type), **attrs))
        return out


def _flood_fill_body(bg: str, h: int, w: int):
    """The Loop body: clear := (4-neighbour dilation of clear) AND bg; go on while anything changed."""
    from onnx import TensorProto, helper, numpy_helper

    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.float32).reshape(1, 1, 3, 3)
    nodes = [
        helper.make_node("Conv", ["clear_in", "cross"], ["dil"], pads=[1, 1, 1, 1]),
        helper.make_node("Greater", ["dil", "half"], ["dil_b"]),
        helper.make_node("Cast", ["dil_b"], ["dil_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["dil_f", bg], ["clear_out"]),
        helper.make_node("Sub", ["clear_out", "clear_in"], ["diff"]),
        helper.make_node("ReduceMax", ["diff"], ["changed"], keepdims=0),
        helper.make_node("Greater", ["changed", "half"], ["cond_out"]),
    ]
    return helper.make_graph(
        nodes, "flood_fill",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("clear_in", TensorProto.FLOAT, ["n", 1, h, w])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("clear_out", TensorProto.FLOAT, ["n", 1, h, w])],
        initializer=[numpy_helper.from_array(cross, "cross"), numpy_helper.from_array(np.float32(0.5), "half")])


def add_finishing(model, g: SpriteGenerator, opts: SpriteOptions, raw: str = "raw") -> None:
    """Append the finishing steps to an exported generator graph whose output is `raw` (N, C, H, W)."""
    from onnx import TensorProto, helper

    graph = model.graph
    b = _Graph(graph)
    c, h, w = g.channels, g.resolution, g.resolution
    x = b.op("Clip", [raw, b.const(-1.0), b.const(1.0)], "clamped")
    if c == 3 and g.background in ("white", "black") and opts.bg_tolerance:  # pipeline.snap_background
        target = b.const(1.0 if g.background == "white" else -1.0)
        near = b.op("LessOrEqual", [b.op("Abs", [b.op("Sub", [x, target])]),
                                    b.const((opts.bg_tolerance + 0.5) / 127.5)])
        near = b.op("ReduceMin", [b.op("Cast", [near], to=TensorProto.FLOAT)], axes=[1], keepdims=1)
        x = b.op("Where", [b.op("Cast", [near], to=TensorProto.BOOL), target, x], "snapped")
    b.op("Identity", [x], out="image")
    levels = b.op("Round", [b.op("Mul", [b.op("Add", [x, b.const(1.0)]), b.const(127.5)])], "levels")  # 0..255
    rgb = b.op("Slice", [levels, b.const([0], np.int64), b.const([3], np.int64), b.const([1], np.int64)], "rgb")
    if c == 4:  # binary alpha at the threshold; colour cleared where transparent (pixels.clean_alpha)
        alpha = b.op("Slice", [levels, b.const([3], np.int64), b.const([4], np.int64), b.const([1], np.int64)])
        opaque = b.op("Cast", [b.op("GreaterOrEqual", [alpha, b.const(float(opts.alpha_threshold))])],
                      to=TensorProto.FLOAT)
    elif opts.transparent and g.background in ("white", "black"):  # pixels.key_background
        key = b.const((255.0 if g.background == "white" else 0.0))
        far = b.op("ReduceMax", [b.op("Abs", [b.op("Sub", [rgb, key])])], axes=[1], keepdims=1)
        bg = b.op("Cast", [b.op("LessOrEqual", [far, b.const(float(opts.key_tolerance))])], to=TensorProto.FLOAT)
        border = np.zeros((1, 1, h, w), np.float32)
        border[..., 0, :] = border[..., -1, :] = border[..., :, 0] = border[..., :, -1] = 1
        seed = b.op("Mul", [bg, b.const(border)], "seed")
        clear = b.name("clear")
        graph.node.append(helper.make_node("Loop", [b.const(h * w, np.int64), b.const(True, np.bool_), seed],
                                           [clear], name=b.name("Loop"), body=_flood_fill_body(bg, h, w)))
        opaque = b.op("Sub", [b.const(1.0), clear], "opaque")
    else:  # nothing to clear: every pixel opaque
        opaque = b.op("Add", [b.op("Mul", [b.op("Slice", [levels, b.const([0], np.int64), b.const([1], np.int64),
                                                            b.const([1], np.int64)]), b.const(0.0)]), b.const(1.0)])
    rgba = b.op("Concat", [b.op("Mul", [rgb, opaque]), b.op("Mul", [opaque, b.const(255.0)])], axis=1)
    nhwc = b.op("Transpose", [rgba], perm=[0, 2, 3, 1])
    b.op("Cast", [nhwc], out="sprites", to=TensorProto.UINT8)
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info("sprites", TensorProto.UINT8, ["n", h, w, 4]),
                         helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", c, h, w])])


def export_onnx(model: str | Path | None, out: str | Path, opset: int = DEFAULT_OPSET,
                opts: SpriteOptions | None = None) -> Path:
    """Write `generator.onnx` and `generator.json` into the folder `out`; returns the folder."""
    import io

    import onnx
    import torch

    if not OPSETS[0] <= opset <= OPSETS[1]:
        raise PokeganError(f"--opset {opset}: pokegan exports opsets {OPSETS[0]} to {OPSETS[1]} (default "
                           f"{DEFAULT_OPSET}, the top of Unity Sentis's documented range)")
    g = load_generator(model)
    opts = opts or SpriteOptions(transparent=True)
    if not opts.alpha_threshold:
        raise PokeganError("the exported graph makes alpha binary; give an alpha threshold from 1 to 255")
    if opts.types:
        raise PokeganError("types are not baked into the export: a conditional model's graph takes them as 18 slots "
                           "after the noise in `latents` (generator.json says how)")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PokeganError(f"--onnx {out}: that is a file; give a folder to write generator.onnx into")
    buf = io.BytesIO()
    z = torch.zeros(2, g.z_dim + (N_TYPES if g.conditional else 0))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        try:
            torch.onnx.export(baked_generator(g), (z,), buf, input_names=["latents"], output_names=["raw"],
                              dynamic_axes={"latents": {0: "n"}, "raw": {0: "n"}}, opset_version=opset,
                              dynamo=False, do_constant_folding=True)
        except Exception as e:  # an exporter failure names the family and the op, not a long traceback
            raise PokeganError(f"the {g.family} generator could not be exported to ONNX opset {opset}: "
                               f"{type(e).__name__}: {str(e).splitlines()[0][:300]}") from None
    m = onnx.load_from_string(buf.getvalue())
    add_finishing(m, g, opts)
    m.producer_name, m.producer_version = "pokegan", __version__
    onnx.checker.check_model(m)
    data = m.SerializeToString()
    check_graph(data, g)
    encoder = encoder_onnx(g, opset)
    meta = describe(g, opts, opset)
    if encoder is None and (out / "encoder.onnx").is_file():
        (out / "encoder.onnx").unlink()     # an earlier export's encoder belongs to another model
    sampler = sampler_onnx(g, opset)
    if sampler is None and (out / "type-sampler.onnx").is_file():
        (out / "type-sampler.onnx").unlink()
    if sampler is not None:
        atomic_write_bytes(out / "type-sampler.onnx", sampler)
    if encoder is not None:
        atomic_write_bytes(out / "encoder.onnx", encoder)
        meta["encoder"] = {"model": "encoder.onnx", "inputs": [{"name": "sprite", "shape": [1, g.channels, g.resolution,
                                                                                         g.resolution],
                           "dtype": "float32", "about": f"a sprite as the model draws them: on {g.background}, "
                                                        "in [-1, 1], channels first (pokegan project's target)"}],
                           "outputs": [{"name": "latent", "shape": [1, g.z_dim], "dtype": "float32",
                                        "about": "the noise the generator draws closest to it (the projection "
                                                 "encoder's guess, on the Gaussian shell)"},
                                       {"name": "type_logits", "shape": [1, N_TYPES if g.conditional else 0],
                                        "dtype": "float32", "about": "its types' scores (conditional models)"}]}
    atomic_write_bytes(out / "generator.onnx", data)
    atomic_write_bytes(out / "generator.json", json.dumps(meta, indent=1).encode())
    return out


def encoder_onnx(g: SpriteGenerator, opset: int) -> bytes | None:
    """The model's projection encoder (pokegan.projection) as ONNX, its guess scaled onto the Gaussian shell in
    the graph, or None when the model has no encoder."""
    import io
    import warnings

    import torch

    from pokegan.projection.encoder import load_encoder

    E, _ = load_encoder(g, warn=lambda m: None)
    if E is None:
        return None

    class Instant(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.E = E

        def forward(self, x):
            out = self.E(x)
            z = out[:, :g.z_dim]
            z = z * (g.z_dim ** 0.5) / z.norm(dim=1, keepdim=True).clamp_min(1e-6)
            return z, out[:, g.z_dim:]

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Instant().eval(), (torch.zeros(1, g.channels, g.resolution, g.resolution),), buf,
                          input_names=["sprite"], output_names=["latent", "type_logits"], opset_version=opset,
                          dynamo=False)
    return buf.getvalue()


def sampler_onnx(g: SpriteGenerator, opset: int) -> bytes | None:
    """The model's type sampler (pokegan.generator.type_sampler: latents (m, z) -> log_p (m, 18)) as ONNX, or None."""
    import io
    import warnings

    import torch

    if g.sampler is None:
        return None
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(g.sampler.net.eval(), (torch.zeros(2, g.z_dim),), buf, input_names=["latents"],
                          output_names=["log_p"], dynamic_axes={"latents": {0: "m"}, "log_p": {0: "m"}},
                          opset_version=opset, dynamo=False)
    return buf.getvalue()


def check_graph(data: bytes, g: SpriteGenerator, n: int = 4) -> None:
    """Run the exported graph once (onnxruntime, on `n` latents of seed 0) before anything is written: its
    image must be finite and its sprites the model's shape, or the export fails naming what is wrong."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise PokeganError("--onnx checks the graph it writes with onnxruntime: pip install 'pokegan[export]'") from None
    try:
        sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        sprites, image = sess.run(["sprites", "image"], {"latents": g.latents(n, 0).numpy()})
    except Exception as e:  # onnxruntime raises its own error types
        raise PokeganError(f"the exported {g.family} graph does not run in onnxruntime ({type(e).__name__}: "
                           f"{str(e).splitlines()[0][:200]}); nothing was written") from None
    if not np.isfinite(image).all():
        raise PokeganError(f"{g.source}: the exported graph's output is not finite (NaN or Inf weights?); nothing "
                           "was written. Export an earlier checkpoint or snapshot")
    if sprites.shape != (n, g.resolution, g.resolution, 4):
        raise PokeganError(f"the exported graph gives sprites of shape {sprites.shape}, not "
                           f"({n}, {g.resolution}, {g.resolution}, 4); nothing was written")


def describe(g: SpriteGenerator, opts: SpriteOptions, opset: int) -> dict:
    """generator.json: everything an engine needs to feed the model and use what it gives."""
    from pokegan.models.conditioning import type_input
    from pokegan.generator.latents import PORTABLE_RULE

    c, r = g.channels, g.resolution
    keyed = c == 3 and opts.transparent and g.background in ("white", "black")
    return {
        "format": "pokegan-onnx/1", "model": "generator.onnx", "opset": opset, "pokegan_version": __version__,
        "family": g.family, "kimg": g.state.get("kimg"), "source": Path(g.source).name,
        "latent_dim": g.z_dim, "image_size": r, "channels": c, "background": g.background,
        "inputs": [{"name": "latents", "shape": ["n", g.z_dim + (N_TYPES if g.conditional else 0)], "dtype": "float32",
                    "about": "standard normal latents; multiply by a truncation below 1 for safer sprites"
                             + ("; then 18 type slots (see types), which the truncation leaves alone"
                                if g.conditional else "")}],
        "outputs": [
            {"name": "sprites", "shape": ["n", r, r, 4], "dtype": "uint8",
             "about": "finished RGBA sprites: " + ("the background keyed to transparency" if keyed else
                                                  "binary alpha" if c == 4 else "opaque")},
            {"name": "image", "shape": ["n", c, r, r], "dtype": "float32",
             "about": "the network's output in [-1, 1], the background snapped; (x + 1) * 127.5 gives levels"}],
        "postprocess": {"in_graph": {"bg_tolerance": opts.bg_tolerance, "alpha_threshold": opts.alpha_threshold,
                                     "transparent": keyed, "key_tolerance": opts.key_tolerance},
                        "not_in_graph": [o.name for o in OPTIONS if not o.in_onnx],
                        "automatic_in_pokegan": automatic(r) if keyed or c == 4 else {},
                        "automatic_about": "clean-up pokegan applies to transparent sprites unless switched off, "
                                           "which this graph does not: a game-ready sprite needs them after it"},
        "types": {"slots": list(TYPES), "seen": list(g.types_seen),
                  "about": f"after the {g.z_dim} noise values, 18 slots in this order: 1.0 for each of the sprite's "
                           "one or two types, 0.0 elsewhere (a type the model never saw gives nonsense)",
                  "counts": type_input(g.G).counts.cpu().round().int().tolist(),
                  "counts_about": "the training data's type sets, 18 x 18: [a][a] sprites of type a alone, [a][b] "
                                  "(a < b) of the pair; draw from it for sprites as varied as the data (see "
                                  "latents.type_sets)"}
        if g.conditional else
        {"slots": list(TYPES), "seen": list(g.types_seen),
         "sampler": {"model": "type-sampler.onnx", "candidates": g.sampler.candidates, "sharpness": g.sampler.sharpness,
                     "inputs": [{"name": "latents", "shape": ["m", g.z_dim], "dtype": "float32"}],
                     "outputs": [{"name": "log_p", "shape": ["m", N_TYPES], "dtype": "float32",
                                  "about": "log p(type | latent), slots in the order of types.slots"}],
                     "about": "the generator takes no types; to draw a type, draw `candidates` latents a sprite and "
                              "keep the one with the highest sharpness * (sum of log_p of the asked types) + Gumbel "
                              "noise (latents.type_sampler says how, bit for bit); no type asked: plain latents"}}
        if g.sampler is not None else None,
        "latents": PORTABLE_RULE,
        "licence": LICENCE,
    }
