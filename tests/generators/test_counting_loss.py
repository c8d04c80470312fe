"""The counting-aware training loss (issue 3 method 5)."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import pytest
import torch

from genlab.errors import InputError
from genlab.generators.flow import FlowConfig, checkpoint
from genlab.generators.flow.counting import COUNTED_FRACTION, count_loss, frozen
from genlab.generators.verifier import CountNet, VerifierConfig

train_mod = importlib.import_module("genlab.generators.flow.train")
COUNTED = dataclasses.replace(FlowConfig.smoke(), train_steps=6, checkpoint_every=3,
                              log_every=3, count_loss=0.1, counter="smoke")


def test_the_loss_is_zero_on_the_truth_and_reaches_only_the_image() -> None:
    torch.manual_seed(0)
    counter = frozen(CountNet(8))
    x0 = torch.rand(8, 3, 32, 32) * 2 - 1
    t = torch.linspace(0.05, 0.95, 8)
    assert float(count_loss(counter, x0.clone(), x0, t)) == pytest.approx(0.0, abs=1e-6)
    x0_hat = (x0 + torch.randn_like(x0)).requires_grad_(True)
    loss = count_loss(counter, x0_hat, x0, t)
    loss.backward()
    assert float(loss.detach()) > 0
    assert x0_hat.grad is not None
    # only the lowest-t quarter of the batch is counted
    counted = x0_hat.grad.abs().sum(dim=(1, 2, 3)) > 0
    assert counted.tolist() == [True] * round(8 * COUNTED_FRACTION) + [False] * 6
    assert all(p.grad is None for p in counter.parameters())


def test_config_needs_a_counter_exactly_when_the_loss_is_on() -> None:
    for kw in ({"count_loss": 0.1}, {"counter": "smoke"},
               {"count_loss": 0.1, "counter": "tiny"}, {"count_loss": -1.0}):
        with pytest.raises(InputError, match="count_loss"):
            FlowConfig(**kw)  # type: ignore[arg-type]
    assert FlowConfig.from_json(COUNTED.to_json()) == COUNTED
    with pytest.raises(InputError, match="default, smoke"):
        VerifierConfig.profile("tiny")


def test_training_with_the_counting_loss_trains_its_counter_first(tmp_path: Path) -> None:
    ckpt = train_mod.ensure_trained(COUNTED, tmp_path, progress=False)
    assert checkpoint.load_meta(ckpt)["step"] == 6
    counter_dir = tmp_path / f"verifier-{VerifierConfig.smoke().key()}"
    assert (counter_dir / "model.safetensors").is_file()
    # the counted quarter costs FLOPs beyond the plain objective's
    from torch.utils.flop_counter import FlopCounterMode

    flops = []
    for c in (dataclasses.replace(COUNTED, count_loss=0.0, counter=""), COUNTED):
        run = train_mod._new_run(c, cache_dir=tmp_path)
        assert (run.counter is None) == (c.count_loss == 0)
        with FlopCounterMode(display=False) as fc:
            train_mod._loss(run, train_mod._batch(c, run.rng)).backward()
        flops.append(fc.get_total_flops())
    assert flops[1] > flops[0]
