"""The ``realtime`` track's distribution metric: FID of each setting's images (issue 4,
item 2: the speed-quality frontier "and, once the metrics track exists, its
distribution metric").

Exact accuracy says whether an image is right; the Fréchet distance (Heusel et al.,
2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium") says how far the images as a set sit from real ones, which is what a
few-step sampler's blur or lost variety moves first. Here it reads genlab's own
Inception analog (the attribute classifier of :mod:`genlab.metrics.feature_train`,
the metrics track's networks, trained and cached on first use) on the setting's
quality images (the ``control`` subset every setting draws), against the ``oracle``'s
renders of the same prompts with other seeds (the metrics track's reference
protocol). The reference's statistics are computed once per run of the track; the
interval resamples the setting's images (:func:`genlab.metrics.bootstrap.bootstrap_interval`:
a resample holds ~63% distinct images, so FID's interval sits above the value and is
reported as computed). The metrics track measured how far FID agrees with the exact
truth (Spearman 0.74 over its defect zoo, docs/results.md), and that it prefers blur:
read it beside the accuracy, not instead of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from genlab.generators.controls import OracleGenerator
from genlab.metrics.bootstrap import bootstrap_interval
from genlab.metrics.embed import image_features
from genlab.metrics.feature_train import FeatureConfig, FeatureNets, ensure_features
from genlab.metrics.nets import FEATURE_DIM
from genlab.metrics.reference import Reference
from genlab.tracks import control
from genlab.tracks.scorecard import ScoreRecord
from genlab.tracks.scoring import derive_seed

CATEGORY = "fid"
FID_RESAMPLES = 200
"""Bootstrap resamples of each setting's FID (each resample is one 128-d matrix square
root; the batched path scores all of them at once)."""


@dataclass(frozen=True)
class FidReference:
    """The feature networks and the reference set's statistics of one run."""

    nets: FeatureNets
    reference: Reference


def reference(todo: Sequence[control.Item], size: int, features: FeatureConfig,
              cache_dir: Path, *, seed: int, progress: bool = False) -> FidReference | None:
    """The ``oracle``'s renders of ``todo``'s prompts (layout boxes included) with seeds
    derived from ``seed`` and each item's key, as attribute-classifier features; None
    when ``todo`` is too small for a FID (:func:`enough`)."""
    if not enough(len(todo)):
        return None
    nets = ensure_features(features, cache_dir, progress)
    seeds = [derive_seed(seed, "fid-reference", it.key) for it in todo]
    images = OracleGenerator().generate([it.prompt for it in todo], seeds,
                                        boxes=[it.spec.boxes for it in todo], size=size).images
    feats, _ = image_features(nets, images)
    return FidReference(nets, Reference(feats.astype(np.float64), name="realtime-oracle"))


def enough(n: int) -> bool:
    """Whether ``n`` images give a FID with a meaningful interval: more than twice the
    feature dimension, so that a bootstrap resample (~63% distinct images) still spans
    the covariance (the default quality subset has 448 images for 128 dimensions; the
    smoke profile's 14 have no ``fid``, and no feature networks are loaded for it)."""
    return n > 2 * FEATURE_DIM


def fid_record(track: str, label: str, samples: Sequence[dict[str, Any]],
               ref: FidReference | None, *, seed: int) -> ScoreRecord | None:
    """``fid`` of the setting's stored images against ``ref`` (lower is better); None
    without a reference (:func:`reference` makes none for too few images)."""
    if ref is None:
        return None
    images = np.stack([np.asarray(Image.open(s["image_file"]).convert("RGB"))
                       for s in samples])
    feats, _ = image_features(ref.nets, images)
    value, lo, hi = bootstrap_interval("fid", feats.astype(np.float64), ref.reference, None,
                                       resamples=FID_RESAMPLES,
                                       seed=derive_seed(seed, label, CATEGORY))
    return ScoreRecord(track, label, CATEGORY, value, lo, hi, len(samples))
