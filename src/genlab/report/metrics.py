"""The report's ``metrics`` section (issue 5): how each metric ranks the defect zoo.

A table of every metric's agreement with the exact truth, one scatter per metric
(its value against each zoo member's exact correctness, coloured by defect
family), the "what each metric misses" table (severity rho per family; below
0.5 is a miss), the seed's claims as measured findings, and the zoo itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from genlab.catalog import METRIC_CONTROLS
from genlab.metrics.defects import FAMILIES
from genlab.report import plots
from genlab.report.html import _cell, _data_uri, _run_meta
from genlab.store import RunInfo, Store
from genlab.tracks.metaeval import MetricsTrack, member_rows
from genlab.tracks.metaeval_findings import findings
from genlab.tracks.metaeval_scores import MISS_BELOW, family_severity

FAMILY_NAMES = ["clean", *(f.name for f in FAMILIES)]


def _order(runs: Sequence[RunInfo], rho: dict[str, float]) -> list[RunInfo]:
    """Metrics by agreement with the truth (best first), controls last."""
    return sorted(runs, key=lambda r: (r.generator in METRIC_CONTROLS,
                                       -rho.get(r.generator, -math.inf)))


def _misses_table(rows: dict[str, list[dict[str, Any]]], directions: dict[str, str]) -> str:
    fams = [f.name for f in FAMILIES if any(r["family"] == f.name for v in rows.values()
                                            for r in v)]
    # families along which the exact truth itself does not change (mode collapse, low
    # diversity): worsening there measures diversity, not correctness; never shaded
    truth = family_severity(rows["truth"], "higher") if "truth" in rows else {}
    flat = {f for f in fams if math.isnan(truth.get(f, 0.0))}
    head = "".join(f"<th>{escape(f)}{' †' if f in flat else ''}</th>" for f in fams)
    out = [f"<tr><th>metric</th>{head}</tr>"]
    for name, rs in rows.items():
        per = family_severity(rs, directions[name])
        cells = []
        for f in fams:
            v = per.get(f, math.nan)
            miss = (math.isnan(v) or v < MISS_BELOW) and f not in flat
            style = ' style="background:#ffebe9"' if miss else ""
            cells.append(f"<td{style}>{'–' if math.isnan(v) else f'{v:.2f}'}</td>")
        out.append(f"<tr><td>{escape(name)}</td>{''.join(cells)}</tr>")
    note = ("<p class='meta'>† the exact truth does not change along this family (every "
            "image stays right): a metric that worsens there measures diversity, not "
            "correctness.</p>" if flat else "")
    return "<table>" + "".join(out) + "</table>" + note


def _zoo(samples: Sequence[dict[str, Any]]) -> str:
    figs = []
    rank = {f: i for i, f in enumerate(FAMILY_NAMES)}
    for s in sorted((s for s in samples if s["split"] == "test"),
                    key=lambda s: (rank.get(s["category"], 99), s["prompt_id"])):
        path = Path(s["image_file"])
        if not path.is_file():
            continue
        c = s["details"]["correctness"]
        figs.append(f"<figure class='s'><img alt='{escape(s['prompt_id'])}' "
                    f"src='{_data_uri(path.read_bytes())}'><figcaption>"
                    f"{escape(s['prompt_id'])}<br>exact {c:.2f}</figcaption></figure>")
    return f"<div class='grid'>{''.join(figs)}</div>"


def metrics_section(store: Store, runs: Sequence[RunInfo]) -> str:
    """HTML for the latest complete ``metrics`` runs."""
    records = [{"generator": r.generator, **s} for r in runs for s in store.run_scores(r.id)]
    index = {(r["generator"], r["category"]): r for r in records}
    runs = _order(runs, {g: r["value"] for (g, c), r in index.items()
                         if c == "spearman_truth"})
    names = [r.generator for r in runs]
    columns = MetricsTrack.summary(records, full=True)
    head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    table = [f"<tr><th>metric</th>{head}</tr>"] + [
        f"<tr><td>{escape(g)}</td>{''.join(_cell(index.get((g, c))) for c, _ in columns)}</tr>"
        for g in names]
    directions = {r.generator: json.loads(r.config_json)["metric"]["direction"]
                  for r in runs}
    samples = {r.generator: store.samples(r.id) for r in runs}
    rows = {g: member_rows(ss, "test") for g, ss in samples.items()}
    panels = {g: [(x["value"], x["correctness"], x["family"]) for x in rs]
              for g, rs in rows.items() if g != "truth"}
    titles = {g: f"{g}: rho {index[(g, 'spearman_truth')]['value']:.2f}"
              for g in panels if (g, "spearman_truth") in index}
    png = plots.scatter_grid(panels, titles, FAMILY_NAMES,
                             "metrics: value vs exact correctness over the test zoo")
    chart = (f'<img class="chart" alt="metric vs truth" src="{_data_uri(png)}">'
             if png else "")
    facts = findings({g: (directions[g], rs) for g, rs in rows.items()})
    zoo = _zoo(samples[names[0]]) if runs else ""
    return (f"<h2>track metrics</h2>{_run_meta(runs)}"
            "<h3>agreement with the exact truth (test zoo; 95% intervals resample zoo "
            f"members)</h3><table>{''.join(table)}</table>"
            f"<h3>metric vs truth</h3>{chart}"
            "<h3>what each metric misses (severity rho per defect family; shaded below "
            f"{MISS_BELOW})</h3>{_misses_table(rows, directions)}"
            "<h3>the seed's claims, measured</h3><ul>"
            + "".join(f"<li>{escape(f)}</li>" for f in facts) + "</ul>"
            f"<h3>the zoo (first four test images of each member)</h3>{zoo}")
