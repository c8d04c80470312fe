"""``video-member``: a start drawn from the set the context allows, about perception's
reading."""

from __future__ import annotations

import dataclasses

import numpy as np

from genlab import catalog
from genlab.contracts import VideoRequest
from genlab.generators.video.member import MemberVideo
from genlab.generators.video.perceive import perceive
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


def test_the_member_is_a_registered_limit_control_that_reads_like_a_generator() -> None:
    """Version 2 needs no scene: the track gives it what it gives any generator."""
    assert "video-member" in catalog.VIDEO_CONTROLS
    assert "video-member" in catalog.LIMIT_CONTROLS
    assert MemberVideo.privileged is False
    _, request = _request(4)
    blind = VideoRequest(PROMPT, 4, FPS, request.context)
    assert MemberVideo().start(blind).scene == MemberVideo().start(request).scene


def test_bodies_the_set_cannot_be_drawn_for_keep_perceptions_reading() -> None:
    """Version 1 kept the truth's start for them (the oracle on such a rollout). One
    context frame pins no velocity, so no body is drawn; a body the prompt names but
    the context never shows leaves the reading short, and the member is perception's
    rollout itself."""
    scene, request = _request(4)
    one_frame = VideoRequest(PROMPT, 4, FPS, request.context[:1])
    assert MemberVideo().start(one_frame).scene == perceive(one_frame).scene
    alone = dataclasses.replace(scene, bodies=scene.bodies[:1])
    short = VideoRequest(PROMPT, 4, FPS, render_frames(simulate(alone, K, FPS), SIZE))
    seen = perceive(short)
    assert (seen.found, seen.expected) == (1, 2)
    assert MemberVideo().start(short).scene == seen.scene
