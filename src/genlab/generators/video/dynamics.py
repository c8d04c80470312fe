"""The learned simulator of ``video-objects``: its config, its network, and its rollout.

An interaction network (Battaglia et al., 2016, "Interaction Networks for Learning
about Objects, Relations and Physics") in the recipe of Sanchez-Gonzalez et al. (2020,
"Learning to Simulate Complex Physics with Graph Networks"): per body and wall within
reach, a wall network sees the gap, the velocity toward and along the wall, gravity and
the body's size; per pair within reach, a pair network sees their gap, closing and
sliding speeds, sizes and mass share; each answers in its contact's frame, and their
sum corrects a free-flight step (velocity and position at the next step), gated to
zero unless the contact falls within the step, so a body in free flight moves exactly
as the integrator moves it (a known integrator plus a learned residual: Ajay et al.,
2018, "Augmenting Physical Simulators with Stochastic Neural Networks"; Zeng et al.,
2020, TossingBot's residual physics). :mod:`.objects` trains it and wraps it as a
video generator.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from genlab.errors import InputError, check_int
from genlab.worlds.motion.grammar import GRAVITY
from genlab.worlds.motion.physics import SIM_HZ, State, Trajectory
from genlab.worlds.motion.spec import MotionScene

FORMAT_VERSION = 6
VELOCITY_SCALE = 1.0   # image fractions per second: inputs and outputs are O(1)
ADDED_FIELDS: dict[str, Any] = {"substeps": 1, "heads": "mlp", "chain": False}


@dataclass(frozen=True)
class ObjectsConfig:
    """Everything that determines a trained ``video-objects`` dynamics model.

    Attributes:
        fps: the frame rate it continues videos at (only this one).
        substeps: network steps per frame (the network learns one step of
            ``1 / (fps * substeps)`` s; ``fps * substeps`` must divide the simulator's
            rate). More steps split contacts that chain within a frame (a body bounced
            off the floor into another) into steps that each hold one.
        width: hidden units of the wall and the pair networks (two layers each).
        reach: how near (image fractions) a wall or another body must be to be seen.
        noise: standard deviation of the noise on input positions over a frame (image
            fractions; ``noise / substeps`` a step; velocities get ``noise * fps``).
        event_share: share of each batch drawn from transitions with a bounce or a
            collision.
        recover, recover_noise: off-path copies of each near-contact transition, and
            the noise that takes them off the path (image fractions): see
            :func:`_recoveries`.
        train_steps, batch_size, lr: AdamW steps, transitions per step, peak learning
            rate (cosine to 10%).
        scenes_per_scenario, scene_frames, seed: the ``train``-split trajectories.
        heads: how a contact network answers: ``"mlp"``, its outputs are the corrections;
            ``"linear"``, its outputs are the coefficients of corrections linear in the
            contact's own kinematics (see :class:`Dynamics`).
        chain: the pair network sees the bodies' velocities after the walls' and the
            floor's corrections of the same step, so a contact that follows a bounce
            within the step (a body off the floor into another) is one it can see.
        The three options stay off: measured in docs/results.md (session 19), none
        moves the track (``substeps`` lets bodies through walls over 10 minutes,
        ``chain`` learns worse).
    """

    fps: int = 30
    substeps: int = 1
    width: int = 128
    reach: float = 0.1
    noise: float = 3e-4
    event_share: float = 0.5
    recover: int = 1
    recover_noise: float = 0.003
    train_steps: int = 16000
    batch_size: int = 256
    lr: float = 2e-3
    scenes_per_scenario: int = 200
    scene_frames: int = 300
    seed: int = 0
    heads: str = "mlp"
    chain: bool = False

    def __post_init__(self) -> None:
        for f in ("fps", "substeps", "width", "train_steps", "batch_size",
                  "scenes_per_scenario", "scene_frames", "seed", "recover"):
            check_int(f, getattr(self, f), 0 if f in ("seed", "recover") else 1)
        if not isinstance(self.chain, bool):
            raise InputError(f"chain {self.chain!r}: accepted True or False")
        if self.heads not in HEADS:
            raise InputError(f"heads {self.heads!r}: accepted {', '.join(HEADS)}")
        if SIM_HZ % self.rate:
            raise InputError(f"fps {self.fps} x substeps {self.substeps} = {self.rate} must "
                             f"divide the simulator's {SIM_HZ} Hz")
        for name, low, high in (("reach", 0.0, 1.0), ("noise", -1e-12, 0.1),
                                ("recover_noise", -1e-12, 0.1),
                                ("event_share", -1e-12, 1.0), ("lr", 0.0, 1.0)):
            value = getattr(self, name)
            if not low < value <= high:
                raise InputError(f"{name} {value!r} must be in ({max(low, 0)}, {high}]")

    @classmethod
    def smoke(cls) -> ObjectsConfig:
        return cls(width=8, train_steps=4, batch_size=16, scenes_per_scenario=2,
                   scene_frames=24)

    @property
    def rate(self) -> int:
        """Network steps per second."""
        return self.fps * self.substeps

    def key(self) -> str:
        """A short hash of every field; a field added later counts only away from its
        default (:data:`ADDED_FIELDS`), so models trained before it keep their key."""
        fields = {k: v for k, v in dataclasses.asdict(self).items()
                  if k not in ADDED_FIELDS or v != ADDED_FIELDS[k]}
        text = json.dumps({"format": FORMAT_VERSION, **fields}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# ------------------------------------------------------------------ the network


def _mlp(n_in: int, width: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
                         nn.Linear(width, n_out))


WALL_IN, PAIR_IN = 7, 8
HEADS: tuple[str, ...] = ("mlp", "linear")
BASIS = 5
"""Terms of a linear head: the contact's normal and tangential velocities, its travel
and its gap over a step (as velocities), and a constant."""
_WALLS = torch.tensor([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
"""Unit vectors from a body toward the left wall, the right wall and the floor."""


def _reach(travel: torch.Tensor, clearance: torch.Tensor) -> torch.Tensor:
    """``travel / clearance`` clipped to [0, 2]: the share of the free gap a body closes
    in one frame (a contact happens within the frame where it exceeds 1)."""
    return (travel.clamp_min(0) / clearance.clamp_min(1e-4)).clamp(0.0, 2.0)


def _contact(reach: torch.Tensor) -> torch.Tensor:
    """The gate of a contact network: 0 while this frame's free flight closes under 3/4
    of the gap (free flight is then exact), 1 from a closing that meets it (the contact
    falls within the frame, or the two already touch)."""
    return ((reach - 0.75) * 4).clamp(0.0, 1.0)


def _perp(u: torch.Tensor) -> torch.Tensor:
    return torch.stack([-u[..., 1], u[..., 0]], -1)


class Dynamics(nn.Module):
    """One frame: bodies ``(B, N, ...)`` with a mask -> next positions and velocities.

    Every contact is seen in its own frame (the normal toward the wall or the other
    body, and its perpendicular) and answers in it, so one wall network serves all
    three walls and the pair network every orientation: the mirror and rotation
    symmetries of elastic contact are built in rather than learned."""

    def __init__(self, config: ObjectsConfig) -> None:
        super().__init__()
        self.config = config
        n_out = 4 * (BASIS if config.heads == "linear" else 1)
        self.wall = _mlp(WALL_IN, config.width, n_out)
        self.pair = _mlp(PAIR_IN, config.width, n_out)

    def _answer(self, net: nn.Module, features: torch.Tensor, basis: torch.Tensor
                ) -> torch.Tensor:
        """A contact network's four corrections (velocity and shift, normal and
        tangent): its outputs, or with linear heads its outputs as coefficients of
        ``basis`` (``(..., BASIS)``): an elastic bounce is then a constant answer
        (reverse the normal velocity: coefficient -2 on it) rather than a product to
        approximate. Measured (``bench/bench_dynamics.py``, docs/results.md, session
        19): single contacts ~2x more precise, rollouts on the track unchanged."""
        out = net(features)
        if self.config.heads == "mlp":
            return out
        coef = out.unflatten(-1, (4, BASIS))
        return (coef * basis[..., None, :]).sum(-1)

    def forward(self, pos: torch.Tensor, vel: torch.Tensor, radius: torch.Tensor,
                mask: torch.Tensor, gravity: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``pos``, ``vel`` ``(B, N, 2)``, ``radius``, ``mask`` ``(B, N)``, ``gravity``
        ``(B,)`` (image fractions per s^2) -> next ``pos`` and ``vel``."""
        cfg = self.config
        dt = 1.0 / cfg.rate
        g = torch.stack([torch.zeros_like(gravity), gravity], -1)[:, None, :]   # (B, 1, 2)
        # free flight as the simulator's integrator moves a body over one step (k
        # semi-implicit Euler steps: the velocity gains g dt, the position v dt plus
        # g dt_s^2 k (k + 1) / 2); the networks learn only what walls and bodies change
        k = SIM_HZ // cfg.rate
        free_vel = vel + g * dt
        free_pos = pos + vel * dt + g * (k * (k + 1) / 2) / SIM_HZ ** 2

        def gap(d: torch.Tensor) -> torch.Tensor:
            return d.clamp(-cfg.reach, cfg.reach) / cfg.reach

        # walls: (B, N, 3) per body and wall, in the wall's (normal, tangent) frame
        normal = _WALLS.to(pos)                                              # (3, 2)
        tangent = _perp(normal)
        x, y = pos[..., 0], pos[..., 1]
        clear = torch.stack([x - radius, 1 - radius - x, 1 - radius - y], -1)
        v_n, v_t = vel @ normal.T, vel @ tangent.T
        travel = (free_pos - pos) @ normal.T
        g_n = (g @ normal.T).expand_as(v_n)
        wall_reach = _reach(travel, clear)
        wall_in = torch.stack([gap(clear), v_n / VELOCITY_SCALE, v_t / VELOCITY_SCALE,
                               wall_reach, (radius * 10)[..., None].expand_as(v_n),
                               g_n / GRAVITY, travel / (VELOCITY_SCALE * dt)], -1)
        wall_basis = torch.stack([v_n, v_t, travel / dt, clear / dt, torch.ones_like(v_n)],
                                 -1) / VELOCITY_SCALE
        wall_out = self._answer(self.wall, wall_in, wall_basis) \
            * _contact(wall_reach)[..., None]
        out = (wall_out[..., :1] * normal + wall_out[..., 1:2] * tangent).sum(-2)
        shift = (wall_out[..., 2:3] * normal + wall_out[..., 3:] * tangent).sum(-2)
        # pairs within reach, in the frame of the line from i to j
        delta = pos[:, None, :, :] - pos[:, :, None, :]                 # [b, i, j] = p_j - p_i
        dist = delta.norm(dim=-1).clamp_min(1e-6)
        touch = dist - radius[:, :, None] - radius[:, None, :]
        n = radius.shape[1]
        near = (touch < cfg.reach) & mask[:, :, None] & mask[:, None, :] \
            & ~torch.eye(n, dtype=torch.bool, device=pos.device)[None]
        if near.any():
            b, i, j = near.nonzero(as_tuple=True)
            mass_i, mass_j = radius[b, i] ** 2, radius[b, j] ** 2
            unit = delta[b, i, j] / dist[b, i, j, None]
            perp = _perp(unit)
            # the walls' answer as the pair network's input only: each network learns
            # from its own error (trained through each other, both learned worse)
            seen = vel + out.detach() * VELOCITY_SCALE if cfg.chain else vel
            rel = seen[b, i] - seen[b, j]
            closing, slide = (rel * unit).sum(-1), (rel * perp).sum(-1)
            g_along = (g[b, 0] * unit).sum(-1)   # gravity's pull along the line
            pair_reach = _reach(closing * dt, touch[b, i, j])
            pair_in = torch.stack([gap(touch[b, i, j]), closing / VELOCITY_SCALE,
                                   slide / VELOCITY_SCALE, pair_reach,
                                   radius[b, i] * 10, radius[b, j] * 10,
                                   mass_j / (mass_i + mass_j), g_along / GRAVITY], -1)
            pair_basis = torch.stack([closing, slide, g_along * dt, touch[b, i, j] / dt,
                                      torch.ones_like(closing)], -1) / VELOCITY_SCALE
            pair_out = self._answer(self.pair, pair_in, pair_basis) \
                * _contact(pair_reach)[:, None]
            out = out.index_put((b, i), pair_out[:, :1] * unit + pair_out[:, 1:2] * perp,
                                accumulate=True)
            shift = shift.index_put((b, i), pair_out[:, 2:3] * unit + pair_out[:, 3:] * perp,
                                    accumulate=True)
        next_vel = free_vel + out * VELOCITY_SCALE
        next_pos = free_pos + shift * VELOCITY_SCALE * dt
        keep = mask[..., None]
        return torch.where(keep, next_pos, pos), torch.where(keep, next_vel, vel)


# ------------------------------------------------------------------ rollout


@torch.inference_mode()
def learned_trajectory(net: Dynamics, scene: MotionScene, state: State, frames: int
                       ) -> Trajectory:
    """``frames`` frames of ``scene``'s bodies from ``state``, stepped by ``net`` (the
    learned counterpart of :func:`~genlab.worlds.motion.physics.simulate`)."""
    check_int("frames", frames)
    pos = np.empty((frames, len(scene.bodies), 2))
    vel = np.empty_like(pos)
    radius = torch.tensor([[b.radius for b in scene.bodies]], dtype=torch.float32)
    mask = torch.ones(radius.shape, dtype=torch.bool)
    gravity = torch.tensor([scene.physics.gravity], dtype=torch.float32)
    p = torch.from_numpy(state.pos).float()[None]
    v = torch.from_numpy(state.vel).float()[None]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a handful of bodies: one thread, no hand-offs
    try:
        for k in range(frames):
            pos[k], vel[k] = p[0].numpy(), v[0].numpy()
            for _ in range(net.config.substeps):
                p, v = net(p, v, radius, mask, gravity)
    finally:
        torch.set_num_threads(threads)
    per = SIM_HZ // net.config.fps
    end = State(state.step + frames * per, p[0].double().numpy(), v[0].double().numpy())
    return Trajectory(scene, net.config.fps, state.step // per, pos, vel, end)


