"""The HTML report: self-contained, escaped, a pure function of the store."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from genlab import catalog
from genlab.contracts import Verdict
from genlab.report import render_report, write_report
from genlab.store import Store
from genlab.tracks.control import ControlConfig, ControlTrack

TINY = ControlConfig(prompts_per_category=2, images_per_prompt=2, batch_size=32,
                     resamples=1000)


class StubJudge:
    name = "stub"
    version = "0"

    def judge(self, images: np.ndarray, specs: Any) -> list[Verdict]:
        return [Verdict(int(im.sum()) % 2 == 0, "found <b>&</b> 'x'") for im in images]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("report") / "r.db")
    for name in catalog.CONTROLS:
        ControlTrack().run(name, catalog.GENERATORS.get(name), store, "smoke", config=TINY,
                           judge=StubJudge())
    return store


def test_report_is_self_contained(store: Store, tmp_path: Path) -> None:
    path = write_report(store, tmp_path / "sub" / "report.html")
    html = path.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(?!data:)[a-z]+:""", html)
    assert "<link" not in html and "<script" not in html
    assert html.count("data:image/png;base64,") >= 2 + 2 * 7 * 2  # 2 charts + samples


def test_report_has_table_charts_and_marks(store: Store) -> None:
    html = render_report(store)
    assert "<table>" in html and "test/overall" in html and "test/counting" in html
    assert 'alt="scores by category"' in html and 'alt="counting by object count"' in html
    assert 'class="s pass"' in html and 'class="s fail"' in html
    assert "image-rendering:pixelated" in html
    for name in catalog.CONTROLS:
        assert f"<th>{name}</th>" in html
    assert re.search(r"\d\.\d{3} <span class=\"ci\">\[\d\.\d{3}, \d\.\d{3}\]</span>", html)


def test_text_is_escaped(store: Store) -> None:
    html = render_report(store)
    assert "<b>&</b>" not in html
    assert "found &lt;b&gt;&amp;&lt;/b&gt; &#x27;x&#x27;" in html


def test_pure_function_of_the_store(store: Store) -> None:
    assert render_report(store) == render_report(store)


def test_empty_store(tmp_path: Path) -> None:
    assert "No complete runs" in render_report(Store(tmp_path / "e.db"))


def test_layout_samples_show_the_boxes_they_were_given(store: Store) -> None:
    """Every layout sample in the grid carries its boxes as a dashed SVG overlay, one
    rect per box in [0, 1] image coordinates; other categories carry none."""
    html = render_report(store).split("<h3>samples</h3>", 1)[1]
    blocks = re.findall(r"<div><b>(\w+)</b><div class='grid'>(.*?)</div></div>", html)
    layout = []
    for category, block in blocks:
        figures = re.findall(r'<figure class="s [a-z]+">.*?</figure>', block)
        assert figures
        with_boxes = [f for f in figures if '<svg class="boxes"' in f]
        assert len(with_boxes) == (len(figures) if category == "layout" else 0), category
        layout += with_boxes
    assert layout
    for f in layout:
        rects = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" '
                           r'height="([\d.]+)"/>', f)
        assert 1 <= len(rects) <= 4
        for x, y, w, h in rects:
            assert 0 <= float(x) and float(x) + float(w) <= 1.0001
            assert 0 <= float(y) and float(y) + float(h) <= 1.0001


def test_failure_modes_are_counted_and_shown(tmp_path: Path) -> None:
    """Real verdicts carry their failure mode: the report tabulates each generator's
    failures by mode and shows examples of each; verdicts without one count as other."""
    from genlab.judges.failures import MODES

    real = Store(tmp_path / "f.db")
    ControlTrack().run("random-scene", catalog.GENERATORS.get("random-scene"), real, "smoke",
                       config=TINY)
    html = render_report(real)
    section = html.split("<h3>failure modes</h3>", 1)[1].split("<h3>samples</h3>", 1)[0]
    shown = [m for m in MODES if f"<th>{m}</th>" in section]
    assert shown and "<th>other</th>" not in section
    assert section.count('class="s fail"') >= len(shown)


def test_verdicts_without_a_mode_count_as_other(store: Store) -> None:
    section = render_report(store).split("<h3>failure modes</h3>", 1)[1]
    assert "<th>other</th>" in section


def test_realtime_section_has_frontier_stages_and_every_setting(tmp_path: Path) -> None:
    from genlab.report.plots import pareto
    from genlab.tracks.realtime import RealtimeConfig, RealtimeTrack, Setting

    config = RealtimeConfig(settings=(Setting("euler", 4), Setting("euler", 1)),
                            quality=ControlConfig(splits=("dev",), prompts_per_category=2,
                                                  images_per_prompt=1, resamples=1000,
                                                  categories=("single", "counting")),
                            latency_runs=3, warmup=0, throughput_batch=2, throughput_runs=1,
                            resamples=1000)

    class Sweepable:
        name = "sweep"

        def __init__(self, steps: int = 4) -> None:
            self.steps, self.inner = steps, catalog.GENERATORS.get("oracle")

        def with_options(self, **o: Any) -> Any:
            return Sweepable(o.get("steps", self.steps))

        def describe(self) -> dict[str, Any]:
            return {"steps": self.steps}

        def generate(self, *a: Any, **kw: Any) -> Any:
            return self.inner.generate(*a, **kw)

    with Store(tmp_path / "rt.db") as store:
        RealtimeTrack().run("sweep", Sweepable(), store, "smoke", config=config)
        RealtimeTrack().run("oracle", catalog.GENERATORS.get("oracle"), store, "smoke",
                            config=config)
        html = render_report(store)
    section = html.split("<h2>track realtime</h2>", 1)[1]
    assert 'alt="speed-quality frontier"' in section and 'alt="stage breakdown"' in section
    for name in ("sweep@euler-4", "sweep@euler-1", "oracle"):
        assert f"<td>{name}</td>" in section
    assert "<td>sweep@euler-4</td><td>4</td>" in section  # model calls per image
    assert pareto([(1.0, 0.5), (2.0, 0.4), (3.0, 0.9), (0.5, 0.1)]) == [3, 0, 2]


def test_a_distance_frontier_keeps_the_lowest_value() -> None:
    from genlab.report import plots

    def rec(v: float) -> dict[str, float]:
        return {"value": v, "ci_low": 0.9 * v, "ci_high": 1.1 * v}

    seen: list[list[tuple[float, float]]] = []
    real = plots.pareto
    try:
        plots.pareto = lambda pts: seen.append(list(pts)) or real(pts)  # type: ignore
        png = plots.frontier_chart({"fast": rec(10.0), "slow": rec(20.0)},
                                   {"fast": rec(5.0), "slow": rec(2.0)}, {}, "t",
                                   ylabel="FID", lower_is_better=True)
    finally:
        plots.pareto = real  # type: ignore
    assert png is not None and png.startswith(b"\x89PNG")
    assert seen == [[(10.0, -5.0), (20.0, -2.0)]]  # distances enter the frontier negated
    assert real(seen[0]) == [0, 1]  # both on it: the slow setting has the lower FID
