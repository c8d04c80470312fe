"""Rollouts of the learned video generators: chunked autoregression and FIFO's queue.

A rollout holds only fixed-size buffers (the last ``k`` frames, the frames made but
not yet asked for, FIFO's queue of ``W - k`` noisy frames) and a torch.Generator, so
memory stays flat however long it runs, and :meth:`~_Rollout.state` captures all of
it: a rollout resumed from it makes bit-identical frames.

Both samplers hand every frame back through uint8 before it becomes context, so the
model conditions on exactly the frames the caller sees, and clamp the clean estimate
to [-1, 1] before that (the final-step clamp: an overshoot never feeds back).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from genlab.errors import CheckpointError, check_int
from genlab.generators.video.model import WindowNet, euler_step, to_tensor, to_uint8

# Euler steps per chunk of the chunked samplers (``video-ar``, ``diffusion-forcing``) by
# default, and of the contexts a teacher-forced model makes itself in training
# (``VideoConfig.self_context_steps``).
CHUNK_STEPS = 8


def denoise_chunk(net: WindowNet, ctx: torch.Tensor, ctx_levels: torch.Tensor,
                  gen: torch.Generator, steps: int) -> torch.Tensor:
    """The clean estimates ``(B, W - k, 3, S, S)`` of the ``W - k`` frames after context
    ``ctx`` ``(B, k, 3, S, S)`` at levels ``ctx_levels`` ``(B, k)``: from pure noise (drawn
    on the CPU from ``gen``) in ``steps`` Euler steps, each estimate clamped to [-1, 1]."""
    b, q = len(ctx), net.config.chunk
    x = torch.randn((b, q, *ctx.shape[2:]), generator=gen).to(ctx.device)
    ts = torch.linspace(1, 0, steps + 1)
    x0 = x
    for t, t_next in zip(ts[:-1], ts[1:], strict=True):
        levels = torch.cat([ctx_levels, t.expand(b, q)], 1).to(ctx.device)
        x0 = net(torch.cat([ctx, x], 1), levels)[:, -q:].clamp(-1, 1)
        x = euler_step(x, x0, t, t_next)
    return x0


def _state_array(resume: Mapping[str, np.ndarray], key: str, shape: tuple[int, ...] | None,
                 dtype: type) -> np.ndarray:
    try:
        arr = np.asarray(resume[key])
    except KeyError as exc:
        raise CheckpointError(f"video rollout state has no {key!r}; it holds "
                              f"{sorted(resume)}") from exc
    if arr.dtype != dtype or (shape is not None and arr.shape[1:] != shape[1:]) \
            or (shape is not None and shape[0] >= 0 and arr.shape[0] != shape[0]):
        raise CheckpointError(f"video rollout state {key!r} has shape {arr.shape} "
                              f"{arr.dtype}; expected {shape} {np.dtype(dtype)}")
    return arr


class _Rollout:
    """The shared buffers: ``(k, S, S, 3) uint8`` context, pending frames, the RNG."""

    def __init__(self, net: WindowNet, context: np.ndarray, seed: int,
                 context_noise: float, resume: Mapping[str, np.ndarray] | None) -> None:
        self.net, self.cfg, self.context_noise = net, net.config, context_noise
        k, s = self.cfg.context, self.cfg.size
        self.gen = torch.Generator()
        if resume is None:
            self.gen.manual_seed(int(seed) % (1 << 63))
            self._context = torch.from_numpy(np.ascontiguousarray(context[-k:]))
            self._pending = torch.empty(0, s, s, 3, dtype=torch.uint8)
        else:
            rng = _state_array(resume, "rng", None, np.uint8)
            try:
                self.gen.set_state(torch.from_numpy(rng.copy()))
            except RuntimeError as exc:
                raise CheckpointError(f"video rollout state 'rng' is not a torch "
                                      f"generator state: {exc}") from exc
            self._context = torch.from_numpy(
                _state_array(resume, "context", (k, s, s, 3), np.uint8).copy())
            self._pending = torch.from_numpy(
                _state_array(resume, "pending", (-1, s, s, 3), np.uint8).copy())

    def next(self, n: int) -> np.ndarray:
        """The next ``n`` frames ``(n, S, S, 3) uint8``."""
        check_int("frames", n)
        parts, have = [self._pending], len(self._pending)
        with torch.inference_mode():
            while have < n:
                made = self._produce()
                parts.append(made)
                have += len(made)
                self._context = torch.cat([self._context, made])[-self.cfg.context:]
        frames = torch.cat(parts)
        self._pending = frames[n:].clone()
        return frames[:n].numpy().copy()

    def state(self) -> dict[str, np.ndarray]:
        return {"rng": self.gen.get_state().numpy().copy(),
                "context": self._context.numpy().copy(),
                "pending": self._pending.numpy().copy()}

    def _produce(self) -> torch.Tensor:
        raise NotImplementedError

    def _noisy_context(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The context ``(k, 3, S, S)`` at level ``context_noise`` and its levels ``(k,)``."""
        ctx = to_tensor(self._context)
        tc = self.context_noise
        if tc > 0:
            ctx = (1 - tc) * ctx + tc * torch.randn(ctx.shape, generator=self.gen)
        return ctx, torch.full((len(ctx),), tc)

    def _denoise_chunk(self, steps: int) -> torch.Tensor:
        """The next ``W - k`` frames' clean estimates ``(W - k, 3, S, S)``, from pure noise
        in ``steps`` Euler steps on the context (one noise draw for the context)."""
        ctx, ctx_levels = self._noisy_context()
        return denoise_chunk(self.net, ctx[None], ctx_levels[None], self.gen, steps)[0]


class ChunkRollout(_Rollout):
    """Autoregression by chunks: each chunk of ``W - k`` frames is denoised from noise in
    ``steps`` Euler steps, conditioned on the last ``k`` frames made."""

    def __init__(self, net: WindowNet, context: np.ndarray, seed: int, *, steps: int,
                 context_noise: float, resume: Mapping[str, np.ndarray] | None) -> None:
        super().__init__(net, context, seed, context_noise, resume)
        self.steps = steps

    def _produce(self) -> torch.Tensor:
        return to_uint8(self._denoise_chunk(self.steps))


class FifoRollout(_Rollout):
    """FIFO-Diffusion's diagonal queue: ``q = W - k`` frames at levels ``1/q, 2/q, ..., 1``
    behind the context; one network pass moves every queued frame one level down, the
    head reaches level 0 and leaves as the next frame, and fresh noise joins the tail.
    The queue starts from a chunk made by ``warmup_steps`` Euler steps, noised up to the
    diagonal (FIFO-Diffusion's initialisation)."""

    def __init__(self, net: WindowNet, context: np.ndarray, seed: int, *, warmup_steps: int,
                 context_noise: float, resume: Mapping[str, np.ndarray] | None) -> None:
        super().__init__(net, context, seed, context_noise, resume)
        self.warmup_steps = warmup_steps
        q, s = self.cfg.chunk, self.cfg.size
        self.levels = torch.arange(1, q + 1, dtype=torch.float32) / q
        self._queue: torch.Tensor | None = None
        if resume is not None:
            queue = _state_array(resume, "queue", (-1, 3, s, s), np.float32)
            if len(queue) not in (0, q):
                raise CheckpointError(f"FIFO queue of {len(queue)} frames; expected {q}")
            self._queue = torch.from_numpy(queue.copy()) if len(queue) else None

    def state(self) -> dict[str, np.ndarray]:
        s = self.cfg.size
        queue = self._queue if self._queue is not None else torch.empty(0, 3, s, s)
        return {**super().state(), "queue": queue.numpy().copy()}

    def _produce(self) -> torch.Tensor:
        q, s = self.cfg.chunk, self.cfg.size
        if self._queue is None:
            x0 = self._denoise_chunk(self.warmup_steps)
            eps = torch.randn(x0.shape, generator=self.gen)
            lv = self.levels[:, None, None, None]
            self._queue = (1 - lv) * x0 + lv * eps
        ctx, ctx_levels = self._noisy_context()
        levels = torch.cat([ctx_levels, self.levels])[None]
        x0 = self.net(torch.cat([ctx, self._queue])[None], levels)[0, -q:].clamp(-1, 1)
        lv = self.levels[:, None, None, None]
        stepped = euler_step(self._queue, x0, lv, lv - 1 / q)
        head = to_uint8(x0[:1])                   # level 1/q -> 0: the clean estimate itself
        fresh = torch.randn((1, 3, s, s), generator=self.gen)
        self._queue = torch.cat([stepped[1:], fresh])
        return head
