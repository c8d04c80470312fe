"""The precision a ``flow`` backbone runs in: float32, or bfloat16 under autocast (issue 4's
engineering levers; bench/bench_levers.py measures the gain)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch

import genlab.machine
from genlab.errors import InputError

DTYPES = ("float32", "bfloat16")
"""The precisions the backbone runs in (``bfloat16`` only where :func:`genlab.machine.
supports_bf16`)."""


def check_dtype(dtype: object) -> str:
    """``dtype`` if this CPU can run it, else an InputError naming what it accepts."""
    if dtype not in DTYPES:
        raise InputError(f"unknown dtype {dtype!r}; accepted: {', '.join(DTYPES)}")
    if dtype == "bfloat16" and not genlab.machine.supports_bf16():
        raise InputError(f"dtype 'bfloat16' needs a CPU that computes it natively (avx512_bf16 "
                         f"or amx_bf16); this one ({genlab.machine.cpu_model()}) has neither, "
                         "so bfloat16 would be emulated and slower. Accepted here: float32")
    return dtype  # type: ignore[return-value]


def precision(dtype: str) -> AbstractContextManager[Any]:
    """The context a backbone call runs in: autocast to bfloat16, or nothing."""
    if dtype == "bfloat16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return nullcontext()
