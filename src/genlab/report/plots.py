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
