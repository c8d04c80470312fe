"""The compiled renderer (``render_kernel.py``) against the numpy reference, and the fallback."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.errors import InputError
from genlab.worlds.shapes import render as render_module
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.arrays import OBJECT_DTYPE, SceneArrays
from genlab.worlds.shapes.render import (
    backend,
    render_arrays,
    render_arrays_numba,
    render_arrays_numpy,
)
from genlab.worlds.shapes.sampling import realize_batch, sample_specs

needs_numba = pytest.mark.skipif(render_module._kernel() is None, reason="numba not installed")


def random_batch(n: int, seed: int, max_objects: int = 8, spill: float = 0.0) -> SceneArrays:
    """``n`` scenes of 0..max_objects random objects: every shape, colour and background.

    Objects may overlap (so the painter's-order path runs), and they may be larger
    than the image or centred up to ``spill`` outside it (so they are clipped at the edges).
    """
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, max_objects + 1, n)
    obj = np.empty(int(counts.sum()), OBJECT_DTYPE)
    obj["scene"] = np.repeat(np.arange(n), counts)
    obj["shape"] = rng.integers(0, len(vocab.SHAPES), len(obj))
    obj["colour"] = rng.integers(0, len(vocab.COLOURS), len(obj))
    obj["x"] = rng.uniform(-spill, 1 + spill, len(obj))
    obj["y"] = rng.uniform(-spill, 1 + spill, len(obj))
    obj["size"] = np.exp(rng.uniform(np.log(0.01), np.log(1.2), len(obj)))
    bg = rng.integers(0, len(vocab.BACKGROUNDS), n).astype(np.int8)
    return SceneArrays(bg, obj)


def sampled_batch(n: int, seed: int) -> SceneArrays:
    """``n`` scenes from the world's own sampler (disjoint objects: the look-up-table path)."""
    rng = np.random.default_rng(seed)
    specs = sample_specs([vocab.CATEGORIES[i % len(vocab.CATEGORIES)] for i in range(n)],
                         rng, "dev")
    return realize_batch(specs, rng, "dev")


def max_diff(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
    return int(np.abs(a.astype(np.int16) - b).max(initial=0))


@needs_numba
@pytest.mark.parametrize("size", [32, 64, 97, 256])
def test_kernel_equals_numpy_on_random_scenes(size: int) -> None:
    n = 200 if size < 200 else 30
    for seed, spill in ((size, 0.0), (size + 1, 0.3)):
        batch = random_batch(n, seed, spill=spill)
        assert max_diff(render_arrays_numba(batch, size), render_arrays_numpy(batch, size)) == 0


@needs_numba
@pytest.mark.parametrize("size", [32, 64, 97, 256])
def test_kernel_equals_numpy_on_sampled_scenes(size: int) -> None:
    batch = sampled_batch(300 if size < 200 else 40, seed=size)
    assert max_diff(render_arrays_numba(batch, size), render_arrays_numpy(batch, size)) == 0


@needs_numba
def test_kernel_equals_numpy_on_edge_touching_objects() -> None:
    # every shape flush with each border and corner, and a full-frame one
    rows: list[tuple[int, int, int, float, float, float]] = []
    for shape in range(len(vocab.SHAPES)):
        for x, y, s in ((0.1, 0.5, 0.2), (0.9, 0.5, 0.2), (0.5, 0.1, 0.2), (0.5, 0.9, 0.2),
                        (0.0, 0.0, 0.3), (1.0, 1.0, 0.3), (0.5, 0.5, 1.0), (0.5, 0.5, 0.001)):
            rows.append((len(rows), shape, len(rows) % len(vocab.COLOURS), x, y, s))
    obj = np.array(rows, OBJECT_DTYPE)
    bg = (np.arange(len(rows)) % len(vocab.BACKGROUNDS)).astype(np.int8)
    batch = SceneArrays(bg, obj)
    for size in (32, 33, 64, 97, 256):
        assert max_diff(render_arrays_numba(batch, size), render_arrays_numpy(batch, size)) == 0


@needs_numba
def test_kernel_handles_empty_batches_and_scenes() -> None:
    empty = SceneArrays(np.zeros(0, np.int8), np.zeros(0, OBJECT_DTYPE))
    assert render_arrays_numba(empty, 32).shape == (0, 32, 32, 3)
    blank = SceneArrays(np.arange(len(vocab.BACKGROUNDS), dtype=np.int8),
                        np.zeros(0, OBJECT_DTYPE))
    assert max_diff(render_arrays_numba(blank, 40), render_arrays_numpy(blank, 40)) == 0


@needs_numba
def test_kernel_equals_numpy_when_numpy_draws_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = random_batch(40, seed=8)
    monkeypatch.setattr(render_module, "_WINDOW_BUDGET", 3000)
    assert max_diff(render_arrays_numba(batch, 96), render_arrays_numpy(batch, 96)) == 0


@needs_numba
def test_auto_uses_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENLAB_RENDER", raising=False)
    assert backend() == "numba"
    monkeypatch.setattr(render_module, "render_arrays_numpy", _must_not_run)
    render_arrays(random_batch(3, seed=1), 32)


def _must_not_run(*args: object) -> np.ndarray:
    raise AssertionError("this path should not run")


def test_env_var_forces_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENLAB_RENDER", "numpy")
    assert backend() == "numpy"
    monkeypatch.setattr(render_module, "render_arrays_numba", _must_not_run)
    batch = random_batch(20, seed=2)
    assert max_diff(render_arrays(batch, 48), render_arrays_numpy(batch, 48)) == 0


def test_falls_back_to_numpy_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_module, "_kernel", lambda: None)
    monkeypatch.setattr(render_module, "render_arrays_numba", _must_not_run)
    monkeypatch.delenv("GENLAB_RENDER", raising=False)
    assert backend() == "numpy"
    batch = random_batch(20, seed=3)
    assert max_diff(render_arrays(batch, 32), render_arrays_numpy(batch, 32)) == 0
    monkeypatch.setenv("GENLAB_RENDER", "numba")
    with pytest.raises(InputError, match="numba does not import"):
        backend()


def test_bad_env_value_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENLAB_RENDER", "cuda")
    with pytest.raises(InputError, match="auto, numba, numpy"):
        render_arrays(random_batch(1, seed=0), 32)


@pytest.mark.parametrize("field, value", [("shape", 3), ("colour", -1), ("x", np.nan)])
@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_bad_codes_are_rejected(field: str, value: float, path: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    if path == "numba" and render_module._kernel() is None:
        pytest.skip("numba not installed")
    monkeypatch.setenv("GENLAB_RENDER", path)
    batch = random_batch(4, seed=4, max_objects=3)
    batch.objects[field][0] = value
    with pytest.raises(InputError, match=field):
        render_arrays(batch, 32)
