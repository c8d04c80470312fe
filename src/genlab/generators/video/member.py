"""Control ``video-member``: the simulator from a start drawn at random from the set of
starts whose context renders exactly as perception's reading (issue 6, sessions 27, 31).

``video-twin`` walks the truth's start to the edge of that set, one free field at a
time: where it leaves the truth's path no generator can be sure of it, but where it
stays it proves nothing, because it moved no farther than one edge allows. A member is
one start drawn about uniformly from the whole set
(:func:`genlab.generators.video.inscribe.members`: the bodies alone in two or more
context frames, a tied pair together), the start a reader who knows the set exactly
but not which of its points is the truth would read. Its on-track share, pooled over
rollouts, is the expected share of such a reader: the yardstick of what the context can
say (``bench/bench_members.py`` draws many per rollout; docs/results.md, session 27).

Version 2 (session 31) reads like a generator: the set is drawn about perception's
reading (:func:`genlab.generators.video.perceive.perceive`, as ``video-physics`` of the
same profile reads), and the bodies the set cannot be drawn for (never alone in two
context frames) keep that reading, as ``bench_members.py``'s members do; where
perception does not find every body the prompt names, the member is perception's
rollout itself. Version 1 drew about the truth's start, so those bodies kept the
truth's: on a rollout none of whose bodies is ever seen alone it was the oracle
(docs/results.md, sessions 30 and 31, seed 29).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from genlab.contracts import VideoRequest
from genlab.generators.video.controls import FrozenRollout, SimulatorRollout, continue_scene
from genlab.generators.video.inscribe import MEMBER_THIN, members
from genlab.generators.video.perceive import VERSION as perceive_version
from genlab.generators.video.perceive import perceive

VERSION = "2"


class MemberVideo:
    """See the module docstring. Deterministic in the request's seed."""

    name = "video-member"
    privileged = False
    version = VERSION

    def __init__(self, *, refine: bool = True) -> None:
        self.refine = refine

    def start(self, request: VideoRequest, resume: Mapping[str, np.ndarray] | None = None
              ) -> SimulatorRollout | FrozenRollout:
        seen = perceive(request, refine=self.refine)
        if seen.scene is None:
            return FrozenRollout(request.context[-1].copy())
        scene = seen.scene
        if seen.found == seen.expected:
            drawn, _ = members(scene, list(seen.motions), request.context, request.fps, 1,
                               seed=int(request.seed))
            scene = drawn[0]
        return continue_scene(scene, request, resume)

    def describe(self) -> dict[str, Any]:
        return {"member": {"thin": MEMBER_THIN, "about": "perception's reading",
                           "version": VERSION},
                "perception": {"refine": self.refine, "version": perceive_version},
                "dynamics": "the motion world's simulator", "renderer": "shapes"}
