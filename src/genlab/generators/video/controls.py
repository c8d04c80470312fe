"""Control video generators, scored beside every video model so a reader sees the scale.

``video-oracle`` continues the video with the simulator's own rollout (the positive
control: what a perfect world model scores, and a check that the ``tracking`` judge
is exact over minutes); ``frozen-frame`` repeats the last context frame for ever (the
negative control every consistency metric must not reward alone: its identities,
counts and colours never drift, its positions are wrong as soon as anything moves);
``random-motion`` moves the right bodies under the right physics from random
velocities (consistent and physical, but not this video's motion). The two
negatives show why the track reports position error beside consistency. The
pattern follows openproblems-bio's positive/negative controls (Luecken et al., 2024).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from genlab.contracts import VideoRequest
from genlab.errors import CheckpointError, InputError, check_int
from genlab.worlds.motion import grammar
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import State, simulate
from genlab.worlds.motion.spec import MotionScene


def privileged_scene(request: VideoRequest, name: str) -> MotionScene:
    """The exact scene a privileged control reads, or an InputError when the request
    carries none."""
    if not request.scene_json:
        raise InputError(f"video generator {name!r} is a control that reads the exact "
                         "scene (privileged); the request carries none")
    return MotionScene.from_json(request.scene_json)


def saved_state(resume: Mapping[str, np.ndarray], n_bodies: int) -> State:
    """The simulator state a rollout's ``state()`` saved (step, positions, velocities)
    for ``n_bodies`` bodies; anything else is a CheckpointError."""
    try:
        step = int(np.asarray(resume["step"]).reshape(()))
        pos = np.asarray(resume["pos"], np.float64)
        vel = np.asarray(resume["vel"], np.float64)
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"not a simulator rollout state: {exc}") from exc
    if pos.shape != (n_bodies, 2) or vel.shape != (n_bodies, 2):
        raise CheckpointError(f"rollout state of shape {pos.shape} for {n_bodies} bodies")
    return State(step, pos, vel)


class SimulatorRollout:
    """The simulator from a state, rendered at the request's fps and side."""

    def __init__(self, scene: MotionScene, state: State, fps: int, size: int) -> None:
        self.scene, self.fps, self.size, self._state = scene, fps, size, state

    def next(self, n: int) -> np.ndarray:
        check_int("frames", n)
        traj = simulate(self.scene, n, self.fps, start=self._state)
        self._state = traj.end
        return render_frames(traj, self.size)

    def state(self) -> dict[str, np.ndarray]:
        return {"step": np.array(self._state.step), "pos": self._state.pos.copy(),
                "vel": self._state.vel.copy()}


def continue_scene(scene: MotionScene, request: VideoRequest,
                   resume: Mapping[str, np.ndarray] | None) -> SimulatorRollout:
    """The simulator's rollout of ``scene`` from the end of ``request``'s context, or from
    the state a rollout of it saved (``resume``)."""
    state = simulate(scene, len(request.context), request.fps).end if resume is None \
        else saved_state(resume, len(scene.bodies))
    return SimulatorRollout(scene, state, request.fps, request.size)


class SimulatorVideo:
    """Positive control: the simulator continues the scene from the context's end."""

    name = "video-oracle"
    privileged = True

    def start(self, request: VideoRequest,
              resume: Mapping[str, np.ndarray] | None = None) -> SimulatorRollout:
        return continue_scene(privileged_scene(request, self.name), request, resume)


class RandomMotionVideo:
    """Negative control: the scene's bodies at the context's end, with velocities drawn
    afresh (same speeds, random directions; resting bodies get a speed from the
    grammar's range), moved by the scene's own physics."""

    name = "random-motion"
    privileged = True

    def start(self, request: VideoRequest,
              resume: Mapping[str, np.ndarray] | None = None) -> SimulatorRollout:
        scene = privileged_scene(request, self.name)
        if resume is not None:
            return SimulatorRollout(scene, saved_state(resume, len(scene.bodies)), request.fps,
                                     request.size)
        at = simulate(scene, len(request.context), request.fps).end
        rng = np.random.default_rng(int(request.seed))
        speed = np.hypot(at.vel[:, 0], at.vel[:, 1])
        speed = np.where(speed > 1e-9, speed, rng.uniform(*grammar.SPEEDS, len(speed)))
        angle = rng.uniform(0, 2 * np.pi, len(speed))
        vel = np.stack([speed * np.cos(angle), speed * np.sin(angle)], axis=1)
        # the state keeps the original scene's clock, so the reference's frame k and
        # this rollout's first frame are the same instant
        return SimulatorRollout(scene, dataclasses.replace(at, vel=vel), request.fps,
                                 request.size)


class FrozenRollout:
    def __init__(self, frame: np.ndarray) -> None:
        self._frame = frame

    def next(self, n: int) -> np.ndarray:
        check_int("frames", n)
        return np.repeat(self._frame[None], n, axis=0)

    def state(self) -> dict[str, np.ndarray]:
        return {"frame": self._frame.copy()}


class FrozenFrameVideo:
    """Negative control: the last context frame, repeated."""

    name = "frozen-frame"
    privileged = False

    def start(self, request: VideoRequest,
              resume: Mapping[str, np.ndarray] | None = None) -> FrozenRollout:
        if resume is None:
            return FrozenRollout(request.context[-1].copy())
        frame = np.asarray(resume.get("frame"))
        if frame.shape != request.context.shape[1:] or frame.dtype != np.uint8:
            raise CheckpointError(f"frozen-frame state of shape {frame.shape}, "
                                  f"{frame.dtype}; expected {request.context.shape[1:]} uint8")
        return FrozenRollout(frame)
