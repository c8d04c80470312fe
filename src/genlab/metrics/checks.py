"""Input checks shared by every distribution metric: feature arrays, their dimensions,
and the number of samples a metric needs.

Every failure is an :class:`~genlab.errors.InputError` that names the input ("gen",
"ref", "text"), the bad value, and what would have been accepted; nothing is clipped,
dropped or cast silently except integer/float32 features, which are widened to float64
(every metric here computes in float64; see ``frechet.py`` for why).
"""

from __future__ import annotations

import numpy as np

from genlab.errors import InputError


def features(name: str, x: object) -> np.ndarray:
    """``x`` as an ``(n, d)`` float64 C-contiguous array (a view when it already is one).

    Args:
        name: what the caller calls this input ("gen", "ref", "text"), used in errors.
        x: an ``(n, d)`` array-like of real numbers (numpy array, CPU torch tensor, list).

    Raises:
        InputError: not 2-D, empty, not real numbers, or holding NaN/inf values.
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError, RuntimeError) as err:
        raise InputError(f"{name} features must be an (n, d) array of real numbers, got "
                         f"{type(x).__name__}: {err}") from err
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise InputError(f"{name} features must be an (n, d) array of real numbers, got "
                         f"dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{name} features must be a non-empty 2-D (n, d) array, got shape "
                         f"{arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.argwhere(~finite)
        row, col = (int(v) for v in bad[0])
        kinds = " and ".join(k for k, m in (("NaN", np.isnan(arr)), ("inf", np.isinf(arr)))
                             if m.any())
        raise InputError(f"{name} features contain {kinds} ({len(bad)} values, first at row "
                         f"{row}, column {col}: {arr[row, col]!r}); features must be finite")
    return arr


def same_dim(a_name: str, a: np.ndarray, b_name: str, b: np.ndarray) -> None:
    """Raise unless ``a`` and ``b`` have the same feature dimension ``d``."""
    if a.shape[1] != b.shape[1]:
        raise InputError(f"{a_name} features have d={a.shape[1]} but {b_name} features have "
                         f"d={b.shape[1]}; both must come from the same feature network")


def enough(metric: str, name: str, n: int, need: int, why: str) -> None:
    """Raise unless ``n >= need`` samples, naming the metric, the input and the reason."""
    if n < need:
        raise InputError(f"{metric} needs at least {need} {name} samples ({why}), got n={n}")


def unit_rows(name: str, x: np.ndarray) -> np.ndarray:
    """``x`` with every row scaled to unit L2 norm; a zero row is an error (no direction)."""
    norms = np.linalg.norm(x, axis=1)
    zero = np.flatnonzero(norms == 0.0)
    if zero.size:
        raise InputError(f"{name} embeddings have {zero.size} all-zero rows (first: row "
                         f"{int(zero[0])}); a cosine needs a non-zero vector")
    return x / norms[:, None]
