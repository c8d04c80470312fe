"""Guidance and consistency distillation: losses that vanish where they must, cached
students behind the Generator contract, loud configuration errors."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from genlab import catalog
from genlab.errors import InputError
from genlab.generators.flow import checkpoint
from genlab.generators.flow.distill import (
    DistillConfig,
    consistency_loss,
    draw_batch,
    guidance_loss,
    run_dir,
)
from genlab.generators.flow.generator import FlowGenerator

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def teacher(model_cache: Path) -> FlowGenerator:
    gen = catalog.GENERATORS.get("flow", profile="smoke", cache_dir=model_cache, progress=False)
    assert isinstance(gen, FlowGenerator)
    return gen


def test_guidance_keys_ignore_the_consistency_fields() -> None:
    """Fields only consistency distillation reads do not re-key a guidance student."""
    assert DistillConfig(target="student").key() == DistillConfig().key()
    c = DistillConfig(method="consistency")
    assert c.key() != DistillConfig(method="consistency", target="student").key()


def test_bad_config_is_loud() -> None:
    with pytest.raises(InputError, match="consistency"):
        DistillConfig(method="consistncy")
    for kw, match in (({"grid": 0}, "grid"), ({"guidance": 0.5}, "guidance"),
                      ({"lr": 0.0}, "lr"), ({"target": "teacher"}, "target")):
        with pytest.raises(InputError, match=match):
            DistillConfig(**kw)  # type: ignore[arg-type]


@torch.no_grad()
def test_losses_vanish_for_the_teacher_itself_without_guidance(teacher: FlowGenerator) -> None:
    """At w = 1 the target is the teacher's conditional velocity: a student equal to the
    teacher has zero guidance loss, and at the grid's first point (s = 0, where the
    consistency target is the teacher's Euler step to the image) zero consistency loss."""
    model = teacher.model
    student = copy.deepcopy(model)
    config = DistillConfig(method="consistency", guidance=1.0, grid=4, batch_size=4)
    b = draw_batch(model, config, 0, torch.Generator().manual_seed(0))
    assert b.x0.shape == (4, 3, 32, 32) and b.x0.min() >= -1 and b.x0.max() <= 1
    assert float(guidance_loss(student, model, b, torch.full((4,), 0.7), 1.0)) < 1e-8
    assert float(consistency_loss(student, model, b, torch.ones(4, dtype=torch.long),
                                  config)) < 1e-6
    # guidance and later grid points are real targets
    assert float(guidance_loss(student, model, b, torch.full((4,), 0.7), 3.0)) > 1e-6
    far = DistillConfig(method="consistency", guidance=2.0, grid=4, batch_size=4)
    assert float(consistency_loss(student, model, b, torch.full((4,), 4), far)) > 1e-6
    # a target network other than the student changes the target, not the prediction
    assert float(consistency_loss(student, model, b, torch.ones(4, dtype=torch.long), config,
                                  target_model=model)) < 1e-6
    # a batch is a function of the seed and the step
    again = draw_batch(model, config, 0, torch.Generator().manual_seed(0))
    assert torch.equal(again.x0, b.x0) and torch.equal(again.eps, b.eps)


@pytest.mark.parametrize(("name", "method", "steps"), [
    ("flow-guidance-distilled", "guidance", 8), ("flow-consistency", "consistency", 4)])
def test_students_are_cached_generators(model_cache: Path, teacher: FlowGenerator, name: str,
                                        method: str, steps: int) -> None:
    gen = catalog.GENERATORS.get(name, profile="smoke", cache_dir=model_cache, progress=False)
    assert isinstance(gen, FlowGenerator) and gen.name == name
    assert gen.guidance == 1.0 and gen.steps == steps and gen.reference is not None
    assert gen.describe()["origin"]["method"] == method  # type: ignore[index]
    folder = run_dir(teacher.checkpoint, DistillConfig.smoke(method), model_cache)
    assert checkpoint.checkpoints(folder) and (folder / "distill.json").exists()
    assert gen.generate(["a red circle"], [3]).images.shape == (1, 32, 32, 3)
    # a second load trains nothing: the same checkpoint
    again = catalog.GENERATORS.get(name, profile="smoke", cache_dir=model_cache, progress=False)
    assert again.checkpoint == gen.checkpoint  # type: ignore[attr-defined]
