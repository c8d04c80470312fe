"""The ``longvideo`` track: protocol checks, resumable rollouts, stored figures, errors."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from genlab import catalog
from genlab.contracts import VideoRequest
from genlab.errors import GenlabError, InputError
from genlab.generators.video.controls import FrozenFrameVideo, SimulatorVideo
from genlab.store import Store
from genlab.tracks import longvideo
from genlab.tracks import longvideo_scores as ls
from genlab.tracks.longvideo import LongVideoConfig, LongVideoTrack, duration_label, items
from genlab.tracks.longvideo_rollout import chunk_files, roll
from genlab.tracks.runner import plan
from genlab.worlds.motion import splits
from genlab.worlds.motion.video import read_mp4

SMOKE = LongVideoConfig.smoke()


class _Crash(Exception):
    pass


class _WrongSize(FrozenFrameVideo):
    name = "wrong-size"

    def start(self, request: VideoRequest, resume: Mapping[str, np.ndarray] | None = None
              ) -> object:
        class Rollout:
            def next(self, n: int) -> np.ndarray:
                return np.zeros((n, 16, 16, 3), np.uint8)

            def state(self) -> dict[str, np.ndarray]:
                return {}

        return Rollout()


def test_duration_labels() -> None:
    assert [duration_label(s) for s in (4.0, 60, 600.0, 1.5, 90)] == \
        ["4s", "1min", "10min", "1.5s", "90s"]
    assert LongVideoConfig.default().labels == ("4s", "1min", "10min")


@pytest.mark.parametrize("change", [
    {"durations": (0.0,), "scenes": (1,)}, {"durations": (-4.0,), "scenes": (1,)},
    {"durations": (4.0, 1.0), "scenes": (1, 1)}, {"durations": (4.0,), "scenes": (1, 2)},
    {"fps": 7}, {"fps": 480}, {"size": 8}, {"scenes": (0, 1)}, {"context": 0},
    {"durations": (0.01,), "scenes": (1,)}])
def test_bad_config(change: dict) -> None:
    with pytest.raises(InputError):
        dataclasses.replace(SMOKE, **change)


def test_items_fixed_and_in_distribution_beyond_the_shortest() -> None:
    config = LongVideoConfig.default()
    todo = items(config)
    assert [it.key for it in todo] == [it.key for it in items(config)]
    assert len(todo) == sum(config.scenes) and len({it.key for it in todo}) == len(todo)
    shortest = [it for it in todo if it.label == "4s"]
    assert any(it.ood for it in shortest) and not all(it.ood for it in shortest)
    assert not any(it.ood for it in todo if it.label != "4s")
    assert {it.scenario for it in todo if it.label == "10min"} == \
        {"uniform", "parabola", "collision"}


def test_every_scene_seed_fills_the_protocol() -> None:
    """Scene seeds whose first pool held too few staying scenes (2: one ``uniform``
    1-minute scene of the two asked) draw a larger pool; the default seed's scenes are
    the first pool's, unchanged (the pool is a prefix of one seeded sequence)."""
    config = dataclasses.replace(LongVideoConfig.default(), seed=2)
    todo = items(config)
    assert len(todo) == sum(config.scenes)
    assert all(longvideo._stays(it.scene, config) for it in todo if it.label != "4s")
    first = splits.sample("uniform", "test", 16, seed=config.seed + 1)
    default = LongVideoConfig.default()
    staying = [it.scene for it in splits.sample("uniform", "test", 16, seed=default.seed + 1)
               if not it.ood and longvideo._stays(it.scene, default)][:2]
    assert [it.scene for it in items(default) if it.key.startswith("1min/uniform")] == staying
    assert sum(not it.ood and longvideo._stays(it.scene, config) for it in first) < 2


def test_long_scenes_keep_their_bodies_in_view() -> None:
    """1.0 drew a weightless scene whose bodies left through the open top within 10 s;
    an empty view is matched by an empty output, so long scenes must keep bodies."""
    from genlab.worlds.motion.spec import Body, MotionScene, Physics

    config = LongVideoConfig.default()
    leaving = MotionScene(bodies=(Body("triangle", "purple", 0.5, 0.5, 0.2, vy=0.4),),
                          physics=Physics(gravity=0.0))
    staying = MotionScene(bodies=(Body("triangle", "purple", 0.5, 0.5, 0.2, vx=0.4),),
                          physics=Physics(gravity=0.0))
    assert not longvideo._stays(leaving, config) and longvideo._stays(staying, config)
    for it in items(config):
        if it.label != "4s":
            assert longvideo._stays(it.scene, config), it.key


def test_killed_rollout_resumes_with_the_same_frames(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from genlab.generators.video import controls

    track = LongVideoTrack()
    crashed = Store(tmp_path / "a.db")
    # 3 one-second rollouts of 1 chunk, then the 2-second one dies after its first chunk
    calls = {"n": 0}
    real_next = controls.SimulatorRollout.next

    def dying(self: object, n: int) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] > 4:
            raise _Crash
        return real_next(self, n)  # type: ignore[arg-type]

    monkeypatch.setattr(controls.SimulatorRollout, "next", dying)
    with pytest.raises(_Crash):
        track.run("video-oracle", SimulatorVideo(), crashed, "smoke")
    monkeypatch.setattr(controls.SimulatorRollout, "next", real_next)
    (run_id,) = crashed._db.execute("SELECT id FROM runs").fetchone()
    folder = crashed.image_dir(run_id) / "chunks" / "2s_uniform_s00"
    assert len(chunk_files(folder)) == 1 and len(crashed.done_keys(run_id)) == 3
    card = track.run("video-oracle", SimulatorVideo(), crashed, "smoke")
    assert card.run_id == run_id  # the same run, resumed
    other = Store(tmp_path / "b.db")
    whole = track.run("video-oracle", SimulatorVideo(), other, "smoke")
    got = {s["key"]: s["details"] for s in crashed.samples(card.run_id)}
    want = {s["key"]: s["details"] for s in other.samples(whole.run_id)}
    assert got.keys() == want.keys()
    for key in got:
        assert got[key]["per_second"] == want[key]["per_second"], key
    assert got["2s/uniform/s00"]["segments"] == 2 and want["2s/uniform/s00"]["segments"] == 1
    assert not folder.exists()  # cleared once stored
    assert card.get("on_track").value == whole.get("on_track").value


def test_rows_videos_and_scores_are_stored(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    card = LongVideoTrack().run("frozen-frame", FrozenFrameVideo(), store, "smoke")
    rows = store.samples(card.run_id)
    assert len(rows) == sum(SMOKE.scenes)
    row = rows[0]
    frames = read_mp4(store.path.parent / row["details"]["mp4"])
    n = SMOKE.frames(row["details"]["seconds"]) + SMOKE.context
    assert frames.shape == (n, 32 * SMOKE.mp4_scale, 32 * SMOKE.mp4_scale, 3)
    assert row["image_file"].is_file()
    cats = {r.category for r in card.records}
    for label in SMOKE.labels:
        assert {f"consistency_identity_{label}", f"consistency_count_{label}",
                f"consistency_permanence_{label}", f"horizon_s_{label}",
                f"position_error_px_{label}",
                f"fps_{label}", f"peak_mem_mb_{label}"} <= cats
    assert {"on_track", "fps", "position_error_px_2s_start"} <= cats
    # the scores are a function of the stored rows
    again = longvideo.scores(rows, SMOKE)
    assert [r["value"] for r in again] == [r.value for r in card.records]
    # the frozen frame keeps its identities but is off track once things move
    assert card.get("consistency_identity_2s").value == 1.0
    assert card.get("consistency_permanence_2s").value == 1.0  # nothing vanishes
    assert card.get("horizon_s_2s").value < 2.0  # off track before the end
    assert card.get("position_error_px_2s").value > card.get("position_error_px_2s_start").value
    assert json.loads(store.run(card.run_id).config_json)["track"]["name"] == "longvideo"


def test_wrong_frames_and_wrong_kind_are_clear_errors(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    with pytest.raises(InputError, match="wrong-size"):
        LongVideoTrack().run("wrong-size", _WrongSize(), store, "smoke")
    with pytest.raises(InputError, match="video generators"):
        LongVideoTrack().run("oracle", catalog.GENERATORS.get("oracle"), store, "smoke")
    with pytest.raises(InputError, match="scene"):
        SimulatorVideo().start(dataclasses.replace(_request(), scene_json=""))


def _request() -> VideoRequest:
    it = items(SMOKE)[0]
    from genlab.worlds.motion.frames import render_frames
    from genlab.worlds.motion.physics import simulate

    return VideoRequest(it.prompt, 0, 30, render_frames(simulate(it.scene, 4, 30)),
                        it.scene.to_json())


def test_roll_checks_its_chunks(tmp_path: Path) -> None:
    gen = SimulatorVideo()
    out = roll(gen, _request(), 10, 4, tmp_path / "r")
    assert out.frames.shape == (10, 32, 32, 3) and out.segments == 1
    assert len(chunk_files(tmp_path / "r")) == 3
    again = roll(gen, _request(), 10, 4, tmp_path / "r")  # all on disk: nothing generated
    np.testing.assert_array_equal(again.frames, out.frames)
    assert again.segments == 1
    with pytest.raises(GenlabError, match="do not match"):
        roll(gen, _request(), 10, 5, tmp_path / "r")


def test_runner_pairs_tracks_with_their_kind() -> None:
    pairs = dict(plan(None, None))
    assert pairs["longvideo"] == [*catalog.DEFAULT_VIDEO_GENERATORS, *catalog.VIDEO_CONTROLS]
    assert "video-oracle" not in pairs["control"]
    assert pairs["control"] == [*catalog.DEFAULT_GENERATORS, *catalog.CONTROLS]
    assert pairs["realtime"] == [*catalog.DEFAULT_GENERATORS, "flow-guidance-distilled-aot",
                                 *catalog.CONTROLS]  # the track's own extra default
    assert dict(plan(["realtime"], ["flow"]))["realtime"] == ["flow", *catalog.CONTROLS]
    assert "longvideo" not in dict(plan(None, ["flow"]))  # defaults: skipped
    with pytest.raises(InputError, match="video"):
        plan(["longvideo"], ["flow"])
    with pytest.raises(GenlabError, match="unknown generator"):
        plan(None, ["video-orcale"])


def test_report_shows_drift_curves_filmstrips_and_videos(tmp_path: Path) -> None:
    from genlab.report import write_report

    store = Store(tmp_path / "t.db")
    for name in ("video-oracle", "frozen-frame"):
        LongVideoTrack().run(name, catalog.VIDEO_GENERATORS.get(name), store, "smoke")
    html = write_report(store, tmp_path / "report.html").read_text()
    assert "track longvideo" in html and html.count('alt="drift ') == len(SMOKE.labels)
    assert html.count(">MP4</a>") == 2 and "filmstrips (2s)" in html
    assert "the protocol's limit" in html  # what each control is, beside the curves
    mp4 = html.split(">MP4</a>")[0].rsplit("href='", 1)[1].split("'")[0]
    assert (tmp_path / mp4).is_file()  # the link resolves from the report's folder
    # rows of an older judge (no permanence_ok series) still make a report
    with sqlite3.connect(tmp_path / "t.db") as db:
        for rowid, text in db.execute("SELECT rowid, details_json FROM samples").fetchall():
            details = json.loads(text)
            del details["per_second"]["permanence_ok"]
            db.execute("UPDATE samples SET details_json = ? WHERE rowid = ?",
                       (json.dumps(details), rowid))
    store = Store(tmp_path / "t.db")
    html = write_report(store, tmp_path / "old.html").read_text()
    assert html.count('alt="drift ') == len(SMOKE.labels)


def test_the_horizon_is_the_time_before_the_first_second_mostly_off_track() -> None:
    def series(on: list[float], n: list[int]) -> dict:
        return {"on_track": {"sum": [a * b for a, b in zip(on, n, strict=True)], "n": n}}
    assert ls.horizon(series([1.0, 1.0, 0.6, 0.4, 1.0], [30] * 5), 5.0) == 3.0
    assert ls.horizon(series([1.0, 0.0, 1.0], [30, 0, 30]), 3.0) == 3.0  # unjudged: no verdict
    assert ls.horizon(series([0.0], [30]), 1.0) == 0.0
    est = ls.median_estimate([1.0, 3.0, 600.0], resamples=1000, seed=0)
    assert est.value == 3.0 and est.ci_low <= 3.0 <= est.ci_high
