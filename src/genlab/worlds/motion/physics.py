"""The rigid-body simulator of the ``motion`` world: exact state at every frame.

Bodies are discs (:mod:`.spec`) moved at a fixed internal rate of :data:`SIM_HZ` steps
a second by semi-implicit (symplectic) Euler: velocity from gravity first, then
position, which keeps the energy of a flying body bounded instead of drifting
(Hairer, Lubich & Wanner, 2006, "Geometric Numerical Integration"). Walls and floor
reflect a body that crossed them (position mirrored, normal velocity reversed:
restitution 1; the floor's new speed also pays for the height the mirroring adds, so a
bounce keeps the energy and a resting body rests). Two discs that overlap while
approaching exchange the elastic impulse along their line of centres (masses ~ size
squared) and are pushed apart by their overlap. Everything is float64 in a fixed order,
so a scene and a duration give the same states on every run and machine; the steps run
compiled (:mod:`.physics_kernel`, numba) with the numpy reference's bits
(:func:`advance_numpy`), 60-90x faster (``bench/bench_motion.py``).

Frames are sampled every ``SIM_HZ / fps`` internal steps, so the state at a given
time is the same at any frame rate that divides :data:`SIM_HZ`; a rollout can stop at
any frame and continue from its :class:`State` with the same result as one long run.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from genlab.errors import InputError, check_int
from genlab.worlds.motion.spec import MotionScene, Physics

SIM_HZ = 240
FPS_CHOICES: tuple[int, ...] = tuple(f for f in range(1, SIM_HZ + 1) if SIM_HZ % f == 0)
"""Frame rates the simulator samples exactly (the divisors of :data:`SIM_HZ`)."""


def check_fps(fps: object) -> int:
    """``fps`` if the simulator can sample it exactly, else an InputError listing those."""
    if isinstance(fps, bool) or not isinstance(fps, int) or fps not in FPS_CHOICES:
        raise InputError(f"fps {fps!r} is not one the simulator samples exactly; accepted: "
                         f"{', '.join(map(str, FPS_CHOICES))} (the divisors of {SIM_HZ})")
    return fps


@dataclass(frozen=True)
class State:
    """Every body's position and velocity ``(n, 2)`` after ``step`` internal steps."""

    step: int
    pos: np.ndarray
    vel: np.ndarray

    @classmethod
    def initial(cls, scene: MotionScene) -> State:
        pos = np.array([[b.x, b.y] for b in scene.bodies], np.float64)
        vel = np.array([[b.vx, b.vy] for b in scene.bodies], np.float64)
        return cls(0, pos, vel)

    @property
    def seconds(self) -> float:
        return self.step / SIM_HZ


@dataclass(frozen=True)
class Trajectory:
    """The simulator's exact states at every frame of a rollout.

    Attributes:
        scene: what was simulated.
        fps: frames per second.
        first: the frame index of ``pos[0]`` (0 unless continued from a state).
        pos, vel: ``(frames, n, 2)`` positions and velocities at each frame.
        end: the state after the last frame (to continue the rollout from).
    """

    scene: MotionScene
    fps: int
    first: int
    pos: np.ndarray
    vel: np.ndarray
    end: State

    def __len__(self) -> int:
        return len(self.pos)

    @property
    def times(self) -> np.ndarray:
        """``(frames,)`` seconds of each frame."""
        return (self.first + np.arange(len(self.pos))) / self.fps

    def visible(self) -> np.ndarray:
        """``(frames, n) bool``: whether any of the body's box lies in the view."""
        r = _radii(self.scene)[None, :]
        x, y = self.pos[..., 0], self.pos[..., 1]
        return (x + r > 0) & (x - r < 1) & (y + r > 0) & (y - r < 1)

    def energy(self) -> np.ndarray:
        """``(frames,)`` kinetic plus gravitational energy (masses ~ size squared; height
        measured up from y = 1). Elastic walls, floor and collisions keep it bounded
        (the integrator conserves a nearby modified energy exactly, so this one
        oscillates by O(g v dt) without drifting; ``bench/bench_motion.py``)."""
        m = _masses(self.scene)[None, :]
        kinetic = 0.5 * (m * (self.vel ** 2).sum(-1)).sum(-1)
        potential = (m * self.scene.physics.gravity * (1.0 - self.pos[..., 1])).sum(-1)
        return np.asarray(kinetic + potential)


def _radii(scene: MotionScene) -> np.ndarray:
    return np.array([b.radius for b in scene.bodies], np.float64)


def _masses(scene: MotionScene) -> np.ndarray:
    return np.array([b.size ** 2 for b in scene.bodies], np.float64)


def _bounce(pos: np.ndarray, vel: np.ndarray, r: np.ndarray, physics: Physics,
            dt: float) -> None:
    """Reflect bodies that crossed a wall or the floor (in place)."""
    if physics.walls:
        low, high = pos[:, 0] < r, pos[:, 0] > 1.0 - r
        pos[low, 0] = 2 * r[low] - pos[low, 0]
        vel[low, 0] = np.abs(vel[low, 0])
        pos[high, 0] = 2 * (1.0 - r[high]) - pos[high, 0]
        vel[high, 0] = -np.abs(vel[high, 0])
    if physics.floor:
        down = pos[:, 1] > 1.0 - r
        depth = pos[down, 1] - (1.0 - r[down])
        pos[down, 1] = 2 * (1.0 - r[down]) - pos[down, 1]
        # The mirrored body sits 2 * depth higher than the step left it; its new speed
        # keeps the integrator's own invariant, E = v^2 / 2 - g y + g v dt / 2 (exactly
        # conserved by semi-implicit Euler under constant gravity), so a bounce neither
        # gains nor loses energy and a body resting on the floor stays there. Plain
        # mirroring pumped energy into resting bodies, and mirroring with the physical
        # energy lost ~g v dt a bounce.
        v, a = vel[down, 1], physics.gravity * dt
        c = v * v + a * v - 4.0 * physics.gravity * depth
        vel[down, 1] = (-a - np.sqrt(np.maximum(a * a + 4.0 * c, 0.0))) / 2.0


def _collide(pos: np.ndarray, vel: np.ndarray, r: np.ndarray, m: np.ndarray) -> None:
    """Elastic impulses between overlapping, approaching discs (in place), pairs in
    index order so that the result never depends on anything but the state."""
    d = pos[None, :, :] - pos[:, None, :]                      # d[i, j] = p_j - p_i
    dist2 = (d ** 2).sum(-1)
    reach = (r[:, None] + r[None, :]) ** 2
    close = np.triu(dist2 < reach, k=1)
    if not close.any():
        return
    for i, j in zip(*np.nonzero(close), strict=True):
        delta = pos[j] - pos[i]
        dist = float(np.sqrt((delta ** 2).sum()))
        if dist == 0.0:  # coincident centres: separate along x, deterministically
            n, dist = np.array([1.0, 0.0]), 0.0
        else:
            n = delta / dist
        approach = float((vel[j] - vel[i]) @ n)
        inv = 1.0 / m[i] + 1.0 / m[j]
        if approach < 0:  # restitution 1: the normal relative velocity reverses
            impulse = -2.0 * approach / inv
            vel[i] -= impulse / m[i] * n
            vel[j] += impulse / m[j] * n
        overlap = r[i] + r[j] - dist
        if overlap > 0:  # push apart, the lighter body further
            pos[i] -= overlap * (1.0 / m[i]) / inv * n
            pos[j] += overlap * (1.0 / m[j]) / inv * n


def advance(scene: MotionScene, state: State, steps: int) -> State:
    """``state`` after ``steps`` more internal steps: by the compiled kernel
    (:mod:`.physics_kernel`, the same bits) where numba imports, else
    :func:`advance_numpy`."""
    kernel = _kernel()
    if kernel is None:
        return advance_numpy(scene, state, steps)
    physics, r, m = scene.physics, _radii(scene), _masses(scene)
    pos, vel = state.pos.copy(), state.vel.copy()
    kernel.advance(pos, vel, r, m, float(physics.gravity), physics.walls, physics.floor,
                   physics.collisions, 1.0 / SIM_HZ, int(steps))
    return State(state.step + steps, pos, vel)


@functools.lru_cache(maxsize=1)
def _kernel() -> ModuleType | None:
    """The compiled steps, or None without numba (imported on first use)."""
    try:
        from genlab.worlds.motion import physics_kernel
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    return physics_kernel


def advance_numpy(scene: MotionScene, state: State, steps: int) -> State:
    """``state`` after ``steps`` more internal steps (the numpy reference)."""
    physics, r, m = scene.physics, _radii(scene), _masses(scene)
    pos, vel = state.pos.copy(), state.vel.copy()
    dt = 1.0 / SIM_HZ
    g = np.array([0.0, physics.gravity])
    for _ in range(steps):
        vel += g * dt
        pos += vel * dt
        if physics.collisions and len(pos) > 1:
            _collide(pos, vel, r, m)
        _bounce(pos, vel, r, physics, dt)
    return State(state.step + steps, pos, vel)


def simulate(scene: MotionScene, frames: int, fps: int,
             start: State | None = None) -> Trajectory:
    """The exact states of ``frames`` frames at ``fps``, from t = 0 (or from ``start``,
    a frame boundary of an earlier rollout at the same ``fps``)."""
    fps = check_fps(fps)
    check_int("frames", frames)
    per = SIM_HZ // fps
    state = State.initial(scene) if start is None else start
    if state.step % per:
        raise InputError(f"a rollout at {fps} fps continues from a frame boundary (a "
                         f"multiple of {per} steps); this state is at step {state.step}")
    first = state.step // per
    pos = np.empty((frames, len(scene.bodies), 2))
    vel = np.empty_like(pos)
    for k in range(frames):
        if k:
            state = advance(scene, state, per)
        pos[k], vel[k] = state.pos, state.vel
    return Trajectory(scene, fps, first, pos, vel, advance(scene, state, per))
