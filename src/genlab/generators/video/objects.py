"""``video-objects``: perceive the bodies, move them by a learned simulator, render them.

The object-centric world model: the state is a list of bodies (position, velocity,
size, shape, colour), not pixels, so a body can neither fade nor change colour or
shape; only where it goes is learned. Perception is
:func:`~genlab.generators.video.perceive.perceive` (as in ``video-physics``); the
renderer is the ``shapes`` world's; the dynamics is the interaction network of
:mod:`.dynamics`.

Trained here on one-frame transitions of the ``train`` split's exact states, with
noise on the inputs (GNS's remedy for the drift of a one-step model), the
transitions where a wall, the floor or another body changed a velocity drawn for
half of every batch, and off-path copies of near-contact states continued by the
simulator (:func:`_recoveries`).

Where ``video-physics`` uses the world's own simulator, this one learns it; the gap
between the two on the ``longvideo`` track is what learning the dynamics costs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.contracts import VideoRequest
from genlab.errors import InputError
from genlab.generators.video import cached
from genlab.generators.video.controls import FrozenRollout, saved_state
from genlab.generators.video.dynamics import (
    VELOCITY_SCALE,
    Dynamics,
    ObjectsConfig,
    learned_trajectory,
)
from genlab.generators.video.perceive import VERSION as perceive_version
from genlab.generators.video.perceive import perceive
from genlab.progress import bars
from genlab.worlds.motion import splits
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.grammar import MAX_BODIES
from genlab.worlds.motion.physics import SIM_HZ, State, Trajectory, advance, simulate
from genlab.worlds.motion.spec import MotionScene

EVENT = 1e-3           # a transition whose velocity changes by more than this bounced


# ------------------------------------------------------------------ data and training


@dataclass(frozen=True)
class Transitions:
    """One-frame transitions of a split's exact states (``train`` to learn from), padded to
    :data:`MAX_BODIES` bodies: ``pos``, ``vel``, ``next_pos``, ``next_vel``
    ``(T, N, 2)``, ``radius``, ``mask`` ``(T, N)``, ``gravity`` ``(T,)``, ``event``
    ``(T,) bool`` (a velocity changed beyond free flight)."""

    pos: np.ndarray
    vel: np.ndarray
    next_pos: np.ndarray
    next_vel: np.ndarray
    radius: np.ndarray
    mask: np.ndarray
    gravity: np.ndarray
    event: np.ndarray

    @classmethod
    def of(cls, config: ObjectsConfig, advance: Any = None, split: str = "train"
           ) -> Transitions:
        """The transitions ``config`` trains on (``split`` other than ``train``: held-out
        ones to check a model with)."""
        parts: dict[str, list[np.ndarray]] = {f.name: [] for f in dataclasses.fields(cls)}
        rng = np.random.default_rng(config.seed)
        for scenario in splits.SCENARIOS:
            for item in splits.sample(scenario, split, config.scenes_per_scenario,
                                      seed=config.seed):
                traj = simulate(item.scene, config.scene_frames * config.substeps,
                                config.rate)
                _add(parts, item.scene, traj.pos[:-1], traj.vel[:-1], traj.pos[1:],
                     traj.vel[1:], config)
                if config.recover:
                    pos, vel, next_pos, next_vel = _recoveries(item.scene, traj, config, rng)
                    _add(parts, item.scene, pos, vel, next_pos, next_vel, config)
                if advance is not None:
                    advance()
        return cls(**{k: np.concatenate(v) for k, v in parts.items()})

    def batch(self, rng: np.random.Generator, size: int, event_share: float
              ) -> list[torch.Tensor]:
        events = np.flatnonzero(self.event)
        n_event = int(round(size * event_share)) if len(events) else 0
        idx = np.concatenate([rng.integers(0, len(self.event), size - n_event),
                              rng.choice(events, n_event) if n_event else np.zeros(0, int)])
        return [torch.from_numpy(np.asarray(getattr(self, f.name)[idx]))
                for f in dataclasses.fields(self)]


def _add(parts: dict[str, list[np.ndarray]], scene: MotionScene, pos: np.ndarray,
         vel: np.ndarray, next_pos: np.ndarray, next_vel: np.ndarray,
         config: ObjectsConfig) -> None:
    """Append transitions ``(t, n, 2)`` of ``scene``'s ``n`` bodies, padded."""
    t, n = pos.shape[:2]
    pad = ((0, 0), (0, MAX_BODIES - n), (0, 0))
    for name, value in (("pos", pos), ("vel", vel), ("next_pos", next_pos),
                        ("next_vel", next_vel)):
        parts[name].append(np.pad(value, pad))
    g = scene.physics.gravity
    radius = np.pad([b.radius for b in scene.bodies], (0, MAX_BODIES - n))
    parts["radius"].append(np.repeat(radius[None], t, 0))
    parts["mask"].append(np.repeat((np.arange(MAX_BODIES) < n)[None], t, 0))
    parts["gravity"].append(np.full(t, g))
    jump = np.abs(next_vel - vel - np.array([0.0, g / config.rate])).max(axis=(1, 2))
    parts["event"].append(jump > EVENT)   # real bodies only: padding never falls


def _recoveries(scene: MotionScene, traj: Trajectory, config: ObjectsConfig,
                rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Off-path transitions for the frames where a body is within reach of a wall or
    another body: ``recover`` copies of the state with noise of ``recover_noise /
    substeps`` on positions (and ``recover_noise * fps`` on velocities), continued one step
    by the simulator. A learned rollout leaves the simulator's path at its first imprecise
    contact, a body a little inside a wall or another body, states the clean
    trajectories never show; the simulator's answer from them teaches the way back
    (the expert's correction at the learner's states: DAgger, Ross et al., 2011)."""
    r = np.array([b.radius for b in scene.bodies])
    x, y = traj.pos[:-1, :, 0], traj.pos[:-1, :, 1]
    clear = np.minimum(np.minimum(x - r, 1 - r - x), 1 - r - y)
    near = (clear < config.reach).any(axis=1)
    if len(r) > 1:
        d = np.linalg.norm(traj.pos[:-1, :, None] - traj.pos[:-1, None], axis=-1)
        gap = d - r[:, None] - r[None, :] + np.eye(len(r)) * 9
        near |= (gap < config.reach).any(axis=(1, 2))
    frames = np.repeat(np.flatnonzero(near), config.recover)
    per = SIM_HZ // config.rate
    pos = traj.pos[frames] + rng.normal(0, config.recover_noise / config.substeps,
                                        (len(frames), len(r), 2))
    vel = traj.vel[frames] + rng.normal(0, config.recover_noise * config.fps,
                                        (len(frames), len(r), 2))
    nxt = [advance(scene, State(0, p, v), per) for p, v in zip(pos, vel, strict=True)]
    next_pos = np.array([s.pos for s in nxt]).reshape(pos.shape)
    next_vel = np.array([s.vel for s in nxt]).reshape(vel.shape)
    return pos, vel, next_pos, next_vel


def _loss(net: Dynamics, batch: list[torch.Tensor], rng: torch.Generator) -> torch.Tensor:
    pos, vel, next_pos, next_vel, radius, mask, gravity, _ = batch
    cfg = net.config
    pos = pos.float() + torch.randn(pos.shape, generator=rng) * cfg.noise / cfg.substeps
    vel = vel.float() + torch.randn(vel.shape, generator=rng) * cfg.noise * cfg.fps
    got_pos, got_vel = net(pos, vel, radius.float(), mask, gravity.float())
    keep = mask[..., None].float()
    scale = VELOCITY_SCALE / cfg.rate  # a velocity error's displacement over one step
    err = ((got_pos - next_pos.float()) / scale) ** 2 + ((got_vel - next_vel.float())
                                                        / VELOCITY_SCALE) ** 2
    return (err * keep).sum() / keep.sum().clamp_min(1.0)


def train(config: ObjectsConfig, folder: Path, progress: bool = True) -> None:
    """Train ``config`` and save it into ``folder/model`` (atomically)."""
    torch.manual_seed(config.seed)
    t0 = time.perf_counter()
    with bars(progress) as task:
        data = Transitions.of(config, task("simulating train scenes (video-objects)",
                                           3 * config.scenes_per_scenario))
        net = Dynamics(config).train()
        rng = np.random.default_rng(config.seed)
        noise = torch.Generator().manual_seed(config.seed)
        final = cached.fit(
            net, lambda: _loss(net, data.batch(rng, config.batch_size, config.event_share),
                               noise),
            config.train_steps, config.lr,
            task("training video-objects (interaction network)", config.train_steps))
    cached.save(folder, net.eval(), config, {
        "train_seconds": time.perf_counter() - t0, "final_loss": final,
        "transitions": len(data.event), "event_share_data": float(data.event.mean())})


def ensure_trained(config: ObjectsConfig, cache_dir: Path, progress: bool = True) -> Path:
    """``cache_dir/video-objects-<key>``, trained first if missing (file-locked)."""
    return cached.ensure_trained("video-objects", config, cache_dir,
                                 lambda folder: train(config, folder, progress=progress))


def load(folder: Path) -> tuple[Dynamics, dict[str, Any]]:
    return cached.load(folder, "video-objects", ObjectsConfig, Dynamics)


class _ObjectsRollout:
    """The bodies' state, stepped by the network and drawn by the ``shapes`` renderer."""

    def __init__(self, net: Dynamics, scene: MotionScene, state: State, size: int) -> None:
        self.net, self.scene, self.size, self._state = net, scene, size, state

    def next(self, n: int) -> np.ndarray:
        traj = learned_trajectory(self.net, self.scene, self._state, n)
        self._state = traj.end
        return render_frames(traj, self.size)

    def state(self) -> dict[str, np.ndarray]:
        return {"step": np.array(self._state.step), "pos": self._state.pos.copy(),
                "vel": self._state.vel.copy()}


class VideoObjectsGenerator:
    """``video-objects``: see the module docstring. Deterministic: the seed is unused."""

    name = "video-objects"
    privileged = False
    version = "1"

    def __init__(self, folder: Path, *, refine: bool = True) -> None:
        self.net, self.meta = load(folder)
        self.config = self.net.config
        self.refine = refine

    def start(self, request: VideoRequest, resume: Mapping[str, np.ndarray] | None = None
              ) -> _ObjectsRollout | FrozenRollout:
        if request.fps != self.config.fps:
            raise InputError(f"'video-objects' steps at {self.config.fps} fps; the request "
                             f"has {request.fps}")
        seen = perceive(request, refine=self.refine)
        if seen.scene is None:
            return FrozenRollout(request.context[-1].copy())
        # from the perceived start, the model's own steps through the context
        state = learned_trajectory(self.net, seen.scene, State.initial(seen.scene),
                                   len(request.context)).end if resume is None \
            else saved_state(resume, seen.found)
        return _ObjectsRollout(self.net, seen.scene, state, request.size)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "config_key": self.config.key(),
                "config": dataclasses.asdict(self.config),
                "train_seconds": self.meta.get("train_seconds"),
                "final_loss": self.meta.get("final_loss"), "refine": self.refine,
                "perception": perceive_version}


def load_objects_generator(*, profile: str = "default", cache_dir: Path | None = None,
                           progress: bool = True) -> VideoObjectsGenerator:
    """``video-objects`` at ``profile`` (``smoke`` or ``default``), trained on first use
    (the smoke profile skips perception's render-and-compare)."""
    from genlab import paths

    configs = {"smoke": ObjectsConfig.smoke, "default": ObjectsConfig}
    if profile not in configs:
        raise InputError(f"unknown profile {profile!r}; accepted: {', '.join(configs)}")
    folder = ensure_trained(configs[profile](), Path(cache_dir or paths.models_dir()),
                            progress=progress)
    return VideoObjectsGenerator(folder, refine=profile != "smoke")
