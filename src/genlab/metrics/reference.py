"""A reference feature set, validated once, with a memo of what the metrics derive from it.

A benchmark scores many generated sets (generators, settings, bootstrap resamples)
against one reference set. Everything that depends on the reference alone (FID's mean,
covariance and its square root; the k-NN radii of precision/recall and
density/coverage; KID's and CMMD's reference-reference kernel sums) is computed on
first use and kept here, so the second and later scores pay only for the generated
side. The cached values are the very arrays the direct computation would produce (a
metric given a plain array wraps it in a fresh ``Reference``), so scores with and
without a shared ``Reference`` are identical, not merely close.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from genlab.metrics import checks

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Reference:
    """Reference features and the memo of statistics derived from them.

    Attributes:
        features: ``(n, d)`` float64, read-only (a validated copy of what was given).
        name: what errors call this input ("ref").
    """

    features: np.ndarray
    name: str = "ref"
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        arr = np.array(checks.features(self.name, self.features), dtype=np.float64)
        arr.setflags(write=False)  # the memo is only valid while the features never change
        object.__setattr__(self, "features", arr)

    @property
    def n(self) -> int:
        return int(self.features.shape[0])

    @property
    def d(self) -> int:
        return int(self.features.shape[1])

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value cached under ``key``, built by ``build()`` on first use.

        ``key`` must name every parameter the value depends on besides the features
        (e.g. ``("knn", k)``), so two metrics never share a value by accident.
        """
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]  # type: ignore[no-any-return]


def as_reference(ref: np.ndarray | Reference | object, name: str = "ref") -> Reference:
    """``ref`` itself if it is a :class:`Reference`, else a fresh one over its features."""
    return ref if isinstance(ref, Reference) else Reference(ref, name)  # type: ignore[arg-type]
