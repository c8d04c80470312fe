"""``DISTRIBUTION_METRICS``: the one list of distribution metrics, filled explicitly here.

Each entry adapts a metric function to the shared signature
``(gen, ref, text, *, seed) -> float`` (see ``spec.py``) at its paper's settings.
``min_samples`` mirrors the checks the function makes, so a track can skip a metric
at a sample size it cannot score (e.g. FID at n <= d, KID at n < 1000) instead of
catching the error.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from genlab.metrics import alignment, frechet, kernel, manifold
from genlab.metrics.reference import Reference
from genlab.metrics.spec import DistributionMetric, MetricFn, MetricSpec, ResampledFn
from genlab.registry import Registry

DISTRIBUTION_METRICS: Registry[DistributionMetric] = Registry("distribution metric")

Ref = np.ndarray | Reference | None


def _fid(gen: np.ndarray, ref: Ref, text: np.ndarray | None, *, seed: int) -> float:
    assert ref is not None  # DistributionMetric checks it
    return frechet.fid(gen, ref)


def _fid_resampled(gen: np.ndarray, ref: Ref, text: np.ndarray | None, counts: np.ndarray,
                   *, seed: int) -> np.ndarray:
    assert ref is not None
    return frechet.fid_resampled(gen, ref, counts)


def _kid(gen: np.ndarray, ref: Ref, text: np.ndarray | None, *, seed: int) -> float:
    assert ref is not None
    return kernel.kid(gen, ref, seed=seed)


def _cmmd(gen: np.ndarray, ref: Ref, text: np.ndarray | None, *, seed: int) -> float:
    assert ref is not None
    return kernel.cmmd(gen, ref)


def _precision(gen: np.ndarray, ref: Ref, text: np.ndarray | None, *, seed: int) -> float:
    assert ref is not None
    return manifold.precision(gen, ref)


def _recall(gen: np.ndarray, ref: Ref, text: np.ndarray | None, *, seed: int) -> float:
    assert ref is not None
    return manifold.recall(gen, ref)


def _density(gen: np.ndarray, ref: Ref, text: np.ndarray | None, *, seed: int) -> float:
    assert ref is not None
    return manifold.density(gen, ref)


def _coverage(gen: np.ndarray, ref: Ref, text: np.ndarray | None, *, seed: int) -> float:
    assert ref is not None
    return manifold.coverage(gen, ref)


def _alignment(gen: np.ndarray, ref: Ref, text: np.ndarray | None, *, seed: int) -> float:
    assert text is not None
    return alignment.alignment_score(gen, text)


_HEUSEL = "Heusel et al. 2017, GANs Trained by a Two Time-Scale Update Rule ... (NeurIPS)"
_BINKOWSKI = "Bińkowski et al. 2018, Demystifying MMD GANs (ICLR)"
_KYNKAANNIEMI = ("Kynkäänniemi et al. 2019, Improved Precision and Recall Metric for "
                 "Assessing Generative Models (NeurIPS)")
_NAEEM = ("Naeem et al. 2020, Reliable Fidelity and Diversity Metrics for Generative "
          "Models (ICML)")
_JAYASUMANA = ("Jayasumana et al. 2024, Rethinking FID: Towards a Better Evaluation Metric "
               "for Image Generation (CVPR)")
_HESSEL = ("Hessel et al. 2021, CLIPScore: A Reference-free Evaluation Metric for Image "
           "Captioning (EMNLP)")

_SPECS: tuple[tuple[MetricSpec, MetricFn], ...] = (
    (MetricSpec("fid", "lower", "classifier", 2, True, _HEUSEL), _fid),
    (MetricSpec("kid", "lower", "classifier", kernel.KID_SUBSET_SIZE, False, _BINKOWSKI),
     _kid),
    (MetricSpec("precision", "higher", "classifier", manifold.PR_K + 1, False,
                _KYNKAANNIEMI), _precision),
    (MetricSpec("recall", "higher", "classifier", manifold.PR_K + 1, False, _KYNKAANNIEMI),
     _recall),
    (MetricSpec("density", "higher", "classifier", manifold.DC_K + 1, False, _NAEEM),
     _density),
    (MetricSpec("coverage", "higher", "classifier", manifold.DC_K + 1, False, _NAEEM),
     _coverage),
    (MetricSpec("cmmd", "lower", "clip", 2, False, _JAYASUMANA), _cmmd),
    (MetricSpec("alignment", "higher", "clip+text", 1, False, _HESSEL), _alignment),
)


_RESAMPLED: dict[str, ResampledFn] = {"fid": _fid_resampled}

for _spec, _fn in _SPECS:
    DISTRIBUTION_METRICS.register(
        _spec.name, partial(DistributionMetric, _spec, _fn, _RESAMPLED.get(_spec.name)))
