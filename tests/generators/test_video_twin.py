"""``video-twin``: a start the context cannot tell apart from the truth's."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from genlab.contracts import VideoRequest
from genlab.errors import GenlabError, InputError
from genlab.generators.video.refine import misfit
from genlab.generators.video.twin import TwinVideo, find_twin, motions_of
from genlab.worlds.motion import grammar, splits
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate
from genlab.worlds.motion.spec import Body, MotionScene, Physics

K, FPS, SIZE = 4, 30, 32


def _context(scene: MotionScene) -> np.ndarray:
    return render_frames(simulate(scene, K, FPS), SIZE)


def _scene(prompt: str, seed: int = 3) -> MotionScene:
    return grammar.realise(grammar.parse(prompt), np.random.default_rng(seed))


def test_the_twin_renders_the_context_exactly_and_is_another_start() -> None:
    prompt = "a red circle bouncing and a blue square sliding left"
    scene = _scene(prompt)
    context = _context(scene)
    twin = find_twin(scene, prompt, context, FPS, seed=0)
    assert misfit(twin.scene, context, FPS) == 0.0
    assert 1e-6 < twin.step_px < 0.1
    moved_px = np.abs(np.array([[b.x - t.x, b.y - t.y] for b, t in
                                zip(scene.bodies, twin.scene.bodies, strict=True)])) * SIZE
    assert moved_px.max() > 0
    # the prompt still holds: a sliding body stays on the floor with no vertical speed,
    # a bouncing one starts with none; shapes and colours are the truth's
    bouncing, sliding = twin.scene.bodies
    assert sliding.y + sliding.radius == pytest.approx(1.0, abs=1e-12)
    assert sliding.vy == 0.0 and bouncing.vy == 0.0
    for b, t in zip(scene.bodies, twin.scene.bodies, strict=True):
        assert (b.shape, b.colour) == (t.shape, t.colour)
        assert abs(b.size - t.size) * SIZE <= twin.step_px


def test_a_collision_pair_stays_on_its_line() -> None:
    item = splits.sample("collision", "test", 1, seed=5)[0]
    context = _context(item.scene)
    twin = find_twin(item.scene, item.prompt, context, FPS, seed=1)
    left, right = twin.scene.bodies
    assert twin.step_px > 0 and left.y == right.y
    assert misfit(twin.scene, context, FPS) == 0.0


def test_the_twin_is_deterministic_in_its_seed() -> None:
    prompt = "two green triangles drifting left"
    scene = _scene(prompt, seed=7)
    context = _context(scene)
    a, b = (find_twin(scene, prompt, context, FPS, seed=2) for _ in range(2))
    assert a == b
    assert find_twin(scene, prompt, context, FPS, seed=3).scene != a.scene


def test_bad_inputs_are_clear_errors() -> None:
    prompt = "a yellow circle drifting right"
    scene = _scene(prompt)
    context = _context(scene)
    with pytest.raises(GenlabError, match="do not realise the prompt"):
        motions_of(scene, "a blue square drifting right")
    shifted = dataclasses.replace(scene, bodies=(dataclasses.replace(scene.bodies[0],
                                                                     x=scene.bodies[0].x + 0.1),))
    with pytest.raises(GenlabError, match="not the scene's own render"):
        find_twin(shifted, prompt, context, FPS, seed=0)
    with pytest.raises(GenlabError, match=">= 2 context frames"):
        find_twin(scene, prompt, context[:1], FPS, seed=0)
    with pytest.raises(InputError, match="privileged"):
        TwinVideo().start(VideoRequest(prompt, 0, FPS, context))


def test_the_rollout_resumes_and_departs_from_the_truth_only_slowly() -> None:
    prompt = "a yellow circle drifting right and a cyan triangle drifting left"
    scene = _scene(prompt, seed=11)
    context = _context(scene)
    request = VideoRequest(prompt, 4, FPS, context, scene.to_json())
    whole = TwinVideo().start(request).next(60)
    first = TwinVideo().start(request)
    part = first.next(25)
    rest = TwinVideo().start(request, resume=first.state()).next(35)
    np.testing.assert_array_equal(whole, np.concatenate([part, rest]))
    truth = render_frames(simulate(scene, 60, FPS, start=simulate(scene, K, FPS).end), SIZE)
    # two seconds on, the twin's frames differ from the truth's by a few levels at most
    assert np.abs(whole.astype(int) - truth).max() <= 8


def test_a_chance_pair_at_one_height_is_not_tied() -> None:
    """Two bodies drifting apart 0.14 px from one height are no collision pair: the twin
    moves each on its own (tying them would change the context's pixels, so the walk
    could move neither)."""
    bodies = (Body("circle", "blue", 26.96 / 32, 14.013 / 32, 5.89 / 32, -17.6 / 32, 0.0),
              Body("circle", "yellow", 3.41 / 32, 13.874 / 32, 6.30 / 32, 18.7 / 32, 0.0))
    scene = MotionScene("white", bodies, Physics(gravity=0.0))
    prompt = "a blue circle drifting left and a yellow circle drifting right"
    context = _context(scene)
    twin = find_twin(scene, prompt, context, FPS, seed=0)
    assert twin.step_px > 0 and misfit(twin.scene, context, FPS) == 0.0
    assert twin.scene.bodies[0].y != twin.scene.bodies[1].y
