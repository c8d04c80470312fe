"""Training of the video window model: teacher forcing or Diffusion Forcing.

Both trainings use one architecture (:class:`~.model.WindowNet`) and one objective,
the rectified-flow path ``x_t = (1 - t) x0 + t eps`` with an x0-predicting network and
a mean-squared error on the clean frames of every noised frame; they differ only in
which noise level each frame of a training window gets:

- ``teacher``: the first ``k`` frames clean (level 0), the other ``W - k`` at one shared
  level ``t ~ U(0, 1)``: the model learns ``p(next frames | clean past)``, the classic
  autoregressive (teacher-forced) video model.
- ``diffusion``: Diffusion Forcing (Chen et al., 2024, "Diffusion Forcing: Next-token
  Prediction Meets Full-Sequence Diffusion", arXiv 2407.01392): every frame its own
  level ``t_i ~ U(0, 1)``, independently, so the model learns to denoise any frame from
  past and future frames of any noise level; at sampling time the past can be handed
  over slightly noisy (their stabilisation) and the future at a diagonal of levels
  (FIFO-Diffusion). A share of windows (``sorted_share``) has its levels sorted to rise
  along time, making the causal patterns the samplers use common.

A teacher-forced model may spend its last ``self_context_steps`` steps on contexts it
made itself (:func:`self_made_windows`, scheduled sampling over one chunk). Training
runs on the CPU by default; ``train(..., device="cuda")`` moves only the network (the
data and noise are drawn as on the CPU; ``bench/train_video_device.py``).
:func:`ensure_trained` trains a config once per cache (file-locked) and returns its
run folder.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
from diffusers.training_utils import EMAModel

from genlab.generators.flow.checkpoint import cache_lock
from genlab.generators.video import checkpoint
from genlab.generators.video.config import FG_LEVEL, VideoConfig
from genlab.generators.video.data import ClipPool
from genlab.generators.video.model import WindowNet, noise, to_tensor, to_uint8
from genlab.generators.video.rollout import CHUNK_STEPS, denoise_chunk
from genlab.progress import bars


def sample_levels(config: VideoConfig, batch: int, gen: torch.Generator) -> torch.Tensor:
    """``(batch, W)`` training noise levels of ``config.forcing`` (0 = clean)."""
    w, k = config.window, config.context
    if config.forcing == "teacher":
        t = torch.rand(batch, 1, generator=gen).clamp_min(1e-3)
        return torch.cat([torch.zeros(batch, k), t.expand(batch, w - k)], 1)
    levels = torch.rand(batch, w, generator=gen).clamp_min(1e-3)
    rows = torch.rand(batch, generator=gen) < config.sorted_share
    levels[rows] = levels[rows].sort(1).values
    return levels


def foreground(clips: torch.Tensor) -> torch.Tensor:
    """``(B, W, 1, S, S)`` 1 where a pixel of ``clips`` ``(B, W, 3, S, S)`` is more than
    ``FG_LEVEL`` from its frame's per-channel median (the flat background), else 0."""
    med = clips.flatten(3).median(-1).values[..., None, None]
    return ((clips - med).abs().amax(2, keepdim=True) > FG_LEVEL).float()


def loss_fn(net: WindowNet, clips: torch.Tensor, levels: torch.Tensor,
            gen: torch.Generator, fg_weight: float = 0.0) -> torch.Tensor:
    """Mean squared error of the clean estimate over every noised frame, a body's pixels
    weighted ``1 + fg_weight`` (:func:`foreground`)."""
    eps = torch.randn(clips.shape, generator=gen).to(clips.device)
    x0_hat = net(noise(clips, levels, eps), levels)
    sq = (x0_hat - clips).pow(2)
    if fg_weight:
        sq = sq * (1 + fg_weight * foreground(clips))
    err = sq.mean((2, 3, 4))                                         # (B, W)
    mask = (levels > 0).float()
    return (err * mask).sum() / mask.sum()


@torch.no_grad()
def self_made_windows(net: WindowNet, clips: torch.Tensor, gen: torch.Generator,
                      steps: int = CHUNK_STEPS) -> torch.Tensor:
    """Training windows ``(B, W, 3, S, S)`` whose context the net made: ``clips`` ``(B, W +
    q, 3, S, S)`` (``q = W - k``); the net samples the ``q`` frames after the first ``k``
    as a teacher-forced rollout does (:func:`~.rollout.denoise_chunk` on the clean
    context, rounded through uint8), and the window is the last ``k`` frames of context +
    made frames, then the clips' true last ``q`` frames."""
    k, q = net.config.context, net.config.chunk
    ctx = clips[:, :k]
    made = to_tensor(to_uint8(denoise_chunk(net, ctx, torch.zeros(len(clips), k), gen, steps)))
    return torch.cat([torch.cat([ctx, made], 1)[:, -k:], clips[:, -q:]], 1)


def _schedule(config: VideoConfig, step: int) -> float:
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    frac = (step - config.warmup_steps) / max(1, config.train_steps - config.warmup_steps)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))


def train(config: VideoConfig, folder: Path, progress: bool = True,
          device: str = "cpu") -> Path:
    """Train ``config`` from scratch and save it into ``folder``; return ``folder``.

    ``device`` (a torch device, e.g. ``"cuda"``) runs the network there; the clips, the
    noise and the levels are still drawn on the CPU from the same seeded generators, so
    a model trained on an accelerator saw the same data and noise as one trained here
    (its weights differ by the devices' rounding; ``meta.json`` names the device)."""
    torch.manual_seed(config.seed)
    t0 = time.perf_counter()
    with bars(progress) as task:
        pool = ClipPool(config, task(f"rendering video clips ({config.forcing})",
                                     3 * config.scenes_per_scenario))
        net = WindowNet(config).train().to(device)
        opt = torch.optim.AdamW(net.parameters(), lr=config.lr,
                                weight_decay=config.weight_decay)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _schedule(config, s))
        # on an accelerator one fused update per step instead of one per tensor
        ema = EMAModel(net.parameters(), decay=config.ema_decay, use_ema_warmup=True,
                       foreach=torch.device(device).type != "cpu")
        gen = torch.Generator().manual_seed(config.seed)
        rng = np.random.default_rng(config.seed)
        losses: list[float] = []
        advance = task(f"training video model ({config.forcing} forcing)", config.train_steps)
        own_from = config.train_steps - config.self_context_steps
        half = config.batch_size // 2  # of a batch, the windows on a context the net made
        for step in range(config.train_steps):
            clips = pool.sample(rng, config.batch_size).to(device)
            if step >= own_from and half:
                longer = pool.sample(rng, half, config.window + config.chunk).to(device)
                clips = torch.cat([clips[:config.batch_size - half],
                                   self_made_windows(net, longer, gen)])
            levels = sample_levels(config, config.batch_size, gen).to(device)
            loss = loss_fn(net, clips, levels, gen, config.fg_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
            opt.step()
            sched.step()
            ema.step(net.parameters())
            losses.append(float(loss.detach()))
            advance()
    ema.copy_to(net.parameters())
    net = net.cpu()
    every = max(1, config.train_steps // 50)
    curve = [float(np.mean(losses[i:i + every])) for i in range(0, len(losses), every)]
    tail = losses[-max(1, len(losses) // 20):]
    meta = {"train_steps": config.train_steps, "train_seconds": time.perf_counter() - t0,
            "final_loss": float(np.mean(tail)), "loss_curve": curve,
            "train_frames_pool": int(pool.frames.shape[0] * pool.frames.shape[1]),
            "device": str(device)}
    checkpoint.save(folder, net.eval(), meta)
    return folder


def ensure_trained(config: VideoConfig, cache_dir: Path, progress: bool = True) -> Path:
    """The run folder of ``config`` in ``cache_dir`` (``video-<key>``), trained first if
    missing; a file lock makes concurrent callers wait for one training."""
    folder = checkpoint.run_dir(config, cache_dir)
    with cache_lock(folder):
        if not checkpoint.is_complete(folder):
            train(config, folder, progress=progress)
    return folder
