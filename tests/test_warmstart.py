"""Fine-tuning a trained generator: `--init-from` and the discriminator's warm-up (`d_warmup_kimg`)."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from conftest import tiny_config, write_tiny_dataset
from pokegan.errors import PokeganError
from pokegan.training.loop import Trainer


def _quiet(**kw):
    return dict(progress="quiet", log=lambda m: None, **kw)


def test_an_unconditional_generator_starts_a_conditional_run_and_stays_still_while_d_warms_up(tmp_path):
    data = write_tiny_dataset(tmp_path / "typed.data", typed=True)
    src = Trainer.new(tiny_config("fastgan", kimg=0.032, ema_kimg=0.05), str(data), tmp_path / "a", **_quiet())
    src.run()
    source = src.run_dir / "checkpoints" / "latest"
    cfg = tiny_config("fastgan", conditional="types", d_warmup_kimg=0.064, cond_start_kimg=0.064,
                      cond_end_kimg=0.128, kimg=0.064, ema_kimg=0.05)
    t = Trainer.new(cfg, str(data), tmp_path / "b", **_quiet(init_from=str(source)))
    theirs = src.ema.net.state_dict()
    start = {k: v.clone() for k, v in t.G.state_dict().items()}
    for k, v in start.items():   # the source's weights; the inputs it lacked start at zero
        if k in theirs and v.shape == theirs[k].shape:
            assert torch.equal(v, theirs[k]), k
        elif k in theirs:
            part = v[tuple(slice(0, n) for n in theirs[k].shape)]
            assert torch.equal(part, theirs[k]) and v.abs().sum() == part.abs().sum(), k
    d_start = {k: v.clone() for k, v in t.nets["D"].state_dict().items()}
    t.run()
    params = {k for k, _ in t.G.named_parameters()}
    assert all(torch.equal(t.G.state_dict()[k], start[k]) for k in params)      # G did not move
    assert any(not torch.equal(v, d_start[k]) for k, v in t.nets["D"].state_dict().items())   # D did
    record = json.loads((t.run_dir / "config.json").read_text())
    assert record["init_from"] == str(source) and record["config"]["d_warmup_kimg"] == 0.064
    t.cfg = replace(cfg, kimg=0.128)   # after the warm-up G moves
    t.run()
    assert any(not torch.equal(t.G.state_dict()[k], start[k]) for k in params)


def test_init_from_a_model_of_another_shape_is_refused_by_name(tmp_path):
    small = write_tiny_dataset(tmp_path / "s.data")
    big = write_tiny_dataset(tmp_path / "b.data", size=48, n=8)
    src = Trainer.new(tiny_config("fastgan", kimg=0.016), str(small), tmp_path / "a", **_quiet())
    src.run()
    with pytest.raises(PokeganError, match="--init-from .*32px.*48px"):
        Trainer.new(tiny_config("fastgan"), str(big), tmp_path / "b", **_quiet(init_from=str(src.run_dir)))
    with pytest.raises(PokeganError, match="d_warmup_kimg"):
        tiny_config("fastgan", d_warmup_kimg=-1).validate()
