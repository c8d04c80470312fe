"""Scores of the ``metrics`` track: how well a metric agrees with the exact truth.

From the stored rows (one per zoo member and split: the metric's value and the
member's exact correctness) the scores are recomputed, never kept elsewhere:

- ``spearman_truth`` / ``kendall_truth``: rank correlation (Spearman's rho,
  Kendall's tau-b) between the metric, oriented so that higher means better,
  and exact correctness across the ``test`` zoo; 95% intervals by the bootstrap
  over zoo members (resampling the generators a meta-evaluation ranks, as
  system-level metric studies do, e.g. Deutsch et al., 2021, "A Statistical
  Analysis of Summarization Evaluation Metrics").
- ``spearman_severity``: within each defect family (clean + four severities),
  the rank correlation of the oriented metric with minus the severity: does the
  metric worsen as the defect grows? Averaged over families; the interval
  resamples families. Each family's own value is in the run's rows (the
  report's "what each metric misses" table).
- ``value_n<N>`` / ``ci_width_n<N>``: the metric on N images of one member, its
  bootstrap interval over images, and that interval's width (no interval of its
  own: ``ci_low = ci_high = value``).
- ``dev/...``: the same correlations on the ``dev`` zoo.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

from genlab.tracks.scoring import derive_seed

MISS_BELOW = 0.5  # a family whose severity correlation is below this is "missed"


def oriented(value: float, direction: str) -> float:
    """The value with higher meaning better."""
    return -value if direction == "lower" else value


def _rho(x: np.ndarray, y: np.ndarray, kind: str) -> float:
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = sps.spearmanr(x, y)[0] if kind == "spearman" else sps.kendalltau(x, y)[0]
    return float(r)


def _bootstrap(x: np.ndarray, y: np.ndarray, kind: str, resamples: int, seed: int
               ) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    n = len(x)
    vals = []
    for _ in range(resamples):
        idx = rng.integers(n, size=n)
        r = _rho(x[idx], y[idx], kind)
        if not math.isnan(r):
            vals.append(r)
    if not vals:
        return math.nan, math.nan
    lo, hi = np.quantile(vals, [0.025, 0.975])
    return float(lo), float(hi)


def _record(category: str, value: float, lo: float, hi: float, n: int) -> dict[str, Any]:
    return {"category": category, "value": value, "ci_low": lo, "ci_high": hi, "n": n}


def truth_scores(rows: Sequence[Mapping[str, Any]], direction: str, prefix: str, *,
                 resamples: int, seed: int) -> list[dict[str, Any]]:
    """``spearman_truth`` and ``kendall_truth`` of one split's member rows."""
    x = np.array([oriented(r["value"], direction) for r in rows])
    y = np.array([r["correctness"] for r in rows])
    out = []
    for kind in ("spearman", "kendall"):
        name = f"{prefix}{kind}_truth"
        lo, hi = _bootstrap(x, y, kind, resamples, derive_seed(seed, name))
        out.append(_record(name, _rho(x, y, kind), lo, hi, len(rows)))
    return out


def family_severity(rows: Sequence[Mapping[str, Any]], direction: str) -> dict[str, float]:
    """Each family's Spearman rho of the oriented metric with minus the severity (its
    four members and the clean one)."""
    clean = [r for r in rows if r["family"] == "clean"]
    out = {}
    for fam in dict.fromkeys(r["family"] for r in rows if r["family"] != "clean"):
        group = clean + [r for r in rows if r["family"] == fam]
        x = np.array([oriented(r["value"], direction) for r in group])
        sev = -np.array([r["severity"] for r in group], float)
        out[fam] = _rho(x, sev, "spearman")
    return out


def severity_score(rows: Sequence[Mapping[str, Any]], direction: str, *, resamples: int,
                   seed: int) -> dict[str, Any]:
    """``spearman_severity``: the mean over families (a constant metric counts as 0),
    with an interval resampling families."""
    per = np.array([0.0 if math.isnan(v) else v
                    for v in family_severity(rows, direction).values()])
    if per.size == 0:
        return _record("spearman_severity", math.nan, math.nan, math.nan, 0)
    rng = np.random.default_rng(derive_seed(seed, "spearman_severity"))
    boot = per[rng.integers(per.size, size=(resamples, per.size))].mean(1)
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return _record("spearman_severity", float(per.mean()), float(lo), float(hi), per.size)


def stability_scores(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``value_n<N>`` (with its bootstrap interval) and ``ci_width_n<N>``."""
    out = []
    for p in points:
        n = int(p["n"])
        out.append(_record(f"value_n{n}", p["value"], p["lo"], p["hi"], n))
        width = p["hi"] - p["lo"]
        out.append(_record(f"ci_width_n{n}", width, width, width, n))
    return out


def misses(rows: Sequence[Mapping[str, Any]], direction: str) -> list[str]:
    """The families the metric does not see worsen (severity rho < :data:`MISS_BELOW`)."""
    return [f for f, v in family_severity(rows, direction).items()
            if math.isnan(v) or v < MISS_BELOW]
