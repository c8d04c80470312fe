"""The exact pixel constraints of bodies seen alone, and their centroid (``inscribe``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from genlab.errors import InputError
from genlab.generators.video.inscribe import Constraints, inscribe, members
from genlab.generators.video.refine import free_fields, misfit
from genlab.generators.video.twin import find_twin, motions_of
from genlab.worlds.motion import splits
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.render import coverage_pixels


def _scenes(n: int = 6) -> list[tuple[splits.MotionItem, np.ndarray]]:
    return [(item, render_frames(simulate(item.scene, 4, 30)))
            for item in splits.sample("uniform", "test", n, seed=5)]


def test_coverage_pixels_run_from_the_background_to_the_colour() -> None:
    row = coverage_pixels("red", "white")
    assert row.shape == (256, 3) and row.dtype == np.uint8
    assert tuple(row[0]) == vocab.BACKGROUNDS["white"]
    assert tuple(row[255]) == vocab.COLOURS["red"]
    with pytest.raises(InputError, match="'mauve'.*red"):
        coverage_pixels("mauve", "white")


def test_the_truth_lies_inside_its_own_pixel_constraints() -> None:
    """Each constraint is read from a pixel through the renderer's own table, so the
    true start meets every one (depth > 0), and a start 0.01 px away meets fewer."""
    checked = 0
    for item, context in _scenes():
        for j in range(len(item.scene.bodies)):
            c = Constraints.read(item.scene, j, context, 30)
            if not len(c):
                continue
            checked += 1
            assert c.depth(c.distances(item.scene, simulate(item.scene, 4, 30).pos)) > 0
            b = item.scene.bodies[j]
            off = dataclasses.replace(item.scene, bodies=(
                *item.scene.bodies[:j], dataclasses.replace(b, x=b.x + 0.01 / 32),
                *item.scene.bodies[j + 1:]))
            assert c.depth(c.distances(off, simulate(off, 4, 30).pos)) < 0
    assert checked >= 6


def test_inscribe_takes_edge_readings_to_one_middle() -> None:
    """Two starts at the set's edge (``video-twin`` walked two ways) go to nearly one
    start, its centroid: every pixel kept, every body moved, the two velocities far
    nearer each other than the edges' (the walk's own spread is what is left)."""
    edges, middles = [], []
    for item, context in _scenes():
        motions = motions_of(item.scene, item.prompt)
        twins = [find_twin(item.scene, item.prompt, context, 30, seed=s).scene for s in (0, 1)]
        outs = []
        for twin in twins:
            out, done = inscribe(twin, motions, context, 30)
            assert misfit(out, context, 30) == 0.0
            assert done == frozenset(range(len(motions)))
            outs.append(out)
        for pair, into in ((twins, edges), (outs, middles)):
            into += [np.hypot(a.vx - b.vx, a.vy - b.vy) * 32
                     for a, b in zip(pair[0].bodies, pair[1].bodies, strict=True)]
    assert np.mean(middles) < 0.5 * np.mean(edges)


def test_inscribe_brings_an_inexact_reading_into_the_set() -> None:
    """A start 0.02 px off renders some pixels wrong; the linear programs find the
    starts that render them all."""
    item, context = _scenes(1)[0]
    first = item.scene.bodies[0]
    moved = dataclasses.replace(item.scene, bodies=(
        dataclasses.replace(first, x=first.x + 0.02 / 32), *item.scene.bodies[1:]))
    assert misfit(moved, context, 30) > 0
    out, done = inscribe(moved, motions_of(item.scene, item.prompt), context, 30)
    assert misfit(out, context, 30) == 0.0 and 0 in done


def test_members_render_the_context_and_spread_about_the_truth() -> None:
    """Starts drawn from the set of a scene's truth each render the context pixel for
    pixel, differ from each other, and spread about the truth, which lies in the set like
    one of them (inside the members' range in most coordinates)."""
    inside, total = 0, 0
    for item, context in _scenes(3):
        motions = motions_of(item.scene, item.prompt)
        drawn, which = members(item.scene, motions, context, 30, 8, seed=1)
        assert which == frozenset(range(len(motions))) and len(drawn) == 8
        assert all(misfit(m, context, 30) == 0.0 for m in drawn)
        for j, b in enumerate(item.scene.bodies):
            for field in free_fields(motions[j]):
                values = np.array([getattr(m.bodies[j], field) for m in drawn])
                assert np.ptp(values) > 0
                inside += values.min() <= getattr(b, field) <= values.max()
                total += 1
    assert inside >= 0.6 * total
    again, _ = members(item.scene, motions, context, 30, 8, seed=1)
    assert again == drawn
    with pytest.raises(InputError, match="n=0"):
        members(item.scene, motions, context, 30, 0)
    alone, which = members(item.scene, motions, context[:1], 30, 2)  # no velocity pinned
    assert alone == [item.scene] * 2 and not which
