"""Control ``video-member``: the simulator from a start drawn at random from the set of
starts whose context renders exactly as the truth's (issue 6, session 27).

``video-twin`` walks the truth's start to the edge of that set, one free field at a
time: where it leaves the truth's path no generator can be sure of it, but where it
stays it proves nothing, because it moved no farther than one edge allows. A member is
one start drawn about uniformly from the whole set
(:func:`genlab.generators.video.inscribe.members`: the bodies alone in two or more
context frames, a tied pair together; the other bodies keep the truth's start), the
start a reader who knows the set exactly but not which of its points is the truth
would read. Its on-track share, pooled over rollouts, is the expected share of such a
reader: the yardstick of what the context can say, with no luck of one draw in it once
many rollouts are pooled (``bench/bench_members.py`` draws many per rollout;
docs/results.md, session 27).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from genlab.contracts import VideoRequest
from genlab.generators.video.controls import SimulatorRollout, continue_scene, privileged_scene
from genlab.generators.video.inscribe import MEMBER_THIN, members
from genlab.generators.video.twin import motions_of

VERSION = "1"


class MemberVideo:
    """See the module docstring. Deterministic in the request's seed."""

    name = "video-member"
    privileged = True
    version = VERSION

    def start(self, request: VideoRequest,
              resume: Mapping[str, np.ndarray] | None = None) -> SimulatorRollout:
        truth = privileged_scene(request, self.name)
        drawn, _ = members(truth, motions_of(truth, request.prompt), request.context,
                           request.fps, 1, seed=int(request.seed))
        return continue_scene(drawn[0], request, resume)

    def describe(self) -> dict[str, Any]:
        return {"member": {"thin": MEMBER_THIN, "version": VERSION},
                "dynamics": "the motion world's simulator", "renderer": "shapes"}
