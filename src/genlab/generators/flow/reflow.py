"""Reflow with guidance folded in: a few-step student of the ``flow`` model (issue 4).

Rectified flow's *reflow* (Liu et al., 2022, "Flow Straight and Fast", sec. 2.3):
draw noise ``z``, integrate the trained teacher's ODE from it to an image ``x0``,
and train a new flow on the straight lines between these *couples*. The teacher's
paths cross, so its velocity field curves and few Euler steps land off the
image; the couples' lines come from a deterministic map and cross far less, so
the student's field is straighter and one or two steps land near where the
teacher's many steps do. The teacher here samples *with* classifier-free
guidance, so the student learns the guided map in its conditional branch alone:
guidance distillation (Meng et al., 2023, "On Distillation of Guided Diffusion
Models") for free, one backbone pass per step instead of a batch of two.

A fraction ``t_one`` of each batch is trained at ``t = 1`` exactly: the one-step
distillation of Liu et al.'s "2-rectified flow + distill" (one Euler step from
noise is the student's clean-image prediction at t = 1), so the student's one
step is trained directly rather than only through the straightened field.

The student starts from the teacher's EMA weights and trains in the loop every
student shares (:mod:`.student`). Couples are generated in chunks saved
atomically, and the student is checkpointed every ``checkpoint_every`` steps, so a
killed run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.errors import CheckpointError, InputError, check_int
from genlab.generators.flow import checkpoint, student
from genlab.generators.flow.generator import FlowGenerator
from genlab.generators.flow.model import FlowModel
from genlab.generators.flow.objective import images_to_tensor
from genlab.generators.flow.sampling import get_sampler, initial_noise, time_grid
from genlab.progress import bars
from genlab.worlds.shapes.world import ShapesWorld

CHUNK = 512  # couples per saved file


@dataclass(frozen=True)
class ReflowConfig:
    """Everything that determines a reflowed student besides its teacher (cache key)."""

    couples: int = 16384
    """(noise, teacher image) couples drawn from the ``train`` prompts."""
    teacher_sampler: str = "ab2"
    """The teacher's sampler for the couples."""
    teacher_steps: int = 8
    """The teacher's steps for the couples."""
    teacher_guidance: float = 2.0
    """The teacher's CFG scale: the student learns the guided map."""
    train_steps: int = 6000
    """Student optimiser steps."""
    batch_size: int = 32
    lr: float = 5e-4
    warmup_steps: int = 50
    ema_decay: float = 0.995
    t_one: float = 0.25
    """Fraction of each batch trained at a time of ``t_grid`` (one-step distillation
    at t = 1, and the other points of a few-step sampler's grid)."""
    t_grid: tuple[float, ...] = (1.0,)
    """The times the ``t_one`` fraction is drawn from (uniformly)."""
    checkpoint_every: int = 250
    seed: int = 7

    def __post_init__(self) -> None:
        get_sampler(self.teacher_sampler)
        time_grid(self.teacher_steps)
        for name in ("couples", "train_steps", "batch_size", "checkpoint_every"):
            check_int(f"reflow {name}", getattr(self, name))
        if not 0.0 <= self.t_one <= 1.0:
            raise InputError(f"reflow t_one must be in [0, 1], got {self.t_one!r}")
        if not self.t_grid or not all(0.0 < t <= 1.0 for t in self.t_grid):
            raise InputError(f"reflow t_grid must be times in (0, 1], got {self.t_grid!r}")
        if not (self.lr > 0 and self.teacher_guidance >= 1.0):
            raise InputError("reflow lr must be > 0 and teacher_guidance >= 1")

    @classmethod
    def smoke(cls) -> ReflowConfig:
        return cls(couples=48, teacher_steps=2, train_steps=6, batch_size=8, warmup_steps=2,
                   checkpoint_every=3)

    def key(self) -> str:
        d = asdict(self)
        if tuple(d["t_grid"]) == (1.0,):  # the first default: keys made before the field hold
            del d["t_grid"]
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def couples_key(self) -> str:
        """What decides the couples (students with other training settings share them)."""
        d = {k: getattr(self, k) for k in ("couples", "teacher_sampler", "teacher_steps",
                                           "teacher_guidance", "seed")}
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def run_dir(teacher: Path, config: ReflowConfig, cache_dir: Path) -> Path:
    """``reflow-<teacher config key>-<reflow key>`` in the cache."""
    return Path(cache_dir) / f"reflow-{checkpoint.load_config(teacher).key()}-{config.key()}"


def couples_dir(teacher: Path, config: ReflowConfig, cache_dir: Path) -> Path:
    """``reflow-couples-<teacher config key>-<couples key>`` in the cache."""
    return (Path(cache_dir) / f"reflow-couples-{checkpoint.load_config(teacher).key()}-"
            f"{config.couples_key()}")


# ---------------------------------------------------------------- couples


def _chunk_file(folder: Path, i: int) -> Path:
    return folder / f"chunk-{i:04d}.npz"


def _save_chunk(path: Path, **arrays: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def make_couples(teacher: FlowGenerator, config: ReflowConfig, folder: Path,
                 progress: bool = True) -> None:
    """Draw the couples in chunks of :data:`CHUNK` (a chunk on disk is never redone)."""
    sampler = teacher.with_options(steps=config.teacher_steps, sampler=config.teacher_sampler,
                                   guidance=config.teacher_guidance)
    size = teacher.config.image_size
    n_chunks = math.ceil(config.couples / CHUNK)
    with bars(progress) as task:
        advance = task("reflow couples", n_chunks)
        for i in range(n_chunks):
            path = _chunk_file(folder, i)
            if path.exists():
                advance(1)
                continue
            n = min(CHUNK, config.couples - i * CHUNK)
            rng = np.random.default_rng((config.seed, i))
            batch = ShapesWorld().training_batch(rng, n, size, teacher.config.categories)
            seeds = rng.integers(0, 2**31 - 1, size=n).tolist()
            out = sampler.generate(batch.prompts, seeds, boxes=batch.boxes, size=size)
            _save_chunk(path, images=out.images, seeds=np.array(seeds, np.int64),
                        prompts=np.array(json.dumps(batch.prompts)),
                        boxes=np.array(json.dumps([_boxes(b) for b in batch.boxes])))
            advance(1)


def _boxes(b: Any) -> Any:
    return None if b is None else [[x.x0, x.y0, x.x1, x.y1] for x in b]


@dataclass(frozen=True)
class Couples:
    """Every couple in memory: images ``(n, 3, H, W)`` in [-1, 1], noise, token ids, mask."""

    x0: torch.Tensor
    z: torch.Tensor
    ids: torch.Tensor
    mask: torch.Tensor


def load_couples(folder: Path, config: ReflowConfig, model: FlowModel) -> Couples:
    from genlab.worlds.shapes.spec import Box

    images, seeds, prompts, boxes = [], [], [], []
    for i in range(math.ceil(config.couples / CHUNK)):
        path = _chunk_file(folder, i)
        try:
            with np.load(path) as f:
                images.append(f["images"])
                seeds.extend(f["seeds"].tolist())
                prompts.extend(json.loads(str(f["prompts"])))
                boxes.extend(json.loads(str(f["boxes"])))
        except (OSError, KeyError, ValueError) as exc:
            raise CheckpointError(f"reflow couples {path} are unreadable ({exc}); delete the "
                                  "file to redraw it") from exc
    box_objs = [None if b is None else tuple(Box(*x) for x in b) for b in boxes]
    ids, mask = model.tokenizer.encode(prompts, box_objs)
    z = initial_noise(seeds, model.config.image_size)  # the teacher's noise for each seed
    return Couples(images_to_tensor(np.concatenate(images)), z, ids, mask)


# ---------------------------------------------------------------- student


def reflow_loss(model: FlowModel, couples: Couples, index: torch.Tensor, t: torch.Tensor
                ) -> torch.Tensor:
    """Velocity MSE on the couples' straight lines ``x_t = (1 - t) x0 + t z``, target
    ``z - x0``, weighted as the teacher's loss (its ``loss_t_floor``)."""
    x0, z = couples.x0[index], couples.z[index]
    states, smask = model.encode(couples.ids[index], couples.mask[index])
    tt = t[:, None, None, None]
    v = model.velocity((1.0 - tt) * x0 + tt * z, t, states, smask,
                       boxes=model.box_maps(couples.ids[index]))
    err = ((v - (z - x0)) ** 2).mean(dim=(1, 2, 3))
    floor = model.config.loss_t_floor
    if floor > 0.0:
        err = err * (t / t.clamp(min=floor)) ** 2
    return err.mean()


def _times(n: int, config: ReflowConfig, teacher_config: Any, g: torch.Generator
           ) -> torch.Tensor:
    t = torch.sigmoid(teacher_config.t_mean + teacher_config.t_std * torch.randn(n, generator=g))
    on_grid = torch.rand(n, generator=g) < config.t_one
    if config.t_grid == (1.0,):  # drawn only when needed: the first default's stream holds
        return torch.where(on_grid, torch.ones_like(t), t)
    grid = torch.tensor(config.t_grid)[torch.randint(0, len(config.t_grid), (n,), generator=g)]
    return torch.where(on_grid, grid, t)


def train_student(teacher_ckpt: Path, config: ReflowConfig, folder: Path,
                  couples_folder: Path, progress: bool = True) -> Path:
    """Fine-tune the teacher's EMA weights on the couples in ``couples_folder`` into
    ``folder``; resumes from its checkpoints."""
    couples = load_couples(couples_folder, config, checkpoint.load_model(teacher_ckpt))
    n = couples.x0.shape[0]

    def loss(model: FlowModel, _step: int, g: torch.Generator, _ema: Any) -> torch.Tensor:
        index = torch.randint(0, n, (config.batch_size,), generator=g)
        return reflow_loss(model, couples, index, _times(config.batch_size, config,
                                                         model.config, g))

    return student.fine_tune(teacher_ckpt, folder, loss, student.Schedule(
        config.train_steps, config.lr, config.warmup_steps, config.ema_decay,
        config.checkpoint_every, config.seed), label="reflow student", progress=progress)


def ensure_reflowed(teacher: FlowGenerator, config: ReflowConfig, cache_dir: Path,
                    progress: bool = True) -> Path:
    """The student checkpoint of ``teacher`` under ``config``, made first if missing."""

    def make() -> tuple[Path, dict[str, float]]:
        pairs = couples_dir(teacher.checkpoint, config, cache_dir)
        t0 = time.perf_counter()
        with checkpoint.cache_lock(pairs):
            make_couples(teacher, config, pairs, progress)
        t1 = time.perf_counter()
        last = train_student(teacher.checkpoint, config, folder, pairs, progress)
        return last, {"couples_s_this_call": t1 - t0,
                      "student_s_this_call": time.perf_counter() - t1}

    folder = run_dir(teacher.checkpoint, config, cache_dir)
    return student.ensure(teacher, folder, config.train_steps, "reflow.json", config, make)


def load_student(teacher: FlowGenerator, config: ReflowConfig, cache_dir: Path, *,
                 progress: bool = True, steps: int = 2, sampler: str = "euler",
                 **options: Any) -> FlowGenerator:
    """The reflowed student of ``teacher`` (made on first use), sampling at guidance 1
    (the guidance is in its weights) with ``steps`` of ``sampler``."""
    return student.as_generator(
        ensure_reflowed(teacher, config, cache_dir, progress), teacher,
        {"method": "reflow", "teacher": teacher.config.key(), "reflow": config.key()},
        steps=steps, sampler=sampler, **options)
