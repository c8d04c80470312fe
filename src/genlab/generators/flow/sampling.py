"""ODE samplers for rectified flow, as stateless functions with one signature.

In the style of k-diffusion (Karras et al., 2022, "Elucidating the Design
Space of Diffusion-Based Generative Models"): every sampler is
``sampler(velocity, x, ts, *, callback=None) -> x`` where ``velocity(x, t)``
returns ``dx/dt`` at time ``t`` (a float; 1 = noise, 0 = image), ``x`` is the
noise at ``ts[0] == 1`` and ``ts`` is a decreasing grid ending at 0 (see
:func:`time_grid`). ``callback`` is called after every step with a dict
``{"i", "t", "t_next", "x", "v"}``. The model-call count per step is in
:data:`CALLS_PER_STEP` (what a latency table should divide by).

Besides the hand-written ones, diffusers' multistep schedulers run on the same
grid through :func:`diffusers_sampler` (``dpmpp-2m``, ``dpmpp-3m``, ``unipc``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
from diffusers import DPMSolverMultistepScheduler, UniPCMultistepScheduler

from genlab.errors import InputError
from genlab.registry import Registry

Velocity = Callable[[torch.Tensor, float], torch.Tensor]
Callback = Callable[[dict[str, Any]], None] | None
Sampler = Callable[..., torch.Tensor]

SAMPLERS: Registry[Sampler] = Registry("sampler")
CALLS_PER_STEP: dict[str, int] = {}


def initial_noise(seeds: Sequence[int], size: int, channels: int = 3) -> torch.Tensor:
    """Initial noise ``(n, channels, size, size)`` at t = 1: row i from its own seeded
    generator, so it does not depend on what else is in the batch."""
    return torch.stack([torch.randn(channels, size, size,
                                    generator=torch.Generator().manual_seed(int(x)))
                        for x in seeds])


def time_grid(steps: int) -> list[float]:
    """``steps + 1`` uniformly spaced times from 1 (noise) to 0 (image)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise InputError(f"sampling steps must be an int >= 1, got {steps!r}")
    return [1.0 - i / steps for i in range(steps + 1)]


def _report(callback: Callback, i: int, t: float, t_next: float, x: torch.Tensor,
            v: torch.Tensor) -> None:
    if callback is not None:
        callback({"i": i, "t": t, "t_next": t_next, "x": x, "v": v})


def euler(velocity: Velocity, x: torch.Tensor, ts: list[float], *,
          callback: Callback = None) -> torch.Tensor:
    """Explicit Euler: first order, one model call per step."""
    for i in range(len(ts) - 1):
        t, t_next = ts[i], ts[i + 1]
        v = velocity(x, t)
        x = x + (t_next - t) * v
        _report(callback, i, t, t_next, x, v)
    return x


def heun(velocity: Velocity, x: torch.Tensor, ts: list[float], *,
         callback: Callback = None) -> torch.Tensor:
    """Heun's method (Karras et al., 2022, Alg. 1): second order, two calls per step.

    Unlike k-diffusion's sigma parameterisation, a flow's velocity is defined at
    t = 0, so the last step is corrected too."""
    for i in range(len(ts) - 1):
        t, t_next = ts[i], ts[i + 1]
        v = velocity(x, t)
        x_pred = x + (t_next - t) * v
        v_next = velocity(x_pred, t_next)
        v = 0.5 * (v + v_next)
        x = x + (t_next - t) * v
        _report(callback, i, t, t_next, x, v)
    return x


def midpoint(velocity: Velocity, x: torch.Tensor, ts: list[float], *,
             callback: Callback = None) -> torch.Tensor:
    """Explicit midpoint (second-order Runge-Kutta): two calls per step."""
    for i in range(len(ts) - 1):
        t, t_next = ts[i], ts[i + 1]
        h = t_next - t
        v_half = velocity(x + 0.5 * h * velocity(x, t), t + 0.5 * h)
        x = x + h * v_half
        _report(callback, i, t, t_next, x, v_half)
    return x


def ab2(velocity: Velocity, x: torch.Tensor, ts: list[float], *,
        callback: Callback = None) -> torch.Tensor:
    """Two-step Adams-Bashforth: second order at one call per step.

    The multistep idea of DPM-Solver++(2M) (Lu et al., 2022): reuse the previous
    step's velocity instead of a second model call. The first step is Euler;
    variable step sizes use the general AB2 weights."""
    v_prev: torch.Tensor | None = None
    h_prev = 0.0
    for i in range(len(ts) - 1):
        t, t_next = ts[i], ts[i + 1]
        h = t_next - t
        v = velocity(x, t)
        if v_prev is None:
            step = v
        else:
            r = h / h_prev
            step = (1 + 0.5 * r) * v - 0.5 * r * v_prev
        x = x + h * step
        _report(callback, i, t, t_next, x, v)
        v_prev, h_prev = v, h
    return x


def diffusers_sampler(make_scheduler: Callable[[], Any]) -> Sampler:
    """A sampler that steps one of diffusers' multistep schedulers on this module's grid.

    ``make_scheduler()`` returns a fresh scheduler configured for rectified flow
    (``prediction_type="flow_prediction"``, ``use_flow_sigmas=True``: ``x_t = (1 - t)
    x0 + t eps`` with ``alpha_t = 1 - t``, ``sigma_t = t``, the convention here). Its
    own grid starts at t = 0.999; it is replaced by ``ts`` (which starts at exactly 1,
    where every other sampler here starts), so that a step count means the same
    times for every sampler. The scheduler's update at t = 1 (alpha = 0, its
    log-SNR -inf) is its first-order data-prediction step, which is finite."""

    def fn(velocity: Velocity, x: torch.Tensor, ts: list[float], *,
           callback: Callback = None) -> torch.Tensor:
        steps = len(ts) - 1
        scheduler = make_scheduler()
        with warnings.catch_warnings():  # diffusers' own numpy-2 deprecation, not ours
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="diffusers")
            scheduler.set_timesteps(steps)
        scheduler.sigmas = torch.tensor(ts, dtype=torch.float32)
        scheduler.set_begin_index(0)  # step by position, not by looking timesteps up
        for i in range(steps):
            v = velocity(x, ts[i])
            x = scheduler.step(v, scheduler.timesteps[i], x).prev_sample
            _report(callback, i, ts[i], ts[i + 1], x, v)
        return x

    return fn


def _dpmpp(order: int) -> Sampler:
    """DPM-Solver++(``order``M) (Lu et al., 2022, "DPM-Solver++: Fast Solver for Guided
    Sampling of Diffusion Probabilistic Models"), diffusers' implementation."""
    return diffusers_sampler(lambda: DPMSolverMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, solver_order=order,
        algorithm_type="dpmsolver++"))


def _unipc() -> Sampler:
    """UniPC-2M with the bh2 update (Zhao et al., 2023, "UniPC: A Unified
    Predictor-Corrector Framework for Fast Sampling of Diffusion Models"), diffusers'
    implementation; its corrector reuses the next step's model call."""
    return diffusers_sampler(lambda: UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, solver_order=2,
        solver_type="bh2"))


for _name, _fn, _calls in (("euler", euler, 1), ("heun", heun, 2),
                           ("midpoint", midpoint, 2), ("ab2", ab2, 1)):
    SAMPLERS.register(_name, lambda fn=_fn: fn)
    CALLS_PER_STEP[_name] = _calls
for _name, _make in (("dpmpp-2m", lambda: _dpmpp(2)), ("dpmpp-3m", lambda: _dpmpp(3)),
                     ("unipc", _unipc)):
    SAMPLERS.register(_name, _make)
    CALLS_PER_STEP[_name] = 1


def get_sampler(name: str) -> Sampler:
    """The sampler called ``name``; a typo raises UnknownNameError with close matches."""
    return SAMPLERS.get(name)


def sample(name: str, velocity: Velocity, x: torch.Tensor, steps: int, *,
           callback: Callback = None) -> torch.Tensor:
    """Integrate from noise ``x`` at t=1 to an image at t=0 in ``steps`` steps of ``name``."""
    fn = get_sampler(name)
    return fn(velocity, x, time_grid(steps), callback=callback)
