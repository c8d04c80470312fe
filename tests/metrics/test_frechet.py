"""FID: zero for identical sets, the closed form for Gaussians, torchmetrics' value."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.metrics import frechet
from genlab.metrics.frechet import fid, fid_resampled, frechet_distance, gaussian_stats


def _exact_samples(mu: np.ndarray, cov: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``(n, d)`` samples whose sample mean and (n-1) covariance are exactly mu and cov."""
    z = np.random.default_rng(seed).standard_normal((n, mu.size))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / (n - 1))).T  # whiten exactly
    return mu + z @ np.linalg.cholesky(cov).T


def _random_cov(d: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).standard_normal((d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_identical_sets_give_zero() -> None:
    x = np.random.default_rng(0).standard_normal((300, 16)) * 3 + 1
    assert fid(x, x) == pytest.approx(0.0, abs=1e-9)


def test_diagonal_gaussians_match_closed_form() -> None:
    d = 8
    mu1, mu2 = np.zeros(d), np.linspace(-1, 1, d)
    s1, s2 = np.linspace(0.5, 2, d), np.linspace(1, 3, d)  # standard deviations
    x = _exact_samples(mu1, np.diag(s1**2), 200, seed=1)
    y = _exact_samples(mu2, np.diag(s2**2), 150, seed=2)
    expected = float(((mu1 - mu2) ** 2).sum() + ((s1 - s2) ** 2).sum())
    assert fid(y, x) == pytest.approx(expected, rel=1e-10)


def test_commuting_covariances_match_closed_form() -> None:
    d = 6
    q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((d, d)))
    e1, e2 = np.linspace(0.2, 3, d), np.linspace(2, 0.5, d)
    cov1, cov2 = q @ np.diag(e1) @ q.T, q @ np.diag(e2) @ q.T
    mu1, mu2 = np.ones(d), np.zeros(d)
    expected = d + float(((np.sqrt(e1) - np.sqrt(e2)) ** 2).sum())
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-10)
    x, y = _exact_samples(mu1, cov1, 100, 4), _exact_samples(mu2, cov2, 100, 5)
    assert fid(x, y) == pytest.approx(expected, rel=1e-10)


def test_symmetric_in_its_arguments() -> None:
    c1, c2 = _random_cov(10, 6), _random_cov(10, 7)
    a = frechet_distance(np.zeros(10), c1, np.ones(10), c2)
    b = frechet_distance(np.ones(10), c2, np.zeros(10), c1)
    assert a == pytest.approx(b, rel=1e-10)


def test_singular_covariance_stays_finite() -> None:
    x = np.random.default_rng(8).standard_normal((100, 12))
    x[:, 3] = 2.0  # a dead feature: the covariance is singular
    y = x[::-1].copy() + 0.1
    assert fid(x, x) == pytest.approx(0.0, abs=1e-9)
    assert np.isfinite(fid(y, x)) and fid(y, x) >= 0


def test_matches_torchmetrics() -> None:
    fid_module = pytest.importorskip("torchmetrics.image.fid")

    class Identity(torch.nn.Module):
        num_features = 24  # read by torchmetrics instead of probing with a dummy image

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    rng = np.random.default_rng(9)
    ref = rng.standard_normal((400, 24)) @ rng.standard_normal((24, 24))
    gen = rng.standard_normal((300, 24)) @ rng.standard_normal((24, 24)) * 0.8 + 0.2
    tm = fid_module.FrechetInceptionDistance(feature=Identity())
    tm.update(torch.from_numpy(ref), real=True)
    tm.update(torch.from_numpy(gen), real=False)
    assert fid(gen, ref) == pytest.approx(float(tm.compute()), rel=1e-3)
    assert fid(gen, ref) == pytest.approx(float(tm.compute()), rel=1e-8)  # in fact, to 1e-8


def test_gaussian_stats_is_numpy_cov() -> None:
    x = np.random.default_rng(10).standard_normal((50, 5))
    mu, cov = gaussian_stats(x)
    np.testing.assert_allclose(mu, x.mean(axis=0))
    np.testing.assert_allclose(cov, np.cov(x, rowvar=False), rtol=1e-12)


@pytest.mark.parametrize("batched", [True, False])
def test_resampled_equals_fid_of_each_resample(batched: bool,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if not batched:
        monkeypatch.setattr(frechet, "_TRIANGLE_MAX_DIM", 0)
    rng = np.random.default_rng(11)
    gen, ref = rng.standard_normal((60, 7)), rng.standard_normal((80, 7)) + 0.3
    counts = np.stack([np.bincount(rng.integers(0, 60, 60), minlength=60) for _ in range(5)])
    counts[0] = 1  # the full set
    expected = [fid(np.repeat(gen, c, axis=0), ref) for c in counts]
    np.testing.assert_allclose(fid_resampled(gen, ref, counts), expected, rtol=1e-9)
    assert fid_resampled(gen, ref, counts)[0] == pytest.approx(fid(gen, ref), rel=1e-9)
