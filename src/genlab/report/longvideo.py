"""The report's ``longvideo`` section: the table of every generator, drift curves per
duration, and a filmstrip with its MP4 per generator (issue 6: "the report shows drift
curves and a filmstrip (frames at 0 s, 1 min, 5 min, 10 min) and writes MP4s")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from genlab.catalog import VIDEO_CONTROLS
from genlab.report import plots
from genlab.report.html import _cell, _data_uri, _ordered_generators, _run_meta
from genlab.store import RunInfo, Store
from genlab.tracks.longvideo import LongVideoTrack

PANELS = (("on_track", "on track (share of frames)"), ("count_ok", "count consistent"),
          ("identity_ok", "identity consistent"),
          ("permanence_ok", "object permanence (video alone)"),
          ("position_error_px", "position error (px)"))
POINTS = 60  # points per drift curve: windows of duration / 60


def _curve(rows: Sequence[Mapping[str, Any]], series: str
           ) -> tuple[np.ndarray, np.ndarray] | None:
    """Pooled window means of ``series`` over every rollout of one duration (None for a
    series its rows predate, e.g. ``permanence_ok`` in rows of judge ``tracking`` < 1.3)."""
    if any(series not in r["details"]["per_second"] for r in rows):
        return None
    length = min(len(r["details"]["per_second"]["frames"]) for r in rows)
    width = max(1, length // POINTS)
    sums = sum(np.asarray(r["details"]["per_second"][series]["sum"][:length]) for r in rows)
    ns = sum(np.asarray(r["details"]["per_second"][series]["n"][:length]) for r in rows)
    edges = np.arange(0, length, width)
    s, n = np.add.reduceat(sums, edges), np.add.reduceat(ns, edges)
    with np.errstate(invalid="ignore", divide="ignore"):
        return edges.astype(float), np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _strip(row: Mapping[str, Any]) -> str:
    path = Path(row["image_file"])
    img = (f'<img alt="{escape(row["key"])}" src="{_data_uri(path.read_bytes())}">'
           if path.is_file() else "<span class='meta'>filmstrip missing</span>")
    times = ", ".join(f"{t:g} s" if t < 60 else f"{t / 60:g} min"
                      for t in row["details"]["filmstrip_s"])
    mp4 = row["details"]["mp4"]
    return (f"<figure class='s'>{img}<figcaption>{escape(row['prompt'])} "
            f"<span class='meta'>({escape(times)})</span><br>{escape(row['reason'])} "
            f"<a href='{escape(mp4)}'>MP4</a></figcaption></figure>")


CONTROLS_NOTE = (
    "Controls: video-oracle is the simulator itself (the positive control); video-twin "
    "is the simulator from a start whose context frames are pixel for pixel the truth's, "
    "so where it leaves the truth's path no generator shown the context can be sure of "
    "the path (the protocol's limit); video-member is the simulator from a start drawn "
    "at random from that set about perception's reading (what a reader who knows the set "
    "but not the truth would read: pooled, the share such a reader can expect; a body "
    "never seen alone keeps the reading); frozen-frame and random-motion are the "
    "negatives.")


def longvideo_section(store: Store, runs: Sequence[RunInfo]) -> str:
    """HTML for the latest complete ``longvideo`` runs."""
    generators = _ordered_generators(runs)
    generators.sort(key=lambda g: g in VIDEO_CONTROLS)
    by_gen = {r.generator: r for r in runs}
    index = {(g, s["category"]): s for g in generators for s in store.run_scores(by_gen[g].id)}
    records = [{"generator": g, "category": c, **s} for (g, c), s in index.items()]
    columns = LongVideoTrack.summary(records, full=True)
    head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    rows = [f"<tr><th>generator</th>{head}</tr>"] + [
        f"<tr><td>{escape(g)}</td>{''.join(_cell(index.get((g, c))) for c, _ in columns)}</tr>"
        for g in generators]
    samples = {g: store.samples(by_gen[g].id) for g in generators}
    labels = list(dict.fromkeys(s["category"] for g in generators for s in samples[g]))
    colour_of = plots.colours(generators, VIDEO_CONTROLS)
    charts, strips = [], []
    for label in labels:
        curves = {g: {name: c for name, _ in PANELS if (c := _curve(rs, name)) is not None}
                  for g in generators if (rs := [s for s in samples[g]
                                                 if s["category"] == label])}
        png = plots.drift_chart(curves, PANELS, colour_of,
                                f"longvideo: drift over {label} (mean of its rollouts)")
        if png is not None:
            charts.append(f'<img class="chart" alt="drift {escape(label)}" '
                          f'src="{_data_uri(png)}">')
    longest = labels[-1] if labels else None
    for g in generators:
        first = next((s for s in samples[g] if s["category"] == longest), None)
        if first is not None:
            strips.append(f"<h4>{escape(g)}</h4>{_strip(first)}")
    return (f"<h2>track longvideo</h2>{_run_meta([by_gen[g] for g in generators])}"
            "<h3>scores (95% intervals: blocks of seconds resampled within rollouts; "
            f"fps and memory: rollouts resampled)</h3><table>{''.join(rows)}</table>"
            f"<h3>drift curves</h3><p class='meta'>{CONTROLS_NOTE}</p>{''.join(charts)}"
            f"<h3>filmstrips ({escape(str(longest))}) and videos</h3>{''.join(strips)}")
