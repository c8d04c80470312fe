"""Guidance distillation and consistency distillation: two more students of ``flow`` (issue 4).

Both train on fresh ``train`` scenes of the shapes world (rendered per step, so
no data is stored) against the frozen teacher's *guided* velocity
``v_w = v_u + w (v_c - v_u)``, and both sample at guidance 1: one backbone pass a
step instead of a batch of two.

- ``guidance`` (Meng et al., 2023, "On Distillation of Guided Diffusion Models",
  stage one): the student's conditional velocity regresses ``v_w`` at noised
  training images, ``x_t = (1 - t) x0 + t eps`` with ``t`` from the teacher's
  training density; it keeps the teacher's sampler and steps and drops the
  unconditional branch (CFG folded into one pass, nothing else changed).
- ``consistency`` (Song et al., 2023, "Consistency Models", consistency
  distillation; on the guided ODE with a skipping grid as in Luo et al., 2023,
  "Latent Consistency Models"): with the consistency function ``f(x, t) = x - t
  v(x, t)`` (the clean-image prediction; ``f(x, 0) = x`` holds by construction),
  the student at ``x_t`` on an ``n``-point grid matches the stop-gradient
  student at the teacher's one guided Euler step ``x_s``, ``s = t - 1/n``, in a
  pseudo-Huber distance (Song & Dhariwal, 2023, "Improved Techniques for Training
  Consistency Models", whose target network is the student itself under stop
  gradient, as here). Sampled with Euler, a consistency student is multistep
  consistency sampling that re-noises each clean-image prediction with the noise
  its velocity implies (``x0 + t v``), not fresh noise.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.errors import InputError, check_int, suggest
from genlab.generators.flow import checkpoint, student
from genlab.generators.flow.generator import FlowGenerator
from genlab.generators.flow.model import FlowModel
from genlab.generators.flow.objective import images_to_tensor
from genlab.worlds.shapes.world import ShapesWorld

METHODS = ("guidance", "consistency")


@dataclass(frozen=True)
class DistillConfig:
    """Everything that determines a distilled student besides its teacher (cache key)."""

    method: str = "guidance"
    """``guidance`` or ``consistency``."""
    guidance: float = 2.0
    """The teacher's CFG scale folded into the student."""
    grid: int = 32
    """Consistency distillation's grid: the teacher steps from ``t`` to ``t - 1/grid``."""
    huber_c: float = 0.00054
    """Pseudo-Huber constant per sqrt(dimension) (Song & Dhariwal, 2023)."""
    target: str = "ema"
    """Consistency distillation's target network: ``ema`` (the student's EMA weights, as
    the target network of Song et al., 2023, and LCM) or ``student`` (the student under
    stop gradient, Song & Dhariwal, 2023; it collapsed here at lr 2e-4, docs/results.md)."""
    train_steps: int = 2000
    """1,269-1,654 s for 2,000 steps on 2 cores shared with other jobs (a teacher call on
    both branches, a student step and the rendering of a fresh batch each step)."""
    batch_size: int = 32
    lr: float = 2e-4
    """Guidance distillation's rate; consistency distillation takes ``consistency_lr``."""
    consistency_lr: float = 5e-5
    warmup_steps: int = 50
    ema_decay: float = 0.995
    checkpoint_every: int = 250
    seed: int = 11

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"unknown distillation method {self.method!r}; known: "
                             f"{', '.join(METHODS)}." + suggest(self.method, METHODS))
        for name in ("grid", "train_steps", "batch_size", "checkpoint_every"):
            check_int(f"distill {name}", getattr(self, name))
        if self.target not in ("ema", "student"):
            raise InputError(f"distill target must be 'ema' or 'student', got {self.target!r}")
        if not (self.lr > 0 and self.consistency_lr > 0 and self.guidance >= 1.0
                and self.huber_c > 0):
            raise InputError("distill lr and huber_c must be > 0 and guidance >= 1, got "
                             f"{self.lr}, {self.huber_c}, {self.guidance}")

    @classmethod
    def smoke(cls, method: str) -> DistillConfig:
        return cls(method=method, grid=4, train_steps=4, batch_size=4, warmup_steps=2,
                   checkpoint_every=2)

    def key(self) -> str:
        d = asdict(self)
        if self.method == "guidance":  # fields it does not read (and keys made before them)
            del d["target"], d["consistency_lr"]
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def run_dir(teacher: Path, config: DistillConfig, cache_dir: Path) -> Path:
    """``distill-<method>-<teacher config key>-<key>`` in the cache."""
    return (Path(cache_dir) / f"distill-{config.method}-"
            f"{checkpoint.load_config(teacher).key()}-{config.key()}")


# ---------------------------------------------------------------- losses


@dataclass(frozen=True)
class Batch:
    """One training batch: clean images ``x0``, noise, token ids and mask."""

    x0: torch.Tensor
    eps: torch.Tensor
    ids: torch.Tensor
    mask: torch.Tensor


def draw_batch(model: FlowModel, config: DistillConfig, step: int, g: torch.Generator
               ) -> Batch:
    """Fresh ``train`` scenes for ``step`` (a function of the seed and the step, so a
    resumed run draws what it would have) and noise from ``g``."""
    rng = np.random.default_rng((config.seed, step))
    c = model.config
    batch = ShapesWorld().training_batch(rng, config.batch_size, c.image_size, c.categories)
    ids, mask = model.tokenizer.encode(batch.prompts, batch.boxes)
    x0 = images_to_tensor(batch.images)
    return Batch(x0, torch.randn(x0.shape, generator=g), ids, mask)


@torch.no_grad()
def guided_velocity(teacher: FlowModel, x: torch.Tensor, t: torch.Tensor, ids: torch.Tensor,
                    mask: torch.Tensor, w: float) -> torch.Tensor:
    """The teacher's CFG velocity ``v_u + w (v_c - v_u)``, both branches in one call."""
    n = x.shape[0]
    states, smask = teacher.encode(ids, mask)
    null_s, null_m = teacher.text.null_condition(n, states.shape[1])
    boxes = teacher.box_maps(ids)
    both = None if boxes is None else torch.cat([boxes, torch.zeros_like(boxes)])
    v = teacher.velocity(torch.cat([x, x]), torch.cat([t, t]), torch.cat([states, null_s]),
                         torch.cat([smask, null_m]), boxes=both)
    v_c, v_u = v.chunk(2)
    return v_u + w * (v_c - v_u)


def _velocity(model: FlowModel, x: torch.Tensor, t: torch.Tensor, ids: torch.Tensor,
              mask: torch.Tensor) -> torch.Tensor:
    states, smask = model.encode(ids, mask)
    return model.velocity(x, t, states, smask, boxes=model.box_maps(ids))


def guidance_loss(model: FlowModel, teacher: FlowModel, b: Batch, t: torch.Tensor,
                  w: float) -> torch.Tensor:
    """The student's conditional velocity against the teacher's guided one, weighted
    as the teacher's own loss (its ``loss_t_floor``)."""
    tt = t[:, None, None, None]
    x = (1.0 - tt) * b.x0 + tt * b.eps
    target = guided_velocity(teacher, x, t, b.ids, b.mask, w)
    err = ((_velocity(model, x, t, b.ids, b.mask) - target) ** 2).mean(dim=(1, 2, 3))
    floor = model.config.loss_t_floor
    if floor > 0.0:
        err = err * (t / t.clamp(min=floor)) ** 2
    return err.mean()


def consistency_loss(model: FlowModel, teacher: FlowModel, b: Batch, k: torch.Tensor,
                     config: DistillConfig, target_model: FlowModel | None = None
                     ) -> torch.Tensor:
    """Consistency distillation between grid points ``k / grid`` and ``(k - 1) / grid``
    (``k`` in 1..grid, one per row); the target is ``target_model`` (default: the
    student itself) under stop gradient."""
    target_model = model if target_model is None else target_model
    t = k.float() / config.grid
    s = (k.float() - 1.0) / config.grid
    tt, ss = t[:, None, None, None], s[:, None, None, None]
    x_t = (1.0 - tt) * b.x0 + tt * b.eps
    x_s = x_t + (ss - tt) * guided_velocity(teacher, x_t, t, b.ids, b.mask, config.guidance)
    with torch.no_grad():
        target = x_s - ss * _velocity(target_model, x_s, s, b.ids, b.mask)
    pred = x_t - tt * _velocity(model, x_t, t, b.ids, b.mask)
    d = float(np.prod(b.x0.shape[1:]))
    c = config.huber_c * d ** 0.5
    dist = ((pred - target) ** 2).sum(dim=(1, 2, 3))
    return ((dist + c * c).sqrt() - c).mean() / d ** 0.5


# ---------------------------------------------------------------- students


def train_student(teacher_ckpt: Path, config: DistillConfig, folder: Path,
                  progress: bool = True) -> Path:
    """Fine-tune the teacher's EMA weights with ``config.method``'s loss into ``folder``
    (resuming from its checkpoints)."""
    teacher = checkpoint.load_model(teacher_ckpt, ema=True).eval().requires_grad_(False)
    target = copy.deepcopy(teacher)  # holds the student's EMA weights, refreshed each step

    def loss(model: FlowModel, step: int, g: torch.Generator, ema: Any) -> torch.Tensor:
        b = draw_batch(model, config, step, g)
        if config.method == "guidance":
            c = model.config
            t = torch.sigmoid(c.t_mean + c.t_std * torch.randn(config.batch_size, generator=g))
            return guidance_loss(model, teacher, b, t, config.guidance)
        k = torch.randint(1, config.grid + 1, (config.batch_size,), generator=g)
        if config.target == "student":
            return consistency_loss(model, teacher, b, k, config)
        with torch.no_grad():
            for p, shadow in zip(target.parameters(), ema.shadow_params, strict=True):
                p.copy_(shadow)
        return consistency_loss(model, teacher, b, k, config, target)

    lr = config.lr if config.method == "guidance" else config.consistency_lr
    return student.fine_tune(teacher_ckpt, folder, loss, student.Schedule(
        config.train_steps, lr, config.warmup_steps, config.ema_decay,
        config.checkpoint_every, config.seed), label=f"{config.method} distillation",
        progress=progress)


def ensure_distilled(teacher: FlowGenerator, config: DistillConfig, cache_dir: Path,
                     progress: bool = True) -> Path:
    """The student checkpoint of ``teacher`` under ``config``, made first if missing."""

    def make() -> tuple[Path, dict[str, float]]:
        t0 = time.perf_counter()
        last = train_student(teacher.checkpoint, config, folder, progress)
        return last, {"student_s_this_call": time.perf_counter() - t0}

    folder = run_dir(teacher.checkpoint, config, cache_dir)
    return student.ensure(teacher, folder, config.train_steps, "distill.json", config, make)


def load_student(teacher: FlowGenerator, config: DistillConfig, cache_dir: Path, *,
                 progress: bool = True, steps: int = 8, sampler: str = "ab2",
                 **options: Any) -> FlowGenerator:
    """The distilled student of ``teacher`` (made on first use), sampling at guidance 1
    (the guidance is in its weights) with ``steps`` of ``sampler``."""
    return student.as_generator(
        ensure_distilled(teacher, config, cache_dir, progress), teacher,
        {"method": config.method, "teacher": teacher.config.key(), "distill": config.key()},
        steps=steps, sampler=sampler, **options)
