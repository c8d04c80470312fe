"""``video-member``: a start drawn from the set the context allows."""

from __future__ import annotations

import numpy as np
import pytest

from genlab import catalog
from genlab.contracts import VideoRequest
from genlab.errors import InputError
from genlab.generators.video.member import MemberVideo
from genlab.generators.video.refine import misfit
from genlab.worlds.motion import grammar
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate
from genlab.worlds.motion.spec import MotionScene

K, FPS, SIZE = 4, 30, 32
PROMPT = "a yellow circle drifting right and a cyan triangle drifting left"


def _request(seed: int) -> tuple[MotionScene, VideoRequest]:
    scene = grammar.realise(grammar.parse(PROMPT), np.random.default_rng(11))
    context = render_frames(simulate(scene, K, FPS), SIZE)
    return scene, VideoRequest(PROMPT, seed, FPS, context, scene.to_json())


def test_a_member_renders_the_context_resumes_and_is_another_start() -> None:
    """The member's own first frames are the context's, its start is not the truth's,
    another seed draws another start, and a rollout resumed from its state goes on as
    the whole one does."""
    scene, request = _request(4)
    rollout = MemberVideo().start(request)
    assert rollout.scene != scene
    assert misfit(rollout.scene, request.context, FPS) == 0.0
    assert MemberVideo().start(_request(5)[1]).scene != rollout.scene
    whole = rollout.next(60)
    first = MemberVideo().start(request)
    part = first.next(25)
    rest = MemberVideo().start(request, resume=first.state()).next(35)
    np.testing.assert_array_equal(whole, np.concatenate([part, rest]))


def test_the_member_is_a_registered_limit_control_that_needs_the_scene() -> None:
    assert "video-member" in catalog.VIDEO_CONTROLS
    assert "video-member" in catalog.LIMIT_CONTROLS
    _, request = _request(4)
    with pytest.raises(InputError, match="video-member.*privileged"):
        MemberVideo().start(VideoRequest(PROMPT, 4, FPS, request.context))
