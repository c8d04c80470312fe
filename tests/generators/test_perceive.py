"""Perception of ``motion`` scenes and the ``video-physics`` generator built on it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from genlab.contracts import VideoRequest
from genlab.errors import ParseError, SpecError
from genlab.generators.video.grounded import PhysicsVideo
from genlab.generators.video.perceive import perceive
from genlab.generators.video.refine import (
    centre,
    misfit,
    polish,
    render_and_compare,
    settle,
    snap_colinear,
)
from genlab.judges.tracking import track
from genlab.worlds.motion import splits
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate
from genlab.worlds.motion.spec import Body, MotionScene, Physics


def _request(item: splits.MotionItem, frames: int = 4) -> VideoRequest:
    return VideoRequest(item.prompt, 0, 30, render_frames(simulate(item.scene, frames, 30)))


def _matched(found: MotionScene, truth: MotionScene) -> list[tuple[Body, Body]]:
    """Each true body with the perceived one of its kind nearest to it."""
    pairs = []
    for b in truth.bodies:
        same = [p for p in found.bodies if (p.colour, p.shape) == (b.colour, b.shape)]
        pairs.append((min(same, key=lambda p: (p.x - b.x) ** 2 + (p.y - b.y) ** 2), b))
    return pairs


@pytest.mark.parametrize("scenario", splits.SCENARIOS)
def test_perceives_every_body(scenario: str) -> None:
    """On clean renders every body is found with its kind, within a tenth of a pixel
    and ~0.5 px/s; what the prompt fixes (no starting velocity across a drift, a
    resting or sliding body on the floor) is exact."""
    for item in splits.sample(scenario, "test", 3, seed=1):
        seen = perceive(_request(item))
        assert seen.found == seen.expected == len(item.scene.bodies), item.prompt
        assert seen.scene is not None and seen.scene.physics == item.scene.physics
        for p, b in _matched(seen.scene, item.scene):
            assert abs(p.x - b.x) < 0.1 / 32 and abs(p.y - b.y) < 0.1 / 32, item.prompt
            assert abs(p.size - b.size) < 0.5 / 32
            assert abs(p.vx - b.vx) < 0.02 and abs(p.vy - b.vy) < 0.02
            if b.vy == 0 and scenario != "parabola":
                assert p.vy == 0.0


def test_render_and_compare_sharpens_the_detector() -> None:
    """Refining against the pixels places bodies better than the detector's centroids."""
    errors = {True: [], False: []}
    for item in splits.sample("collision", "test", 4, seed=2):
        for refine in (True, False):
            seen = perceive(_request(item), refine=refine, colinear_px=0)
            errors[refine] += [abs(p.y - b.y) for p, b in _matched(seen.scene, item.scene)]
    assert np.median(errors[True]) < 0.5 * np.median(errors[False])


def test_polish_lowers_the_exact_misfit_and_the_velocity_error() -> None:
    """Render-and-compare stops near the exact minimum (the truth's misfit is 0 on clean
    frames); the pattern search goes on from there and reads velocities better."""
    before, after = [], []
    for item in splits.sample("uniform", "test", 10, seed=3):
        request = _request(item)
        seen = perceive(request, refine=False, colinear_px=0)
        if seen.found < len(item.scene.bodies):  # a body out of view in the context
            continue
        rough, motions = seen.scene, list(seen.motions)
        fitted = render_and_compare(rough, motions, request.context, 30)
        polished = polish(fitted, motions, request.context, 30)
        assert misfit(item.scene, request.context, 30) == 0.0
        assert misfit(polished, request.context, 30) <= misfit(fitted, request.context, 30)
        for (p, b), (q, _) in zip(_matched(polished, item.scene), _matched(fitted, item.scene),
                                  strict=True):
            after.append(np.hypot(p.vx - b.vx, p.vy - b.vy))
            before.append(np.hypot(q.vx - b.vx, q.vy - b.vy))
    assert len(after) >= 10 and np.median(after) < 0.5 * np.median(before)


def test_snap_colinear() -> None:
    a = Body("circle", "red", 0.2, 0.500, 0.1, 0.5, 0.0)
    b = Body("square", "blue", 0.8, 0.505, 0.1, -0.5, 0.0)
    scene = MotionScene("black", (a, b), Physics())
    near = snap_colinear(scene, ["drifting right", "drifting left"], 0.01)
    assert near.bodies[0].y == near.bodies[1].y == pytest.approx(0.5025)
    assert snap_colinear(scene, ["drifting right", "drifting left"], 0.001) == scene
    assert snap_colinear(scene, ["drifting right", "drifting right"], 0.01) == scene


def test_a_chance_pair_at_one_height_is_not_snapped() -> None:
    """Two bodies of a crowded weightless scene that drift apart at heights 0.14 px
    apart are no collision pair: snapping them would change the context's pixels."""
    bodies = (Body("circle", "blue", 26.96 / 32, 14.013 / 32, 5.89 / 32, -17.6 / 32, 0.0),
              Body("circle", "blue", 14.29 / 32, 6.39 / 32, 6.40 / 32, -9.9 / 32, 0.0),
              Body("circle", "yellow", 9.29 / 32, 25.31 / 32, 5.75 / 32, 7.85 / 32, 0.0),
              Body("circle", "yellow", 3.41 / 32, 13.874 / 32, 6.30 / 32, 18.7 / 32, 0.0))
    scene = MotionScene("white", bodies, Physics(gravity=0.0))
    prompt = "two blue circles drifting left and two yellow circles drifting right"
    request = VideoRequest(prompt, 0, 30, render_frames(simulate(scene, 4, 30)))
    seen = perceive(request)
    assert seen.scene is not None
    heights = sorted(b.y * 32 for b in seen.scene.bodies)
    assert heights[1] == pytest.approx(13.874, abs=0.01)
    assert heights[2] == pytest.approx(14.013, abs=0.01)
    assert misfit(seen.scene, request.context, 30) < 100


def _read(bodies: tuple[Body, ...], prompt: str, physics: Physics) -> MotionScene:
    """What perception reads of the first 4 frames of ``bodies`` under ``physics``."""
    scene = MotionScene("white", bodies, physics)
    seen = perceive(VideoRequest(prompt, 0, 30, render_frames(simulate(scene, 4, 30))))
    assert seen.scene is not None
    return seen.scene


def test_a_bounce_within_the_context_is_read_from_the_frames_before_it() -> None:
    """A body that meets the floor between the third and the fourth context frame: its
    velocity is that of the first three frames, not a fit across the bounce."""
    bodies = (Body("triangle", "yellow", 26.32 / 32, 16.75 / 32, 6.11 / 32, 0.0, 14.07 / 32),
              Body("triangle", "yellow", 5.55 / 32, 28.0 / 32, 5.80 / 32, 0.0, 12.465 / 32))
    seen = _read(bodies, "two yellow triangles drifting down", Physics(gravity=0.0))
    low = max(seen.bodies, key=lambda b: b.y)
    assert abs(low.vy - bodies[1].vy) * 32 < 0.5  # px/s; a fit across the bounce: 2.4


def test_a_wall_met_before_the_second_frame_is_read_through_the_mirror() -> None:
    """A body 0.3 px from the left wall moving left bounces off it before the second
    context frame: its start is the later frames' motion mirrored about the wall."""
    bodies = (Body("circle", "yellow", 13.6 / 32, 10.83 / 32, 5.81 / 32, -10.35 / 32, 0.0),
              Body("circle", "yellow", 3.319 / 32, 11.0 / 32, 6.043 / 32, -18.725 / 32, 0.0))
    seen = _read(bodies, "two yellow circles bouncing", Physics())
    near = min(seen.bodies, key=lambda b: b.x)
    assert abs(near.vx - bodies[1].vx) * 32 < 0.5  # px/s; read without the mirror: +32


def test_the_floor_met_before_the_second_frame_is_read_through_the_bounce() -> None:
    """A yellow square drifting down 0.4 px above the floor (``4s/uniform/s03`` of scene
    seed 1) bounces before the second context frame: its start is the later frames'
    flight bounced back off the floor, not a body rising from the start."""
    bodies = (Body("square", "yellow", 19.26 / 32, 28.46 / 32, 6.344 / 32, 0.0, 12.42 / 32),
              Body("square", "yellow", 10.65 / 32, 3.375 / 32, 6.118 / 32, 0.0, 6.646 / 32))
    seen = _read(bodies, "two yellow squares drifting down", Physics(gravity=0.0))
    low = max(seen.bodies, key=lambda b: b.y)
    assert abs(low.vy - bodies[0].vy) * 32 < 0.5  # px/s; read without the bounce: -17.7


def test_settling_reads_velocities_better_than_the_pattern_search() -> None:
    """The fit on the renderer's expected pixels lands inside the starts that render the
    context, nearer their middle: lower velocity errors than the pattern search's edge,
    pixels as exact."""
    errors: dict[bool, list[float]] = {True: [], False: []}
    for item in splits.sample("uniform", "test", 8, seed=4):
        request = _request(item)
        seen = perceive(request, settled=False)
        if seen.found < len(item.scene.bodies):
            continue
        assert seen.scene is not None
        motions = list(seen.motions)
        settled = centre(settle(seen.scene, motions, request.context, 30), motions,
                         request.context, 30)
        assert misfit(settled, request.context, 30) <= misfit(seen.scene, request.context, 30)
        for done, scene in ((False, seen.scene), (True, settled)):
            errors[done] += [np.hypot(p.vx - b.vx, p.vy - b.vy) * 32
                             for p, b in _matched(scene, item.scene)]
    assert len(errors[True]) >= 8
    assert np.mean(errors[True]) < np.mean(errors[False])


def test_settling_keeps_a_pair_on_its_line() -> None:
    """A head-on pair put on one line stays on exactly one line through the fit."""
    a = Body("circle", "red", 8.3 / 32, 15.2 / 32, 6.1 / 32, 9.7 / 32, 0.0)
    b = Body("square", "blue", 23.9 / 32, 15.2 / 32, 5.9 / 32, -11.3 / 32, 0.0)
    scene = MotionScene("white", (a, b), Physics(gravity=0.0))
    motions = ["drifting right", "drifting left"]
    context = render_frames(simulate(scene, 4, 30))
    off = dataclasses.replace(scene, bodies=(dataclasses.replace(a, x=a.x + 0.02 / 32),
                                             dataclasses.replace(b, vx=b.vx + 0.3 / 32)))
    settled = settle(off, motions, context, 30)
    assert settled.bodies[0].y == settled.bodies[1].y
    assert misfit(settled, context, 30) <= misfit(off, context, 30)
    assert abs(settled.bodies[1].vx - b.vx) < abs(off.bodies[1].vx - b.vx)


def test_bodies_seen_apart_in_some_frames_only() -> None:
    """Two red circles, one of which touches a green square in every other context
    frame (a blob there): perception still reads a start for every body it tracks."""
    bodies = (Body("square", "green", 23.14 / 32, 8.74 / 32, 5.84 / 32, 16.89 / 32, 0.0),
              Body("circle", "red", 8.71 / 32, 11.27 / 32, 6.19 / 32, -12.16 / 32, 0.0),
              Body("circle", "red", 16.82 / 32, 13.09 / 32, 6.03 / 32, 18.08 / 32, 0.0))
    scene = MotionScene("white", bodies, Physics())
    request = VideoRequest("a green square bouncing and two red circles bouncing", 0, 30,
                           render_frames(simulate(scene, 4, 30)))
    seen = perceive(request)
    assert seen.scene is not None and seen.found == 3


def test_bodies_that_touch_in_every_frame_are_read_from_the_blob() -> None:
    """Two green squares falling side by side, their boxes overlapping (their discs do
    not: the simulator's bodies are discs), are one blob in every context frame: both
    are read from its pixels (perception 5 found neither)."""
    bodies = (Body("square", "green", 17.118 / 32, 5.450 / 32, 6.296 / 32),
              Body("square", "green", 11.387 / 32, 9.551 / 32, 6.017 / 32))
    scene = MotionScene("white", bodies, Physics(gravity=2.0))
    request = VideoRequest("two green squares falling", 0, 30,
                           render_frames(simulate(scene, 4, 30)))
    seen = perceive(request)
    assert seen.scene is not None and seen.found == 2
    for p, b in _matched(seen.scene, scene):
        assert abs(p.x - b.x) * 32 < 0.05 and abs(p.y - b.y) * 32 < 0.05
        assert abs(p.size - b.size) * 32 < 0.05


def test_a_body_seen_apart_in_one_frame_only_gets_its_velocity_from_the_blob() -> None:
    """A yellow circle and a purple square touch in the first three context frames (a
    blob) and part in the fourth: their velocities are read from every frame's pixels,
    not set to zero as a one-frame track would (perception 5: misfit ~1e6)."""
    bodies = (Body("circle", "yellow", 20.899 / 32, 5.097 / 32, 5.860 / 32, -13.798 / 32),
              Body("circle", "yellow", 17.029 / 32, 23.066 / 32, 6.188 / 32, -11.627 / 32),
              Body("square", "purple", 24.221 / 32, 10.853 / 32, 5.574 / 32, 7.960 / 32),
              Body("square", "purple", 5.875 / 32, 26.966 / 32, 6.207 / 32, 6.658 / 32))
    scene = MotionScene("white", bodies, Physics(gravity=0.0))
    request = VideoRequest("two yellow circles drifting left and two purple squares "
                           "drifting right", 0, 30, render_frames(simulate(scene, 4, 30)))
    seen = perceive(request)
    assert seen.scene is not None and seen.found == 4
    assert misfit(seen.scene, request.context, 30) < 100
    for p, b in _matched(seen.scene, scene):
        assert abs(p.vx - b.vx) * 32 < 0.5  # px/s


def test_empty_view_repeats_the_last_frame() -> None:
    item = splits.sample("uniform", "test", 1, seed=0)[0]
    blank = np.zeros((4, 32, 32, 3), np.uint8)
    request = VideoRequest(item.prompt, 0, 30, blank)
    assert perceive(request).scene is None
    np.testing.assert_array_equal(PhysicsVideo().start(request).next(3), blank[:3])


def test_prompt_outside_the_grammar() -> None:
    context = np.zeros((4, 32, 32, 3), np.uint8)
    with pytest.raises(ParseError):
        perceive(VideoRequest("a red blob flying", 0, 30, context))
    with pytest.raises(SpecError):
        perceive(VideoRequest("a red circle falling and a blue square drifting left", 0, 30,
                              context))


def test_video_physics_tracks_a_drifting_body() -> None:
    """One body drifting between the walls: perception alone limits the error, which
    stays under half a pixel for 2 s and grows with the velocity's error after."""
    item = next(i for i in splits.sample("uniform", "test", 20, seed=3)
                if len(i.scene.bodies) == 1)
    truth = simulate(item.scene, 300, 30)
    frames = render_frames(truth)
    out = PhysicsVideo().start(VideoRequest(item.prompt, 0, 30, frames[:4])).next(296)
    result = track(np.concatenate([frames[:4], out]), truth)
    assert np.nanmean(result.count_ok) == 1.0
    assert np.nanmax(result.position_error_px[:60]) < 0.5
