"""Compiled (numba) steps of the ``motion`` simulator: the fast path of ``physics.py``.

It moves the bodies exactly as :func:`genlab.worlds.motion.physics.advance_numpy` does,
to the last bit: semi-implicit Euler, then the elastic impulses between overlapping
discs (the overlapping pairs found before any is resolved, then resolved in row-major
order), then the walls and the floor. Every float64 operation is the reference's, in
its order, with no fast-math (so no fused multiply-adds); ``tests/worlds/
test_physics_kernel.py`` compares the two on sampled scenes of every scenario, minutes
long, collisions included.

Why a kernel: a scene has one to six bodies, so each numpy step of the reference is a
dozen calls on arrays of a few numbers, and the simulator spent ~50 us a step on call
overhead. Perception's render-and-compare, the track's truth and every physics rollout
simulate; here a whole call of ``advance`` is one loop (``bench/bench_motion.py``).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _collide(pos: np.ndarray, vel: np.ndarray, r: np.ndarray, m: np.ndarray,
             close: np.ndarray) -> None:
    n = pos.shape[0]
    found = False
    for i in range(n):
        for j in range(n):
            close[i, j] = False
            if j > i:
                dx = pos[j, 0] - pos[i, 0]
                dy = pos[j, 1] - pos[i, 1]
                reach = r[i] + r[j]
                if dx * dx + dy * dy < reach * reach:
                    close[i, j] = True
                    found = True
    if not found:
        return
    for i in range(n):
        for j in range(i + 1, n):
            if not close[i, j]:
                continue
            dx = pos[j, 0] - pos[i, 0]
            dy = pos[j, 1] - pos[i, 1]
            dist = math.sqrt(dx * dx + dy * dy)
            if dist == 0.0:
                nx, ny = 1.0, 0.0
            else:
                nx, ny = dx / dist, dy / dist
            approach = (vel[j, 0] - vel[i, 0]) * nx + (vel[j, 1] - vel[i, 1]) * ny
            inv = 1.0 / m[i] + 1.0 / m[j]
            if approach < 0:
                impulse = -2.0 * approach / inv
                ki, kj = impulse / m[i], impulse / m[j]
                vel[i, 0] -= ki * nx
                vel[i, 1] -= ki * ny
                vel[j, 0] += kj * nx
                vel[j, 1] += kj * ny
            overlap = r[i] + r[j] - dist
            if overlap > 0:
                si = overlap * (1.0 / m[i]) / inv
                sj = overlap * (1.0 / m[j]) / inv
                pos[i, 0] -= si * nx
                pos[i, 1] -= si * ny
                pos[j, 0] += sj * nx
                pos[j, 1] += sj * ny


@numba.njit(cache=True, nogil=True)
def _bounce(pos: np.ndarray, vel: np.ndarray, r: np.ndarray, gravity: float, dt: float,
            walls: bool, floor: bool) -> None:
    n = pos.shape[0]
    if walls:
        for k in range(n):
            x = pos[k, 0]
            low, high = x < r[k], x > 1.0 - r[k]
            if low:
                x = 2 * r[k] - x
                pos[k, 0] = x
                vel[k, 0] = abs(vel[k, 0])
            if high:
                pos[k, 0] = 2 * (1.0 - r[k]) - x
                vel[k, 0] = -abs(vel[k, 0])
    if floor:
        a = gravity * dt
        for k in range(n):
            if pos[k, 1] > 1.0 - r[k]:
                depth = pos[k, 1] - (1.0 - r[k])
                pos[k, 1] = 2 * (1.0 - r[k]) - pos[k, 1]
                v = vel[k, 1]
                c = v * v + a * v - 4.0 * gravity * depth
                vel[k, 1] = (-a - math.sqrt(max(a * a + 4.0 * c, 0.0))) / 2.0


@numba.njit(cache=True, nogil=True)
def advance(pos: np.ndarray, vel: np.ndarray, r: np.ndarray, m: np.ndarray,
            gravity: float, walls: bool, floor: bool, collisions: bool, dt: float,
            steps: int) -> None:
    """``steps`` internal steps of ``pos``, ``vel`` ``(n, 2)`` float64, in place."""
    n = pos.shape[0]
    gx, gy = 0.0 * dt, gravity * dt
    close = np.zeros((n, n), np.bool_)
    for _ in range(steps):
        for k in range(n):
            vel[k, 0] += gx
            vel[k, 1] += gy
        for k in range(n):
            pos[k, 0] += vel[k, 0] * dt
            pos[k, 1] += vel[k, 1] * dt
        if collisions and n > 1:
            _collide(pos, vel, r, m, close)
        _bounce(pos, vel, r, gravity, dt, walls, floor)
