"""The report's ``realtime`` section: the speed-quality frontiers (exact accuracy, and
the FID of the metrics track's networks), the stage breakdown
and the table of every setting (issue 4: "the report shows the per-stage breakdown
(stacked bars) and the frontier plot")."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from genlab.catalog import CONTROLS
from genlab.report import plots
from genlab.report.html import _cell, _data_uri, _ordered_generators, _run_meta
from genlab.store import RunInfo, Store
from genlab.tracks.realtime_settings import Setting

COLUMNS: tuple[tuple[str, str], ...] = (
    ("latency_p50_ms", "p50 ms"), ("latency_p95_ms", "p95 ms"),
    ("backbone_call_ms", "ms / backbone call"), ("throughput_img_s", "images/s (batched)"),
    ("control_accuracy", "accuracy"), ("relative_accuracy", "vs baseline"),
    ("fid", "FID (lower is better)"), ("speedup_p50", "speedup (p50)"),
    ("stream_latency_p50_ms", "stream latency ms"), ("stream_gain", "stream gain"),
    ("peak_rss_mb", "peak RSS MB"))
STAGE_PREFIX, STAGE_SUFFIX = "stage_", "_ms"


def _setting(run: RunInfo) -> dict[str, Any] | None:
    setting = json.loads(run.config_json).get("setting")
    return setting if isinstance(setting, dict) else None


def _group(run: RunInfo) -> str:
    """The frontier's colour group: generator and sampler (and guidance, feature caching
    and streaming where set)."""
    setting = _setting(run)
    if setting is None:
        return run.generator
    base = run.generator.split("@", 1)[0]
    w = setting.get("guidance")
    cache, stream = setting.get("cache", 1), setting.get("stream", False)
    return (f"{base} {setting['sampler']}" + ("" if w is None else f" w={w:g}")
            + ("" if cache == 1 else f" cache {cache}") + (" stream" if stream else ""))


def realtime_section(store: Store, runs: Sequence[RunInfo]) -> str:
    """HTML for the latest complete ``realtime`` runs."""
    by_gen = {r.generator: r for r in runs}
    index: dict[tuple[str, str], Mapping[str, Any]] = {}
    for g in by_gen:
        for s in store.run_scores(by_gen[g].id):
            index[(g, s["category"])] = s
    # models slowest first (the baseline on top), then the controls
    generators = _ordered_generators(runs)
    generators.sort(key=lambda g: (g in CONTROLS, -index.get((g, "latency_p50_ms"),
                                                              {"value": 0.0})["value"]))
    models = [g for g in generators if g not in CONTROLS]
    # a baseline is a setting whose relative accuracy and speedup are 1 by construction
    targets = {f"95% of {g}": 0.95 * index[(g, "control_accuracy")]["value"]
               for g in models if (g, "relative_accuracy") in index
               and (g, "control_accuracy") in index
               and index[(g, "relative_accuracy")]["ci_low"] == 1.0
               and index[(g, "relative_accuracy")]["ci_high"] == 1.0}
    def of(category: str) -> dict[str, Mapping[str, Any]]:
        return {g: index[(g, category)] for g in models if (g, category) in index}

    latency, groups = of("latency_p50_ms"), {g: _group(by_gen[g]) for g in models}
    frontier = plots.frontier_chart(latency, of("control_accuracy"), groups,
                                    "realtime: accuracy against batch-1 latency", targets)
    fid_frontier = plots.frontier_chart(
        latency, of("fid"), groups,
        "realtime: FID to the oracle's renders against batch-1 latency",
        ylabel="FID, genlab's Inception analog (lower is better)", lower_is_better=True)
    stages = {g: {c[len(STAGE_PREFIX):-len(STAGE_SUFFIX)]: s["value"]
                  for (gg, c), s in index.items()
                  if gg == g and c.startswith(STAGE_PREFIX) and c.endswith(STAGE_SUFFIX)}
              for g in generators}
    stage_png = plots.stage_chart(stages, "realtime: where a batch-1 call's time goes")
    charts = "".join(f'<img class="chart" alt="{alt}" src="{_data_uri(png)}">'
                     for alt, png in (("speed-quality frontier", frontier),
                                      ("speed-FID frontier", fid_frontier),
                                      ("stage breakdown", stage_png)) if png is not None)
    head = "".join(f"<th>{escape(label)}</th>" for _, label in COLUMNS)
    rows = [f"<tr><th>setting</th><th>model calls</th>{head}</tr>"]
    for g in generators:
        setting = _setting(by_gen[g])
        nfe = "–" if setting is None else str(Setting(**setting).nfe)
        cells = "".join(_cell(index.get((g, c))) for c, _ in COLUMNS)
        rows.append(f"<tr><td>{escape(g)}</td><td>{nfe}</td>{cells}</tr>")
    cats = sorted({c for (_, c) in index if c.startswith("control_accuracy/")})
    acc_head = "".join(f"<th>{escape(c.split('/', 1)[1])}</th>" for c in cats)
    acc_rows = [f"<tr><th>setting</th>{acc_head}</tr>"] + [
        f"<tr><td>{escape(g)}</td>{''.join(_cell(index.get((g, c))) for c in cats)}</tr>"
        for g in generators]
    return (f"<h2>track realtime</h2>{_run_meta([by_gen[g] for g in generators])}"
            f"<h3>frontier and stages</h3>{charts}"
            "<h3>every setting (95% intervals: timed runs resampled for times, prompts for "
            f"accuracy)</h3><table>{''.join(rows)}</table>"
            f"<h3>accuracy by category</h3><table>{''.join(acc_rows)}</table>")

