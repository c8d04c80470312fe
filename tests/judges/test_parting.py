"""Blob parting (judge ``tracking`` 1.2): touching bodies are parted into the scene's
bodies; what they cannot make exactly stays a blob."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

from genlab.errors import InputError
from genlab.judges.detect import BLOB, detect
from genlab.judges.parting import Part, explain, part_blobs
from genlab.judges.tracking import judgeable, touching, track
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate
from genlab.worlds.motion.spec import Body, MotionScene, Physics
from genlab.worlds.shapes.arrays import OBJECT_DTYPE, SHAPE_CODE, SceneArrays
from genlab.worlds.shapes.render import render_arrays


def _frame(*bodies: Body, background: str = "white") -> np.ndarray:
    traj = simulate(MotionScene(background, bodies, Physics()), 1, 30)
    return render_frames(traj)[0]


def _kinds(det) -> Counter:
    return Counter((o.colour, o.shape) for o in det.objects)


def test_two_touching_bodies_of_one_colour_are_parted_where_they_are() -> None:
    a, b = Body("circle", "red", 0.40, 0.5, 0.19), Body("circle", "red", 0.5755, 0.52, 0.17)
    frame = _frame(a, b)
    det = detect(frame)
    assert [o.shape for o in det.objects] == [BLOB]
    parted, found = part_blobs(frame, det, [Part(x.shape, x.colour, x.size) for x in (a, b)])
    assert _kinds(parted) == Counter({("red", "circle"): 2})
    got = sorted((o.cx, o.cy) for o in parted.objects)
    assert np.allclose(got, [(a.x, a.y), (b.x, b.y)], atol=0.3 / 32)
    # the next frame, the pair a little further on: the last parting is the first guess
    a2, b2 = (dataclasses.replace(x, x=x.x + 0.01, y=x.y + 0.005) for x in (a, b))
    frame2 = _frame(a2, b2)
    parts = [Part(x.shape, x.colour, x.size) for x in (a, b)]
    again, found2 = part_blobs(frame2, detect(frame2), parts, hints=found)
    assert _kinds(again) == _kinds(parted) and found2[0].parts == found[0].parts
    assert np.allclose(sorted((o.cx, o.cy) for o in again.objects),
                       [(a2.x, a2.y), (b2.x, b2.y)], atol=0.3 / 32)


def test_two_colours_meeting_are_parted_though_their_edge_mixes_a_third_hue() -> None:
    # yellow and purple anti-aliased together read as red along the seam
    a, b = Body("square", "yellow", 0.40, 0.5, 0.18), Body("circle", "purple", 0.58, 0.5, 0.18)
    frame = _frame(a, b)
    det = detect(frame)
    assert len(det.objects) == 1 and det.objects[0].shape == BLOB
    parts = [Part(x.shape, x.colour, x.size) for x in (a, b)]
    parted, _ = part_blobs(frame, det, parts)
    assert _kinds(parted) == Counter({("yellow", "square"): 1, ("purple", "circle"): 1})
    assert explain(frame, det, parts)[0].error < 0.005


def test_what_the_scene_cannot_make_stays_a_blob() -> None:
    a, b = Body("square", "cyan", 0.40, 0.5, 0.18), Body("square", "cyan", 0.585, 0.5, 0.18)
    parts = [Part("square", "cyan", 0.18), Part("square", "cyan", 0.18)]
    # the second body drawn as a circle: two squares cannot make these pixels
    traj = simulate(MotionScene("white", (a, b), Physics()), 1, 30)
    objs = np.zeros(2, OBJECT_DTYPE)
    objs["shape"] = [SHAPE_CODE["square"], SHAPE_CODE["circle"]]
    objs["colour"] = 3
    objs["x"], objs["y"], objs["size"] = traj.pos[0, :, 0], traj.pos[0, :, 1], 0.18
    frame = render_arrays(SceneArrays(np.zeros(1, np.int8), objs), 32)[0]
    det = detect(frame)
    assert [o.shape for o in det.objects] == [BLOB]
    assert part_blobs(frame, det, parts) == (det, ())
    # bodies of another size, or another colour, cannot make it either
    frame = _frame(a, b)
    for wrong in (Part("square", "cyan", 0.24), Part("square", "red", 0.18)):
        assert part_blobs(frame, detect(frame), [wrong, wrong])[0].objects[0].shape == BLOB


def test_noise_and_scenes_of_one_body_never_crash() -> None:
    rng = np.random.default_rng(0)
    parts = [Part("circle", "red", 0.18), Part("square", "blue", 0.2),
             Part("triangle", "red", 0.17)]
    for _ in range(5):
        noise = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        det = detect(noise)
        assert len(part_blobs(noise, det, parts)[0].objects) >= len(det.objects)
    frame = _frame(Body("circle", "red", 0.4, 0.5, 0.19), Body("circle", "red", 0.5755, 0.52, 0.17))
    det = detect(frame)
    assert part_blobs(frame, det, parts[:1]) == (det, ())  # one body cannot make a blob
    with pytest.raises(InputError, match="square image"):
        part_blobs(frame[:, :30], det, parts)
    with pytest.raises(InputError, match="uint8"):
        part_blobs(frame.astype(np.float32), det, parts)


def test_the_simulators_collisions_are_judged_and_score_perfectly() -> None:
    scene = MotionScene("white", (Body("circle", "red", 0.3, 0.5, 0.15, 0.6, 0.0),
                                  Body("circle", "red", 0.7, 0.5, 0.18, -0.6, 0.0),
                                  Body("square", "blue", 0.5, 0.15, 0.16, 0.2, 0.0)), Physics())
    traj = simulate(scene, 45, 30)
    contact = touching(traj, 32).any(axis=(1, 2))
    assert contact.sum() >= 3  # the two discs meet head on
    result = track(render_frames(traj), traj)
    assert np.isfinite(result.count_ok[contact]).all()
    for name in ("count_ok", "colour_ok", "identity_ok"):
        assert result.mean(name) == 1.0, name
    assert np.nanmax(result.position_error_px) < 0.5


def test_a_group_of_more_than_three_touching_bodies_is_not_judged() -> None:
    def chain(k: int) -> MotionScene:  # k discs in a row, 0.5 px apart
        step = (0.15 + 0.5 / 32)
        return MotionScene("white", tuple(Body("circle", "red", 0.2 + i * step, 0.5, 0.15)
                                          for i in range(k)), Physics())
    assert judgeable(simulate(chain(3), 1, 30), 32).all()
    assert not judgeable(simulate(chain(4), 1, 30), 32).any()
    three = simulate(chain(3), 1, 30)
    result = track(render_frames(three), three)
    assert result.count_ok[0] == 1.0 and result.colour_ok[0] == 1.0


def test_a_part_hidden_under_another_object_does_not_count_it_twice(monkeypatch) -> None:
    # The crowded 10-minute scene of the longvideo track, frames 733-734: at 733 a
    # square and both circles make one blob; at 734 the small circle has come away.
    # Starting from 733's parting, a set of three can hide the small circle under its
    # own detected box (pixels the window leaves out) and fit exactly: judge 1.2
    # counted it twice. A part must show its own pixels (judge 1.3).
    def frame_at(pos):
        bodies = tuple(Body(s, "cyan", x, y, size) for (s, size), (x, y) in zip(
            (("square", 0.1981), ("square", 0.1981), ("circle", 0.1984), ("circle", 0.1773)),
            pos, strict=True))
        return _frame(*bodies), bodies
    first, bodies = frame_at([(0.5596, 0.4698), (0.6742, 0.7118), (0.8728, 0.8601),
                              (0.8881, 0.6512)])
    second, _ = frame_at([(0.5113, 0.4649), (0.6542, 0.722), (0.8369, 0.8958),
                          (0.9018, 0.6301)])
    parts = [Part(b.shape, b.colour, b.size) for b in bodies]
    parted, hints = part_blobs(first, detect(first), parts)
    assert len(parted.objects) == 4 and len(hints[0].parts) == 3
    again, _ = part_blobs(second, detect(second), parts, hints=hints)
    assert _kinds(again) == Counter({("cyan", "square"): 2, ("cyan", "circle"): 2})
    monkeypatch.setattr("genlab.judges.parting.MIN_SHOWN", 0.0)  # the 1.2 rule
    twice, _ = part_blobs(second, detect(second), parts, hints=hints)
    assert len(twice.objects) == 5
