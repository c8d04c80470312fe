"""``video-physics``: perceive the bodies, simulate them, render them (PhysGen's pipeline).

PhysGen (Liu et al., 2024, "PhysGen: Rigid-Body Physics-Grounded Image-to-Video
Generation") splits image-to-video generation into three stages: perception (segment
the objects and estimate their physical state), a rigid-body simulator, and a
renderer. Here perception is :func:`~genlab.generators.video.perceive.perceive`
(the prompt's physics and counts, the detector's objects, least-squares velocities),
the simulator is the ``motion`` world's own and the renderer the ``shapes`` one.

It reads no privileged state: only the context frames and the prompt. With a perfect
simulator and renderer, everything it gets wrong comes from perception: from
misreading the context, or from what the context cannot say, which the control
``video-twin`` measures (generators/video/twin.py; ``docs/results.md``, session 24,
compares the two on the track's scenes and on a fresh set). Its consistency (identity,
count, colour) is what object-centric state buys over pixel-space rollouts; its
position error over time is what the context's information allows. When no body is
found it repeats the last context frame (the frozen-frame control).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from genlab.contracts import VideoRequest
from genlab.generators.video.controls import FrozenRollout, SimulatorRollout, saved_state
from genlab.generators.video.perceive import COLINEAR_PX, perceive
from genlab.generators.video.perceive import VERSION as perceive_version
from genlab.worlds.motion.physics import simulate

VERSION = "1"


class PhysicsVideo:
    """See the module docstring. Deterministic: the seed is unused."""

    name = "video-physics"
    privileged = False
    version = VERSION

    def __init__(self, *, refine: bool = True, colinear_px: float = COLINEAR_PX) -> None:
        self.refine, self.colinear_px = refine, colinear_px

    def start(self, request: VideoRequest, resume: Mapping[str, np.ndarray] | None = None
              ) -> SimulatorRollout | FrozenRollout:
        seen = perceive(request, refine=self.refine, colinear_px=self.colinear_px)
        if seen.scene is None:
            return FrozenRollout(request.context[-1].copy())
        state = simulate(seen.scene, len(request.context), request.fps).end if resume is None \
            else saved_state(resume, seen.found)
        return SimulatorRollout(seen.scene, state, request.fps, request.size)

    def describe(self) -> dict[str, Any]:
        return {"perception": {"refine": self.refine, "colinear_px": self.colinear_px,
                               "version": perceive_version},
                "dynamics": "the motion world's simulator", "renderer": "shapes"}
