"""ODE samplers for rectified flow, as stateless functions with one signature.

In the style of k-diffusion (Karras et al., 2022, "Elucidating the Design
Space of Diffusion-Based Generative Models"): every sampler is
``sampler(velocity, x, ts, *, callback=None) -> x`` where ``velocity(x, t)``
returns ``dx/dt`` at time ``t`` (a float; 1 = noise, 0 = image), ``x`` is the
noise at ``ts[0] == 1`` and ``ts`` is a decreasing grid ending at 0 (see
:func:`time_grid`). ``callback`` is called after every step with a dict
``{"i", "t", "t_next", "x", "v"}``. The model-call count per step is in
:data:`CALLS_PER_STEP` (what a latency table should divide by).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from genlab.errors import InputError
from genlab.registry import Registry

Velocity = Callable[[torch.Tensor, float], torch.Tensor]
Callback = Callable[[dict[str, Any]], None] | None
Sampler = Callable[..., torch.Tensor]

SAMPLERS: Registry[Sampler] = Registry("sampler")
CALLS_PER_STEP: dict[str, int] = {}


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


for _name, _fn, _calls in (("euler", euler, 1), ("heun", heun, 2),
                           ("midpoint", midpoint, 2), ("ab2", ab2, 1)):
    SAMPLERS.register(_name, lambda fn=_fn: fn)
    CALLS_PER_STEP[_name] = _calls


def get_sampler(name: str) -> Sampler:
    """The sampler called ``name``; a typo raises UnknownNameError with close matches."""
    return SAMPLERS.get(name)


def sample(name: str, velocity: Velocity, x: torch.Tensor, steps: int, *,
           callback: Callback = None) -> torch.Tensor:
    """Integrate from noise ``x`` at t=1 to an image at t=0 in ``steps`` steps of ``name``."""
    fn = get_sampler(name)
    return fn(velocity, x, time_grid(steps), callback=callback)
