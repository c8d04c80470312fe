"""The latency profiler: stages from the generator, percentiles, fallback, loud errors."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from genlab import catalog
from genlab.contracts import Generation
from genlab.errors import InputError
from genlab.tracks.latency import TOTAL, profile_interleaved, profile_latency


class SleepyGenerator:
    """Reports two stages; ``backbone`` takes 2 ms per image, ``text_encoding``
    1 ms per call, and every fourth call also reports ``planning``."""

    name = "sleepy"

    def __init__(self) -> None:
        self.calls = 0

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], **_: Any) -> Generation:
        timings = {"text_encoding": 0.001, "backbone": 0.002 * len(prompts)}
        if self.calls % 4 == 0:
            timings["planning"] = 0.004
        self.calls += 1
        time.sleep(0.002 * len(prompts))
        return Generation(np.zeros((len(prompts), 8, 8, 3), np.uint8), timings)


def test_stages_come_from_the_generator_with_percentiles() -> None:
    gen = SleepyGenerator()
    p = profile_latency(gen, ["a red circle"], batch=2, runs=20, warmup=3)
    assert gen.calls == 23 and p.runs == 20 and p.stages_reported
    assert [s.name for s in p.stages] == ["text_encoding", "backbone", "planning"]
    assert p.stage("backbone").p50_ms == pytest.approx(4.0)
    assert p.stage("text_encoding").p95_ms == pytest.approx(1.0)
    # planning is reported by 5 of the 20 timed calls: 0 in the others
    assert p.stage("planning").p50_ms == 0.0 and p.stage("planning").p95_ms == pytest.approx(4.0)
    assert p.total.p50_ms >= 4.0 and p.total.p95_ms >= p.total.p50_ms
    assert 0 < p.throughput_img_s <= 2 / 0.004
    assert p.peak_rss_mb > 0 and p.rss_increase_mb >= 0
    with pytest.raises(InputError, match="no stage 'decode'.*'total', 'text_encoding'"):
        p.stage("decode")
    assert p.stage(TOTAL) is p.total


class SilentGenerator:
    """Draws with a real generator and reports no stage times."""

    name = "silent"

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], **kw: Any) -> Generation:
        return Generation(catalog.GENERATORS.get("oracle").generate(prompts, seeds, **kw).images)


def test_a_generator_without_stages_gets_total_time_only() -> None:
    p = profile_latency(SilentGenerator(), ["two red squares"], runs=5, warmup=1)
    assert not p.stages_reported and p.stages == ()
    assert p.total.p50_ms > 0


@pytest.mark.parametrize("kw, match", [
    ({"batch": 0}, "batch must be an int >= 1, got 0"),
    ({"runs": 0}, "runs must be an int >= 1"),
    ({"warmup": -1}, "warmup must be an int >= 0"),
    ({"batch": True}, "batch must be an int"),
])
def test_bad_settings_are_clear_errors(kw: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        profile_latency(SleepyGenerator(), ["a red circle"], **kw)


def test_prompts_must_be_a_non_empty_list() -> None:
    for bad in ([], "a red circle"):
        with pytest.raises(InputError, match="non-empty sequence of strings"):
            profile_latency(SleepyGenerator(), bad)


def test_interleaved_profiles_call_round_robin() -> None:
    """After each one's warm-up, blocks of calls take turns (block 1: call i of every
    generator before call i + 1 of any), on the same seeds; each profile holds its own
    generator's runs."""
    log: list[tuple[str, int]] = []

    class Named(SleepyGenerator):
        def __init__(self, name: str, scale: int) -> None:
            super().__init__()
            self.name, self.scale = name, scale

        def generate(self, prompts: Sequence[str], seeds: Sequence[int], **kw: Any) -> Generation:
            log.append((self.name, seeds[0]))
            return super().generate(list(prompts) * self.scale, list(seeds) * self.scale)

    fast, slow = Named("fast", 1), Named("slow", 3)
    p_fast, p_slow = profile_interleaved([fast, slow], ["a red circle"], runs=6, warmup=2)
    warm = [(g, i) for g in ("fast", "slow") for i in range(2)]
    assert log == warm + [(g, i) for i in range(2, 8) for g in ("fast", "slow")]
    log.clear()
    profile_interleaved([fast, slow], ["a red circle"], runs=5, warmup=2, block=2)
    assert log[4:] == [("fast", 2), ("fast", 3), ("slow", 2), ("slow", 3), ("fast", 4),
                       ("fast", 5), ("slow", 4), ("slow", 5), ("fast", 6), ("slow", 6)]
    assert p_fast.runs == p_slow.runs == 6 and len(p_slow.total.ms) == 6
    assert p_slow.stage("backbone").p50_ms == pytest.approx(3 * p_fast.stage("backbone").p50_ms)
    assert p_slow.total.p50_ms > p_fast.total.p50_ms


class HungryGenerator:
    """Holds ``mb`` megabytes (touched, so resident) for 30 ms on every call."""

    name = "hungry"

    def __init__(self, mb: int) -> None:
        self.mb = mb

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], **_: Any) -> Generation:
        block = np.ones(self.mb * 2**20 // 8)
        time.sleep(0.03)
        del block
        return Generation(np.zeros((len(prompts), 8, 8, 3), np.uint8), {})


@pytest.mark.parametrize("kernel_mark", [True, False])
def test_peak_memory_sees_what_the_calls_held(monkeypatch: pytest.MonkeyPatch,
                                              kernel_mark: bool) -> None:
    # the kernel's high-water mark (reset before the timed calls, so an earlier, larger
    # allocation does not count) and the sampling thread where there is none
    from genlab.tracks import latency

    if not kernel_mark:
        monkeypatch.setattr(latency, "_reset_hwm", lambda: False)
    elif not latency._reset_hwm():
        pytest.skip("no /proc/self/clear_refs here")
    big = np.ones(400 * 2**20 // 8)
    del big
    p = profile_latency(HungryGenerator(120), ["a red circle"], runs=2, warmup=0)
    assert 100 <= p.rss_increase_mb < 300
