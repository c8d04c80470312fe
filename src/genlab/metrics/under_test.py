"""What the ``metrics`` track evaluates: metrics, each scoring a generator's images.

The track's "generators" are metrics (``genlab run metrics -g fid``). Each one
maps a :class:`SampleView` (one zoo member's images as features, prompt
embeddings, anchored pass probabilities) and the split's :class:`ReferenceView`
to one number, and says which direction is better. Beside the distribution
metrics of :mod:`genlab.metrics.catalog` stand genlab's own judge-anchored metric
and the controls every track has: ``truth`` (the exact judge's pass rate, the
positive control: it agrees with itself) and ``random`` (a value drawn from a
seed, the negative control: it agrees with nothing).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from genlab.errors import GenlabError
from genlab.metrics import kernel
from genlab.metrics.catalog import DISTRIBUTION_METRICS
from genlab.metrics.reference import Reference
from genlab.metrics.spec import DistributionMetric
from genlab.tracks.scoring import derive_seed


@dataclass(frozen=True)
class SampleView:
    """One generator's ``n`` images, as every metric may read them.

    Attributes:
        classifier: ``(n, 128)`` attribute-classifier features (the Inception analog).
        clip: ``(n, 128)`` CLIP-analog image embeddings (unit norm).
        text: ``(n, 128)`` CLIP-analog embeddings of each image's prompt.
        anchored: ``(n,)`` the anchored metric's pass probability of each image.
        passed: ``(n,) bool`` the exact judge's verdicts (read by ``truth`` only).
        name: the generator (zoo member) the images come from; seeds ``random``.
    """

    classifier: np.ndarray = field(repr=False)
    clip: np.ndarray = field(repr=False)
    text: np.ndarray = field(repr=False)
    anchored: np.ndarray = field(repr=False)
    passed: np.ndarray = field(repr=False)
    name: str = ""

    def take(self, idx: np.ndarray) -> SampleView:
        """The images at ``idx`` (a subsample or a bootstrap resample)."""
        return SampleView(self.classifier[idx], self.clip[idx], self.text[idx],
                          self.anchored[idx], self.passed[idx], self.name)

    def __len__(self) -> int:
        return int(self.passed.shape[0])


@dataclass(frozen=True)
class ReferenceView:
    """The reference images of a split (the oracle with other seeds), as Reference
    objects so their statistics are computed once for every member."""

    classifier: Reference
    clip: Reference


@runtime_checkable
class MetricUnderTest(Protocol):
    """A metric the ``metrics`` track evaluates."""

    @property
    def name(self) -> str: ...

    @property
    def direction(self) -> str:
        """``"lower"`` or ``"higher"``: which values are better."""
        ...

    @property
    def reads(self) -> str: ...

    @property
    def citation(self) -> str: ...

    def value(self, sample: SampleView, ref: ReferenceView, *, seed: int) -> float: ...

    def min_samples(self, dim: int) -> int:
        """The fewest images it can score with features of dimension ``dim``."""
        ...


@dataclass(frozen=True)
class Distribution:
    """A metric of :data:`DISTRIBUTION_METRICS` on the features it reads. KID's subsets
    shrink to the sample when it holds fewer than 1,000 images (torchmetrics'
    ``subset_size`` argument), so the sample-size study reaches n = 100."""

    metric: DistributionMetric

    @property
    def name(self) -> str:
        return self.metric.spec.name

    @property
    def direction(self) -> str:
        return self.metric.spec.direction

    @property
    def reads(self) -> str:
        return self.metric.spec.features

    @property
    def citation(self) -> str:
        return self.metric.spec.citation

    def min_samples(self, dim: int) -> int:
        if self.name == "kid":  # its subsets shrink to the sample (see the class doc)
            return 2
        return self.metric.spec.required_samples(dim)

    def value(self, sample: SampleView, ref: ReferenceView, *, seed: int) -> float:
        feats = self.metric.spec.features
        if self.name == "kid" and len(sample) < kernel.KID_SUBSET_SIZE:
            return kernel.kid(sample.classifier, ref.classifier, seed=seed,
                              subset_size=min(len(sample), ref.classifier.n))
        if feats == "classifier":
            return self.metric(sample.classifier, ref.classifier, seed=seed)
        if feats == "clip":
            return self.metric(sample.clip, ref.clip, seed=seed)
        return self.metric(sample.clip, None, sample.text, seed=seed)


@dataclass(frozen=True)
class Anchored:
    """genlab's judge-anchored metric (:mod:`genlab.metrics.anchored`): the mean
    predicted probability that the exact judge passes an image."""

    name: str = "anchored"
    direction: str = "higher"
    reads: str = "image+prompt"
    citation: str = ("genlab: a judge learned from train-split verdicts, in the spirit of "
                     "BLEURT (Sellam et al. 2020) and ImageReward (Xu et al. 2023)")

    def min_samples(self, dim: int) -> int:
        return 1

    def value(self, sample: SampleView, ref: ReferenceView, *, seed: int) -> float:
        return float(np.mean(sample.anchored))


@dataclass(frozen=True)
class Truth:
    """Positive control: the exact judge's pass rate (needs the spec; not a metric a
    real pipeline could use, but the scale's top)."""

    name: str = "truth"
    direction: str = "higher"
    reads: str = "spec"
    citation: str = "genlab's exact scene judge"

    def min_samples(self, dim: int) -> int:
        return 1

    def value(self, sample: SampleView, ref: ReferenceView, *, seed: int) -> float:
        return float(np.mean(sample.passed))


@dataclass(frozen=True)
class Random:
    """Negative control: a uniform draw seeded by the member, its images and the seed;
    it agrees with nothing, so its correlations show the width of chance."""

    name: str = "random"
    direction: str = "higher"
    reads: str = "nothing"
    citation: str = "negative control"

    def min_samples(self, dim: int) -> int:
        return 1

    def value(self, sample: SampleView, ref: ReferenceView, *, seed: int) -> float:
        # seeded by the images themselves, so a resample draws anew (deterministically)
        digest = hashlib.sha256(np.ascontiguousarray(sample.classifier).tobytes()).hexdigest()
        rng = np.random.default_rng(derive_seed(seed, sample.name, digest))
        return float(rng.random())


COMBINED_PARTS = ("fid", "kid", "precision", "recall", "density", "coverage", "cmmd",
                  "alignment", "anchored")


class Combined:
    """genlab's learned combination: a ridge regression of exact correctness on every
    other metric (each oriented so higher is better, and standardised), fitted on the
    ``dev`` zoo's members only (:meth:`fit`), then applied to any sample. One way to a
    "single metric that correlates with human preference" (the seed's question),
    with exact correctness standing in for preference."""

    name = "combined"
    direction = "higher"
    reads = "every metric"
    citation = "genlab: ridge regression over the other metrics, fitted on the dev zoo"
    ridge = 1.0

    def __init__(self) -> None:
        self.parts = [build(n) for n in COMBINED_PARTS]
        self._fit: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None

    def min_samples(self, dim: int) -> int:
        return max(p.min_samples(dim) for p in self.parts)

    def _row(self, sample: SampleView, ref: ReferenceView, seed: int) -> np.ndarray:
        return np.array([p.value(sample, ref, seed=seed) * (-1 if p.direction == "lower"
                                                               else 1) for p in self.parts])

    def fit(self, samples: dict[str, SampleView], ref: ReferenceView, *, seed: int) -> None:
        """Fit on one split's members (the track passes the ``dev`` zoo)."""
        x = np.stack([self._row(s, ref, seed) for s in samples.values()])
        y = np.array([float(np.mean(s.passed)) for s in samples.values()])
        mu, sd = x.mean(0), x.std(0) + 1e-12
        z = (x - mu) / sd
        w = np.linalg.solve(z.T @ z + self.ridge * np.eye(z.shape[1]), z.T @ (y - y.mean()))
        self._fit = (mu, sd, w, float(y.mean()))

    def value(self, sample: SampleView, ref: ReferenceView, *, seed: int) -> float:
        if self._fit is None:
            raise GenlabError("the combined metric is not fitted: call fit() on the dev "
                              "zoo first (the metrics track does)")
        mu, sd, w, b = self._fit
        return float(((self._row(sample, ref, seed) - mu) / sd) @ w + b)


def build(name: str) -> MetricUnderTest:
    """The metric under test called ``name`` (a distribution metric, ``anchored``,
    ``combined``, ``truth`` or ``random``)."""
    if name == "combined":
        return Combined()
    own: dict[str, MetricUnderTest] = {"anchored": Anchored(), "truth": Truth(),
                                       "random": Random()}
    if name in own:
        return own[name]
    return Distribution(DISTRIBUTION_METRICS.get(name))
