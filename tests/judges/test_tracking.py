"""Judge ``tracking``: the simulator's own frames score perfectly; each defect is caught."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.errors import InputError
from genlab.judges.tracking import track
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate
from genlab.worlds.motion.spec import Body, MotionScene, Physics

GRAVITY = Physics(gravity=2.0)


def _two_red() -> MotionScene:
    return MotionScene("white", (Body("circle", "red", 0.25, 0.4, 0.14, 0.5, 0.0),
                                 Body("circle", "red", 0.75, 0.3, 0.14, -0.3, 0.0),
                                 Body("square", "blue", 0.5, 0.85, 0.16, 0.4, 0.0)), GRAVITY)


def test_the_simulators_frames_score_perfectly() -> None:
    traj = simulate(_two_red(), 90, 30)
    result = track(render_frames(traj), traj)
    for name in ("count_ok", "colour_ok", "identity_ok"):
        assert result.mean(name) == 1.0, name
    assert np.isfinite(result.count_ok).mean() > 0.5  # touching bodies are not judged
    assert np.nanmax(result.position_error_px) < 0.75 and result.flicker.max() == 0.0
    starts, curve = result.curve("count_ok", 1.0)
    assert list(starts) == [0.0, 1.0, 2.0] and (curve == 1.0).all()


def test_a_body_that_leaves_and_returns_keeps_its_identity() -> None:
    up = MotionScene("white", (Body("circle", "green", 0.5, 0.6, 0.12, 0.0, -2.2),
                               Body("triangle", "blue", 0.2, 0.9, 0.12)), GRAVITY)
    traj = simulate(up, 75, 30)
    out = ~traj.visible()[:, 0]
    assert out.any() and not out[-1]  # it leaves through the top and falls back
    result = track(render_frames(traj), traj)
    assert result.mean("identity_ok") == 1.0 and result.mean("count_ok") == 1.0
    back = np.flatnonzero(out)[-1] + 1  # the first frame after its return
    assert np.isfinite(result.identity_ok[back:]).any()


def test_a_frozen_video_drifts_and_a_swap_breaks_identity() -> None:
    traj = simulate(_two_red(), 60, 30)
    frames = render_frames(traj)
    frozen = track(np.repeat(frames[:1], len(frames), axis=0), traj)
    assert frozen.position_error_px[0] < 0.75 < frozen.position_error_px[-1]
    assert frozen.mean("position_error_px", 30) > frozen.mean("position_error_px", 0, 5)

def test_an_object_that_jumps_to_another_bodys_path_breaks_identity() -> None:
    # Two red discs far apart; from frame 20 the video's left disc follows the right
    # body's path and the right one vanishes: the left track is now matched to the
    # other body, and the count is short.
    bodies = (Body("circle", "red", 0.2, 0.3, 0.12, 0.0, 0.0),
              Body("circle", "red", 0.45, 0.7, 0.12, 0.3, 0.0))
    reference = simulate(MotionScene("white", bodies, Physics()), 40, 30)
    fake = reference.pos.copy()
    step = np.linspace(0, 1, 8)[:, None]
    fake[20:28, 0] = (1 - step) * reference.pos[19, 0] + step * reference.pos[27, 1]
    fake[28:, 0] = reference.pos[28:, 1]
    fake[20:, 1] = [5.0, 5.0]  # far out of view
    video = render_frames(type(reference)(reference.scene, 30, 0, fake, reference.vel,
                                          reference.end))
    result = track(video, reference)
    assert result.identity_ok[:20].min() == 1.0 and result.identity_ok[28:].max() == 0.0
    assert result.count_ok[20:].max() == 0.0


def test_colour_drift_and_lost_objects_are_caught() -> None:
    traj = simulate(_two_red(), 10, 30)
    frames = render_frames(traj)
    drifted = frames.copy()
    blue = (drifted == np.array([40, 70, 225], np.uint8)).all(-1)
    drifted[5:][blue[5:]] = np.array([40, 170, 60], np.uint8)  # the square turns green
    result = track(drifted, traj)
    assert result.colour_ok[:5].all() and not result.colour_ok[5:].any()
    assert not result.count_ok[5:].any()
    blank = np.full_like(frames, 255)
    assert not track(blank, traj).count_ok.any()
    assert np.isnan(track(blank, traj).position_error_px).all()
    noisy = frames.copy()
    noisy[1::2, :2, :2] = 0  # a corner blinks on the background every other frame
    assert track(noisy, traj).flicker[1:].min() > 0


def test_bad_input_is_loud() -> None:
    traj = simulate(_two_red(), 5, 30)
    with pytest.raises(InputError, match="4 frames against a reference of 5"):
        track(render_frames(traj)[:4], traj)
    with pytest.raises(InputError, match="uint8"):
        track(render_frames(traj).astype(np.float32), traj)
    with pytest.raises(InputError, match="unknown tracking series 'speed'"):
        track(render_frames(traj), traj).mean("speed")
