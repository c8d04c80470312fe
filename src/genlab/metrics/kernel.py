"""Kernel distances: KID (Bińkowski et al., 2018) and CMMD (Jayasumana et al., 2024).

Both are the unbiased estimator of the squared maximum mean discrepancy (Gretton et
al., 2012, eq. 3)::

    MMD^2 = sum_{i!=j} k(x_i, x_j) / (m(m-1)) + sum_{i!=j} k(y_i, y_j) / (n(n-1))
            - 2 sum_{i,j} k(x_i, y_j) / (mn)

- **KID** (Bińkowski et al., 2018, "Demystifying MMD GANs", sec. 5): the cubic
  polynomial kernel ``k(x, y) = (x.y / d + 1)^3`` on classifier features, averaged
  over ``subsets`` random subsets of ``subset_size`` samples of each set. The subsets
  are drawn exactly as torchmetrics' ``KernelInceptionDistance`` draws them (a
  ``torch.randperm`` of the reference, then of the generated set, per subset, from a
  ``torch.Generator`` seeded with ``seed``), so after ``torch.manual_seed(seed)`` the
  two compute the same number.
- **CMMD** (Jayasumana et al., 2024, "Rethinking FID: Towards a Better Evaluation
  Metric for Image Generation", sec. 4): the Gaussian RBF kernel
  ``exp(-|x - y|^2 / (2 sigma^2))`` with ``sigma = 10`` on L2-normalised CLIP(-analog)
  embeddings of all samples, scaled by 1000. The paper states the unbiased estimator;
  its released code (google-research/cmmd, ``distance.py``) averages the full kernel
  matrices, diagonals included (the biased estimator); ``unbiased=False`` gives that.

How the kernel sums are taken. torchmetrics builds three ``m x m`` kernel matrices
per subset: ``3 * subsets * m^2 * d`` multiply-adds, 38 G for the defaults. When the
sets are small next to ``subsets * m^2`` it is cheaper to build each kernel matrix
between the whole sets once and take every subset's sum as ``s_x^T K s_y`` with 0/1
indicator vectors, all subsets in one matrix product (``n^2 (d + subsets)``, 0.9 G
per matrix at n = 2000). :func:`subset_sums` picks whichever costs fewer
multiply-adds; both give the same sums up to rounding. The reference-reference sums
depend only on the reference (and the seed), so a
:class:`~genlab.metrics.reference.Reference` keeps them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from genlab.errors import check_int
from genlab.metrics import checks
from genlab.metrics.reference import Reference, as_reference

KID_SUBSETS = 100  # torchmetrics' and torch-fidelity's defaults
KID_SUBSET_SIZE = 1000
CMMD_SIGMA = 10.0  # Jayasumana et al. (2024), sec. 4
CMMD_SCALE = 1000.0
_BLOCK_ENTRIES = 1 << 22  # entries of a kernel matrix held at once (32 MiB of float64)

Kernel = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (a, d), (b, d) -> (a, b)


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """KID's cubic kernel ``(x.y / d + 1)^3`` between the rows of ``x`` and ``y``."""
    k = x @ y.T
    k *= 1.0 / x.shape[1]
    k += 1.0
    return k * k * k  # two multiplies: ``** 3`` goes through pow(), 3.5x slower here


def rbf_kernel(x: np.ndarray, y: np.ndarray, sigma: float = CMMD_SIGMA) -> np.ndarray:
    """The Gaussian kernel ``exp(-|x - y|^2 / (2 sigma^2))`` between rows of ``x``, ``y``."""
    sq = np.einsum("ij,ij->i", x, x)[:, None] + np.einsum("ij,ij->i", y, y)[None, :]
    sq -= 2.0 * (x @ y.T)
    np.maximum(sq, 0.0, out=sq)  # rounding can make |x - x|^2 slightly negative
    sq *= -1.0 / (2.0 * sigma * sigma)
    return np.exp(sq, out=sq)


def subset_sums(kernel: Kernel, x: np.ndarray, y: np.ndarray, idx_x: np.ndarray,
                idx_y: np.ndarray, *, same: bool) -> np.ndarray:
    """``(s,)`` kernel sums ``sum_{a in idx_x[j], b in idx_y[j]} k(x_a, y_b)`` per subset j.

    Args:
        kernel: the kernel function.
        x, y: ``(n_x, d)`` and ``(n_y, d)`` features.
        idx_x, idx_y: ``(s, m_x)`` and ``(s, m_y)`` int row indices, no repeats in a row.
        same: ``x is y`` and ``idx_x`` equals ``idx_y``: the pairs ``a == b`` are left out.
    """
    s, m_x = idx_x.shape
    m_y = idx_y.shape[1]
    whole = x.shape[0] * y.shape[0] * (x.shape[1] + s)
    per_subset = s * m_x * m_y * x.shape[1]
    if whole <= per_subset:
        sx = np.zeros((x.shape[0], s))
        sx[idx_x, np.arange(s)[:, None]] = 1.0
        sy = sx if same else np.zeros((y.shape[0], s))
        if not same:
            sy[idx_y, np.arange(s)[:, None]] = 1.0
        return _indicator_sums(kernel, x, y, sx, sy, same)
    ones_x, ones_y = np.ones((m_x, 1)), np.ones((m_y, 1))
    return np.array([_indicator_sums(kernel, x[ix], y[iy], ones_x, ones_y, same)[0]
                     for ix, iy in zip(idx_x, idx_y, strict=True)])


def _indicator_sums(kernel: Kernel, x: np.ndarray, y: np.ndarray, sx: np.ndarray,
                    sy: np.ndarray, same: bool) -> np.ndarray:
    """``diag(sx^T K sy)`` for ``K = kernel(x, y)``, built a block of rows at a time;
    with ``same`` the diagonal of ``K`` is left out (the very values that were added)."""
    out = np.zeros(sx.shape[1])
    block = max(1, _BLOCK_ENTRIES // y.shape[0])
    for start in range(0, x.shape[0], block):
        stop = min(start + block, x.shape[0])
        k = kernel(x[start:stop], y)
        out += np.einsum("bs,bs->s", k @ sy, sx[start:stop])
        if same:
            rows = np.arange(stop - start)
            out -= k[rows, rows + start] @ sx[start:stop]
    return out


def draw_subsets(n_ref: int, n_gen: int, subsets: int, size: int,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(subsets, size)`` row indices into the reference and the generated set.

    The draws of torchmetrics' ``KernelInceptionDistance.compute``: per subset, the
    first ``size`` entries of ``torch.randperm(n_ref)`` then of ``torch.randperm(n_gen)``.
    """
    g = torch.Generator().manual_seed(seed)
    ref_idx, gen_idx = [], []
    for _ in range(subsets):
        ref_idx.append(torch.randperm(n_ref, generator=g)[:size])
        gen_idx.append(torch.randperm(n_gen, generator=g)[:size])
    return torch.stack(ref_idx).numpy(), torch.stack(gen_idx).numpy()


def kid_subsets(gen: np.ndarray, ref: np.ndarray | Reference, *, subsets: int = KID_SUBSETS,
                subset_size: int = KID_SUBSET_SIZE, seed: int = 0) -> np.ndarray:
    """``(subsets,)`` unbiased MMD^2 of each subset pair (cubic kernel); KID is their mean.

    Args:
        gen: ``(n_g, d)`` generated features, ``n_g >= subset_size``.
        ref: ``(n_r, d)`` reference features (``n_r >= subset_size``) or a Reference.
        subsets, subset_size: how many subsets of how many samples of each set.
        seed: seeds the subset draws (module docstring).
    """
    r = as_reference(ref)
    g = checks.features("gen", gen)
    checks.same_dim("gen", g, r.name, r.features)
    subsets = check_int("KID subsets", subsets)
    m = check_int("KID subset_size", subset_size, low=2)
    why = f"subset_size={m} samples per subset, drawn without replacement"
    checks.enough("KID", "gen", g.shape[0], m, why)
    checks.enough("KID", r.name, r.n, m, why)
    n_g = g.shape[0]

    def build() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx_r, idx_g = draw_subsets(r.n, n_g, subsets, m, seed)
        rr = subset_sums(polynomial_kernel, r.features, r.features, idx_r, idx_r, same=True)
        return idx_r, idx_g, rr

    # The draws interleave reference and generated permutations, so the reference's
    # subsets depend on n_g too: the key names it.
    idx_r, idx_g, rr = r.memo(("kid", seed, subsets, m, n_g), build)
    gg = subset_sums(polynomial_kernel, g, g, idx_g, idx_g, same=True)
    gr = subset_sums(polynomial_kernel, r.features, g, idx_r, idx_g, same=False)
    return (rr + gg) / (m * (m - 1)) - 2.0 * gr / (m * m)


def kid(gen: np.ndarray, ref: np.ndarray | Reference, *, subsets: int = KID_SUBSETS,
        subset_size: int = KID_SUBSET_SIZE, seed: int = 0) -> float:
    """Kernel Inception Distance (Bińkowski et al., 2018): the mean of
    :func:`kid_subsets`. Lower is better; about 0 (either sign) for one distribution."""
    return float(kid_subsets(gen, ref, subsets=subsets, subset_size=subset_size,
                             seed=seed).mean())


def cmmd(gen: np.ndarray, ref: np.ndarray | Reference, *, unbiased: bool = True) -> float:
    """CMMD (Jayasumana et al., 2024): 1000 x MMD^2 with a sigma=10 Gaussian kernel.

    Args:
        gen: ``(n_g, d)`` CLIP-analog image embeddings of the generated images, n_g >= 2.
        ref: ``(n_r, d)`` embeddings of the reference images (n_r >= 2) or a Reference.
        unbiased: the paper's unbiased estimator (default) or, False, the biased one of
            its released code (module docstring).

    Embeddings are L2-normalised first, as the paper's embedding step does; sigma=10
    presumes unit vectors. Lower is better.
    """
    r = as_reference(ref)
    g = checks.unit_rows("gen", checks.features("gen", gen))
    checks.same_dim("gen", g, r.name, r.features)
    why = "an unbiased MMD needs two distinct samples"
    checks.enough("CMMD", "gen", g.shape[0], 2, why)
    checks.enough("CMMD", r.name, r.n, 2, why)

    def build() -> tuple[np.ndarray, float]:
        unit = checks.unit_rows(r.name, r.features)
        all_rows = np.arange(r.n)[None]
        return unit, float(subset_sums(rbf_kernel, unit, unit, all_rows, all_rows,
                                       same=True)[0])

    ru, rr = r.memo(("cmmd",), build)
    n_r, n_g = ru.shape[0], g.shape[0]
    all_g = np.arange(n_g)[None]
    gg = float(subset_sums(rbf_kernel, g, g, all_g, all_g, same=True)[0])
    gr = float(subset_sums(rbf_kernel, ru, g, np.arange(n_r)[None], all_g, same=False)[0])
    if unbiased:
        value = rr / (n_r * (n_r - 1)) + gg / (n_g * (n_g - 1)) - 2.0 * gr / (n_r * n_g)
    else:  # k(x, x) = 1: the diagonal adds n to each self-sum
        value = (rr + n_r) / n_r**2 + (gg + n_g) / n_g**2 - 2.0 * gr / (n_r * n_g)
    return CMMD_SCALE * value

