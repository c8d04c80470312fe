"""The CLIPScore analog on vectors whose cosines are known."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.errors import InputError
from genlab.metrics.alignment import alignment_per_image, alignment_score


def test_known_cosines() -> None:
    s = np.sqrt(3) / 2
    image = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [0.5, 0.0]])
    text = np.array([[4.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.5, s]])  # cos 1, 0, -1, 1/2
    np.testing.assert_allclose(alignment_per_image(image, text), [2.5, 0.0, 0.0, 1.25])
    assert alignment_score(image, text) == pytest.approx((2.5 + 1.25) / 4)
    score = alignment_score(image, text)
    assert alignment_score(image, text, weight=100.0) == pytest.approx(40 * score)


def test_zero_vector_and_bad_weight_are_errors() -> None:
    with pytest.raises(InputError, match="text embeddings have 1 all-zero rows"):
        alignment_score(np.ones((2, 3)), np.array([[1.0, 0, 0], [0, 0, 0]]))
    with pytest.raises(InputError, match="weight must be a finite number > 0, got -1"):
        alignment_score(np.ones((2, 3)), np.ones((2, 3)), weight=-1.0)


def test_unpaired_shapes_are_an_error() -> None:
    with pytest.raises(InputError, match=r"\(3, 4\) and text embeddings \(2, 4\)"):
        alignment_score(np.ones((3, 4)), np.ones((2, 4)))
