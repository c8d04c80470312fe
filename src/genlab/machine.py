"""What this machine is: CPU model and instruction-set flags (timings depend on them),
and what a trained model depends on besides its config (:func:`provenance`)."""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import os
import platform
import unittest.mock
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from genlab.errors import InputError


@functools.cache
def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


@functools.cache
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else the platform's word for it."""
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's instruction-set flags (empty where ``/proc/cpuinfo`` is not available)."""
    for line in _cpuinfo().splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def supports_bf16() -> bool:
    """Whether the CPU computes bfloat16 natively (AVX512-BF16 or AMX), so that
    ``torch.autocast`` to bfloat16 is a speed lever rather than an emulation."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def describe() -> dict[str, Any]:
    """CPU, cores, torch's threads and version: what a timing depends on besides the code."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "torch": torch.__version__}


AVX2_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
"""The environment that makes a new process run torch's AVX2 kernels (ATen's and
oneDNN's), as on a CPU without AVX512; read once per process, at the first kernel."""


@dataclass(frozen=True)
class KernelSet:
    """An instruction set a training can be pinned to (``FlowConfig.kernels``): the
    environment that makes a new process run torch's kernels for it, the CPU flag it needs
    and the name ``torch.backends.cpu.get_cpu_capability()`` reports under it."""

    environment: dict[str, str]
    cpu_flag: str
    capability: str


KERNEL_SETS = {"avx2": KernelSet(AVX2_KERNELS, "avx2", "AVX2")}
"""The instruction sets a training can be pinned to, by name. AVX2: the kernels of every
x86-64 CPU of the last decade, and those sessions 5 and 9 trained on (docs/results.md,
session 21), so a config pinned to it trains the same weights on any such machine."""


def kernel_set(name: str) -> KernelSet:
    """The pinned instruction set ``name`` (InputError naming the accepted ones if unknown)."""
    if name not in KERNEL_SETS:
        raise InputError(f"kernels {name!r}; accepted: '' (this machine's own) or "
                         f"{', '.join(map(repr, KERNEL_SETS))}")
    return KERNEL_SETS[name]


def runs_kernels(name: str) -> bool:
    """Whether this process was started with ``name``'s kernel environment (it is read once
    per process, so setting it now would change nothing)."""
    env = kernel_set(name).environment
    return all(os.environ.get(k) == v for k, v in env.items())


@contextlib.contextmanager
def kernel_environment(name: str) -> Iterator[None]:
    """``name``'s kernel environment set in ``os.environ`` for the processes started
    inside the block (spawned training workers), then restored. InputError if this CPU
    lacks the instruction set."""
    ks = kernel_set(name)
    if cpu_flags() and ks.cpu_flag not in cpu_flags():
        raise InputError(f"kernels {name!r} needs a CPU with {ks.cpu_flag.upper()}; this one "
                         f"({cpu_model()}) lacks it: train with kernels ''")
    with unittest.mock.patch.dict(os.environ, ks.environment):
        yield


def check_capability(name: str) -> None:
    """Raise unless torch runs ``name``'s kernels in this process (a pinned training's
    worker checks it before its first step)."""
    ks, got = kernel_set(name), torch.backends.cpu.get_cpu_capability()
    if got != ks.capability:
        raise InputError(f"kernels {name!r}: this process runs torch's {got} kernels, not "
                         f"{ks.capability}; it must be started with {ks.environment}")


TRAINING_PACKAGES = ("torch", "diffusers", "numpy", "numba")
"""The packages whose version can change what a config trains (model construction,
kernels, the data draw, the compiled renderer)."""


def provenance() -> dict[str, Any]:
    """What a training's weights depend on besides the config and the code: these
    packages' versions and the CPU instruction set torch's kernels use (the same code
    trains another trajectory on AVX2 than on AVX512; docs/results.md, session 21)."""
    versions: dict[str, str | None] = {}
    for name in TRAINING_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {**versions, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "cpu": cpu_model()}
