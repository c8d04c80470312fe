"""A ``flow`` training pinned to one instruction set of torch's kernels
(``FlowConfig.kernels``): the weights of a process started on those kernels, resumable,
recorded in the checkpoint, refused where the CPU or the process cannot run them."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from genlab import machine
from genlab.errors import InputError
from genlab.generators.flow import FlowConfig, checkpoint

train_mod = importlib.import_module("genlab.generators.flow.train")

TINY = dataclasses.replace(FlowConfig.smoke(), train_steps=10, checkpoint_every=5, log_every=5)

TRAIN_IN_PROCESS = """
import importlib, pathlib, sys
from genlab.generators.flow import FlowConfig
train = importlib.import_module("genlab.generators.flow.train")
train.train(FlowConfig.from_json(sys.argv[1]), pathlib.Path(sys.argv[2]), progress=False)
"""


def test_the_kernels_name_is_checked_and_a_pin_enters_the_key() -> None:
    with pytest.raises(InputError, match="kernels 'avx512'; accepted: '' .* 'avx2'"):
        dataclasses.replace(TINY, kernels="avx512")
    pinned = dataclasses.replace(TINY, kernels="avx2")
    assert pinned.key() != TINY.key()
    assert '"kernels": "avx2"' in pinned.to_json()
    assert FlowConfig.from_json(pinned.to_json()) == pinned


@pytest.mark.skipif("avx2" not in machine.cpu_flags(), reason="the CPU has no AVX2")
def test_a_pinned_training_is_that_of_a_process_started_on_its_kernels(tmp_path: Path) -> None:
    """Paused and resumed through its spawned worker, the pinned run ends with the bytes
    that an ordinary one-process training of the same config trains in a process started
    with the AVX2 environment, and its checkpoint says AVX2."""
    pinned, before = dataclasses.replace(TINY, kernels="avx2"), dict(os.environ)
    train_mod.train(pinned, tmp_path / "pinned", progress=False, stop_at=5)
    final = train_mod.train(pinned, tmp_path / "pinned", progress=False)
    assert final.name == "step-0000010"
    made_with = json.loads((final / checkpoint.META).read_text())["made_with"]
    assert made_with["cpu_capability"] == "AVX2"
    env = {**os.environ, **machine.AVX2_KERNELS}
    subprocess.run([sys.executable, "-c", TRAIN_IN_PROCESS, TINY.to_json(),
                    str(tmp_path / "child")], env=env, check=True, timeout=300)
    child = checkpoint.resolve(tmp_path / "child")
    for f in (checkpoint.WEIGHTS, checkpoint.EMA_WEIGHTS):
        a, b = load_file(str(final / f)), load_file(str(child / f))
        assert all(torch.equal(a[k], b[k]) for k in a), f"{f} differs"
    assert dict(os.environ) == before  # the pin's environment was the workers' only


def test_a_pin_is_refused_on_a_cpu_without_it(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setattr(machine, "cpu_flags", lambda: frozenset({"sse2", "sse4_1"}))
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    with pytest.raises(InputError, match="needs a CPU with AVX2"):
        train_mod.train(dataclasses.replace(TINY, kernels="avx2"), tmp_path, progress=False)
    assert "ATEN_CPU_CAPABILITY" not in os.environ  # nothing left set


def test_a_worker_on_other_kernels_refuses_to_train(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    with pytest.raises(InputError, match="runs torch's AVX512 kernels, not AVX2"):
        machine.check_capability("avx2")
