"""The seed's claims about metrics, tested as measured findings of the ``metrics`` track.

The seed (problem 6) says FID can prefer blurry images, ignores the text and
misses mode collapse, and that CLIP score prefers semantics over counts. Each
finding here is a pure function of the stored member rows of the metrics
concerned (the ``test`` zoo), so the report and ``bench/metrics_table.py`` print
the same sentences from the same numbers.

- **Preference against the truth** (:func:`inversions`): among pairs of zoo
  members whose exact correctness differs by at least :data:`TRUTH_GAP`, the
  share the metric orders the other way, for pairs with a member of one family
  against all other pairs. "FID prefers blur" means FID inverts blur pairs more
  often than others.
- **Blind spots** (:func:`blind`): the families along which a metric does not
  worsen as the defect grows (severity rho below 0.5), with the truth's own
  verdict beside them: a metric that misses a family the truth also ignores
  (mode collapse keeps every image right) is measuring something else, not
  failing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from genlab.tracks.metaeval_scores import MISS_BELOW, family_severity, oriented

TRUTH_GAP = 0.1

Rows = Sequence[Mapping[str, Any]]


def inversions(rows: Rows, direction: str, family: str) -> tuple[float, int, float, int]:
    """``(share, pairs)`` of inverted pairs involving ``family``, then of the others."""
    pts = [(r["family"], oriented(r["value"], direction), r["correctness"]) for r in rows]
    inv = {True: 0, False: 0}
    tot = {True: 0, False: 0}
    for i, (fa, va, ta) in enumerate(pts):
        for fb, vb, tb in pts[i + 1:]:
            if abs(ta - tb) < TRUTH_GAP or fa == fb:
                continue
            key = family in (fa, fb)
            tot[key] += 1
            inv[key] += (va - vb) * (ta - tb) < 0
    share = {k: inv[k] / tot[k] if tot[k] else math.nan for k in tot}
    return share[True], tot[True], share[False], tot[False]


def blind(rows: Rows, direction: str) -> dict[str, float]:
    """Family -> severity rho, for the families the metric misses (rho < 0.5)."""
    return {f: v for f, v in family_severity(rows, direction).items()
            if math.isnan(v) or v < MISS_BELOW}


def findings(rows_by_metric: Mapping[str, tuple[str, Rows]]) -> list[str]:
    """Plain sentences, each with its numbers, for the metrics present
    (``rows_by_metric[name] = (direction, test member rows)``)."""
    out = []
    for name, family in (("fid", "blur"), ("kid", "blur"), ("cmmd", "blur")):
        if name in rows_by_metric:
            d, rows = rows_by_metric[name]
            share, n, other, m = inversions(rows, d, family)
            verdict = "prefers" if share > other else "does not prefer"
            out.append(f"{name.upper()} {verdict} {family}: it orders {share:.0%} of the "
                       f"{n} member pairs involving {family} against the exact truth, "
                       f"{other:.0%} of the {m} other pairs.")
    if "alignment" in rows_by_metric:
        d, rows = rows_by_metric["alignment"]
        rho = family_severity(rows, d).get("count", math.nan)
        share, n, other, m = inversions(rows, d, "count")
        out.append(f"The alignment score (CLIPScore analog) "
                   f"{'misses' if rho < MISS_BELOW else 'sees'} wrong counts: severity rho "
                   f"{rho:.2f} along count off by 1..4; it orders {share:.0%} of the {n} "
                   f"pairs involving the count family against the truth ({other:.0%} of "
                   f"the others).")
    for name in ("fid", "precision", "recall", "alignment", "anchored"):
        if name in rows_by_metric:
            d, rows = rows_by_metric[name]
            rho = family_severity(rows, d).get("mode-collapse", math.nan)
            worse = not (math.isnan(rho) or rho < MISS_BELOW)
            out.append(f"{name} {'worsens' if worse else 'does not worsen'} along mode "
                       f"collapse (severity rho {rho:.2f}); the truth does not, every "
                       "collapsed image being exactly right.")
    return out
