"""Reflow with guidance folded in: couples, a resumable student, a cached generator."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab import catalog
from genlab.errors import InputError, UnknownNameError
from genlab.generators.flow import checkpoint
from genlab.generators.flow.generator import FlowGenerator
from genlab.generators.flow.reflow import (
    ReflowConfig,
    load_couples,
    load_student,
    make_couples,
    run_dir,
    train_student,
)

SMOKE = ReflowConfig.smoke()


@pytest.fixture(scope="module")
def teacher(model_cache: Path) -> FlowGenerator:
    gen = catalog.GENERATORS.get("flow", profile="smoke", cache_dir=model_cache, progress=False)
    assert isinstance(gen, FlowGenerator)
    return gen


@pytest.mark.parametrize(("kw", "match"), [({"couples": 0}, "couples"),
                                           ({"t_one": 1.5}, "t_one"),
                                           ({"teacher_steps": 0}, "steps"),
                                           ({"teacher_guidance": 0.5}, "teacher_guidance"),
                                           ({"t_grid": (0.0,)}, "t_grid")])
def test_bad_config_is_loud(kw: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        ReflowConfig(**kw)  # type: ignore[arg-type]
    with pytest.raises(UnknownNameError, match="eulr"):
        ReflowConfig(teacher_sampler="eulr")


def test_couples_are_the_teachers_guided_samples(teacher: FlowGenerator, tmp_path: Path
                                                 ) -> None:
    make_couples(teacher, SMOKE, tmp_path, progress=False)
    couples = load_couples(tmp_path, SMOKE, teacher.model)
    assert couples.x0.shape == (48, 3, 32, 32) and couples.z.shape == couples.x0.shape
    with np.load(tmp_path / "chunk-0000.npz") as f:
        prompts, seeds = f["prompts"], f["seeds"]
        images = f["images"]
    import json

    first = json.loads(str(prompts))[0]
    again = teacher.with_options(steps=SMOKE.teacher_steps, sampler=SMOKE.teacher_sampler,
                                 guidance=SMOKE.teacher_guidance)
    assert np.array_equal(again.generate([first], [int(seeds[0])]).images[0], images[0])
    # the noise is the teacher's own for that seed
    z = torch.randn(3, 32, 32, generator=torch.Generator().manual_seed(int(seeds[0])))
    assert torch.equal(couples.z[0], z)


def test_a_killed_student_resumes_to_the_same_weights(teacher: FlowGenerator,
                                                      tmp_path: Path) -> None:
    pairs = tmp_path / "couples"
    make_couples(teacher, SMOKE, pairs, progress=False)
    whole = train_student(teacher.checkpoint, SMOKE, tmp_path / "a", pairs, progress=False)
    half = dataclasses.replace(SMOKE, train_steps=3)
    train_student(teacher.checkpoint, half, tmp_path / "b", pairs, progress=False)
    resumed = train_student(teacher.checkpoint, SMOKE, tmp_path / "b", pairs, progress=False)
    a = checkpoint.read_weights(whole / checkpoint.EMA_WEIGHTS)
    b = checkpoint.read_weights(resumed / checkpoint.EMA_WEIGHTS)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    t = checkpoint.read_weights(teacher.checkpoint / checkpoint.EMA_WEIGHTS)
    assert any(not torch.equal(a[k], t[k]) for k in a)  # it trained


def test_student_generator_is_cached_and_distinct(teacher: FlowGenerator,
                                                  model_cache: Path) -> None:
    student = load_student(teacher, SMOKE, model_cache, progress=False)
    assert (student.steps, student.guidance) == (2, 1.0) and student.reference is teacher
    assert student.describe()["origin"]["method"] == "reflow"
    assert "origin" not in teacher.describe()
    out = student.generate(["a red circle"], [3])
    assert out.images.shape == (1, 32, 32, 3)
    folder = run_dir(teacher.checkpoint, SMOKE, model_cache)
    stamp = sorted(p.stat().st_mtime_ns for p in folder.rglob("*.safetensors"))
    load_student(teacher, SMOKE, model_cache, progress=False)  # cached: nothing rewritten
    assert sorted(p.stat().st_mtime_ns for p in folder.rglob("*.safetensors")) == stamp


def test_keys_share_couples_and_keep_old_students() -> None:
    a = ReflowConfig()
    b = dataclasses.replace(a, train_steps=99, t_grid=(1.0, 0.5), t_one=0.5)
    assert a.couples_key() == b.couples_key() and a.key() != b.key()
    first = ReflowConfig(couples=8192, train_steps=1500, lr=1e-4, ema_decay=0.999)
    assert first.key() == "cc6ec643ff3f4336"  # made before t_grid existed: still found
    assert dataclasses.replace(a, couples=10).couples_key() != a.couples_key()
