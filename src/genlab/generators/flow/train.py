"""Training loop of ``flow``: resumable, atomic checkpoints, a loss curve, a progress bar.

``train`` optimises the rectified-flow objective (:mod:`.objective`) with
AdamW (Loshchilov & Hutter, 2019), linear warmup then cosine decay, gradient
clipping and an EMA of the weights (diffusers' ``EMAModel``, whose decay warms
up as ``(1 + k) / (10 + k)``, so a short run's EMA is not dominated by its
random init). Every random stream (init, data, noise, timesteps, CFG dropout)
is seeded from the config and checkpointed, so a run killed at any moment
resumes from its last checkpoint and ends at the same step with the same
weights as an uninterrupted run.

With ``FlowConfig.workers > 1`` the loop runs data-parallel: ``workers``
processes (``torch.multiprocessing.spawn``, gloo backend of
``torch.distributed``) each draw their share of the batch from their own
random stream; one all-reduce per step averages the gradients (and the loss),
so every process applies the same update and holds the same weights. Rank 0
writes the curve and the checkpoints; the checkpoint holds every rank's
random state, so a resumed run again matches an uninterrupted one.

With ``FlowConfig.kernels`` set (``"avx2"``), the workers (one, if ``workers`` is 1)
start with that instruction set's kernel environment, unless this process already runs
it, and each checks torch's reported capability before its first step: the same weights
on every machine that has the instruction set.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import dataclasses
import datetime
import math
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from diffusers.training_utils import EMAModel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from genlab import machine
from genlab.errors import CheckpointError, InputError
from genlab.generators.flow import checkpoint
from genlab.generators.flow.autoencoder import LatentSpace, ensure_autoencoder
from genlab.generators.flow.config import FlowConfig, autoencoder_config
from genlab.generators.flow.grounding import scene_maps
from genlab.generators.flow.model import FlowModel
from genlab.generators.flow.objective import flow_loss, images_to_tensor
from genlab.worlds.shapes.world import ShapesWorld, TrainingBatch

CURVE = "curve.csv"
CURVE_FIELDS = ("step", "loss", "images_per_s", "elapsed_s")


@dataclass
class _Run:
    """The mutable state of one training run (everything a checkpoint holds)."""

    config: FlowConfig
    model: FlowModel
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LambdaLR
    ema: EMAModel
    extra_emas: dict[float, EMAModel]  # FlowConfig.extra_ema_decays, by decay
    rng: np.random.Generator
    noise: torch.Generator
    rank: int = 0
    step: int = 0
    elapsed_s: float = 0.0
    counter: torch.nn.Module | None = None  # the frozen counter of ``count_loss``
    latent: LatentSpace | None = None  # the frozen autoencoder of ``FlowConfig.latent``

    @property
    def distributed(self) -> bool:
        return self.config.workers > 1


def _lr_factor(c: FlowConfig, step: int) -> float:
    if step < c.warmup_steps:
        return (step + 1) / c.warmup_steps
    span = max(1, c.train_steps - c.warmup_steps)
    progress = min(1.0, (step - c.warmup_steps) / span)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))


def _streams(c: FlowConfig, rank: int) -> tuple[np.random.Generator, torch.Generator]:
    """The data and noise streams of ``rank`` (rank 0's are those of a 1-worker run)."""
    if rank == 0:
        return np.random.default_rng(c.seed), torch.Generator().manual_seed(c.seed + 1)
    return (np.random.default_rng((c.seed, rank)),
            torch.Generator().manual_seed(c.seed + 1 + 1_000_003 * rank))


def _new_run(c: FlowConfig, rank: int = 0, cache_dir: Path | None = None) -> _Run:
    """A fresh run of ``c``; with ``count_loss`` it also holds its frozen counter, and with
    a ``latent`` its frozen autoencoder, from ``cache_dir`` (trained there if missing), so
    no step can run without them."""
    if (c.count_loss or c.latent) and cache_dir is None:
        raise InputError("a config with count_loss > 0 or a latent needs the cache_dir that "
                         "holds (or will hold) its counter or autoencoder")
    with torch.random.fork_rng():  # seed the init without touching the caller's RNG
        torch.manual_seed(c.seed)
        model = FlowModel(c)
    # fused: one kernel over all parameters. On CPU torch otherwise loops over the
    # ~280 tensors one by one (bench/bench_train.py times the three AdamW forms).
    opt = torch.optim.AdamW(model.parameters(), lr=c.lr, betas=(0.9, 0.99),
                            weight_decay=c.weight_decay, fused=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(c, s))
    ema = EMAModel(model.parameters(), decay=c.ema_decay, foreach=True)
    extra = {d: EMAModel(model.parameters(), decay=d, foreach=True) for d in c.extra_ema_decays}
    counter = ensure_counter(c, cache_dir) if cache_dir is not None else None
    latent = ensure_latent(c, cache_dir) if cache_dir is not None else None
    return _Run(c, model, opt, schedule, ema, extra, *_streams(c, rank), rank=rank,
                counter=counter, latent=latent)


def _checksum(model: torch.nn.Module) -> float:
    return float(sum(p.detach().double().sum() for p in model.parameters()))


def _save(run: _Run, out_dir: Path) -> Path | None:
    """Checkpoint the run (every rank must call this; rank 0 writes and returns the path)."""
    mine = {"noise": run.noise.get_state(), "rng": run.rng.bit_generator.state}
    streams: list[Any] = [mine]
    if run.distributed:
        streams = [None] * run.config.workers
        dist.all_gather_object(streams, {**mine, "checksum": _checksum(run.model)})
        sums = [s.pop("checksum") for s in streams]
        if len(set(sums)) != 1:
            raise RuntimeError(f"data-parallel workers diverged at step {run.step}: weight "
                               f"checksums {sums}")
    path = None
    if run.rank == 0:
        state = {
            "step": run.step, "elapsed_s": run.elapsed_s,
            "optimizer": run.optimizer.state_dict(), "schedule": run.schedule.state_dict(),
            "ema_step": run.ema.optimization_step, "streams": streams,
        }
        extra = {d: checkpoint.ema_state(run.model, e.shadow_params)
                 for d, e in run.extra_emas.items()}
        path = checkpoint.save(out_dir, run.step, run.model,
                               checkpoint.ema_state(run.model, run.ema.shadow_params), state,
                               extra)
        checkpoint.prune(out_dir, keep=path)
    if run.distributed:  # nobody runs ahead of a checkpoint that is not yet on disk
        dist.barrier()
    return path


def _restore(run: _Run, ckpt: Path) -> None:
    stored = checkpoint.load_config(ckpt)
    if stored != run.config:
        raise CheckpointError(f"{ckpt} was trained with a different config (key "
                              f"{stored.key()} vs {run.config.key()}); use another out_dir "
                              f"or resume=False")
    checkpoint.fill(run.model, checkpoint.read_weights(ckpt / checkpoint.WEIGHTS), ckpt)
    run.ema.shadow_params = checkpoint.load_ema(run.model, ckpt)
    for d, e in run.extra_emas.items():
        e.shadow_params = checkpoint.load_ema(run.model, ckpt, checkpoint.extra_ema_file(d))
    state = checkpoint.load_state(ckpt)
    try:
        run.optimizer.load_state_dict(state["optimizer"])
        run.schedule.load_state_dict(state["schedule"])
        run.ema.optimization_step = int(state["ema_step"])
        for e in run.extra_emas.values():
            e.optimization_step = run.ema.optimization_step
        mine = state["streams"][run.rank]
        run.noise.set_state(mine["noise"])
        run.rng.bit_generator.state = mine["rng"]
        run.step, run.elapsed_s = int(state["step"]), float(state["elapsed_s"])
    except (KeyError, IndexError, ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"training state {ckpt / checkpoint.STATE} is unusable: "
                              f"{exc}") from exc


# ---------------------------------------------------------------- loss curve


def _trim_curve(path: Path, step: int) -> None:
    """Keep the complete rows up to ``step`` (a kill may leave later or half rows)."""
    rows: list[dict[str, str]] = []
    if path.exists():
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                with contextlib.suppress(TypeError, ValueError):
                    if int(row["step"]) <= step and all(row[k] for k in CURVE_FIELDS):
                        float(row["loss"])
                        rows.append(row)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, CURVE_FIELDS)
        w.writeheader()
        w.writerows({k: r[k] for k in CURVE_FIELDS} for r in rows)
    os.replace(tmp, path)


def _batch(c: FlowConfig, rng: np.random.Generator) -> TrainingBatch:
    """One worker's share of a batch of the world's ``train`` split (layout boxes only
    on ``layout`` prompts)."""
    return ShapesWorld().training_batch(rng, c.batch_size // c.workers, c.image_size,
                                        c.categories)


def _all_reduce_mean(run: _Run, loss: torch.Tensor) -> float:
    """Average the gradients and the loss over the workers in one all-reduce."""
    grads = []
    for p in run.model.parameters():  # a parameter unused on this rank (the null text) syncs too
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        grads.append(p.grad)
    flat = torch.cat([g.reshape(-1) for g in grads] + [loss.detach().reshape(1)])
    dist.all_reduce(flat)
    flat /= run.config.workers
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()
    return float(flat[-1])


def _loss(run: _Run, batch: TrainingBatch) -> torch.Tensor:
    """The training loss of one batch (the forward pass of a step)."""
    c = run.config
    ids, mask = run.model.tokenizer.encode(batch.prompts, batch.boxes)
    # A grounded model learns from each image's true scene (the plan a perfect
    # planner would make); sampling takes the planner's scene instead.
    grounding = (scene_maps(batch.scenes, c.grid) if c.grounding else None)
    x0 = images_to_tensor(batch.images)
    if run.latent is not None:  # latent diffusion: the flow moves the frozen encoder's latents
        with torch.no_grad():
            x0 = run.latent.encode(x0)
    return flow_loss(run.model, x0, ids, mask, t_mean=c.t_mean,
                     t_std=c.t_std, cfg_dropout=c.cfg_dropout, generator=run.noise,
                     t_floor=c.loss_t_floor, pooled_dropout=c.pooled_dropout,
                     grounding=grounding, counter=run.counter, count_weight=c.count_loss)


def ensure_counter(config: FlowConfig, cache_dir: Path,
                   progress: bool = False) -> torch.nn.Module | None:
    """The frozen counter ``config``'s ``count_loss`` needs (:mod:`.counting`): the
    verifier of profile ``config.counter`` in ``cache_dir``, trained there if missing;
    None without ``count_loss``."""
    if config.count_loss == 0:
        return None
    from genlab.generators.flow.counting import frozen
    from genlab.generators.verifier import VerifierConfig, ensure_verifier

    vconfig = VerifierConfig.profile(config.counter)
    return frozen(ensure_verifier(vconfig, cache_dir, progress=progress))


def ensure_latent(config: FlowConfig, cache_dir: Path,
                  progress: bool = False) -> LatentSpace | None:
    """The frozen autoencoder of ``config.latent`` in ``cache_dir``, trained there if
    missing; None for a pixel model."""
    if not config.latent:
        return None
    return ensure_autoencoder(autoencoder_config(config.latent), cache_dir, progress=progress)


def _train_step(run: _Run) -> float:
    c = run.config
    loss = _loss(run, _batch(c, run.rng))
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    value = _all_reduce_mean(run, loss) if run.distributed else float(loss.detach())
    if c.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), c.grad_clip)
    run.optimizer.step()
    run.schedule.step()
    run.ema.step(run.model.parameters())
    for e in run.extra_emas.values():
        e.step(run.model.parameters())
    return value


@contextlib.contextmanager
def _progress(enabled: bool, run: _Run) -> Iterator[Any]:
    cols = (TextColumn("flow"), BarColumn(), TextColumn("step {task.completed}/{task.total}"),
            TextColumn("loss {task.fields[loss]:.4f}"), TextColumn("{task.fields[ips]:.0f} img/s"),
            TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*cols, disable=not enabled, transient=False) as bar:
        task = bar.add_task("train", total=run.config.train_steps, completed=run.step,
                            loss=float("nan"), ips=0.0)
        yield lambda **kw: bar.update(task, **kw)


def train(config: FlowConfig, out_dir: Path, *, resume: bool = True,
          progress: bool = True, stop_at: int | None = None) -> Path:
    """Train ``config`` into ``out_dir``; return the last checkpoint directory.

    With ``resume`` an existing checkpoint in ``out_dir`` is continued (it must
    have the same config); without it, earlier checkpoints and curve are deleted.
    ``stop_at`` pauses the run after that step (checkpointed): a later call
    continues it exactly, as after an interruption.
    """
    end = config.train_steps if stop_at is None else stop_at
    if not 1 <= end <= config.train_steps:
        raise InputError(f"stop_at {stop_at} must be in 1..train_steps ({config.train_steps})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        checkpoint.prune(out_dir, keep=out_dir / "-")  # keep nothing
        (out_dir / CURVE).unlink(missing_ok=True)
    ensure_counter(config, out_dir.parent, progress)  # once, before any worker loads it
    ensure_latent(config, out_dir.parent, progress)
    pinned = bool(config.kernels) and not machine.runs_kernels(config.kernels)
    if config.workers == 1 and not pinned:
        last = _loop(0, config, out_dir, progress, end)
        assert last is not None
        return last
    threads = max(1, torch.get_num_threads() // config.workers)
    for stale in out_dir.glob(".dist-store-*"):  # left by a killed run
        stale.unlink(missing_ok=True)
    store = out_dir / f".dist-store-{os.getpid()}-{time.time_ns()}"
    kernels = machine.kernel_environment(config.kernels) if pinned else contextlib.nullcontext()
    try:
        with kernels:  # a pinned run's workers start with its kernels' environment
            torch.multiprocessing.spawn(_worker, args=(config, out_dir, progress, end,
                                                       str(store), threads),
                                        nprocs=config.workers, join=True)
    finally:
        store.unlink(missing_ok=True)
    return checkpoint.checkpoints(out_dir)[-1]


def _worker(rank: int, config: FlowConfig, out_dir: Path, progress: bool, end: int,
            store: str, threads: int) -> None:
    """One data-parallel training process (the target of ``torch.multiprocessing.spawn``),
    or the one process of a run pinned to ``FlowConfig.kernels``."""
    # Die with the parent: a killed ``genlab train`` must not leave workers writing
    # checkpoints behind the resumed run (Linux prctl PR_SET_PDEATHSIG).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    torch.set_num_threads(threads)
    if config.workers == 1:  # a pinned run's one worker
        _loop(rank, config, out_dir, progress, end)
        return
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank,
                            world_size=config.workers,
                            timeout=datetime.timedelta(minutes=5))
    try:
        _loop(rank, config, out_dir, progress and rank == 0, end)
    finally:
        dist.destroy_process_group()


def _loop(rank: int, config: FlowConfig, out_dir: Path, progress: bool,
          end: int) -> Path | None:
    """The training loop of one worker (the whole run when ``workers == 1``)."""
    # Denormal floats (Adam's tiny second moments, attention tails) run ~5x slower
    # on x86 CPUs; flushing them to zero made training steps 3-6x faster here.
    torch.set_flush_denormal(True)
    if config.kernels:  # pinned: refuse to train one step on other kernels
        machine.check_capability(config.kernels)
    run = _new_run(config, rank, out_dir.parent)
    found = checkpoint.checkpoints(out_dir)
    if found:
        _restore(run, found[-1])
    if rank == 0:
        _trim_curve(out_dir / CURVE, run.step)
    last = found[-1] if found else None
    run.model.train()
    curve = (out_dir / CURVE).open("a", newline="") if rank == 0 else contextlib.nullcontext()
    with _progress(progress, run) as update, curve as f:
        smooth, window, t_window = float("nan"), 0.0, time.perf_counter()
        while run.step < end:
            t0 = time.perf_counter()
            loss = _train_step(run)
            run.step += 1
            run.elapsed_s += time.perf_counter() - t0
            window += loss
            smooth = loss if math.isnan(smooth) else 0.9 * smooth + 0.1 * loss
            if run.step % config.log_every == 0 or run.step == end:
                n_steps = (run.step - 1) % config.log_every + 1
                ips = n_steps * config.batch_size / (time.perf_counter() - t_window)
                if f is not None:  # rank 0 writes the curve
                    csv.writer(f).writerow([run.step, f"{window / n_steps:.6f}",
                                            f"{ips:.2f}", f"{run.elapsed_s:.2f}"])
                    f.flush()
                window, t_window = 0.0, time.perf_counter()
                update(completed=run.step, loss=smooth, ips=ips)
            if run.step % config.checkpoint_every == 0 or run.step == end:
                last = _save(run, out_dir)
    return last


def split_emas(ckpt: Path, cache_dir: Path) -> dict[float, Path]:
    """Write each EMA of a finished run with ``extra_ema_decays`` into ``cache_dir`` as
    the finished run of its own config (``ema_decay`` = that decay, no extras): the
    checkpoint a run of that config would have written, since the EMA never feeds back
    into training. Returns {decay: checkpoint}, the main decay included; an entry already
    in the cache is kept."""
    ckpt = checkpoint.resolve(ckpt)
    config = checkpoint.load_config(ckpt)
    meta = checkpoint.load_meta(ckpt)
    if meta["step"] < config.train_steps:
        raise InputError(f"{ckpt} is at step {meta['step']} of {config.train_steps}; finish "
                         f"the run before splitting its EMAs")
    files = {config.ema_decay: checkpoint.EMA_WEIGHTS,
             **{d: checkpoint.extra_ema_file(d) for d in config.extra_ema_decays}}
    raw = checkpoint.read_weights(ckpt / checkpoint.WEIGHTS)
    out = {}
    for decay, file in files.items():
        own = dataclasses.replace(config, ema_decay=decay, extra_ema_decays=())
        folder = run_dir(own, cache_dir)
        with checkpoint.cache_lock(folder):
            found = checkpoint.checkpoints(folder)
            if found and checkpoint.load_meta(found[-1])["step"] >= own.train_steps:
                out[decay] = found[-1]
                continue
            if (ckpt.parent / CURVE).is_file():  # the run's loss curve, as train keeps it
                tmp = folder / f".{CURVE}.{os.getpid()}"
                shutil.copyfile(ckpt.parent / CURVE, tmp)
                os.replace(tmp, folder / CURVE)
            final = checkpoint.write_folder(
                checkpoint.step_dir(folder, meta["step"]),
                {checkpoint.WEIGHTS: raw,
                 checkpoint.EMA_WEIGHTS: checkpoint.read_weights(ckpt / file)},
                {checkpoint.CONFIG: own.to_json()},
                copies={checkpoint.META: ckpt / checkpoint.META,  # its step and provenance
                        checkpoint.STATE: ckpt / checkpoint.STATE})
            checkpoint.prune(folder, keep=final)  # an unfinished run of that config
            out[decay] = final
    return out


def run_dir(config: FlowConfig, cache_dir: Path) -> Path:
    """The folder of ``config``'s training run in the cache: ``flow-<config key>``."""
    return Path(cache_dir) / f"flow-{config.key()}"


def ensure_trained(config: FlowConfig, cache_dir: Path, progress: bool = True) -> Path:
    """The checkpoint of ``config`` in ``cache_dir``, training it (or finishing it) first.

    The run lives in :func:`run_dir`; a file lock makes concurrent callers wait for
    one training instead of racing."""
    folder = run_dir(config, cache_dir)
    with checkpoint.cache_lock(folder):
        found = checkpoint.checkpoints(folder)
        if found and checkpoint.load_meta(found[-1])["step"] >= config.train_steps:
            return found[-1]
        return train(config, folder, resume=True, progress=progress)
