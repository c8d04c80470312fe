"""The renderer's expected pixels (``shapes.soft``) against its uint8 pixels."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.errors import InputError
from genlab.worlds.motion import splits
from genlab.worlds.motion.frames import expected_frames, render_frames
from genlab.worlds.motion.physics import simulate
from genlab.worlds.shapes.soft import expected_images


@pytest.mark.parametrize("scenario", splits.SCENARIOS)
def test_expected_pixels_are_the_renders_before_their_steps(scenario: str) -> None:
    """Every pixel within 1.5 levels of the renderer's (one 8-bit coverage step of the
    colour difference, plus the rounding of the composite), the mean difference near 0
    (the steps are taken in the middle), and exact where no edge is."""
    for item in splits.sample(scenario, "test", 4, seed=3):
        traj = simulate(item.scene, 30, 30)
        rendered = render_frames(traj, 32).astype(np.float64)
        expected = expected_frames(traj, 32)
        diff = expected - rendered
        assert np.abs(diff).max() <= 1.5
        edges = np.abs(diff).sum(-1) > 0
        assert edges.mean() < 0.2
        assert abs(diff[edges].mean()) < 0.25


def test_bad_input() -> None:
    centres = np.zeros((1, 1, 2))
    with pytest.raises(InputError, match="hexagon"):
        expected_images(["hexagon"], ["red"], centres, np.array([0.1]), "white", 32)
    with pytest.raises(InputError, match="one of each per object"):
        expected_images(["circle", "square"], ["red"], centres, np.array([0.1]), "white", 32)
