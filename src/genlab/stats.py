"""Bootstrap confidence intervals that respect the prompt as the unit of sampling.

Every prompt is drawn several times (four images per prompt, GenEval's
protocol, Ghosh et al., 2023), and the images of one prompt share its
difficulty, so they are not independent draws. The interval therefore comes
from the *cluster* bootstrap: prompts are resampled with replacement and every
image of a resampled prompt comes along (Davison & Hinkley, 1997, sec. 3.8;
Field & Welsh, 2007). Intervals are percentile intervals (Efron & Tibshirani,
1993, ch. 13) over at least 1000 seeded resamples, computed in one vectorised
numpy pass.

Near 0 and 1 the percentile bootstrap is too narrow: when every image passed
the resamples are all identical and the interval collapses to a point, and one
failure in 200 gives [0, 0.015]. For proportions the interval is therefore
widened to contain the Wilson score interval (Wilson, 1927; Brown, Cai &
DasGupta, 2001) at the effective sample size ``p(1-p) / var_boot`` (Kish's
design effect), clipped to between the number of prompts and of images; with
no variance to measure it uses the number of images (design effect 1), so the
bound moves monotonically from 0 failures to 1. Away from the bounds the two
intervals agree and the bootstrap's stands.

An overall score is the mean over categories of the category means, so every
category weighs the same however many prompts it has; its interval resamples
prompts within each category (a stratified bootstrap) and takes the mean of the
resampled category means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from genlab.errors import InputError

MIN_RESAMPLES = 1000
DEFAULT_RESAMPLES = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its percentile bootstrap interval.

    Attributes:
        value: the mean (of images, or of category means for an overall score).
        ci_low, ci_high: the bounds of the 95% interval; ``ci_low <= value <= ci_high``.
        n: the number of images behind the estimate.
        n_clusters: the number of prompts (resampling units) behind it.
    """

    value: float
    ci_low: float
    ci_high: float
    n: int
    n_clusters: int


def _check_resamples(resamples: int) -> int:
    if not isinstance(resamples, (int, np.integer)) or resamples < MIN_RESAMPLES:
        raise InputError(f"bootstrap resamples {resamples!r} too few; accepted: an int "
                         f">= {MIN_RESAMPLES}")
    return int(resamples)


def _cluster_sums(values: Sequence[float] | np.ndarray, clusters: Sequence[object] | np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Per-cluster sums and sizes, ``(K,)`` float each, clusters in first-seen order, and
    whether every value lies in [0, 1] (a proportion)."""
    v = np.asarray(values, dtype=np.float64)
    c = np.asarray(clusters)
    if v.ndim != 1 or c.shape != v.shape:
        raise InputError(f"values {v.shape} and clusters {c.shape} must be 1-d and equal length")
    if v.size == 0:
        raise InputError("cannot estimate a score from zero samples")
    if not np.isfinite(v).all():
        raise InputError("values must be finite")
    _, first, inverse = np.unique(c, return_index=True, return_inverse=True)
    sums = np.bincount(inverse, weights=v)
    sizes = np.bincount(inverse).astype(np.float64)
    order = np.argsort(first)  # keep clusters in order of appearance: stable across runs
    return sums[order], sizes[order], bool(((v >= 0) & (v <= 1)).all())


def _resampled_means(sums: np.ndarray, sizes: np.ndarray, rng: np.random.Generator,
                     resamples: int) -> np.ndarray:
    """``(resamples,)`` image means of cluster-resampled data sets."""
    idx = rng.integers(0, sums.size, size=(resamples, sums.size))
    return sums[idx].sum(axis=1) / sizes[idx].sum(axis=1)


def wilson(p: float, k: float) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion ``p`` observed over ``k`` trials
    (Wilson, 1927)."""
    z = 1.959963984540054
    denom = 1.0 + z * z / k
    centre = (p + z * z / (2 * k)) / denom
    half = z * np.sqrt(p * (1 - p) / k + z * z / (4 * k * k)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _percentile_interval(boot: np.ndarray) -> tuple[float, float]:
    """The :data:`LEVEL` percentile interval of resampled statistics (Efron &
    Tibshirani, 1993, ch. 13)."""
    alpha = (1.0 - LEVEL) / 2
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def _interval(point: float, boot: np.ndarray, n_clusters: int, n: int,
              proportion: bool) -> tuple[float, float]:
    lo, hi = _percentile_interval(boot)
    if proportion:  # the guard near 0 and 1 described in the module docstring
        var = float(boot.var())
        n_eff = float(np.clip(point * (1 - point) / var, n_clusters, n)) if var > 0 \
            else float(n)
        w_lo, w_hi = wilson(point, n_eff)
        lo, hi = min(lo, w_lo), max(hi, w_hi)
    # Rounding can put an interval a hair off the point when it sits at or near a
    # bound; keep lo <= value <= hi exact.
    return min(lo, point), max(hi, point)


def cluster_bootstrap(values: Sequence[float] | np.ndarray,
                      clusters: Sequence[object] | np.ndarray, *,
                      resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Estimate:
    """Mean of ``values`` with a 95% interval from resampling whole clusters.

    Args:
        values: ``(n,)`` per-image scores (1.0 pass, 0.0 fail, or any float).
        clusters: ``(n,)`` the prompt each image belongs to (any hashable labels).
        resamples: bootstrap resamples (>= 1000).
        seed: seeds the resampling, so the same data give the same interval.
    """
    sums, sizes, proportion = _cluster_sums(values, clusters)
    return summed_bootstrap(sums, sizes, proportion=proportion, resamples=resamples,
                            seed=seed)


def summed_bootstrap(sums: Sequence[float] | np.ndarray, sizes: Sequence[float] | np.ndarray,
                     *, proportion: bool, resamples: int = DEFAULT_RESAMPLES,
                     seed: int = 0) -> Estimate:
    """:func:`cluster_bootstrap` from per-cluster sums and sizes (when the values
    themselves are not kept, e.g. a video's per-frame series stored as per-second
    sums). Clusters of size 0 are left out; ``proportion``: the values lie in [0, 1]."""
    resamples = _check_resamples(resamples)
    s, z = np.asarray(sums, np.float64), np.asarray(sizes, np.float64)
    if s.ndim != 1 or z.shape != s.shape:
        raise InputError(f"sums {s.shape} and sizes {z.shape} must be 1-d and equal length")
    if not (np.isfinite(s).all() and np.isfinite(z).all()) or (z < 0).any():
        raise InputError("sums must be finite and sizes finite and >= 0")
    keep = z > 0
    s, z = s[keep], z[keep]
    if s.size == 0:
        raise InputError("cannot estimate a score from zero samples")
    point = float(s.sum() / z.sum())
    boot = _resampled_means(s, z, np.random.default_rng(seed), resamples)
    lo, hi = _interval(point, boot, int(s.size), int(z.sum()), proportion)
    return Estimate(point, lo, hi, int(z.sum()), int(s.size))


def mean_of_means_bootstrap(
    parts: Sequence[tuple[Sequence[float] | np.ndarray, Sequence[object] | np.ndarray]], *,
    resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
) -> Estimate:
    """Mean over categories of the category means, with a stratified cluster bootstrap.

    Args:
        parts: one ``(values, clusters)`` pair per category, as for
            :func:`cluster_bootstrap`; each must be non-empty.
        resamples, seed: as for :func:`cluster_bootstrap`.
    """
    resamples = _check_resamples(resamples)
    if not parts:
        raise InputError("cannot average zero categories")
    rng = np.random.default_rng(seed)
    boot = np.zeros(resamples)
    points, n, k, proportion = [], 0, 0, True
    for values, clusters in parts:
        sums, sizes, unit = _cluster_sums(values, clusters)
        proportion &= unit
        points.append(sums.sum() / sizes.sum())
        boot += _resampled_means(sums, sizes, rng, resamples)
        n, k = n + int(sizes.sum()), k + int(sums.size)
    point = float(np.mean(points))
    lo, hi = _interval(point, boot / len(parts), k, n, proportion)
    return Estimate(point, lo, hi, n, k)


def iid_bootstrap(values: Sequence[float] | np.ndarray, statistic: str, *,
                  resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Estimate:
    """A statistic of independent measurements (timed runs) with a percentile interval.

    Args:
        values: ``(n,)`` one measurement per run (milliseconds, seconds, ...).
        statistic: ``"p50"`` or ``"p95"`` (the median or 95th percentile, numpy's linear
            interpolation), or ``"rate"`` (``1 / mean``: calls per unit of ``values``).
        resamples, seed: as for :func:`cluster_bootstrap`; runs are resampled singly.
    """
    resamples = _check_resamples(resamples)
    stats = {"p50": lambda a: np.percentile(a, 50, axis=-1),
             "p95": lambda a: np.percentile(a, 95, axis=-1),
             "rate": lambda a: 1.0 / a.mean(axis=-1)}
    if statistic not in stats:
        raise InputError(f"unknown statistic {statistic!r}; accepted: {', '.join(stats)}")
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size == 0 or not np.isfinite(v).all():
        raise InputError(f"values must be a non-empty 1-d array of finite numbers, got shape "
                         f"{v.shape}")
    if statistic == "rate" and (v <= 0).any():
        raise InputError("a rate needs positive durations")
    fn = stats[statistic]
    point = float(fn(v))
    idx = np.random.default_rng(seed).integers(0, v.size, size=(resamples, v.size))
    lo, hi = _percentile_interval(fn(v[idx]))
    return Estimate(point, min(lo, point), max(hi, point), int(v.size), int(v.size))


def ratio_of_medians_bootstrap(numerator: Sequence[float] | np.ndarray,
                               denominator: Sequence[float] | np.ndarray, *,
                               resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Estimate:
    """``median(numerator) / median(denominator)`` of two sets of independent timed runs
    (a speedup: the baseline's times over a method's), each set resampled on its own.

    When both are the very same runs (a baseline against itself) the ratio is 1 exactly.
    """
    resamples = _check_resamples(resamples)
    a = np.asarray(numerator, dtype=np.float64)
    b = np.asarray(denominator, dtype=np.float64)
    for name, v in (("numerator", a), ("denominator", b)):
        if v.ndim != 1 or v.size == 0 or not np.isfinite(v).all() or (v <= 0).any():
            raise InputError(f"{name} must be a non-empty 1-d array of positive times")
    point = float(np.median(a) / np.median(b))
    if a.shape == b.shape and np.array_equal(a, b):
        return Estimate(1.0, 1.0, 1.0, int(b.size), int(b.size))
    rng = np.random.default_rng(seed)
    boot = (np.median(a[rng.integers(0, a.size, size=(resamples, a.size))], axis=1)
            / np.median(b[rng.integers(0, b.size, size=(resamples, b.size))], axis=1))
    lo, hi = _percentile_interval(boot)
    return Estimate(point, min(lo, point), max(hi, point), int(b.size), int(b.size))


def ratio_of_means_bootstrap(
    numerator: Sequence[tuple[Sequence[float] | np.ndarray, Sequence[object] | np.ndarray]],
    denominator: Sequence[tuple[Sequence[float] | np.ndarray, Sequence[object] | np.ndarray]],
    *, resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
) -> Estimate:
    """The ratio of two overall scores measured on the same prompts, with a paired interval.

    Each side is a mean over categories as in :func:`mean_of_means_bootstrap`; category
    ``i`` of both sides must hold the same clusters (the same prompts, e.g. one
    generator at two settings), and each resample draws the same prompts for both,
    so the interval is that of the ratio, not of two independent scores. The value
    is ``overall(numerator) / overall(denominator)``; a denominator of 0 is an error.
    """
    resamples = _check_resamples(resamples)
    if not numerator or len(numerator) != len(denominator):
        raise InputError(f"numerator has {len(numerator)} categories and denominator "
                         f"{len(denominator)}; need the same non-zero number")
    rng = np.random.default_rng(seed)
    boot_num, boot_den = np.zeros(resamples), np.zeros(resamples)
    point_num, point_den, n = [], [], 0
    for (v_num, c_num), (v_den, c_den) in zip(numerator, denominator, strict=True):
        s_num, z_num = _aligned_sums(v_num, c_num)
        s_den, z_den = _aligned_sums(v_den, c_den)
        if list(s_num) != list(s_den):
            raise InputError("numerator and denominator must be measured on the same prompts "
                             "(the same cluster labels in every category)")
        a_num = np.array([s_num[k] for k in sorted(s_num)])
        a_den = np.array([s_den[k] for k in sorted(s_den)])
        n_num = np.array([z_num[k] for k in sorted(z_num)])
        n_den = np.array([z_den[k] for k in sorted(z_den)])
        idx = rng.integers(0, a_num.size, size=(resamples, a_num.size))
        boot_num += a_num[idx].sum(axis=1) / n_num[idx].sum(axis=1)
        boot_den += a_den[idx].sum(axis=1) / n_den[idx].sum(axis=1)
        point_num.append(a_num.sum() / n_num.sum())
        point_den.append(a_den.sum() / n_den.sum())
        n += int(n_num.sum())
    den = float(np.mean(point_den))
    if den == 0.0:
        raise InputError("the denominator's score is 0; a ratio to it is undefined")
    point = float(np.mean(point_num)) / den
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = boot_num / boot_den
    boot = boot[np.isfinite(boot)]
    lo, hi = _percentile_interval(boot) if boot.size else (point, point)
    k = sum(len(set(np.asarray(c).tolist())) for _, c in numerator)
    return Estimate(point, min(lo, point), max(hi, point), n, k)


Sums = tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]  # (sums, sizes)


def paired_difference_bootstrap(a: Sums, b: Sums, *, resamples: int = DEFAULT_RESAMPLES,
                                seed: int = 0) -> Estimate:
    """The difference of two pooled means measured on the same units, with a paired
    interval: ``a`` and ``b`` are each ``(sums, sizes)`` per unit (unit ``i`` of both is
    the same rollout, prompt, ...); the value is ``sum(a) / size(a) - sum(b) / size(b)``
    and each resample draws the same units for both sides, so what the units share (a
    hard scene) cancels. Percentile interval (Efron & Tibshirani, 1993, ch. 13)."""
    resamples = _check_resamples(resamples)
    (sa, za), (sb, zb) = ((np.asarray(x, np.float64), np.asarray(z, np.float64))
                          for x, z in (a, b))
    if not (sa.ndim == 1 and sa.shape == za.shape == sb.shape == zb.shape and sa.size):
        raise InputError(f"a's sums {sa.shape} and sizes {za.shape}, b's {sb.shape} and "
                         f"{zb.shape}: need 1-d, equal, non-empty (one entry per unit)")
    if za.sum() <= 0 or zb.sum() <= 0 or (za < 0).any() or (zb < 0).any():
        raise InputError("sizes must be >= 0 with a positive total on each side")
    point = float(sa.sum() / za.sum() - sb.sum() / zb.sum())
    idx = np.random.default_rng(seed).integers(0, sa.size, size=(resamples, sa.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = sa[idx].sum(1) / za[idx].sum(1) - sb[idx].sum(1) / zb[idx].sum(1)
    boot = boot[np.isfinite(boot)]
    lo, hi = _percentile_interval(boot) if boot.size else (point, point)
    return Estimate(point, min(lo, point), max(hi, point), int(za.sum() + zb.sum()), int(sa.size))


def _aligned_sums(values: Sequence[float] | np.ndarray, clusters: Sequence[object] | np.ndarray
                  ) -> tuple[dict[str, float], dict[str, float]]:
    """Per-cluster sums and sizes keyed by the cluster's label (as text), sorted."""
    v = np.asarray(values, dtype=np.float64)
    c = np.asarray(clusters)
    if v.ndim != 1 or c.shape != v.shape or v.size == 0:
        raise InputError(f"values {v.shape} and clusters {c.shape} must be 1-d, equal length "
                         "and non-empty")
    sums: dict[str, float] = {}
    sizes: dict[str, float] = {}
    for value, label in zip(v.tolist(), c.tolist(), strict=True):
        key = str(label)
        sums[key] = sums.get(key, 0.0) + value
        sizes[key] = sizes.get(key, 0.0) + 1.0
    return dict(sorted(sums.items())), dict(sorted(sizes.items()))
