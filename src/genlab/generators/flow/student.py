"""The fine-tuning loop every distilled student of ``flow`` shares (issue 4).

A student starts from its teacher's EMA weights (the same architecture, so it
loads as any ``flow`` checkpoint) and trains with AdamW, a linear warm-up, gradient
clipping at 1 and an EMA of its weights; each method (reflow, guidance
distillation, consistency distillation) only brings its loss. Checkpoints (weights,
EMA, optimiser, schedule and the noise generator's state) are written every
``checkpoint_every`` steps, so a killed run resumes where it stopped and draws the
same batches it would have drawn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from diffusers.training_utils import EMAModel

from genlab.errors import InputError, check_int
from genlab.generators.flow import checkpoint
from genlab.generators.flow.generator import FlowGenerator
from genlab.generators.flow.model import FlowModel
from genlab.progress import bars

Loss = Callable[[FlowModel, int, torch.Generator, EMAModel], torch.Tensor]
"""``loss(model, step, noise_generator, ema)``: the method's loss on one batch at
``step`` (``ema`` holds the student's EMA weights, a target network for methods that
need one)."""


@dataclass(frozen=True)
class Schedule:
    """The optimisation of one student."""

    train_steps: int
    lr: float
    warmup_steps: int
    ema_decay: float
    checkpoint_every: int
    seed: int

    def __post_init__(self) -> None:
        for name in ("train_steps", "warmup_steps", "checkpoint_every"):
            check_int(f"student {name}", getattr(self, name))


def fine_tune(teacher_ckpt: Path, folder: Path, loss: Loss, schedule: Schedule, *,
              label: str, progress: bool = True) -> Path:
    """Fine-tune the teacher's EMA weights with ``loss`` into ``folder`` (resuming from
    its checkpoints); returns the last checkpoint."""
    torch.set_flush_denormal(True)
    model = checkpoint.load_model(teacher_ckpt, ema=True).train()
    opt = torch.optim.AdamW(model.parameters(), lr=schedule.lr, betas=(0.9, 0.99),
                            weight_decay=0.0, fused=True)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / schedule.warmup_steps))
    ema = EMAModel(model.parameters(), decay=schedule.ema_decay, foreach=True)
    g = torch.Generator().manual_seed(schedule.seed)
    step = 0
    found = checkpoint.checkpoints(folder)
    if found:
        checkpoint.fill(model, checkpoint.read_weights(found[-1] / checkpoint.WEIGHTS),
                        found[-1])
        state = checkpoint.load_state(found[-1])
        ema.shadow_params = checkpoint.load_ema(model, found[-1])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["schedule"])
        ema.optimization_step = int(state["ema_step"])
        g.set_state(state["noise"])
        step = int(state["step"])
    last = found[-1] if found else None
    with bars(progress) as task:
        advance = task(label, schedule.train_steps, step)
        while step < schedule.train_steps:
            value = loss(model, step, g, ema)
            opt.zero_grad(set_to_none=True)
            value.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            ema.step(model.parameters())
            step += 1
            advance(1)
            if step % schedule.checkpoint_every == 0 or step == schedule.train_steps:
                last = checkpoint.save(folder, step, model,
                                       checkpoint.ema_state(model, ema.shadow_params), {
                    "step": step, "optimizer": opt.state_dict(), "schedule": sched.state_dict(),
                    "ema_step": ema.optimization_step, "noise": g.get_state()})
                checkpoint.prune(folder, keep=last)
    assert last is not None
    return last


def finished(folder: Path, train_steps: int) -> Path | None:
    """The last checkpoint in ``folder`` if it has reached ``train_steps``, else None."""
    found = checkpoint.checkpoints(folder)
    if found and int(checkpoint.load_state(found[-1])["step"]) >= train_steps:
        return found[-1]
    return None


def ensure(teacher: FlowGenerator, folder: Path, train_steps: int, manifest: str,
           config: Any, make: Callable[[], tuple[Path, dict[str, float]]]) -> Path:
    """The finished student checkpoint in ``folder``, made first by ``make`` (which
    returns the last checkpoint and the seconds of its stages) when missing. Writes the
    ``manifest`` (teacher and config) before making and ``timing.json`` after; a
    grounded teacher is an InputError (every student here is of a text-only model), and
    so is a latent one (the students are made and stored in pixel space)."""
    if teacher.config.grounding:
        raise InputError("distillation takes a text-only flow model; this teacher "
                         f"({teacher.checkpoint}) draws grounding plans")
    if teacher.config.latent:
        raise InputError("distillation takes a pixel flow model; this teacher "
                         f"({teacher.checkpoint}) works on latents ({teacher.config.latent!r})")
    with checkpoint.cache_lock(folder):
        done = finished(folder, train_steps)
        if done is not None:
            return done
        folder.mkdir(parents=True, exist_ok=True)
        (folder / manifest).write_text(json.dumps(
            {"teacher": str(teacher.checkpoint), "config": asdict(config)}, indent=1))
        last, seconds = make()
        (folder / "timing.json").write_text(json.dumps(seconds))
        return last


def as_generator(ckpt: Path, teacher: FlowGenerator, origin: dict[str, object], *,
                 steps: int, sampler: str, **options: Any) -> FlowGenerator:
    """A student checkpoint behind :class:`FlowGenerator`, sampling at guidance 1 (the
    guidance is in its weights), with its ``origin`` and its teacher as ``reference``."""
    gen = FlowGenerator(ckpt, steps=steps, sampler=sampler, guidance=1.0, **options)
    gen.origin = origin
    gen.reference = teacher
    return gen
