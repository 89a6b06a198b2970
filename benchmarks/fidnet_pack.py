"""Carry the FID Inception network to a lent GPU machine, which cannot install or download it.

The device tool carries at most 64 MiB with the working tree; `default_1.pt` is 84 MB. So:
  pack OUT          (here) OUT/skeleton.pt.xz: the TorchScript file with every tensor zeroed (compresses to
                    almost nothing), and OUT/inception-int8.safetensors: its >=2-d weights as int8 with one
                    fp32 scale per output channel, the rest fp32 (~24 MB)
  unpack DIR DEST   (there) rebuild a TorchScript file at DEST; point POKEGAN_FID_WEIGHTS at it
The rebuilt network is NOT the standard one: FIDs from it are for comparing runs with one another on that
machine (`gpu_sweep.sh eval`), never for comparing with published figures or with this CPU's FIDs.
"""
from __future__ import annotations

import lzma
import sys
import warnings
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def _jit_load(path) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu")


def pack(out: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from pokegan.metrics.inception import weights_path

    net = _jit_load(weights_path())
    out.mkdir(parents=True, exist_ok=True)
    tensors = {}
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if t.is_floating_point() and t.ndim >= 2:
                flat = t.reshape(t.shape[0], -1)
                scale = flat.abs().amax(dim=1).clamp_min(1e-12) / 127
                tensors[name + ".q"] = torch.round(flat / scale[:, None]).to(torch.int8).reshape(t.shape)
                tensors[name + ".scale"] = scale.float()
            else:
                tensors[name] = t.clone()
            t.zero_()
    save_file(tensors, str(out / "inception-int8.safetensors"))
    skeleton = out / "skeleton.pt"
    torch.jit.save(net, str(skeleton))
    (out / "skeleton.pt.xz").write_bytes(lzma.compress(skeleton.read_bytes(), preset=6))
    skeleton.unlink()
    for f in sorted(out.iterdir()):
        print(f"{f}: {f.stat().st_size / 2**20:.1f} MiB")


def unpack(src: Path, dest: Path) -> None:
    skeleton = dest.with_suffix(".skeleton.pt")
    skeleton.write_bytes(lzma.decompress((src / "skeleton.pt.xz").read_bytes()))
    net = _jit_load(skeleton)
    tensors = load_file(str(src / "inception-int8.safetensors"))
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if name + ".q" in tensors:
                q, scale = tensors[name + ".q"], tensors[name + ".scale"]
                t.copy_((q.float().reshape(q.shape[0], -1) * scale[:, None]).reshape(t.shape))
            else:
                t.copy_(tensors[name])
    torch.jit.save(net, str(dest))
    skeleton.unlink()
    print(f"{dest}: rebuilt from {src}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "pack":
        pack(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "unpack":
        unpack(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(__doc__)
