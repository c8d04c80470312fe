"""Frames of a ``motion`` rollout, drawn by the ``shapes`` renderer.

Each frame is a ``shapes`` scene (its background, every body in view at its exact
position, in the scene's body order), so a frame is judged exactly as a ``shapes``
image is; bodies partly out of view are clipped by the renderer, bodies wholly out
of view are left out.
"""

from __future__ import annotations

import numpy as np

from genlab.errors import InputError
from genlab.worlds.motion.physics import Trajectory
from genlab.worlds.shapes.arrays import (
    BACKGROUND_CODE,
    COLOUR_CODE,
    OBJECT_DTYPE,
    SHAPE_CODE,
    SceneArrays,
)
from genlab.worlds.shapes.render import check_size, render_arrays
from genlab.worlds.shapes.soft import expected_images

CHUNK = 512  # frames rendered per call (bounds the renderer's working memory)


def scene_arrays(traj: Trajectory, lo: int = 0, hi: int | None = None) -> SceneArrays:
    """Frames ``lo:hi`` of ``traj`` as ``shapes`` scene arrays (one scene per frame)."""
    hi = len(traj) if hi is None else hi
    if not 0 <= lo <= hi <= len(traj):
        raise InputError(f"frames {lo}:{hi} outside the rollout's 0:{len(traj)}")
    bodies = traj.scene.bodies
    seen = traj.visible()[lo:hi]                                   # (f, n)
    frame, body = np.nonzero(seen)                                 # frame-major order
    out = np.empty(len(frame), OBJECT_DTYPE)
    out["scene"] = frame
    out["shape"] = np.array([SHAPE_CODE[b.shape] for b in bodies], np.int8)[body]
    out["colour"] = np.array([COLOUR_CODE[b.colour] for b in bodies], np.int8)[body]
    out["x"] = traj.pos[lo:hi, :, 0][frame, body]
    out["y"] = traj.pos[lo:hi, :, 1][frame, body]
    out["size"] = np.array([b.size for b in bodies])[body]
    backgrounds = np.full(hi - lo, BACKGROUND_CODE[traj.scene.background], np.int8)
    return SceneArrays(backgrounds, out)


def render_frames(traj: Trajectory, size: int = 32) -> np.ndarray:
    """Every frame of ``traj`` as ``(frames, size, size, 3) uint8`` RGB."""
    size = check_size(size)
    parts = [render_arrays(scene_arrays(traj, lo, min(lo + CHUNK, len(traj))), size)
             for lo in range(0, len(traj), CHUNK)]
    return np.concatenate(parts)


def expected_frames(traj: Trajectory, size: int = 32) -> np.ndarray:
    """Every frame of ``traj`` as the renderer's expected pixels, ``(frames, size, size,
    3) float64`` before its 8-bit steps (:mod:`genlab.worlds.shapes.soft`): what a fit
    of a scene to rendered frames compares with them."""
    bodies = traj.scene.bodies
    return expected_images([b.shape for b in bodies], [b.colour for b in bodies], traj.pos,
                           np.array([b.size for b in bodies]), traj.scene.background,
                           check_size(size))
