"""``video-objects``: the learned object dynamics, its training data and its errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from genlab.errors import InputError
from genlab.generators.video.dynamics import Dynamics, ObjectsConfig, learned_trajectory
from genlab.generators.video.objects import Transitions
from genlab.worlds.motion import splits
from genlab.worlds.motion.grammar import MAX_BODIES
from genlab.worlds.motion.physics import SIM_HZ, State, advance

SMOKE = ObjectsConfig.smoke()


def test_transitions_are_the_simulator_states() -> None:
    data = Transitions.of(dataclasses.replace(SMOKE, recover=0))
    frames = SMOKE.scene_frames - 1
    assert len(data.event) == 3 * SMOKE.scenes_per_scenario * frames
    assert data.pos.shape == (len(data.event), MAX_BODIES, 2)
    # consecutive transitions of one scene chain: this one's next state is the next's state
    np.testing.assert_array_equal(data.next_pos[:frames - 1], data.pos[1:frames])
    # padding bodies are masked out and zero
    assert not data.pos[~data.mask].any() and data.mask.any(axis=1).all()
    # free flight is no event; a velocity change beyond gravity is
    dt = 1.0 / SMOKE.fps
    jump = np.abs(data.next_vel - data.vel - np.array([0.0, 1.0])[None, None]
                  * data.gravity[:, None, None] * dt).max(axis=2)
    free = np.where(data.mask, jump, 0.0).max(axis=1) <= 1e-3
    np.testing.assert_array_equal(~data.event, free)


def test_recoveries_are_the_simulator_from_off_path_states() -> None:
    """Near-contact frames get noisy copies whose next state is the simulator's own."""
    clean = Transitions.of(dataclasses.replace(SMOKE, recover=0))
    data = Transitions.of(dataclasses.replace(SMOKE, recover=2))
    assert len(data.event) > len(clean.event)
    scene = splits.sample("uniform", "train", SMOKE.scenes_per_scenario, seed=SMOKE.seed)[0].scene
    per = SIM_HZ // SMOKE.fps
    n = len(scene.bodies)
    extra = slice(SMOKE.scene_frames - 1, None)  # this scene's recoveries follow its clean rows
    pos, vel = data.pos[extra][0, :n], data.vel[extra][0, :n]
    step = advance(scene, State(0, pos, vel), per)
    np.testing.assert_allclose(data.next_pos[extra][0, :n], step.pos)
    np.testing.assert_allclose(data.next_vel[extra][0, :n], step.vel)


def test_padding_bodies_never_move() -> None:
    net = Dynamics(SMOKE)
    pos, vel = torch.rand(2, 4, 2), torch.randn(2, 4, 2)
    mask = torch.tensor([[True, True, False, False], [True, False, False, False]])
    new_pos, new_vel = net(pos, vel, torch.full((2, 4), 0.05), mask, torch.tensor([0.0, 2.0]))
    assert torch.equal(new_pos[~mask], pos[~mask]) and torch.equal(new_vel[~mask], vel[~mask])
    assert new_pos.shape == pos.shape and torch.isfinite(new_pos).all()


@pytest.mark.parametrize("change", [{"fps": 7}, {"width": 0}, {"reach": 0.0}, {"noise": -1.0},
                                    {"event_share": 1.5}, {"lr": 2.0}, {"recover": -1},
                                    {"recover_noise": 0.5}, {"substeps": 0},
                                    {"substeps": 3}, {"heads": "cubic"}, {"chain": 1}])
def test_bad_config(change: dict) -> None:
    with pytest.raises(InputError):
        dataclasses.replace(SMOKE, **change)


def test_substeps_step_at_their_rate() -> None:
    """With substeps the transitions are one network step apart (the simulator's states
    at ``fps * substeps``), and a rollout still returns one state a frame."""
    config = dataclasses.replace(SMOKE, substeps=4, recover=0)
    data = Transitions.of(config)
    per_scene = SMOKE.scene_frames * 4 - 1
    assert len(data.event) == 3 * SMOKE.scenes_per_scenario * per_scene
    scene = splits.sample("uniform", "train", SMOKE.scenes_per_scenario, seed=SMOKE.seed)[0].scene
    n = len(scene.bodies)
    step = advance(scene, State(0, data.pos[0, :n], data.vel[0, :n]), SIM_HZ // config.rate)
    np.testing.assert_allclose(data.next_pos[0, :n], step.pos)
    traj = learned_trajectory(Dynamics(config), scene, State.initial(scene), 5)
    assert traj.pos.shape == (5, n, 2) and traj.fps == SMOKE.fps
    assert traj.end.step == 5 * SIM_HZ // SMOKE.fps


def test_free_flight_is_exact_at_any_substeps_and_heads() -> None:
    """Far from walls and bodies the gate is shut: k steps of 1/(fps k) s are the
    integrator's free flight over the frame, with either kind of head."""
    pos = torch.tensor([[[0.5, 0.3]]])
    vel = torch.tensor([[[0.2, -0.1]]])
    radius, mask, gravity = torch.full((1, 1), 0.05), torch.ones(1, 1, dtype=torch.bool), \
        torch.tensor([2.0])
    ends = []
    for substeps, heads, chain in ((1, "mlp", False), (4, "linear", True), (8, "mlp", True)):
        net = Dynamics(dataclasses.replace(SMOKE, substeps=substeps, heads=heads, chain=chain))
        p, v = pos, vel
        for _ in range(substeps):
            p, v = net(p, v, radius, mask, gravity)
        ends.append((p, v))
    for p, v in ends[1:]:
        torch.testing.assert_close(p, ends[0][0])
        torch.testing.assert_close(v, ends[0][1])


def test_added_fields_keep_old_keys() -> None:
    """A field added later changes the cache key only away from its default."""
    base = ObjectsConfig()
    assert dataclasses.replace(base, substeps=1, heads="mlp", chain=False).key() == base.key()
    assert dataclasses.replace(base, chain=True).key() != base.key()
    assert dataclasses.replace(base, substeps=2).key() != base.key()
    assert dataclasses.replace(base, heads="linear").key() != base.key()


def test_chain_lets_the_pair_network_see_a_bounce() -> None:
    """A body falling onto the floor with another just above it: the floor reverses its
    velocity (a wall network made to answer -3 on the normal velocity), so it strikes
    the one above within the step. Without ``chain`` the pair network sees the bodies
    parting (its gate stays shut); with it, the velocities after the floor's answer, so
    the pair answers too. A lone body moves the same either way."""
    torch.manual_seed(0)
    plain = Dynamics(SMOKE)
    with torch.no_grad():
        plain.wall[-1].weight.zero_()
        plain.wall[-1].bias.copy_(torch.tensor([-3.0, 0.0, 0.0, 0.0]))
    chained = Dynamics(dataclasses.replace(SMOKE, chain=True))
    chained.load_state_dict(plain.state_dict())
    radius, gravity = torch.full((1, 2), 0.05), torch.tensor([2.0])
    pos = torch.tensor([[[0.5, 0.949], [0.5, 0.839]]])
    vel = torch.tensor([[[0.0, 1.5], [0.0, 0.0]]])
    lone = torch.tensor([[True, False]])
    torch.testing.assert_close(plain(pos, vel, radius, lone, gravity),
                               chained(pos, vel, radius, lone, gravity))
    both = torch.ones(1, 2, dtype=torch.bool)
    free = Dynamics(SMOKE)
    free.load_state_dict(plain.state_dict())
    with torch.no_grad():
        free.pair[-1].weight.zero_()
        free.pair[-1].bias.zero_()
    # without chain the pair network's answer is gated off: as if it answered nothing
    torch.testing.assert_close(plain(pos, vel, radius, both, gravity),
                               free(pos, vel, radius, both, gravity))
    assert not torch.equal(plain(pos, vel, radius, both, gravity)[1],
                           chained(pos, vel, radius, both, gravity)[1])
