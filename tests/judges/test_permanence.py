"""Object permanence from a video's own pixels (judge ``tracking`` 1.3): the simulator's
frames keep it, bodies leaving and returning through the open top included; a body
that vanishes, pops in, is doubled or goes through a wall breaks it."""

from __future__ import annotations

import dataclasses

import numpy as np

from genlab.judges.permanence import permanence, speed_bound
from genlab.judges.tracking import parse, track
from genlab.worlds.motion import splits
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import Trajectory, simulate
from genlab.worlds.motion.spec import Body, MotionScene, Physics

GRAVITY = Physics(gravity=2.0)


def _judge(traj: Trajectory, pos: np.ndarray | None = None,
           scene: MotionScene | None = None) -> np.ndarray:
    """``permanence_ok`` of ``traj``'s frames drawn at ``pos`` (default its own)."""
    shown = dataclasses.replace(traj, pos=traj.pos if pos is None else pos,
                                scene=scene or traj.scene)
    frames = render_frames(shown)
    return permanence(parse(frames, traj.scene.bodies), traj.scene, 32, traj.fps)


def _up_and_back() -> Trajectory:
    up = MotionScene("white", (Body("circle", "green", 0.5, 0.6, 0.12, 0.0, -2.2),
                               Body("triangle", "blue", 0.2, 0.9, 0.12)), GRAVITY)
    return simulate(up, 75, 30)


def test_the_simulators_frames_keep_permanence_through_the_open_top() -> None:
    traj = _up_and_back()
    assert (~traj.visible()[:, 0]).any()  # the green disc is out of view for a while
    ok = _judge(traj)
    assert np.isfinite(ok).all() and (ok == 1).all()
    assert track(render_frames(traj), traj).mean("permanence_ok") == 1.0


def test_test_split_videos_keep_permanence() -> None:
    for scenario in splits.SCENARIOS:
        for item in splits.sample(scenario, "test", 2):
            ok = _judge(simulate(item.scene, 150, 30))
            assert np.nanmin(ok) == 1.0, item.prompt


def test_a_body_that_vanishes_in_view_fails_every_frame_until_it_is_back() -> None:
    traj = _up_and_back()
    pos = traj.pos.copy()
    pos[20:40, 1] = [5.0, 5.0]  # the blue triangle (resting on the floor) is gone
    ok = _judge(traj, pos)
    assert (ok[:20] == 1).all() and (ok[20:40] == 0).all()
    assert ok[40] == 0 and (ok[41:] == 1).all()  # it pops back in view: that frame fails


def test_a_body_that_pops_into_view_fails_the_frame_it_appears() -> None:
    traj = _up_and_back()
    pos = traj.pos.copy()
    pos[:30, 1] = [5.0, 5.0]  # the triangle is not there at first: out of view, it is out
    ok = _judge(traj, pos)
    assert (ok[:30] == 1).all() and ok[30] == 0 and (ok[31:] == 1).all()


def test_a_doubled_body_fails_while_it_is_there() -> None:
    traj = _up_and_back()
    twin = traj.pos[:, 1:].copy()
    twin[:, 0, 0] += 0.5
    twin[:25] = 5.0
    scene = dataclasses.replace(traj.scene, bodies=(*traj.scene.bodies, traj.scene.bodies[1]))
    ok = _judge(traj, np.concatenate([traj.pos, twin], axis=1), scene)
    assert (ok[:25] == 1).all() and (ok[25:] == 0).all()


def test_leaving_through_a_side_is_a_violation_only_where_there_is_a_wall() -> None:
    for walls in (True, False):
        scene = MotionScene("white", (Body("square", "red", 0.3, 0.5, 0.14, -1.0, 0.0),),
                            Physics(walls=walls))
        traj = simulate(scene, 40, 30)
        pos = traj.pos.copy()
        pos[:, 0, 0] = 0.3 - np.arange(40) / 30  # slides left through the side, no bounce
        ok = _judge(traj, pos)
        assert ok[0] == 1
        if walls:
            assert (ok[-5:] == 0).all()
        else:
            assert np.nanmin(ok) == 1.0


def test_no_body_moves_faster_than_the_bound() -> None:
    for scenario in splits.SCENARIOS:
        for item in splits.sample(scenario, "test", 3):
            traj = simulate(item.scene, 600, 30)
            bound = speed_bound(item.scene)
            speed = np.linalg.norm(traj.vel, axis=-1).max(axis=0)
            for b, v in zip(item.scene.bodies, speed, strict=True):
                assert v <= bound[b.colour] + 1e-9, item.prompt


def test_under_gravity_a_body_out_through_the_top_must_fall_back() -> None:
    up = MotionScene("white", (Body("circle", "green", 0.5, 0.6, 0.12, 0.0, -2.2),
                               Body("triangle", "blue", 0.2, 0.9, 0.12)), GRAVITY)
    traj = simulate(up, 240, 30)
    gone = int(np.flatnonzero(~traj.visible()[:, 0])[0])
    pos = traj.pos.copy()
    pos[gone:, 0] = [5.0, 5.0]  # out through the top, and never back
    ok = _judge(traj, pos)
    flight = 2 * speed_bound(up)["green"] / 2.0  # the bound's longest flight, seconds
    due = gone + int(np.ceil(flight * 30)) + 1
    assert due < 240
    assert (ok[:due - 1] == 1).all() and (ok[due + 1:] == 0).all()
    weightless = dataclasses.replace(up, physics=Physics())  # nothing brings it back
    assert np.nanmin(permanence(parse(render_frames(dataclasses.replace(traj, pos=pos)),
                                      up.bodies), weightless, 32, 30)) == 1.0
