"""The HTML report: one self-contained file, a pure function of the store (DESIGN.md, "Report").

For every track in the store, from the latest complete run of each generator:
a table of scores with 95% intervals (a column per generator, controls
included), a bar chart with error bars, accuracy by object count for
counting, the failure modes of each generator (a table of how its failed
images fail, :mod:`genlab.judges.failures`, and a gallery of examples per mode),
and a grid of judged samples with the judge's reason under each.
Everything is inline (CSS, PNGs as base64 data URIs); nothing is fetched, and
every piece of text is escaped.
"""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from genlab.catalog import CONTROLS
from genlab.judges.failures import MODES, OTHER, mode_of
from genlab.report import plots
from genlab.store import RunInfo, Store

SAMPLES_PER_CELL = 4
EXAMPLES_PER_MODE = 4
SPLIT_ORDER = ("test", "dev")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em;color:#222;max-width:1400px}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}h3{margin-top:1.5em}
table{border-collapse:collapse;font-size:.9em}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
tr.sub td:first-child{padding-left:1.8em;color:#555}tr.head td{font-weight:600;background:#f6f8fa}
.ci{color:#777;font-size:.85em}.meta{color:#555;font-size:.85em}
.grid{display:flex;flex-wrap:wrap;gap:10px;margin:.3em 0 1em}
figure.s{margin:0;width:112px;font-size:.72em;line-height:1.2}
figure.s img{width:96px;height:96px;image-rendering:pixelated;border:4px solid;display:block}
figure.pass img{border-color:#1a7f37}figure.fail img{border-color:#cf222e}
.im{position:relative;width:104px;height:104px}
svg.boxes{position:absolute;left:4px;top:4px;width:96px;height:96px}
svg.boxes rect{fill:none;stroke:#0969da;stroke-width:.012;stroke-dasharray:.03 .02}
.mark{font-weight:700}.pass .mark{color:#1a7f37}.fail .mark{color:#cf222e}
figcaption .p{font-style:italic}img.chart{max-width:100%}
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _ordered_generators(runs: Sequence[RunInfo]) -> list[str]:
    """Models first (by name), then the controls in catalog order."""
    names = sorted({r.generator for r in runs})
    return ([n for n in names if n not in CONTROLS]
            + [c for c in CONTROLS if c in names])


def _category_key(name: str, first_seen: Mapping[str, int]) -> tuple[int, int, int]:
    split = name.split("/", 1)[0]
    rank = SPLIT_ORDER.index(split) if split in SPLIT_ORDER else len(SPLIT_ORDER)
    return rank, 0 if name.endswith("/overall") else 1, first_seen[name]


def _is_sub(name: str) -> bool:
    """A breakdown row (``test/counting/n=3``, ``test/heldout``) rather than a category."""
    return name.count("/") > 1 or name.endswith(("/heldout", "/seen"))


def _cell(r: Mapping[str, Any] | None) -> str:
    if r is None:
        return "<td>–</td>"
    return (f'<td title="n={int(r["n"])} images">{r["value"]:.3f} '
            f'<span class="ci">[{r["ci_low"]:.3f}, {r["ci_high"]:.3f}]</span></td>')


def _table(records: Sequence[Mapping[str, Any]], generators: Sequence[str]) -> str:
    first_seen: dict[str, int] = {}
    for r in records:
        first_seen.setdefault(r["category"], len(first_seen))
    cats = sorted(first_seen, key=lambda c: _category_key(c, first_seen))
    index = {(r["generator"], r["category"]): r for r in records}
    head = "".join(f"<th>{escape(g)}</th>" for g in generators)
    rows = [f"<tr><th>category</th>{head}</tr>"]
    for cat in cats:
        cells = [_cell(index.get((g, cat))) for g in generators]
        cls = "sub" if _is_sub(cat) else ("head" if cat.endswith("/overall") else "")
        rows.append(f'<tr class="{cls}"><td>{escape(cat)}</td>{"".join(cells)}</tr>')
    return "<table>" + "".join(rows) + "</table>"


def _charts(records: Sequence[Mapping[str, Any]], generators: Sequence[str], track: str) -> str:
    palette = plots.colours(generators, CONTROLS)
    cats = [r["category"] for r in records]
    split = next((s for s in SPLIT_ORDER if any(c.startswith(s + "/") for c in cats)),
                 cats[0].split("/", 1)[0] if cats else "")
    main = list(dict.fromkeys(c for c in cats if c.startswith(split + "/") and not _is_sub(c)))
    main = [c for c in main if not c.endswith("/overall")] + [c for c in main
                                                            if c.endswith("/overall")]
    out = []
    if main:
        png = plots.bar_chart(records, main, generators, palette,
                              f"{track}: {split} split, 95% bootstrap intervals")
        out.append(f'<img class="chart" alt="scores by category" src="{_data_uri(png)}">')
    count_png = plots.count_chart(records, f"{split}/counting/", generators, palette,
                                  f"{track}: counting by number of objects ({split})")
    if count_png is not None:
        out.append(f'<img class="chart" alt="counting by object count" '
                   f'src="{_data_uri(count_png)}">')
    return "\n".join(out)


def _boxes_svg(boxes: Any) -> str:
    """The layout boxes the generator was given, dashed over its image (none: "")."""
    if not boxes:
        return ""
    rects = "".join(
        f'<rect x="{b["x0"]:.4f}" y="{b["y0"]:.4f}" width="{b["x1"] - b["x0"]:.4f}" '
        f'height="{b["y1"] - b["y0"]:.4f}"/>' for b in boxes)
    return f'<svg class="boxes" viewBox="0 0 1 1" preserveAspectRatio="none">{rects}</svg>'


def _sample_figure(sample: Mapping[str, Any]) -> str:
    path = Path(sample["image_file"])
    ok = bool(sample["passed"])
    if path.is_file():
        img = (f'<div class="im"><img alt="{escape(sample["key"])}" '
               f'src="{_data_uri(path.read_bytes())}">{_boxes_svg(sample.get("boxes"))}</div>')
    else:
        img = f'<div class="meta">image missing: {escape(sample["image_path"])}</div>'
    mark = "✓ pass" if ok else "✗ fail"
    return (f'<figure class="s {"pass" if ok else "fail"}">{img}<figcaption>'
            f'<span class="mark">{mark}</span> <span class="p">{escape(sample["prompt"])}'
            f'</span><br>{escape(sample["reason"])}</figcaption></figure>')


def _grid(run: RunInfo, split_samples: Sequence[Mapping[str, Any]]) -> str:
    """A few first-image samples per category of the run's first split in SPLIT_ORDER."""
    samples = [s for s in split_samples if s["key"].endswith("/i0")]
    split = samples[0]["split"] if samples else ""
    by_cat: dict[str, list[Mapping[str, Any]]] = {}
    for s in samples:
        if len(by_cat.setdefault(s["category"], [])) < SAMPLES_PER_CELL:
            by_cat[s["category"]].append(s)
    parts = [f"<h4>{escape(run.generator)} <span class='meta'>({escape(split)} split)</span>"
             "</h4>"]
    for cat, chosen in by_cat.items():
        figures = "".join(_sample_figure(s) for s in chosen)
        parts.append(f"<div><b>{escape(cat)}</b><div class='grid'>{figures}</div></div>")
    return "\n".join(parts)


def _split_samples(store: Store, run: RunInfo) -> list[Mapping[str, Any]]:
    """The run's samples of its first split in SPLIT_ORDER."""
    samples = store.samples(run.id)
    splits = {s["split"] for s in samples}
    split = next((s for s in SPLIT_ORDER if s in splits), min(splits, default=""))
    return [s for s in samples if s["split"] == split]


def _failures(samples_by_gen: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """Per generator: the share of its images failing in each mode, and a gallery of the
    first few failures of each mode (the judge's reason under each)."""
    by_mode: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    totals: dict[str, int] = {}
    for gen, samples in samples_by_gen.items():
        totals[gen] = len(samples)
        modes = by_mode.setdefault(gen, {})
        for s in samples:
            if not s["passed"]:
                modes.setdefault(mode_of(s["details"]), []).append(s)
    columns = [m for m in (*MODES, OTHER) if any(m in v for v in by_mode.values())]
    if not columns:
        return "<p class='meta'>no failures</p>"
    head = "".join(f"<th>{escape(m)}</th>" for m in columns)
    rows = []
    for g, modes in by_mode.items():
        n = max(totals[g], 1)
        cells = "".join(f"<td>{len(modes.get(m, [])) / n:.3f} "
                        f"<span class='ci'>({len(modes.get(m, []))})</span></td>"
                        for m in columns)
        rows.append(f"<tr><td>{escape(g)}</td>{cells}</tr>")
    table = (f"<table><tr><th>generator (share of its images)</th>{head}</tr>"
             f"{''.join(rows)}</table>")
    gallery = []
    for g, modes in by_mode.items():
        parts = [f"<div><b>{escape(m)}</b><div class='grid'>"
                 + "".join(_sample_figure(s) for s in modes[m][:EXAMPLES_PER_MODE])
                 + "</div></div>" for m in columns if modes.get(m)]
        if parts:
            gallery.append(f"<h4>{escape(g)}</h4>" + "\n".join(parts))
    return table + "\n" + "\n".join(gallery)


def _run_meta(runs: Sequence[RunInfo]) -> str:
    items = "".join(
        f"<li>{escape(r.generator)}: run {r.id}, profile {escape(r.profile)}, "
        f"{escape(r.created)}, track v{escape(r.track_version)}, judge {escape(r.judge)} "
        f"v{escape(r.judge_version)}, genlab {escape(r.package_version)}, "
        f"commit {escape(r.git_commit[:12])}, config {escape(r.config_hash)}</li>"
        for r in runs)
    return f'<ul class="meta">{items}</ul>'


def _track_section(store: Store, runs: Sequence[RunInfo], track: str) -> str:
    generators = _ordered_generators(runs)
    by_gen = {r.generator: r for r in runs}
    records = [{"generator": r.generator, **s} for r in runs for s in store.run_scores(r.id)]
    # each run's samples are read once, for the failure table and the sample grid
    samples = {g: _split_samples(store, by_gen[g]) for g in generators}
    grids = "\n".join(_grid(by_gen[g], samples[g]) for g in generators)
    return (f"<h2>track {escape(track)}</h2>{_run_meta([by_gen[g] for g in generators])}"
            f"<h3>scores (95% prompt-bootstrap intervals)</h3>{_table(records, generators)}"
            f"<h3>charts</h3>{_charts(records, generators, track)}"
            f"<h3>failure modes</h3>{_failures(samples)}"
            f"<h3>samples</h3>{grids}")


def render_report(store: Store) -> str:
    """The report's HTML text for the latest complete runs in ``store``."""
    runs = store.latest_runs()
    tracks = sorted({r.track for r in runs})
    from genlab.report.longvideo import longvideo_section  # they build on this module
    from genlab.report.metrics import metrics_section
    from genlab.report.realtime import realtime_section

    sections = {"realtime": realtime_section, "longvideo": longvideo_section,
                "metrics": metrics_section}
    body = "\n".join(sections.get(t, functools.partial(_track_section, track=t))(
        store, [r for r in runs if r.track == t]) for t in tracks)
    if not tracks:
        body = "<p>No complete runs yet. Run <code>genlab run</code> first.</p>"
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<title>genlab report</title>"
            f"<style>{_CSS}</style></head><body><h1>genlab report</h1>"
            f"<p class='meta'>{escape(str(store.path.name))}: the latest complete run of "
            "every generator and track. Controls: "
            f"{escape(', '.join(CONTROLS))}.</p>{body}</body></html>\n")


def write_report(store: Store, path: Path | str) -> Path:
    """Write the report to ``path`` (atomically) and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(render_report(store), encoding="utf-8")
    os.replace(tmp, path)
    return path
