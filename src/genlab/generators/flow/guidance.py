"""Classifier-free guidance (Ho & Salimans, 2022): how the branches' velocities combine.

Plain guidance is ``v_u + w (v_c - v_u)``; composable guidance (Liu et al., 2022;
:mod:`.composition`) sums one weighted term per object group. A guidance interval
(Kynkaanniemi et al., 2024, "Applying Guidance in a Limited Interval Improves Sample
and Distribution Quality in Diffusion Models") applies ``w`` only at flow times
``lo <= t <= hi``; elsewhere the weight is 1, the conditional branch alone.

A guidance *rule* (:class:`GuidanceRule`) changes how the two branches combine, in terms
of the clean-image predictions ``D = x - t v`` (rectified flow: ``x_t = (1 - t) x_0 + t
eps``, ``v = eps - x_0``):

- ``cfg``: plain guidance, ``D_u + w (D_c - D_u)``.
- ``apg``: adaptive projected guidance (Sadat, Hilliges & Weber, 2025, "Eliminating
  Oversaturation and Artifacts of High Guidance Scales in Diffusion Models"): the
  difference ``D_c - D_u``, its norm capped at ``r`` (0: no cap), is split into its part
  parallel to ``D_c`` and the rest; ``D_c + (w - 1) (orthogonal + eta parallel)``. The
  parallel part scales the conditional prediction as a whole (what oversaturates, or,
  pushed negative, fades the drawing away); ``eta = 1`` and no cap is ``cfg``.
  (Without the paper's momentum term.)
- ``rescale``: the guided prediction's standard deviation matched to the conditional
  one's, mixed in by ``phi`` (Lin et al., 2024, "Common Diffusion Noise Schedules and
  Sample Steps are Flawed", section 3.4); ``phi = 0`` is ``cfg``.

On the default model (docs/results.md, session 21) CFG-rescale removes most of the empty
canvases plain guidance draws for never-seen compositions and costs counting and the
two-object categories; APG changes little. The default stays ``cfg``.
"""

from __future__ import annotations

import dataclasses
import math

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


RULES = {"cfg": (), "apg": ("eta", "r"), "rescale": ("phi",)}
"""Guidance rules and the parameters each accepts."""


@dataclasses.dataclass(frozen=True)
class GuidanceRule:
    """How the guided prediction is made from the two branches (module docstring)."""

    name: str = "cfg"
    eta: float = 0.0
    """``apg``: weight of the difference's part parallel to the conditional prediction."""
    r: float = 0.0
    """``apg``: the cap on the norm of ``D_c - D_u`` per image; 0: no cap."""
    phi: float = 0.7
    """``rescale``: how much of the rescaled prediction (Lin et al.'s 0.7)."""

    def spec(self) -> str:
        """The rule as :func:`parse_rule` reads it: ``apg:eta=0,r=0``."""
        params = ",".join(f"{k}={getattr(self, k):g}" for k in RULES[self.name])
        return self.name + (f":{params}" if params else "")


CFG = GuidanceRule()


def parse_rule(value: object) -> GuidanceRule:
    """A :class:`GuidanceRule`, or its spec ``name[:key=value,...]`` (``apg``,
    ``apg:eta=0.5,r=4``, ``rescale:phi=0.7``); anything else an InputError naming what
    is accepted."""
    if isinstance(value, GuidanceRule):
        if value.name not in RULES:
            value = value.name  # refused below, by name
        else:  # validated through its spec; parameters the rule has no use for go back
            parse_rule(value.spec())  # to their defaults, so one rule has one value
            return GuidanceRule(value.name, **{k: getattr(value, k) for k in RULES[value.name]})
    accepted = "; ".join(f"{n}" + (f" ({', '.join(p)})" if p else "")
                         for n, p in RULES.items())
    if not isinstance(value, str):
        raise InputError(f"guidance_rule must be a rule name with optional parameters, "
                         f"like 'apg:eta=0.5,r=4', got {value!r}; accepted: {accepted}")
    name, _, rest = value.strip().partition(":")
    if name not in RULES:
        raise InputError(f"unknown guidance rule {name!r} in {value!r}; accepted: {accepted}")
    params: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, num = item.partition("=")
        try:
            number = float(num) if eq else float("nan")
        except ValueError:
            number = float("nan")
        if key.strip() not in RULES[name] or not 0.0 <= number < math.inf:
            raise InputError(f"bad guidance rule parameter {item!r} in {value!r}: "
                             f"{name} accepts {list(RULES[name]) or 'no parameters'}, each "
                             f"a finite number >= 0")
        params[key.strip()] = number
    return GuidanceRule(name, **params)


def _per_image(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """One value per image, shaped to broadcast over ``like``'s images."""
    return values.view(-1, *([1] * (like.dim() - 1)))


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return _per_image((a * b).flatten(1).sum(1), a)


def apply_rule(v: torch.Tensor, w: float, rule: GuidanceRule, x: torch.Tensor,
               t: float) -> torch.Tensor:
    """The guided velocity at ``(x, t)`` from one backbone call over ``[conditional
    rows; unconditional rows]`` under ``rule`` (module docstring); ``cfg`` is
    :func:`combine`."""
    guided = combine(v, w)
    if rule.name == "cfg":
        return guided
    v_c, v_u = v.chunk(2)
    if rule.name == "apg":
        # In v: D_c - D_u = -t (v_c - v_u), and D_c + (w - 1) u = x - t (v_c - (w - 1) u / t),
        # so the update is the projected velocity difference, with no division by t.
        diff = v_c - v_u
        if rule.r > 0:
            norm = t * _dot(diff, diff).sqrt()
            diff = diff * torch.clamp(rule.r / norm.clamp_min(1e-12), max=1.0)
        d_c = x - t * v_c
        parallel = _dot(diff, d_c) / _dot(d_c, d_c).clamp_min(1e-12) * d_c
        return v_c + (w - 1.0) * (diff - parallel + rule.eta * parallel)
    if t < 1e-6:  # D = x - t v carries no velocity at t = 0
        return guided
    d_c, d_g = x - t * v_c, x - t * guided
    ratio = d_c.flatten(1).std(1) / d_g.flatten(1).std(1).clamp_min(1e-12)
    scale = _per_image(rule.phi * ratio + 1.0 - rule.phi, x)
    return (x - d_g * scale) / t
