"""Track ``control``: fixed prompt sets, the generator sees no spec, scores with intervals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from genlab import catalog
from genlab.contracts import Verdict
from genlab.errors import InputError, UnknownNameError
from genlab.store import Store
from genlab.tracks.control import VERSION, ControlConfig, ControlTrack, config_for, items
from genlab.worlds.shapes.spec import Box
from genlab.worlds.shapes.splits import is_heldout

TINY = ControlConfig(prompts_per_category=2, images_per_prompt=2, batch_size=16,
                     resamples=1000)


class StubJudge:
    name = "stub"
    version = "0"

    def judge(self, images: np.ndarray, specs: Any) -> list[Verdict]:
        return [Verdict(int(im.sum()) % 2 == 0, "stub", {"sum": np.int64(im.sum())})
                for im in images]


class SpyGenerator:
    """Records exactly what a generator is given."""

    name = "spy"

    def __init__(self) -> None:
        self.inner = catalog.GENERATORS.get("oracle")
        self.calls: list[tuple[list[Any], list[Any], list[Any], int]] = []

    def generate(self, prompts: Any, seeds: Any, *, boxes: Any = None, size: int = 32) -> Any:
        self.calls.append((list(prompts), list(seeds), list(boxes), size))
        return self.inner.generate(prompts, seeds, boxes=boxes, size=size)


def test_config_is_checked() -> None:
    with pytest.raises(InputError, match="even"):
        ControlConfig(prompts_per_category=3)
    with pytest.raises(InputError, match="splits"):
        ControlConfig(splits=("train",))
    with pytest.raises(InputError, match="categories"):
        ControlConfig(categories=("colour",))
    with pytest.raises(UnknownNameError, match="smoke"):
        config_for("smok")
    default = ControlConfig.default()
    total = len(default.splits) * len(default.categories) * default.prompts_per_category \
        * default.images_per_prompt
    # >= 100 prompts per category and split; <= 8000 images keeps the main job in budget
    assert 5600 <= total <= 8000 and default.images_per_prompt == 4
    assert default.resamples >= 1000 and ControlConfig.smoke().resamples >= 1000


def test_prompt_sets_are_fixed_and_half_heldout_on_test() -> None:
    a, b = items(TINY), items(TINY)
    assert a == b
    assert len({it.key for it in a}) == len(a)
    assert len(a) == 2 * 7 * 2 * 2
    for category in TINY.categories:
        test = [it for it in a if it.split == "test" and it.category == category
                and it.key.endswith("/i0")]
        assert [is_heldout(it.spec) for it in test] == [True, False]
    assert len({it.seed for it in a}) == len(a)  # one seed per image


def test_generator_sees_prompts_boxes_seeds_only(tmp_path: Path) -> None:
    spy = SpyGenerator()
    ControlTrack().run("spy", spy, Store(tmp_path / "s.db"), "smoke", config=TINY,
                       judge=StubJudge())
    by_key = {(it.prompt, it.seed): it for it in items(TINY)}
    seen = 0
    for prompts, seeds, boxes, size in spy.calls:
        assert size == TINY.size
        for p, s, bx in zip(prompts, seeds, boxes, strict=True):
            assert isinstance(p, str) and isinstance(s, int)
            it = by_key[(p, s)]
            assert (bx is not None) == (it.category == "layout")
            assert bx is None or all(isinstance(b, Box) for b in bx)
            seen += 1
    assert seen == len(by_key)


def test_scorecard_categories_and_run_row(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    card = ControlTrack().run("oracle", catalog.GENERATORS.get("oracle"), store, "smoke",
                              config=TINY, judge=StubJudge())
    names = {r.category for r in card.records}
    for split in ("dev", "test"):
        assert {f"{split}/{c}" for c in TINY.categories} | {f"{split}/overall"} <= names
        assert any(n.startswith(f"{split}/counting/n=") for n in names)
    assert {"test/heldout", "test/seen"} <= names and "dev/heldout" not in names
    for r in card.records:
        assert r.ci_low <= r.value <= r.ci_high and r.n > 0
        assert (r.track, r.generator) == ("control", "oracle")
    run = store.run(card.run_id)
    config = json.loads(run.config_json)
    assert run.track_version == VERSION and config["track"]["version"] == VERSION
    assert config["judge"] == {"name": "stub", "version": "0"}
    assert config["track"]["config"]["prompts_per_category"] == 2
    assert store.samples(card.run_id, limit=1)[0]["details"]["sum"] > 0


def test_complete_run_is_reused_unless_fresh(tmp_path: Path) -> None:
    store, track = Store(tmp_path / "s.db"), ControlTrack()
    first = track.run("spy", SpyGenerator(), store, "smoke", config=TINY, judge=StubJudge())
    spy = SpyGenerator()
    again = track.run("spy", spy, store, "smoke", config=TINY, judge=StubJudge())
    assert again == first and spy.calls == []
    fresh = track.run("spy", spy, store, "smoke", config=TINY, judge=StubJudge(), fresh=True)
    assert fresh.run_id != first.run_id and spy.calls
    assert [r.value for r in fresh.records] == [r.value for r in first.records]


def test_controls_with_the_scene_judge(tmp_path: Path) -> None:
    pytest.importorskip("genlab.judges.scene")
    store, track = Store(tmp_path / "s.db"), ControlTrack()
    best = track.run("oracle", catalog.GENERATORS.get("oracle"), store, "smoke")
    worst = track.run("random-scene", catalog.GENERATORS.get("random-scene"), store, "smoke")
    assert all(r.value == 1.0 for r in best.records), \
        [(r.category, r.value) for r in best.records if r.value < 1]
    assert worst.get("test/overall").value < 0.3
    assert worst.get("test/overall").ci_high < best.get("test/overall").ci_low


def test_intervals_resample_distinct_prompts_not_prompt_ids() -> None:
    """Two prompt ids with the same text and boxes are one cluster: their images are
    draws of one conditional distribution, so they must not narrow the interval."""
    from genlab.tracks.scoring import score_split

    def rows(texts: list[str]) -> list[dict[str, Any]]:
        return [{"passed": (i + j) % 3 == 0, "prompt_id": f"p{i}", "prompt": t,
                 "boxes": None, "split": "dev", "category": "single",
                 "heldout": False, "n_objects": 1}
                for i, t in enumerate(texts) for j in range(4)]

    def interval(texts: list[str]) -> tuple[float, float, float]:
        r = score_split(rows(texts), "dev", ("single",), resamples=1000, seed=0,
                        heldout_breakdown=False)[0]
        return r["value"], r["ci_low"], r["ci_high"]

    distinct = interval([f"prompt {i}" for i in range(30)])
    repeated = interval([f"prompt {i % 3}" for i in range(30)])
    assert distinct[0] == repeated[0]
    assert repeated[2] - repeated[1] > distinct[2] - distinct[1]
