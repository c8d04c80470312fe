"""The compiled simulator steps give the numpy reference's states to the last bit."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.worlds.motion import physics, splits
from genlab.worlds.motion.physics import State, advance, advance_numpy
from genlab.worlds.motion.spec import Body, MotionScene, Physics


def _same(scene: MotionScene, steps: int, chunk: int = 8) -> None:
    """Both paths, ``chunk`` steps a call as ``simulate`` at 30 fps takes them."""
    a = b = State.initial(scene)
    for _ in range(steps // chunk):
        a, b = advance(scene, a, chunk), advance_numpy(scene, b, chunk)
        assert a.step == b.step
        assert np.array_equal(a.pos, b.pos) and np.array_equal(a.vel, b.vel), a.step


@pytest.mark.parametrize("scenario", splits.SCENARIOS)
def test_kernel_equals_numpy_on_sampled_scenes(scenario: str) -> None:
    """Every split's scenes of each scenario, 10 s each: bounces, resting bodies,
    collisions, held-out speeds and combinations."""
    for split in splits.SPLITS:
        for item in splits.sample(scenario, split, 3, seed=11):
            _same(item.scene, 10 * physics.SIM_HZ)


EDGE_CASES = {
    "coincident centres": MotionScene("white", (
        Body("circle", "red", 0.5, 0.5, 0.2, 0.1, 0.0),
        Body("square", "blue", 0.5, 0.5, 0.1, 0.1, 0.0)), Physics()),  # dist 0 at a step
    "a crowd colliding under gravity": MotionScene("white", tuple(
        Body("circle", c, 0.15 + 0.14 * i, 0.3 + 0.1 * (i % 2), 0.14, 0.9 - 0.3 * i, 0.2)
        for i, c in enumerate(("red", "blue", "green", "yellow", "purple", "cyan"))),
        Physics(gravity=3.0)),
    "no walls, floor or collisions": MotionScene("white", (
        Body("triangle", "cyan", 0.5, 0.5, 0.1, 0.6, -0.3),
        Body("circle", "red", 0.52, 0.5, 0.1, -0.6, 0.3)),
        Physics(gravity=1.0, walls=False, floor=False, collisions=False)),
    "resting on the floor": MotionScene("white", (
        Body("square", "green", 0.3, 0.9, 0.2, 0.0, 0.0),), Physics(gravity=2.0)),
}


@pytest.mark.parametrize("name", EDGE_CASES)
def test_kernel_equals_numpy_on_edge_cases(name: str) -> None:
    _same(EDGE_CASES[name], 10 * physics.SIM_HZ, chunk=5)


def test_without_numba_the_reference_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    scene = EDGE_CASES["a crowd colliding under gravity"]
    assert physics._kernel() is not None  # numba is a dependency: the kernel is used
    fast = advance(scene, State.initial(scene), 240)
    monkeypatch.setattr(physics, "_kernel", lambda: None)
    slow = advance(scene, State.initial(scene), 240)
    assert np.array_equal(fast.pos, slow.pos) and np.array_equal(fast.vel, slow.vel)
