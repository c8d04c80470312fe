"""The report's charts, drawn with matplotlib's object API (Agg) and returned as PNG bytes.

No pyplot: figures are built with :class:`matplotlib.figure.Figure` directly, so
drawing touches no global state and needs no display. PNG metadata is left
out so the same scores give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

Record = Mapping[str, Any]  # {generator, category, value, ci_low, ci_high, n}

_PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
            "#aec7e8", "#ffbb78", "#c5b0d5", "#c49c94")
_CONTROL_COLOURS = ("#2ca02c", "#7f7f7f", "#d62728", "#c7c7c7")
_MARKERS = ("o", "s", "^", "D", "v", "P")


def colours(generators: Sequence[str], controls: Sequence[str]) -> dict[str, str]:
    """A stable colour per generator: models from a palette, controls in fixed tones."""
    out: dict[str, str] = {}
    models = [g for g in generators if g not in controls]
    for i, g in enumerate(models):
        out[g] = _PALETTE[i % len(_PALETTE)]
    for i, g in enumerate(g for g in generators if g in controls):
        out[g] = _CONTROL_COLOURS[i % len(_CONTROL_COLOURS)]
    return out


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _errors(recs: Sequence[Record | None]) -> tuple[np.ndarray, np.ndarray]:
    """Values and ``(2, n)`` asymmetric error bars (NaN where a record is missing)."""
    vals = np.array([r["value"] if r else np.nan for r in recs], dtype=float)
    lo = np.array([r["value"] - r["ci_low"] if r else 0.0 for r in recs], dtype=float)
    hi = np.array([r["ci_high"] - r["value"] if r else 0.0 for r in recs], dtype=float)
    return vals, np.vstack([lo, hi])


def bar_chart(records: Sequence[Record], categories: Sequence[str],
              generators: Sequence[str], palette: Mapping[str, str], title: str) -> bytes:
    """Grouped bars: one group per category, one bar per generator, 95% CI error bars."""
    index = {(r["generator"], r["category"]): r for r in records}
    fig = Figure(figsize=(max(6.0, 1.1 * len(categories) + 2), 3.6))
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(generators))
    x = np.arange(len(categories))
    for i, gen in enumerate(generators):
        vals, err = _errors([index.get((gen, c)) for c in categories])
        ax.bar(x + (i - (len(generators) - 1) / 2) * width, vals, width, yerr=err,
               capsize=2, label=gen, color=palette.get(gen), error_kw={"elinewidth": 0.8})
    ax.set_xticks(x, [c.split("/", 1)[-1] for c in categories], rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("fraction correct")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return _png(fig)


def count_chart(records: Sequence[Record], prefix: str, generators: Sequence[str],
                palette: Mapping[str, str], title: str) -> bytes | None:
    """Accuracy against the number of objects asked for (``<prefix>n=<k>`` categories);
    ``None`` when there are no such records."""
    points: dict[str, dict[int, Record]] = {}
    for r in records:
        if r["category"].startswith(prefix + "n="):
            points.setdefault(r["generator"], {})[int(r["category"][len(prefix) + 2:])] = r
    if not points:
        return None
    fig = Figure(figsize=(6.0, 3.4))
    ax = fig.add_subplot()
    for i, gen in enumerate(g for g in generators if g in points):
        ks = sorted(points[gen])
        vals, err = _errors([points[gen][k] for k in ks])
        offset = (i - (len(generators) - 1) / 2) * 0.06  # keep overlapping bars readable
        ax.errorbar(np.array(ks) + offset, vals, yerr=err, marker="o", capsize=2,
                    label=gen, color=palette.get(gen))
    ax.set_xlabel("objects asked for")
    ax.set_ylabel("fraction correct")
    ax.set_ylim(-0.03, 1.05)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return _png(fig)


def pareto(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats (lower cost ``x``, higher value ``y``),
    in order of cost: the speed-quality frontier."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    out: list[int] = []
    best = -np.inf
    for i in order:
        if points[i][1] > best:
            out.append(i)
            best = points[i][1]
    return out


def _name_sparsely(ax: Any, names: Sequence[str], pts: Sequence[tuple[float, float]]) -> None:
    """Name the frontier's settings on the plot, skipping a name whose label would
    overlap one already drawn (the table names every setting); call after the axes'
    scales and limits are set."""
    fig = ax.get_figure()
    height = fig.dpi * 7 / 72 * 1.3  # a 7-point label's height in pixels, with spacing
    drawn: list[tuple[float, float, float]] = []  # (x0, x1, y) of each label, pixels
    for name, pt in zip(names, pts, strict=True):
        x, y = ax.transData.transform(pt)
        x0, x1, y = x + 3, x + 3 + 0.55 * height * len(name), y - 9
        if any(x0 < b1 and b0 < x1 and abs(y - by) < height for b0, b1, by in drawn):
            continue
        drawn.append((x0, x1, y))
        ax.annotate(name, pt, fontsize=7, xytext=(3, -9), textcoords="offset points")


def frontier_chart(latency: Mapping[str, Record], accuracy: Mapping[str, Record],
                   groups: Mapping[str, str], title: str,
                   targets: Mapping[str, float] | None = None, *,
                   ylabel: str = "control accuracy (dev subset)",
                   lower_is_better: bool = False) -> bytes | None:
    """Accuracy (95% CI) against batch-1 p50 latency (log scale, 95% CI), one colour and
    marker per group (a generator's sampler family), the Pareto frontier as a line with
    its settings named, and each of ``targets`` (label -> accuracy) as a horizontal
    line; the legend sits below the plot. ``None`` when no generator has both figures.
    With ``lower_is_better`` the quality axis is a distance (FID, log scale when every
    interval is positive): the frontier keeps the lowest value at each latency."""
    names = [g for g in latency if g in accuracy]
    if not names:
        return None
    group_names = list(dict.fromkeys(groups.get(g, g) for g in names))
    legend_rows = -(-(len(group_names) + 2 + len(targets or {})) // 3)
    fig = Figure(figsize=(10.0, 5.0 + 0.22 * legend_rows))
    ax = fig.add_subplot()
    # colour and marker together: unique for up to len(_PALETTE) x len(_MARKERS) groups
    style = {grp: (_PALETTE[i % len(_PALETTE)], _MARKERS[(i // len(_PALETTE)) % len(_MARKERS)])
             for i, grp in enumerate(group_names)}
    for grp, (colour, marker) in style.items():
        members = [g for g in names if groups.get(g, g) == grp]
        x, xerr = _errors([latency[g] for g in members])
        y, _ = _errors([accuracy[g] for g in members])
        ax.errorbar(x, y, xerr=xerr, fmt=marker, capsize=2, color=colour, label=grp,
                    elinewidth=0.8)
        # the quality interval as drawn from its ends: a bootstrap FID's may sit wholly
        # above its value (metrics/bootstrap.py), which error bars cannot show
        ax.vlines(x, [accuracy[g]["ci_low"] for g in members],
                  [accuracy[g]["ci_high"] for g in members], color=colour, linewidth=0.8)
    pts = [(latency[g]["value"], accuracy[g]["value"]) for g in names]
    sign = -1.0 if lower_is_better else 1.0
    front = pareto([(x, sign * y) for x, y in pts])
    ax.plot([pts[i][0] for i in front], [pts[i][1] for i in front], "--", color="#444",
            linewidth=1, label="Pareto frontier", drawstyle="steps-post")
    ax.set_xscale("log")
    ax.axvline(33.0, color="#cf222e", linewidth=0.8, linestyle=":", label="33 ms (real time)")
    ax.set_xlabel("batch-1 latency, p50 (ms, log scale)")
    ax.set_ylabel(ylabel)
    for label, value in (targets or {}).items():
        ax.axhline(value, color="#1a7f37", linewidth=0.8, linestyle=":", label=label)
    top = max([accuracy[g]["ci_high"] for g in names] + list((targets or {}).values()))
    if lower_is_better:  # a distance spans decades (FID 5 to 500): log scale
        low = min(accuracy[g]["ci_low"] for g in names)
        if low > 0:
            ax.set_yscale("log")
            ax.set_ylim(low / 1.3, top * 1.3)
        else:
            ax.set_ylim(0.0, top * 1.05 if top > 0 else 1.0)
    else:
        ax.set_ylim(-0.03, min(1.05, top + 0.1))  # zoomed to the data: differences are small
    _name_sparsely(ax, [names[i] for i in front], [pts[i] for i in front])
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
    fig.tight_layout()
    return _png(fig)


def stage_chart(stages: Mapping[str, Mapping[str, float]], title: str) -> bytes | None:
    """Horizontal stacked bars of each generator's median ms per stage of a batch-1
    call (left) and of each stage's share of it (right); ``None`` when no generator
    reports stages."""
    names = [g for g in stages if stages[g]]
    if not names:
        return None
    all_stages = list(dict.fromkeys(s for g in names for s in stages[g]))
    fig = Figure(figsize=(9.0, 1.1 + 0.3 * len(names)))
    ms_ax, share_ax = fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))
    y = np.arange(len(names))
    totals = np.array([sum(stages[g].values()) for g in names])
    left, left_share = np.zeros(len(names)), np.zeros(len(names))
    for i, stage in enumerate(all_stages):
        widths = np.array([stages[g].get(stage, 0.0) for g in names])
        colour = _PALETTE[i % len(_PALETTE)]
        ms_ax.barh(y, widths, left=left, label=stage, color=colour)
        share = 100.0 * widths / np.where(totals > 0, totals, 1.0)
        share_ax.barh(y, share, left=left_share, color=colour)
        left, left_share = left + widths, left_share + share
    ms_ax.set_yticks(y, names, fontsize=8)
    ms_ax.invert_yaxis()
    ms_ax.set_xlabel("median ms per batch-1 call")
    share_ax.set_xlabel("share of the call's stages (%)")
    share_ax.set_xlim(0, 100)
    for ax in (ms_ax, share_ax):
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title)
    ms_ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return _png(fig)


def drift_chart(curves: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]],
                panels: Sequence[tuple[str, str]], colour_of: Mapping[str, str],
                title: str) -> bytes | None:
    """Drift curves: one panel per ``(series, axis label)`` of ``panels``, one line per
    generator, ``curves[generator][series] = (seconds, values)``; ``None`` when empty."""
    names = [g for g in curves if curves[g]]
    if not names:
        return None
    fig = Figure(figsize=(3.0 * len(panels), 2.6))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (series, label) in zip(axes, panels, strict=True):
        for g in names:
            if series in curves[g]:
                t, v = curves[g][series]
                minutes = t.max() >= 120
                ax.plot(t / 60 if minutes else t, v, label=g, color=colour_of.get(g),
                        linewidth=1.2)
                ax.set_xlabel("minutes" if minutes else "seconds")
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return _png(fig)


def scatter_grid(panels: Mapping[str, Sequence[tuple[float, float, str]]],
                 titles: Mapping[str, str], families: Sequence[str], title: str
                 ) -> bytes | None:
    """One small scatter per metric: ``panels[metric] = [(metric value, exact
    correctness, family)]``, a colour and marker per family; ``None`` when empty."""
    names = [m for m in panels if panels[m]]
    if not names:
        return None
    cols = min(4, len(names))
    rows = (len(names) + cols - 1) // cols
    fig = Figure(figsize=(3.0 * cols, 2.5 * rows + 0.6))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    style = {f: (_PALETTE[i % len(_PALETTE)], _MARKERS[i % len(_MARKERS)])
             for i, f in enumerate(families)}
    for ax, name in zip(axes, names, strict=False):
        for fam in families:
            pts = [(x, y) for x, y, f in panels[name] if f == fam]
            if pts:
                colour, marker = style[fam] if fam != "clean" else ("#000000", "*")
                ax.scatter(*zip(*pts, strict=True), s=18, color=colour, marker=marker,
                           label=fam)
        ax.set_title(titles.get(name, name), fontsize=8)
        ax.set_xlabel(name, fontsize=8)
        ax.set_ylabel("exact correctness", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=min(6, len(labels)))
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06 + 0.02 * (len(labels) > 6), 1, 1))
    return _png(fig)
