"""Bootstrap intervals of distribution metrics: batched and plain paths agree, seeds
repeat, widths shrink with n, bad options are loud."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.errors import InputError
from genlab.metrics import DISTRIBUTION_METRICS, Reference, bootstrap_interval
from genlab.metrics.spec import DistributionMetric


def test_fid_batched_path_equals_plain_loop() -> None:
    rng = np.random.default_rng(0)
    gen, ref = rng.standard_normal((120, 6)), Reference(rng.standard_normal((150, 6)) + 0.2)
    m = DISTRIBUTION_METRICS.get("fid")
    assert m.resampled is not None
    plain = DistributionMetric(m.spec, m.fn)
    fast = bootstrap_interval(m, gen, ref, None, resamples=30, seed=3)
    slow = bootstrap_interval(plain, gen, ref, None, resamples=30, seed=3)
    np.testing.assert_allclose(fast, slow, rtol=1e-9)
    assert fast[0] == m(gen, ref)


def test_alignment_resamples_text_with_images() -> None:
    rng = np.random.default_rng(1)
    image = rng.standard_normal((200, 4))
    text = image.copy()  # every pair aligned: each resample scores 2.5 exactly
    assert bootstrap_interval("alignment", image, None, text, resamples=20, seed=0) == \
        pytest.approx((2.5, 2.5, 2.5))


def test_seeded_and_narrowing_with_n() -> None:
    rng = np.random.default_rng(2)
    ref = Reference(rng.standard_normal((300, 5)))
    widths = []
    for n in (50, 800):
        gen = rng.standard_normal((n, 5)) + 0.2
        a = bootstrap_interval("coverage", gen, ref, None, resamples=40, seed=4)
        assert a == bootstrap_interval("coverage", gen, ref, None, resamples=40, seed=4)
        assert a[1] <= a[2]
        widths.append(a[2] - a[1])
    assert widths[1] < widths[0]


@pytest.mark.parametrize(("options", "match"), [
    ({"resamples": 1}, "resamples must be an int >= 2, got 1"),
    ({"level": 1.5}, r"level must be a float in \(0, 1\), got 1.5"),
])
def test_bad_options(options: dict[str, float], match: str) -> None:
    x = np.random.default_rng(3).standard_normal((30, 3))
    kwargs: dict = {"resamples": 10, "seed": 0, **options}
    with pytest.raises(InputError, match=match):
        bootstrap_interval("precision", x, x, None, **kwargs)


def test_text_rows_must_pair_with_images() -> None:
    x = np.random.default_rng(4).standard_normal((30, 3))
    with pytest.raises(InputError, match="text has 29 rows but gen has 30"):
        bootstrap_interval("alignment", x, None, x[:29], resamples=10, seed=0)
