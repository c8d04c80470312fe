"""KID and CMMD: torchmetrics' KID on the same subsets, brute-force kernel sums, CMMD."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from genlab.metrics.kernel import (
    cmmd,
    draw_subsets,
    kid,
    kid_subsets,
    polynomial_kernel,
    rbf_kernel,
    subset_sums,
)


def _brute_sums(x: np.ndarray, y: np.ndarray, ix: np.ndarray, iy: np.ndarray,
                same: bool) -> np.ndarray:
    out = []
    for a, b in zip(ix, iy, strict=True):
        k = polynomial_kernel(x[a], y[b])
        out.append(k.sum() - (np.trace(k) if same else 0.0))
    return np.array(out)


@pytest.mark.parametrize(("n", "subsets", "size"), [(60, 20, 30), (400, 2, 10)])
def test_subset_sums_both_strategies(n: int, subsets: int, size: int) -> None:
    # (60, 20, 30) takes the indicator route, (400, 2, 10) the per-subset one
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((n, 6)), rng.standard_normal((n, 6))
    ix, iy = draw_subsets(n, n, subsets, size, seed=1)
    for same, (b, ib) in ((True, (x, ix)), (False, (y, iy))):
        np.testing.assert_allclose(subset_sums(polynomial_kernel, x, b, ix, ib, same=same),
                                   _brute_sums(x, b, ix, ib, same), rtol=1e-12)


def test_draws_match_torch_global_generator() -> None:
    ir, ig = draw_subsets(50, 40, 3, 10, seed=7)
    torch.manual_seed(7)
    for j in range(3):
        assert (torch.randperm(50)[:10].numpy() == ir[j]).all()
        assert (torch.randperm(40)[:10].numpy() == ig[j]).all()


def test_kid_matches_torchmetrics_on_the_same_subsets() -> None:
    kid_module = pytest.importorskip("torchmetrics.image.kid")

    class Identity(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    rng = np.random.default_rng(2)
    ref, gen = rng.standard_normal((300, 16)), rng.standard_normal((250, 16)) * 1.2 + 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "will save all extracted features"
        tm = kid_module.KernelInceptionDistance(feature=Identity(), subsets=15,
                                                subset_size=100)
    tm.update(torch.from_numpy(ref), real=True)
    tm.update(torch.from_numpy(gen), real=False)
    torch.manual_seed(5)  # torchmetrics draws its subsets from torch's global generator
    tm_mean, tm_std = (float(v) for v in tm.compute())
    ours = kid_subsets(gen, ref, subsets=15, subset_size=100, seed=5)
    assert ours.mean() == pytest.approx(tm_mean, rel=1e-9)
    assert ours.std() == pytest.approx(tm_std, rel=1e-9)


def test_kid_near_zero_for_one_distribution() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((400, 8)), rng.standard_normal((400, 8))
    same = kid(a, b, subsets=20, subset_size=200)
    shifted = kid(a + 0.5, b, subsets=20, subset_size=200)
    assert abs(same) < 0.02 < shifted


def _brute_cmmd(x: np.ndarray, y: np.ndarray, unbiased: bool) -> float:
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)

    def k(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return np.exp(-d2 / (2 * 10.0**2))

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    m, n = len(x), len(y)
    if unbiased:
        return 1000 * ((kxx.sum() - m) / (m * (m - 1)) + (kyy.sum() - n) / (n * (n - 1))
                       - 2 * kxy.mean())
    return 1000 * (kxx.mean() + kyy.mean() - 2 * kxy.mean())  # google-research/cmmd


@pytest.mark.parametrize("unbiased", [True, False])
def test_cmmd_matches_brute_force(unbiased: bool) -> None:
    rng = np.random.default_rng(4)
    ref, gen = rng.standard_normal((90, 12)), rng.standard_normal((70, 12)) + 0.4
    assert cmmd(gen, ref, unbiased=unbiased) == pytest.approx(
        _brute_cmmd(gen, ref, unbiased), rel=1e-9)


def test_cmmd_is_scale_free_and_orders_shifts() -> None:
    rng = np.random.default_rng(5)
    ref, same = rng.standard_normal((200, 8)), rng.standard_normal((200, 8))
    assert cmmd(same * 7.0, ref) == pytest.approx(cmmd(same, ref), rel=1e-9)
    assert cmmd(same, ref) < cmmd(same + 0.3, ref) < cmmd(same + 1.0, ref)


def test_rbf_kernel_of_a_point_with_itself_is_one() -> None:
    x = np.random.default_rng(6).standard_normal((5, 4))
    np.testing.assert_allclose(np.diag(rbf_kernel(x, x)), 1.0, atol=1e-12)
