"""World ``motion``: exact, deterministic physics at any frame rate, frames the judge reads."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from genlab.errors import InputError, SpecError
from genlab.judges.detect import detect_batch
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import FPS_CHOICES, SIM_HZ, simulate
from genlab.worlds.motion.spec import Body, MotionScene, Physics

FREE = Physics(gravity=0.0, walls=False, floor=False, collisions=False)


def _bouncing() -> MotionScene:
    return MotionScene("white", (
        Body("circle", "red", 0.3, 0.3, 0.15, 0.5, 0.0),
        Body("circle", "blue", 0.7, 0.4, 0.15, -0.4, 0.1),
        Body("square", "green", 0.5, 0.85, 0.2, 0.8, 0.0)), Physics(gravity=2.0))


def test_scenes_round_trip_and_refuse_bad_values() -> None:
    scene = _bouncing()
    assert MotionScene.from_json(scene.to_json()) == scene
    with pytest.raises(SpecError, match="unknown colour 'pink'; accepted: red"):
        Body("circle", "pink", 0.5, 0.5, 0.1)
    with pytest.raises(SpecError, match="body vx 9.0 must be a finite number in"):
        Body("circle", "red", 0.5, 0.5, 0.1, vx=9.0)
    with pytest.raises(SpecError, match="gravity -1"):
        Physics(gravity=-1)
    with pytest.raises(SpecError, match="outside the side walls"):
        MotionScene("white", (Body("circle", "red", 0.02, 0.5, 0.1),))
    with pytest.raises(SpecError, match="below the floor"):
        MotionScene("white", (Body("circle", "red", 0.5, 0.99, 0.1),))
    with pytest.raises(SpecError, match="at least one body"):
        MotionScene("white", ())
    with pytest.raises(SpecError, match="not a motion scene JSON"):
        MotionScene.from_json('{"background": "white"}')
    with pytest.raises(InputError, match="fps 25 is not one .* accepted: 1, 2, 3"):
        simulate(scene, 10, 25)
    with pytest.raises(InputError, match="frames must be an int >= 1"):
        simulate(scene, 0, 30)
    assert 30 in FPS_CHOICES and 60 in FPS_CHOICES and SIM_HZ % 24 == 0


def test_free_flight_is_exact_and_leaves_the_view() -> None:
    scene = MotionScene("white", (Body("triangle", "cyan", 0.5, 0.5, 0.1, 0.6, -0.3),), FREE)
    traj = simulate(scene, 61, 30)
    t = traj.times
    assert np.allclose(traj.pos[:, 0, 0], 0.5 + 0.6 * t, atol=1e-12)
    assert np.allclose(traj.pos[:, 0, 1], 0.5 - 0.3 * t, atol=1e-12)
    seen = traj.visible()[:, 0]
    assert seen[0] and not seen[-1]  # 0.5 + 0.6 * 2 s is past the right edge
    last = render_frames(traj)[-1]
    assert (last == 255).all()  # only the white background is left


def test_elastic_bounces_and_collisions_conserve_energy() -> None:
    traj = simulate(_bouncing(), 30 * 60, 30)  # one minute
    e = traj.energy()
    assert np.abs(e / e[0] - 1).max() < 0.01  # bounded, no drift (semi-implicit Euler)
    r = np.array([b.radius for b in _bouncing().bodies])
    assert (traj.pos[..., 1] + r <= 1 + 1e-9).all()  # never below the floor
    assert (traj.pos[..., 0] - r >= -1e-9).all() and (traj.pos[..., 0] + r <= 1 + 1e-9).all()


def test_equal_discs_exchange_velocities_head_on() -> None:
    scene = MotionScene("white", (Body("circle", "red", 0.3, 0.5, 0.1, 0.5, 0.0),
                                  Body("circle", "blue", 0.7, 0.5, 0.1, -0.5, 0.0)),
                        dataclasses.replace(FREE, collisions=True))
    traj = simulate(scene, 31, 30)
    p = traj.vel.sum(axis=1)  # equal masses: total momentum per frame
    assert np.allclose(p, p[0], atol=1e-12)
    assert np.allclose(traj.vel[-1], [[-0.5, 0.0], [0.5, 0.0]], atol=1e-12)
    gap = np.linalg.norm(traj.pos[:, 1] - traj.pos[:, 0], axis=1)
    assert gap.min() >= 0.1 - 1.0 / SIM_HZ  # at most one step of overlap


def test_any_frame_rate_and_any_split_give_the_same_states() -> None:
    scene = _bouncing()
    at30, at60 = simulate(scene, 90, 30), simulate(scene, 180, 60)
    assert np.array_equal(at30.pos, at60.pos[::2]) and np.array_equal(at30.vel, at60.vel[::2])
    first = simulate(scene, 40, 30)
    rest = simulate(scene, 50, 30, start=first.end)
    assert rest.first == 40 and rest.times[0] == pytest.approx(40 / 30)
    assert np.array_equal(np.concatenate([first.pos, rest.pos]), at30.pos)
    with pytest.raises(InputError, match="frame boundary"):
        simulate(scene, 5, 30, start=simulate(scene, 3, 240).end)


def test_frames_show_every_body_the_judge_can_read() -> None:
    scene = MotionScene("gray", (Body("circle", "red", 0.25, 0.3, 0.2, 0.2, 0.0),
                                 Body("square", "blue", 0.75, 0.7, 0.2, -0.2, 0.0)), FREE)
    traj = simulate(scene, 4, 30)
    frames = render_frames(traj, 32)
    assert frames.shape == (4, 32, 32, 3) and frames.dtype == np.uint8
    for det, pos in zip(detect_batch(frames), traj.pos, strict=True):
        got = sorted((o.colour, o.shape) for o in det.objects)
        assert got == [("blue", "square"), ("red", "circle")]
        red = next(o for o in det.objects if o.colour == "red")
        assert abs(red.cx - pos[0, 0]) < 0.04 and abs(red.cy - pos[0, 1]) < 0.04


# ---------------------------------------------------------------- the prompt grammar

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from genlab.errors import ParseError  # noqa: E402
from genlab.worlds.motion import grammar  # noqa: E402
from genlab.worlds.motion.grammar import MotionGroup, MotionPrompt  # noqa: E402
from genlab.worlds.shapes import vocab  # noqa: E402


@st.composite
def motion_prompts(draw: st.DrawFn) -> MotionPrompt:
    motions = draw(st.sampled_from([grammar.GRAVITY_MOTIONS, grammar.WEIGHTLESS_MOTIONS]))
    kinds = draw(st.lists(st.tuples(st.sampled_from(list(vocab.COLOURS)),
                                    st.sampled_from(vocab.SHAPES)),
                          min_size=1, max_size=3, unique=True))
    counts = draw(st.lists(st.integers(1, 2 if len(kinds) == 3 else 4), min_size=len(kinds),
                           max_size=len(kinds)))
    groups = tuple(MotionGroup(n, c, s, draw(st.sampled_from(motions)))
                   for n, (c, s) in zip(counts, kinds, strict=True))
    return MotionPrompt(groups, draw(st.sampled_from(list(vocab.BACKGROUNDS))))


@settings(max_examples=300, deadline=None)
@given(motion_prompts())
def test_parse_inverts_prompt(spec: MotionPrompt) -> None:
    assert grammar.parse(grammar.prompt(spec)) == spec


def test_the_issues_example_parses() -> None:
    spec = grammar.parse("two red circles bouncing, a blue square sliding left and a "
                         "green triangle resting")
    assert [(g.count, g.motion) for g in spec.groups] == [
        (2, "bouncing"), (1, "sliding left"), (1, "resting")]
    assert spec.gravity and spec.background == "white"


@pytest.mark.parametrize(("text", "error", "match"), [
    ("a red circle bouncing and a blue square drifting up", SpecError,
     "impossible physics: bouncing needs gravity and drifting up needs none"),
    ("a red circle sliding up", ParseError, "'sliding up' is not a motion; accepted"),
    ("a red ball bouncing", ParseError,
     r"unknown word\(s\) \['ball'\].*accepted: a, and, background"),
    ("two red circle bouncing", ParseError, "'circle' does not fit count 'two'"),
    ("a red circle", ParseError, "a group is <count> <colour> <shape> <motion>"),
    ("a red circle resting and a red circle falling", SpecError, "own colour and shape"),
    ("", ParseError, "non-empty"),
])
def test_bad_prompts_are_loud(text: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        grammar.parse(text)


def test_realised_scenes_do_what_the_prompt_says() -> None:
    spec = grammar.parse("two red circles bouncing, a blue square sliding right and a "
                         "green triangle resting on a black background")
    scene = grammar.realise(spec, np.random.default_rng(4))
    assert scene == grammar.realise(spec, np.random.default_rng(4))  # seeded
    assert scene.physics.gravity == grammar.GRAVITY and scene.background == "black"
    red, blue, green = scene.bodies[:2], scene.bodies[2], scene.bodies[3]
    assert all(b.vx != 0 and b.vy == 0 and b.y + b.radius <= 0.5 + b.radius for b in red)
    assert blue.vx > 0 and blue.y + blue.radius == pytest.approx(1.0)
    assert (green.vx, green.vy) == (0.0, 0.0)
    traj = simulate(scene, 2, 30)
    assert traj.pos[1, 2, 0] > traj.pos[0, 2, 0]  # the square slides right (until a wall)
    alone = grammar.realise(grammar.parse("a green triangle resting"), np.random.default_rng(1))
    still = simulate(alone, 300, 30).pos[:, 0]
    assert np.abs(still - still[0]).max() < 1e-3  # ten seconds on the floor, unmoved
    weightless = grammar.realise(grammar.parse("a cyan circle drifting up"),
                                 np.random.default_rng(0))
    assert weightless.physics.gravity == 0 and weightless.bodies[0].vy < 0


# ---------------------------------------------------------------- splits

from genlab.worlds.motion import splits  # noqa: E402


@pytest.mark.parametrize("scenario", splits.SCENARIOS)
def test_train_never_shows_the_held_out_physics(scenario: str) -> None:
    train = splits.sample(scenario, "train", 60, seed=0)
    assert train == splits.sample(scenario, "train", 60, seed=0)
    for item in train:
        assert grammar.parse(item.prompt) == item.spec and item.ood == ()
        assert not any((g.motion, g.shape) in splits.HELDOUT_MOTION_SHAPE
                       for g in item.spec.groups)
        speeds = [np.hypot(b.vx, b.vy) for b in item.scene.bodies]
        assert max(speeds) <= splits.TRAIN_SPEEDS[1] + 1e-12
    test = splits.sample(scenario, "test", 60, seed=0)
    kinds = {item.ood for item in test}
    assert kinds == {(), ("speed",), ("combination",)}
    for item in test:
        moving = [np.hypot(b.vx, b.vy) for b in item.scene.bodies if b.vx or b.vy]
        if item.ood == ("speed",):
            assert moving and min(moving) >= splits.OOD_SPEEDS[0]
        if item.ood == ("combination",):
            assert any((g.motion, g.shape) in splits.HELDOUT_MOTION_SHAPE
                       for g in item.spec.groups)


def test_collision_scenes_collide() -> None:
    for item in splits.sample("collision", "dev", 10, seed=1):
        traj = simulate(item.scene, 120, 30)  # 4 s
        r = sum(b.radius for b in item.scene.bodies)
        gap = np.linalg.norm(traj.pos[:, 1] - traj.pos[:, 0], axis=1) - r
        assert gap.min() < 0.05  # they meet (frames are 1/30 s apart)
        assert (traj.vel[:, 0, 0] < 0).any()  # and the left one is sent back


def test_split_sampling_refuses_bad_requests() -> None:
    with pytest.raises(InputError, match="unknown motion scenario 'orbit'; accepted: uniform"):
        splits.sample("orbit", "train", 1)
    with pytest.raises(SpecError, match="unknown split 'val'"):
        splits.sample("uniform", "val", 1)
    with pytest.raises(InputError, match="n must be an int >= 0"):
        splits.sample("uniform", "train", -1)


# ---------------------------------------------------------------- videos

from genlab.worlds.motion import video  # noqa: E402


def test_mp4_round_trip_and_filmstrip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    traj = simulate(_bouncing(), 45, 30)
    frames = render_frames(traj)
    path = video.write_mp4(frames, tmp_path / "v" / "bouncing.mp4", 30, scale=4)
    back = video.read_mp4(path)
    assert back.shape == (45, 128, 128, 3)
    # lossy, but close to the nearest-neighbour upscale of every frame
    assert np.abs(back.astype(int) - video.upscale(frames, 4)).mean() < 4.0
    assert not list(tmp_path.glob("v/.tmp-*"))  # nothing half-written left behind
    strip = video.filmstrip(frames, [0, 15, 44], scale=2)
    assert strip.shape == (64, 3 * 64 + 2 * 2, 3)
    assert (strip[:, 64:66] == 128).all()
    with pytest.raises(InputError, match="filmstrip indices"):
        video.filmstrip(frames, [0, 45])
    with pytest.raises(InputError, match="uint8"):
        video.write_mp4(frames.astype(np.float32), tmp_path / "x.mp4", 30)
    with pytest.raises(InputError, match="even sides"):
        video.write_mp4(frames[:, :31, :31], tmp_path / "x.mp4", 30, scale=1)
    with pytest.raises(InputError, match="fps must be an int in 1..240"):
        video.write_mp4(frames, tmp_path / "x.mp4", 0)
