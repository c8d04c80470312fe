"""Bootstrap intervals of distribution metrics over the generated images.

The generated set is a sample of what the generator could draw, so its metric
scatters from one sample to the next; the reference set is held fixed (it is the
benchmark's, the same for every generator). The interval resamples the generated
images -- with each image's prompt embedding, for the alignment score -- with
replacement, re-scores each resample against the one
:class:`~genlab.metrics.reference.Reference` (whose statistics are computed once),
and takes the percentile interval (Efron & Tibshirani, 1993, ch. 13). A metric with a
batched ``resampled`` path (FID) scores all resamples at once, with the same values.

For FID, KID and the k-NN metrics a resample holds about 63% distinct images, so its
scores sit systematically off the full set's (FID above it): the interval is then
not centred on the value and may even exclude it. It is reported as computed rather
than stretched to contain the value, because its width ``hi - lo`` -- how far the
metric moves between samples of one size -- is what the sample-size study reads
(Chong & Forsyth, 2020, "Effectively Unbiased FID and Inception Score and where to
find them", study the same bias).
"""

from __future__ import annotations

import numpy as np

from genlab.errors import InputError, check_int
from genlab.metrics import checks
from genlab.metrics.catalog import DISTRIBUTION_METRICS
from genlab.metrics.reference import Reference, as_reference
from genlab.metrics.spec import DistributionMetric


def bootstrap_interval(metric: DistributionMetric | str, gen: np.ndarray,
                       ref: np.ndarray | Reference | None, text: np.ndarray | None, *,
                       resamples: int, seed: int, level: float = 0.95
                       ) -> tuple[float, float, float]:
    """``(value, lo, hi)``: the metric of ``gen`` and its bootstrap percentile interval.

    Args:
        metric: a :class:`~genlab.metrics.spec.DistributionMetric` or its registry name.
        gen: ``(n, d)`` generated features (resampled).
        ref: ``(n_r, d)`` reference features or a Reference (fixed); ``None`` for
            metrics that read no reference.
        text: ``(n, d_t)`` prompt embeddings paired row by row with ``gen`` (resampled
            with it), or ``None``.
        resamples: bootstrap resamples, >= 2.
        seed: seeds the resampling, and is the metric's own seed (KID's subsets).
        level: the interval's coverage, in (0, 1).
    """
    m = DISTRIBUTION_METRICS.get(metric) if isinstance(metric, str) else metric
    resamples = check_int("bootstrap resamples", resamples, low=2)
    if not (isinstance(level, float) and 0.0 < level < 1.0):
        raise InputError(f"bootstrap level must be a float in (0, 1), got {level!r}")
    g = checks.features("gen", gen)
    t = None if text is None else checks.features("text", text)
    if t is not None and t.shape[0] != g.shape[0]:
        raise InputError(f"text has {t.shape[0]} rows but gen has {g.shape[0]}; they are "
                         "paired row by row (one prompt embedding per image)")
    r = None if ref is None else as_reference(ref)
    value = m(g, r, t, seed=seed)
    n = g.shape[0]
    idx = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    if m.resampled is not None:
        counts = np.bincount((idx + n * np.arange(resamples)[:, None]).ravel(),
                             minlength=resamples * n).reshape(resamples, n)
        boot = np.asarray(m.resampled(g, r, t, counts, seed=seed), dtype=np.float64)
    else:
        boot = np.array([m(g[i], r, None if t is None else t[i], seed=seed) for i in idx])
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    return value, float(lo), float(hi)
