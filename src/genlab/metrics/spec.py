"""The contract of a distribution metric: what it reads, which way is better, how many
samples it needs, and one call signature for all of them.

A track scores a generator with every metric of ``DISTRIBUTION_METRICS`` in one loop::

    for name in DISTRIBUTION_METRICS:
        metric = DISTRIBUTION_METRICS.get(name)
        feats = {"classifier": cls_feats, "clip": clip_feats, "clip+text": clip_feats}
        value = metric(feats[metric.spec.features], refs[metric.spec.features], text,
                       seed=0)

Modelled on openproblems' metric metadata (a metric's direction beside its code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from genlab.errors import InputError
from genlab.metrics.reference import Reference

Direction = Literal["lower", "higher"]
FeatureKind = Literal["classifier", "clip", "clip+text"]


@dataclass(frozen=True)
class MetricSpec:
    """What a distribution metric is, for tables, plots and the track's loop.

    Attributes:
        name: the registry name ("fid", "kid", ...).
        direction: ``"lower"`` or ``"higher"``: which values are better.
        features: what it reads: ``"classifier"`` (attribute-classifier features, the
            Inception analog) of generated and reference images; ``"clip"``
            (contrastive image embeddings) of both; ``"clip+text"`` (image embeddings
            of the generated images and text embeddings of their prompts; no reference).
        min_samples: the fewest samples of each input (gen, ref, text) that are always
            accepted (precision, density and coverage take fewer generated ones).
        samples_exceed_dim: also needs more samples than feature dimensions (FID's
            covariance must be full rank).
        citation: the paper the implementation follows.
    """

    name: str
    direction: Direction
    features: FeatureKind
    min_samples: int
    samples_exceed_dim: bool
    citation: str

    def __post_init__(self) -> None:
        if self.direction not in ("lower", "higher"):
            raise InputError(f"metric direction {self.direction!r}; accepted: 'lower', "
                             "'higher'")
        if self.features not in ("classifier", "clip", "clip+text"):
            raise InputError(f"metric features {self.features!r}; accepted: 'classifier', "
                             "'clip', 'clip+text'")

    def required_samples(self, dim: int) -> int:
        """The fewest samples of each input for features of dimension ``dim``."""
        return max(self.min_samples, dim + 1 if self.samples_exceed_dim else 0)


class MetricFn(Protocol):
    """``(gen, ref, text, *, seed) -> value``: one signature for every metric."""

    def __call__(self, gen: np.ndarray, ref: np.ndarray | Reference | None,
                 text: np.ndarray | None, *, seed: int) -> float: ...


class ResampledFn(Protocol):
    """``(gen, ref, text, counts, *, seed) -> (B,) values`` of B resamples of ``gen``:
    resample b holds row i ``counts[b, i]`` times (a faster path for the bootstrap)."""

    def __call__(self, gen: np.ndarray, ref: np.ndarray | Reference | None,
                 text: np.ndarray | None, counts: np.ndarray, *, seed: int) -> np.ndarray: ...


@dataclass(frozen=True)
class DistributionMetric:
    """A metric's spec and its function, called as ``metric(gen, ref, text, seed=0)``.

    ``gen`` is ``(n, d)`` features of the generated images; ``ref`` ``(n_r, d)`` of the
    reference images (or a :class:`~genlab.metrics.reference.Reference`; ``None`` for
    ``"clip+text"``); ``text`` ``(n, d)`` embeddings of each generated image's prompt
    (``"clip+text"`` only). An input the metric does not read is ignored, so one loop
    can pass the same arguments to every metric; a missing one it reads is an error.

    ``resampled``, where given, scores many bootstrap resamples at once and equals
    ``fn`` on each resample (see :func:`~genlab.metrics.bootstrap.bootstrap_interval`).
    """

    spec: MetricSpec
    fn: MetricFn
    resampled: ResampledFn | None = None

    def __call__(self, gen: np.ndarray, ref: np.ndarray | Reference | None = None,
                 text: np.ndarray | None = None, *, seed: int = 0) -> float:
        self._check_inputs(ref, text)
        return float(self.fn(gen, ref, text, seed=seed))

    def _check_inputs(self, ref: object, text: object) -> None:
        if self.spec.features == "clip+text":
            if text is None:
                raise InputError(f"metric {self.spec.name!r} reads text embeddings of each "
                                 "image's prompt; got text=None")
        elif ref is None:
            raise InputError(f"metric {self.spec.name!r} compares with reference "
                             f"{self.spec.features} features; got ref=None")
