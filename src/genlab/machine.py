"""What this machine is: CPU model and instruction-set flags (timings depend on them),
and what a trained model depends on besides its config (:func:`provenance`)."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
from pathlib import Path
from typing import Any

import torch


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
