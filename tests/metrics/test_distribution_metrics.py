"""Every registered distribution metric: its spec, its direction, its bad inputs, and
scores through a shared Reference equal to direct scores."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.errors import InputError, UnknownNameError
from genlab.metrics import DISTRIBUTION_METRICS, Reference, fid, kid
from genlab.metrics.spec import DistributionMetric, MetricSpec

NAMES = DISTRIBUTION_METRICS.names()
D = 8


def _inputs(metric: DistributionMetric, n: int, seed: int, shift: float = 0.0
            ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(gen, ref, text) of ``n`` samples; ``shift`` moves gen away from ref (or, for the
    alignment score, the text away from the images)."""
    rng = np.random.default_rng(seed)
    gen = rng.standard_normal((n, D))
    if metric.spec.features == "clip+text":
        noise = rng.standard_normal((n, D))
        return gen, None, gen + 0.3 * noise + shift * rng.standard_normal((n, D))
    ref = rng.standard_normal((max(n, 60), D))
    return gen + 1.5 * shift, ref, None


def _n(metric: DistributionMetric) -> int:
    return max(metric.spec.required_samples(D), 60)


def test_registry_holds_the_issue_metrics() -> None:
    assert set(NAMES) == {"fid", "kid", "precision", "recall", "density", "coverage", "cmmd",
                          "alignment"}
    with pytest.raises(UnknownNameError, match="Did you mean 'fid'"):
        DISTRIBUTION_METRICS.get("fdi")


def test_spec_rejects_unknown_direction() -> None:
    with pytest.raises(InputError, match="'up'; accepted: 'lower', 'higher'"):
        MetricSpec("x", "up", "clip", 1, False, "")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", NAMES)
def test_spec_is_consistent(name: str) -> None:
    spec = DISTRIBUTION_METRICS.get(name).spec
    assert spec.name == name and spec.citation and spec.min_samples >= 1


@pytest.mark.parametrize("name", NAMES)
def test_better_for_the_matching_set(name: str) -> None:
    m = DISTRIBUTION_METRICS.get(name)
    good = m(*_inputs(m, _n(m), seed=1), seed=0)
    bad = m(*_inputs(m, _n(m), seed=1, shift=1.0), seed=0)
    assert np.isfinite(good) and np.isfinite(bad)
    assert (good < bad) if m.spec.direction == "lower" else (good > bad)


@pytest.mark.parametrize("name", NAMES)
def test_reference_scores_equal_direct_scores(name: str) -> None:
    m = DISTRIBUTION_METRICS.get(name)
    gen, ref, text = _inputs(m, _n(m), seed=2)
    shared = None if ref is None else Reference(ref)
    other, _, other_text = _inputs(m, _n(m) + 7, seed=3)  # warms the memo with another n
    m(other, shared, other_text, seed=1)
    for seed in (0, 1):
        assert m(gen, shared, text, seed=seed) == m(gen, ref, text, seed=seed)


def test_reference_copies_and_freezes_its_features() -> None:
    x = np.random.default_rng(4).standard_normal((40, 5))
    ref = Reference(x)
    before = fid(x[:30] + 0.1, ref)
    x[:] = 0.0  # the caller reuses its buffer
    assert fid(np.random.default_rng(4).standard_normal((40, 5))[:30] + 0.1, ref) == before
    assert not ref.features.flags.writeable


@pytest.mark.parametrize("name", NAMES)
def test_too_few_samples_name_n(name: str) -> None:
    m = DISTRIBUTION_METRICS.get(name)
    n = m.spec.required_samples(D) - 1
    if n < 1:
        pytest.skip("needs a single sample")
    gen, ref, text = _inputs(m, n, seed=5)
    with pytest.raises(InputError, match=f"n={n}"):  # min_samples holds for each input
        m(gen, None if ref is None else ref[:n], text, seed=0)


def test_fid_with_fewer_samples_than_dims_names_n_and_d() -> None:
    x = np.random.default_rng(6).standard_normal((200, 64))
    with pytest.raises(InputError, match="n > d.*n=50 for d=64"):
        fid(x[:50], x)
    with pytest.raises(InputError, match="ref samples.*n=64 for d=64"):
        fid(x, x[:64])


def test_kid_subset_larger_than_set() -> None:
    x = np.random.default_rng(7).standard_normal((50, 4))
    with pytest.raises(InputError, match=r"subset_size=100 .*got n=50"):
        kid(x, x, subset_size=100)
    with pytest.raises(InputError, match="subset_size must be an int >= 2, got 1"):
        kid(x, x, subset_size=1)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("which", "bad", "word"), [("gen", np.nan, "NaN"),
                                                    ("ref", np.inf, "inf"),
                                                    ("text", -np.inf, "inf")])
def test_non_finite_features_name_the_input(name: str, which: str, bad: float,
                                            word: str) -> None:
    m = DISTRIBUTION_METRICS.get(name)
    gen, ref, text = _inputs(m, _n(m), seed=8)
    arrays = {"gen": gen, "ref": ref, "text": text}
    target = arrays[which]
    if target is None:
        pytest.skip(f"{name} reads no {which}")
    target[3, 2] = bad
    with pytest.raises(InputError, match=f"{which} features contain {word} .*row 3, column 2"):
        m(arrays["gen"], arrays["ref"], arrays["text"], seed=0)


@pytest.mark.parametrize("name", NAMES)
def test_mismatched_dims(name: str) -> None:
    m = DISTRIBUTION_METRICS.get(name)
    gen, ref, text = _inputs(m, _n(m), seed=9)
    if ref is not None:
        with pytest.raises(InputError, match=f"gen features have d={D - 1} but ref features "
                                             f"have d={D}"):
            m(gen[:, 1:], ref, text, seed=0)
    else:
        with pytest.raises(InputError, match=r"\(\d+, 7\) and text embeddings \(\d+, 8\)"):
            m(gen[:, 1:], ref, text, seed=0)


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((0, 3)), np.zeros((2, 2, 2)),
                                 np.array([["a", "b"]]), np.ones((3, 2), dtype=bool)])
def test_malformed_arrays(bad: np.ndarray) -> None:
    x = np.random.default_rng(10).standard_normal((20, 2))
    with pytest.raises(InputError, match="gen features must be"):
        DISTRIBUTION_METRICS.get("precision")(bad, x)


@pytest.mark.parametrize("name", NAMES)
def test_missing_input(name: str) -> None:
    m = DISTRIBUTION_METRICS.get(name)
    gen, _, _ = _inputs(m, _n(m), seed=11)
    with pytest.raises(InputError, match="got (text|ref)=None"):
        m(gen, None, None, seed=0)
