"""The ``longvideo`` track's per-second series and the scores computed from them.

A judged rollout is kept as per-second sums and counts of every per-frame series of
the ``tracking`` judge (plus ``on_track``, below, and ``judgeable``, the share of
frames the exact parse can judge), so a 10-minute video's row stays
small (600 seconds, not 18,000 frames) and every score can be recomputed from the
store. A score over a window of seconds pools the frames of every rollout in it;
its interval is a block bootstrap (Kunsch, 1989): the resampled units are
non-overlapping blocks of ``block_seconds`` within each rollout, since neighbouring
frames of one video are far from independent (a short video is one block).

``on_track`` is 1 on a judgeable frame whose counts, colours and identities are all
right and whose objects lie within :data:`ON_TRACK_PX` of the simulator's, else 0:
the share of frames a viewer could not tell from the truth, the track's headline.

``horizon``: how long a rollout stays on track, the seconds before the first second in
which under half of the judged frames are on track (the whole rollout if none: a
lower bound). Chaotic scenes bound it for every generator shown a few frames (a
perfect simulator from a 0.002 px start leaves the 1 px band after ~3 s of bouncing
bodies, ~34 s of drifting ones; results, session 16), so it is the figure of position
accuracy that means the same in every scenario, where the error itself saturates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from genlab.judges.tracking import SERIES, TrackingResult
from genlab.stats import Estimate, cluster_bootstrap, iid_bootstrap, summed_bootstrap

ON_TRACK_PX = 1.0
ALL_SERIES: tuple[str, ...] = (*SERIES, "on_track")
PROPORTIONS = frozenset({"count_ok", "colour_ok", "identity_ok", "permanence_ok", "on_track",
                         "judgeable"})


def on_track(result: TrackingResult) -> np.ndarray:
    """``(frames,)`` 1 / 0 / nan (not judgeable): see the module docstring."""
    ok = (result.count_ok == 1) & (result.colour_ok == 1) & (result.identity_ok == 1)
    # no error where nothing is matched: an empty view (every body out of it) is
    # right when the counts are; objects missing from a non-empty one fail count_ok
    close = ~(np.nan_to_num(result.position_error_px, nan=0.0) > ON_TRACK_PX)
    out = (ok & close).astype(np.float64)
    out[~np.isfinite(result.count_ok)] = np.nan
    return out


def per_second(result: TrackingResult) -> dict[str, Any]:
    """``{"frames": [per second], series: {"sum": [...], "n": [...]}}`` over whole
    seconds of the judged video (the last one possibly partial); nan frames are left
    out of ``sum`` and ``n``."""
    seconds = np.arange(len(result)) // result.fps
    bins = int(seconds[-1]) + 1 if len(result) else 0
    out: dict[str, Any] = {"frames": np.bincount(seconds, minlength=bins).tolist()}
    for name in ALL_SERIES:
        values = on_track(result) if name == "on_track" else result.series(name)
        finite = np.isfinite(values)
        out[name] = {
            "sum": np.round(np.bincount(seconds[finite], weights=values[finite],
                                        minlength=bins), 6).tolist(),
            "n": np.bincount(seconds[finite], minlength=bins).tolist()}
    # the share of frames the exact parse can judge (every body wholly in view, no
    # group of more than three touching): the denominator behind every *_ok score
    out["judgeable"] = {"sum": out["count_ok"]["n"], "n": out["frames"]}
    return out


def window_sums(series: Mapping[str, Any], name: str, lo: int, hi: int
                ) -> tuple[float, float]:
    """One rollout's sum of ``name`` over seconds ``lo:hi`` and the frames it was judged
    on."""
    return float(np.sum(series[name]["sum"][lo:hi])), float(np.sum(series[name]["n"][lo:hi]))


def window_mean(series: Mapping[str, Any], name: str, lo: int, hi: int) -> float:
    """One rollout's mean of ``name`` over seconds ``lo:hi`` (nan if nothing judged)."""
    total, n = window_sums(series, name, lo, hi)
    return total / n if n else float("nan")


def window_estimate(rollouts: Sequence[tuple[str, Mapping[str, Any]]], name: str,
                    window: tuple[int, int] | None, block: int, *, resamples: int,
                    seed: int) -> Estimate | None:
    """The pooled mean of ``name`` over seconds ``window`` (``(lo, hi)``; negative
    ``lo`` counts from each rollout's end; None: the whole rollout) of every rollout
    ``(key, per_second)``, block-bootstrapped; None when no frame was judged."""
    sums, sizes = [], []
    for _, series in rollouts:
        s = np.asarray(series[name]["sum"], np.float64)
        z = np.asarray(series[name]["n"], np.float64)
        length = len(s)
        lo, hi = (0, length) if window is None else window
        lo = max(0, length + lo if lo < 0 else lo)
        hi = min(length, hi)
        for start in range(lo, hi, block):
            stop = min(hi, start + block)
            sums.append(s[start:stop].sum())
            sizes.append(z[start:stop].sum())
    if not sizes or sum(sizes) == 0:
        return None
    return summed_bootstrap(sums, sizes, proportion=name in PROPORTIONS,
                            resamples=resamples, seed=seed)


def horizon(series: Mapping[str, Any], seconds: float) -> float:
    """The seconds a rollout of ``seconds`` stays on track (module docstring)."""
    s = np.asarray(series["on_track"]["sum"], np.float64)
    n = np.asarray(series["on_track"]["n"], np.float64)
    off = np.flatnonzero((n > 0) & (s < 0.5 * n))
    return float(off[0]) if len(off) else float(seconds)


def median_estimate(values: Sequence[float], *, resamples: int, seed: int) -> Estimate:
    """The median of one number per rollout (the horizon), resampling rollouts."""
    return iid_bootstrap(values, "p50", resamples=resamples, seed=seed)


def rollout_estimate(values: Sequence[float], keys: Sequence[str], *, resamples: int,
                     seed: int) -> Estimate:
    """The mean of one number per rollout (fps, memory), resampling rollouts."""
    return cluster_bootstrap(values, keys, resamples=resamples, seed=seed)


def record(category: str, est: Estimate) -> dict[str, Any]:
    return {"category": category, "value": est.value, "ci_low": est.ci_low,
            "ci_high": est.ci_high, "n": est.n}
