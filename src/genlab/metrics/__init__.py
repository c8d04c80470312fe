"""Distribution metrics on feature arrays (issue 5, item 2).

Generated images are compared with reference images through the features of a
trained network -- the attribute classifier (the Inception analog) or the
contrastive image-text model (the CLIP analog); these modules see only the arrays:

- ``frechet``: FID (Heusel et al., 2017);
- ``kernel``: KID (Bińkowski et al., 2018) and CMMD (Jayasumana et al., 2024);
- ``manifold``: precision/recall (Kynkäänniemi et al., 2019), density/coverage
  (Naeem et al., 2020);
- ``alignment``: the CLIPScore analog (Hessel et al., 2021);
- ``reference``: a reference set with its statistics computed once;
- ``spec`` and ``catalog``: ``MetricSpec`` and the ``DISTRIBUTION_METRICS`` registry;
- ``bootstrap``: intervals over resampled generated images.
"""

from __future__ import annotations

from genlab.metrics.alignment import alignment_per_image, alignment_score
from genlab.metrics.bootstrap import bootstrap_interval
from genlab.metrics.catalog import DISTRIBUTION_METRICS
from genlab.metrics.frechet import fid, frechet_distance, gaussian_stats
from genlab.metrics.kernel import cmmd, kid, kid_subsets
from genlab.metrics.manifold import coverage, density, precision, recall
from genlab.metrics.reference import Reference
from genlab.metrics.spec import DistributionMetric, MetricSpec

__all__ = [
    "DISTRIBUTION_METRICS",
    "DistributionMetric",
    "MetricSpec",
    "Reference",
    "alignment_per_image",
    "alignment_score",
    "bootstrap_interval",
    "cmmd",
    "coverage",
    "density",
    "fid",
    "frechet_distance",
    "gaussian_stats",
    "kid",
    "kid_subsets",
    "precision",
    "recall",
]
