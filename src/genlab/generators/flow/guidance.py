"""Classifier-free guidance (Ho & Salimans, 2022): how the branches' velocities combine.

Plain guidance is ``v_u + w (v_c - v_u)``; composable guidance (Liu et al., 2022;
:mod:`.composition`) sums one weighted term per object group. A guidance interval
(Kynkaanniemi et al., 2024, "Applying Guidance in a Limited Interval Improves Sample
and Distribution Quality in Diffusion Models") applies ``w`` only at flow times
``lo <= t <= hi``; elsewhere the weight is 1, the conditional branch alone.
"""

from __future__ import annotations

import torch

from genlab.errors import InputError

FULL_INTERVAL = (0.0, 1.0)  # guidance at every step


def check_guidance_interval(value: object) -> tuple[float, float]:
    """``(lo, hi)`` with ``0 <= lo <= hi <= 1``, as floats; anything else an InputError."""
    try:
        lo, hi = (float(v) for v in value)  # type: ignore[attr-defined]
        ok = not isinstance(value, (str, bytes)) and 0.0 <= lo <= hi <= 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"guidance_interval must be two times (lo, hi) with 0 <= lo <= hi "
                         f"<= 1, got {value!r}")
    return lo, hi


def scale_at(w: float, interval: tuple[float, float], t: float) -> float:
    """The guidance scale at flow time ``t``: ``w`` inside ``interval``, else 1."""
    lo, hi = interval
    return w if lo <= t <= hi else 1.0


def combine(v: torch.Tensor, w: float,
            rows: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """The guided velocity from one backbone call over ``[conditional rows;
    unconditional rows]``: ``v_u + w (v_c - v_u)``, or with ``rows`` (composable
    guidance: each conditional row's image index and weight) ``v_u + sum_i w_i (v_i -
    v_u)`` per image."""
    if rows is None:
        v_c, v_u = v.chunk(2)
        return v_u + w * (v_c - v_u)
    img, weights = rows
    v_c, v_u = v[:len(img)], v[len(img):]
    delta = weights[:, None, None, None] * (v_c - v_u[img])
    return v_u + torch.zeros_like(v_u).index_add_(0, img, delta)
