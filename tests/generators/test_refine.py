"""The refinements of a reading against the context's pixels (``refine``): ``centre``."""

from __future__ import annotations

import dataclasses

import numpy as np

from genlab.generators.video.refine import centre, misfit
from genlab.generators.video.twin import find_twin, motions_of
from genlab.worlds.motion import splits
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate


def test_centre_moves_an_edge_reading_toward_the_middle() -> None:
    """``video-twin``'s start lies at the edge of the starts that render the context;
    ``centre`` keeps every pixel and brings the velocities nearer the truth's (the truth
    is one point of the set, so the set's middle is nearer it on average than its edge)."""
    edge, middle = [], []
    for n, item in enumerate(splits.sample("uniform", "test", 6, seed=5)):
        context = render_frames(simulate(item.scene, 4, 30))
        motions = motions_of(item.scene, item.prompt)
        twin = find_twin(item.scene, item.prompt, context, 30, seed=0).scene
        centred = centre(twin, motions, context, 30)
        assert misfit(centred, context, 30) == 0.0
        assert n or centre(twin, motions, context, 30) == centred  # deterministic
        for t, c, b in zip(twin.bodies, centred.bodies, item.scene.bodies, strict=True):
            edge.append(np.hypot(t.vx - b.vx, t.vy - b.vy) * 32)
            middle.append(np.hypot(c.vx - b.vx, c.vy - b.vy) * 32)
    assert np.mean(middle) < 0.8 * np.mean(edge)


def test_centre_leaves_an_inexact_reading_alone() -> None:
    """Off the set (some pixel differs) there is no set to take the middle of."""
    item = splits.sample("uniform", "test", 1, seed=5)[0]
    context = render_frames(simulate(item.scene, 4, 30))
    first = item.scene.bodies[0]
    moved = dataclasses.replace(item.scene, bodies=(
        dataclasses.replace(first, x=first.x + 0.02), *item.scene.bodies[1:]))
    assert misfit(moved, context, 30) > 0
    assert centre(moved, motions_of(item.scene, item.prompt), context, 30) == moved
