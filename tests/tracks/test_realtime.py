"""The ``realtime`` track: settings swept as generators, every figure with an interval,
accuracy relative to the baseline, resumable runs, loud configuration errors."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from genlab import catalog
from genlab.contracts import Generation, with_options
from genlab.errors import InputError, UnknownNameError
from genlab.store import Store
from genlab.tracks import control
from genlab.tracks.realtime import RealtimeConfig, RealtimeTrack, Setting, Streamed, variants

QUALITY = control.ControlConfig(splits=("dev",), prompts_per_category=4, images_per_prompt=2,
                                resamples=1000, batch_size=16,
                                categories=("single", "counting", "layout"))


def tiny(*settings: Setting) -> RealtimeConfig:
    return RealtimeConfig(settings=settings, quality=QUALITY, latency_runs=6, warmup=1,
                          throughput_batch=4, throughput_runs=2, resamples=1000)


class Stepped:
    """The oracle at >= 4 steps and the negative control below; ``backbone`` reports
    1 ms per step per image, ``text_encoding`` 0.5 ms per call."""

    name = "stepped"

    def __init__(self, steps: int = 8, sampler: str = "euler") -> None:
        self.steps, self.sampler = steps, sampler
        self.oracle = catalog.GENERATORS.get("oracle")
        self.random = catalog.GENERATORS.get("random-scene")
        self.calls = 0
        self.log: list[int] = []  # shared with every with_options copy: all the calls
        self.fail_on: int | None = None  # the call that raises (resume tests)

    def describe(self) -> dict[str, Any]:
        return {"steps": self.steps, "sampler": self.sampler}

    def with_options(self, **options: Any) -> Stepped:
        new = copy.copy(self)
        new.steps = options.get("steps", self.steps)
        new.sampler = options.get("sampler", self.sampler)
        return new

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], **kw: Any) -> Generation:
        self.calls += 1
        self.log.append(self.steps)
        if self.calls - 1 == self.fail_on:
            raise RuntimeError("killed")
        inner = self.oracle if self.steps >= 4 else self.random
        images = inner.generate(prompts, seeds, **kw).images
        return Generation(images, {"text_encoding": 0.0005,
                                   "backbone": 0.001 * self.steps * len(prompts)})


def test_settings_are_checked_and_named() -> None:
    assert Setting("heun", 4).label == "heun-4" and Setting("heun", 4).nfe == 8
    assert Setting("euler", 8, guidance=1.0).label == "euler-8-w1"
    assert Setting("euler", 8).options() == {"sampler": "euler", "steps": 8}
    with pytest.raises(UnknownNameError, match="eulr"):
        Setting("eulr", 4)
    with pytest.raises(InputError, match="steps"):
        Setting("euler", 0)
    with pytest.raises(InputError, match="guidance"):
        Setting("euler", 2, guidance=float("nan"))
    cached, streamed = Setting("ab2", 8, cache=2), Setting("euler", 4, 1.0, stream=True)
    assert (cached.label, streamed.label) == ("ab2-8-c2", "euler-4-w1-stream")
    assert Setting("euler", 4, dtype="bfloat16").options()["dtype"] == "bfloat16"
    assert Setting("euler", 4, dtype="bfloat16").label == "euler-4-bf16"
    with pytest.raises(InputError, match="float16"):
        Setting("euler", 4, dtype="float16")
    assert cached.options() == {"sampler": "ab2", "steps": 8, "cache": 2}
    assert streamed.options() == {"sampler": "euler", "steps": 4, "guidance": 1.0}
    # defaults stay out of the stored form, so runs stored before the fields keep their hash
    assert Setting("euler", 8).as_dict() == {"sampler": "euler", "steps": 8, "guidance": None}
    assert streamed.as_dict()["stream"] is True and cached.as_dict()["cache"] == 2
    tiny = Setting("ab2", 4, decoder="tiny")
    assert tiny.label == "ab2-4-tiny" and tiny.options()["decoder"] == "tiny"
    assert "decoder" not in Setting("ab2", 4).as_dict() and tiny.as_dict()["decoder"] == "tiny"
    with pytest.raises(InputError, match="decoder 'taesd'; accepted: vae, tiny"):
        Setting("ab2", 4, decoder="taesd")
    with pytest.raises(InputError, match="interval"):
        Setting("euler", 8, cache=0)
    with pytest.raises(InputError, match="euler"):
        Setting("ab2", 4, stream=True)


@pytest.mark.parametrize(("kw", "match"), [
    ({"settings": ()}, "at least one setting"),
    ({"settings": (Setting("euler", 2), Setting("euler", 2))}, "repeat"),
    ({"latency_runs": 0}, "latency_runs"),
    ({"throughput_batch": 0}, "throughput_batch"),
    ({"quality": control.ControlConfig(splits=("test",))}, "dev"),
])
def test_bad_config_is_loud(kw: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        RealtimeConfig(**kw)


def test_default_protocol() -> None:
    config = RealtimeConfig.default()
    assert config.baseline == Setting("euler", 32) and config.latency_runs >= 100
    assert {s.sampler for s in config.settings} >= {"euler", "heun", "ab2"}
    assert min(s.steps for s in config.settings) == 1


def test_sweep_scores_every_setting(tmp_path: Path) -> None:
    config = tiny(Setting("euler", 8), Setting("euler", 2), Setting("heun", 4))
    gen = Stepped()
    with Store(tmp_path / "r.db") as store:
        card = RealtimeTrack().run("stepped", gen, store, "smoke", config=config)
        by = {(r.generator, r.category): r for r in card.records}
        labels = ["stepped@euler-8", "stepped@euler-2", "stepped@heun-4"]
        assert [r.generator for r in store.latest_runs("realtime")] == sorted(labels)
        for label in labels:
            for cat in ("latency_p50_ms", "latency_p95_ms", "throughput_img_s",
                        "control_accuracy", "relative_accuracy", "stage_backbone_ms",
                        "stage_text_encoding_ms", "backbone_call_ms", "peak_rss_mb",
                        "control_accuracy/layout"):
                r = by[(label, cat)]
                assert r.ci_low <= r.value <= r.ci_high, (label, cat)
        # the stages are the generator's own: 1 ms per step, per model call on heun's two
        assert by[("stepped@euler-8", "stage_backbone_ms")].value == pytest.approx(8.0)
        assert by[("stepped@euler-8", "backbone_call_ms")].value == pytest.approx(1.0)
        assert by[("stepped@heun-4", "backbone_call_ms")].value == pytest.approx(0.5)
        assert by[("stepped@euler-8", "latency_p95_ms")].value \
            >= by[("stepped@euler-8", "latency_p50_ms")].value > 0
        # accuracy follows the steps, relative to the baseline on the same prompts
        base = by[("stepped@euler-8", "relative_accuracy")]
        assert (base.value, base.ci_low, base.ci_high) == (1.0, 1.0, 1.0)
        assert by[("stepped@euler-2", "control_accuracy")].value == 0.0
        assert by[("stepped@euler-2", "relative_accuracy")].value == 0.0
        assert by[("stepped@heun-4", "control_accuracy")].value == 1.0
        assert by[("stepped@euler-8", "throughput_img_s")].n == 4 * 2
        assert by[("stepped@euler-8", "speedup_p50")].value == 1.0
        assert by[("stepped@euler-2", "speedup_p50")].ci_low > 0
        # a second run finds every setting complete and generates nothing
        calls = len(gen.log)
        again = RealtimeTrack().run("stepped", gen, store, "smoke", config=config)
        assert len(gen.log) == calls > 0 and again.records == card.records


def test_resume_after_a_crash_keeps_finished_samples(tmp_path: Path) -> None:
    config = tiny(Setting("euler", 8))

    crashing = Stepped()
    crashing.fail_on = 1  # the second call (the second quality batch) dies
    with Store(tmp_path / "r.db") as store:
        with pytest.raises(RuntimeError, match="killed"):
            RealtimeTrack().run("stepped", crashing, store, "smoke", config=config)
        (run,) = [store.run(1)]
        assert run.status == "running" and len(store.done_keys(run.id)) == 16
        gen = Stepped()
        RealtimeTrack().run("stepped", gen, store, "smoke", config=config)
        assert store.run(1).status == "complete" and len(store.done_keys(1)) == 24
        assert len(store.samples(1)) == 24  # none lost, none duplicated


def test_a_generator_without_options_is_one_setting(tmp_path: Path) -> None:
    oracle = catalog.GENERATORS.get("oracle")
    assert [v.label for v in variants("oracle", oracle, tiny(Setting("euler", 2)))] == ["oracle"]
    with pytest.raises(InputError, match="no sampling options"):
        with_options(oracle, steps=2)
    with Store(tmp_path / "r.db") as store:
        card = RealtimeTrack().run("oracle", oracle, store, "smoke",
                                   config=tiny(Setting("euler", 2)))
    cats = {r.category for r in card.records}
    assert "relative_accuracy" not in cats and "backbone_call_ms" not in cats
    assert card.get("control_accuracy").value == 1.0
    assert {"stage_render_ms", "latency_p50_ms"} <= cats


def test_timings_enter_the_run_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    """The same setting on another thread count is another run, never a resumed one."""
    from genlab.tracks import realtime

    config = tiny(Setting("euler", 8))
    with Store(tmp_path / "r.db") as store:
        RealtimeTrack().run("stepped", Stepped(), store, "smoke", config=config)
        monkeypatch.setattr(realtime, "machine", lambda: {"cpu": "other"})
        RealtimeTrack().run("stepped", Stepped(), store, "smoke", config=config)
        assert [r.id for r in store.latest_runs("realtime")] == [2]


def test_smoke_profile_on_the_smoke_flow_model(model_cache: Path, tmp_path: Path) -> None:
    gen = catalog.GENERATORS.get("flow", profile="smoke", cache_dir=model_cache,
                                 progress=False)
    with Store(tmp_path / "r.db") as store:
        card = RealtimeTrack().run("flow", gen, store, "smoke")
    gens = {r.generator for r in card.records}
    # a pixel model skips the tiny decoder's settings
    assert gens == {f"flow@{s.label}" for s in RealtimeConfig.smoke().settings
                    if s.decoder == "vae"}
    stages = {r.category for r in card.records if r.category.startswith("stage_")}
    assert stages == {"stage_text_encoding_ms", "stage_backbone_ms", "stage_sampler_ms"}
    assert np.isfinite([r.value for r in card.records]).all()


def test_a_latent_model_sweeps_its_decoders(model_cache: Path, tmp_path: Path) -> None:
    gen = catalog.GENERATORS.get("flow-latent", profile="smoke", cache_dir=model_cache,
                                 progress=False)
    with Store(tmp_path / "r.db") as store:
        card = RealtimeTrack().run("flow-latent", gen, store, "smoke")
    by = {(r.generator, r.category): r for r in card.records}
    assert {r.generator for r in card.records} == {
        f"flow-latent@{s.label}" for s in RealtimeConfig.smoke().settings}
    for label in ("euler-1", "euler-1-tiny"):
        assert by[(f"flow-latent@{label}", "stage_decode_ms")].value > 0
    assert ("flow-latent@euler-1-tiny", "speedup_p50") in by  # timed beside its baseline


def test_caching_and_streaming_settings_on_the_smoke_flow_model(model_cache: Path,
                                                                 tmp_path: Path) -> None:
    gen = catalog.GENERATORS.get("flow", profile="smoke", cache_dir=model_cache,
                                 progress=False)
    config = dataclasses.replace(RealtimeConfig.smoke(), settings=(
        Setting("euler", 4), Setting("euler", 4, cache=2), Setting("euler", 2, stream=True)))
    with Store(tmp_path / "r.db") as store:
        card = RealtimeTrack().run("flow", gen, store, "smoke", config=config)
    by = {(r.generator, r.category): r for r in card.records}
    gain = by[("flow@euler-2-stream", "stream_gain")]
    assert gain.ci_low <= gain.value <= gain.ci_high and gain.value > 0
    assert by[("flow@euler-2-stream", "stream_latency_p50_ms")].value > 0
    assert ("flow@euler-4-c2", "speedup_p50") in by
    assert not any(c == "stream_gain" for g, c in by if g != "flow@euler-2-stream")
    # a generator that cannot stream skips the stream settings; Streamed refuses it
    assert [v.label for v in variants("stepped", Stepped(), config)] == [
        "stepped@euler-4", "stepped@euler-4-c2"]
    with pytest.raises(InputError, match="stream method"):
        Streamed(Stepped())


def test_a_student_is_measured_against_its_teachers_baseline(tmp_path: Path) -> None:
    teacher = Stepped()
    student = Stepped(steps=2)
    student.name, student.reference = "student", teacher
    student.oracle = teacher.oracle  # a perfect student: the oracle at any step count
    student.random = teacher.oracle
    config = RealtimeConfig(settings=(Setting("euler", 8), Setting("euler", 2)),
                            student_settings=(Setting("euler", 1), Setting("euler", 2)),
                            quality=QUALITY, latency_runs=3, warmup=0, throughput_batch=2,
                            throughput_runs=1, resamples=1000)
    assert [v.label for v in variants("student", student, config)] == [
        "stepped@euler-8", "student@euler-1", "student@euler-2"]
    with Store(tmp_path / "r.db") as store:
        RealtimeTrack().run("stepped", teacher, store, "smoke", config=config)
        calls = len(teacher.log)
        card = RealtimeTrack().run("student", student, store, "smoke", config=config)
        # the teacher's baseline run is reused, not redone; only its batch-1 latency is
        # timed again, so that the student's speedup divides times of one process
        assert len(teacher.log) == calls + config.warmup + config.latency_runs
        assert student.log and 8 not in student.log
        speedup = {r.generator: r for r in card.records if r.category == "speedup_p50"}
        assert set(speedup) == {"stepped@euler-8", "student@euler-1", "student@euler-2"}
        assert speedup["stepped@euler-8"].value == 1.0
        rel = {r.generator: r.value for r in card.records if r.category == "relative_accuracy"}
        assert rel == {"stepped@euler-8": 1.0, "student@euler-1": 1.0, "student@euler-2": 1.0}


def test_fid_of_each_setting_against_the_oracle(tmp_path: Path, model_cache: Path) -> None:
    """Enough images (> 2 x 128) for a FID: the oracle-drawing setting sits closer to the
    oracle's reference than the negative control's; the smoke profile's few images get
    no FID and load no feature networks."""
    from genlab.metrics.feature_train import FeatureConfig
    from genlab.tracks import realtime_fid

    quality = dataclasses.replace(QUALITY, prompts_per_category=22, images_per_prompt=4,
                                  batch_size=132)
    config = dataclasses.replace(tiny(Setting("euler", 8), Setting("euler", 2)),
                                 quality=quality, features=FeatureConfig.smoke())
    with Store(tmp_path / "r.db") as store:
        card = RealtimeTrack().run("stepped", Stepped(), store, "smoke", config=config,
                                   cache_dir=model_cache)
        from genlab.report import write_report

        html = write_report(store, tmp_path / "report.html").read_text()
    assert 'alt="speed-FID frontier"' in html and "FID (lower is better)" in html
    fid = {r.generator: r for r in card.records if r.category == "fid"}
    good, bad = fid["stepped@euler-8"], fid["stepped@euler-2"]
    assert good.n == bad.n == 264 and good.ci_low < good.ci_high
    assert 0 <= good.value < bad.value
    assert not realtime_fid.enough(RealtimeConfig.smoke().quality.prompts_per_category * 7)
    assert realtime_fid.reference(control.items(RealtimeConfig.smoke().quality), 32,
                                  FeatureConfig(), tmp_path / "none", seed=0) is None
    assert not (tmp_path / "none").exists()  # the default networks were not trained
