"""k-NN manifold metrics: precision/recall (Kynkäänniemi et al., 2019) and
density/coverage (Naeem et al., 2020).

Each sample's *ball* is centred on it with radius the distance to its k-th nearest
neighbour in its own set (itself excluded). Then, with real = reference and fake =
generated:

- **precision** (Kynkäänniemi et al., 2019, "Improved Precision and Recall Metric for
  Assessing Generative Models", eq. 1-3, k = 3): the share of fake samples inside at
  least one real ball -- fidelity;
- **recall** (same, k = 3): the share of real samples inside at least one fake ball --
  diversity;
- **density** (Naeem et al., 2020, "Reliable Fidelity and Diversity Metrics for
  Generative Models", eq. 3, k = 5): the number of real balls holding each fake
  sample, averaged and divided by k -- about 1 when both sets come from one
  distribution, and unbounded above;
- **coverage** (same, eq. 4, k = 5): the share of real samples whose ball holds at
  least one fake sample.

"Inside" includes the boundary (``<=``), as in Kynkäänniemi et al.'s code; the
``prdc`` package of Naeem et al. uses ``<``. They differ only on exact ties.

Distances are brute force: ``|a|^2 + |b|^2 - 2 a.b`` with one matrix product per
block of rows. Tree indexes (scipy's ``cKDTree``) do not help in 64-512 dimensions,
where they visit nearly every leaf; BLAS does the whole ``n^2 d`` in tens of
milliseconds at n = 2000. Squared radii of the reference depend on it alone and a
:class:`~genlab.metrics.reference.Reference` keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from genlab.errors import check_int
from genlab.metrics import checks
from genlab.metrics.reference import Reference, as_reference

PR_K = 3  # Kynkäänniemi et al. (2019)
DC_K = 5  # Naeem et al. (2020)
_BLOCK_ENTRIES = 1 << 22  # entries of a distance matrix held at once (32 MiB of float64)


def _sq_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _blocks(a: np.ndarray, b: np.ndarray, b_sq: np.ndarray
            ) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(start, stop, D)``: squared distances ``D`` of rows ``a[start:stop]`` to all of ``b``."""
    a_sq = _sq_norms(a)
    block = max(1, _BLOCK_ENTRIES // b.shape[0])
    for start in range(0, a.shape[0], block):
        stop = min(start + block, a.shape[0])
        d = a[start:stop] @ b.T
        d *= -2.0
        d += a_sq[start:stop, None]
        d += b_sq[None, :]
        np.maximum(d, 0.0, out=d)  # rounding can make |x - x|^2 slightly negative
        yield start, stop, d


def knn_sq_radii(x: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` squared distance from each row of ``(n, d)`` ``x`` to its k-th nearest
    other row (``n > k``)."""
    out = np.empty(x.shape[0])
    for start, stop, d in _blocks(x, x, _sq_norms(x)):
        rows = np.arange(stop - start)
        d[rows, rows + start] = np.inf  # a sample is not its own neighbour
        out[start:stop] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return out


def _inputs(metric: str, gen: np.ndarray, ref: np.ndarray | Reference, k: int,
            gen_radii: bool) -> tuple[np.ndarray, Reference, np.ndarray, np.ndarray]:
    """Checked ``gen``, the Reference, and the reference's squared norms and radii."""
    k = check_int(f"{metric} k", k)
    r = as_reference(ref)
    g = checks.features("gen", gen)
    checks.same_dim("gen", g, r.name, r.features)
    why = f"k={k} nearest neighbours of each sample besides itself"
    checks.enough(metric, r.name, r.n, k + 1, why)
    checks.enough(metric, "gen", g.shape[0], k + 1 if gen_radii else 1, why)
    r_sq, radii = r.memo(("knn", k), lambda: (_sq_norms(r.features), knn_sq_radii(r.features, k)))
    return g, r, r_sq, radii


def precision(gen: np.ndarray, ref: np.ndarray | Reference, *, k: int = PR_K) -> float:
    """Share of generated samples inside some reference sample's k-NN ball (fidelity).

    Args:
        gen: ``(n_g, d)`` generated features.
        ref: ``(n_r, d)`` reference features (``n_r > k``) or a Reference.
        k: the neighbour that sets each ball's radius.

    Returns:
        In [0, 1]; higher is better.
    """
    g, r, r_sq, radii = _inputs("precision", gen, ref, k, gen_radii=False)
    hits = sum(int((d <= radii[None, :]).any(axis=1).sum())
               for _, _, d in _blocks(g, r.features, r_sq))
    return hits / g.shape[0]


def recall(gen: np.ndarray, ref: np.ndarray | Reference, *, k: int = PR_K) -> float:
    """Share of reference samples inside some generated sample's k-NN ball (diversity).

    Args:
        gen: ``(n_g, d)`` generated features (``n_g > k``).
        ref: ``(n_r, d)`` reference features (``n_r > k``) or a Reference.
        k: the neighbour that sets each ball's radius.

    Returns:
        In [0, 1]; higher is better.
    """
    g, r, r_sq, _ = _inputs("recall", gen, ref, k, gen_radii=True)
    g_radii = knn_sq_radii(g, k)
    covered = np.zeros(r.n, dtype=bool)
    for start, stop, d in _blocks(g, r.features, r_sq):
        covered |= (d <= g_radii[start:stop, None]).any(axis=0)
    return float(covered.mean())


def density(gen: np.ndarray, ref: np.ndarray | Reference, *, k: int = DC_K) -> float:
    """Mean number of reference k-NN balls holding a generated sample, over k.

    Args:
        gen: ``(n_g, d)`` generated features.
        ref: ``(n_r, d)`` reference features (``n_r > k``) or a Reference.
        k: the neighbour that sets each ball's radius.

    Returns:
        >= 0, about 1 for one distribution; higher means more fidelity.
    """
    g, r, r_sq, radii = _inputs("density", gen, ref, k, gen_radii=False)
    count = sum(int((d <= radii[None, :]).sum()) for _, _, d in _blocks(g, r.features, r_sq))
    return count / (k * g.shape[0])


def coverage(gen: np.ndarray, ref: np.ndarray | Reference, *, k: int = DC_K) -> float:
    """Share of reference samples whose k-NN ball holds at least one generated sample.

    Args:
        gen: ``(n_g, d)`` generated features.
        ref: ``(n_r, d)`` reference features (``n_r > k``) or a Reference.
        k: the neighbour that sets each ball's radius.

    Returns:
        In [0, 1]; higher is better.
    """
    g, r, r_sq, radii = _inputs("coverage", gen, ref, k, gen_radii=False)
    nearest = np.full(r.n, np.inf)
    for _, _, d in _blocks(g, r.features, r_sq):
        np.minimum(nearest, d.min(axis=0), out=nearest)
    return float((nearest <= radii).mean())
