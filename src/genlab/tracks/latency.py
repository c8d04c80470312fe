"""Latency per stage: the measurement under the ``realtime`` track (issue 4, item 1).

The seed's bottleneck analysis splits the cost of one image into text encoding,
the backbone's steps, decoding and scheduling overhead. Any generator can be
profiled here because the stage times come from the generator itself
(:attr:`genlab.contracts.Generation.timings`, seconds per stage over one
``generate`` call); a generator that reports none is timed as a whole and the
profile says so (``stages_reported`` is False), never with invented stages.

:func:`profile_latency` calls ``generate`` on ``batch`` prompts at a time,
``warmup`` times untimed and then ``runs`` times timed (the issue asks for at
least 100), and reports each stage's p50 and p95 in milliseconds per call, the
call's own p50 and p95, images per second over the timed calls, and the peak
resident memory of the process while they ran (the kernel's high-water mark where
Linux keeps one; RSS covers torch's allocations, which ``tracemalloc`` does not).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

from genlab.contracts import Generator
from genlab.errors import InputError, check_int

TOTAL = "total"  # the whole generate call, timed here


@dataclass(frozen=True)
class StageTime:
    """One stage's time per ``generate`` call: ``ms`` holds every timed run's
    milliseconds (for intervals on the percentiles)."""

    name: str
    ms: tuple[float, ...] = field(repr=False)

    @property
    def p50_ms(self) -> float:
        return float(np.percentile(self.ms, 50))

    @property
    def p95_ms(self) -> float:
        return float(np.percentile(self.ms, 95))


@dataclass(frozen=True)
class LatencyProfile:
    """What :func:`profile_latency` measured for one generator at one batch size.

    Attributes:
        batch: prompts per ``generate`` call.
        runs: timed calls (after ``warmup`` untimed ones).
        total: the whole call, timed here (p50 / p95 ms).
        stages: the generator's own stages, in the order it reported them; empty
            when it reports none.
        stages_reported: False when the generator reports no stage times, so only
            ``total`` is measured (the documented fallback).
        peak_rss_mb: the process's peak resident memory during the timed calls.
        rss_increase_mb: that peak minus the resident memory before them.
    """

    batch: int
    runs: int
    warmup: int
    total: StageTime
    stages: tuple[StageTime, ...]
    stages_reported: bool
    peak_rss_mb: float
    rss_increase_mb: float

    @property
    def throughput_img_s(self) -> float:
        """Images over the timed calls' summed seconds."""
        return self.batch * len(self.total.ms) / (sum(self.total.ms) / 1e3)

    def stage(self, name: str) -> StageTime:
        """The stage called ``name`` (``"total"`` for the whole call)."""
        if name == TOTAL:
            return self.total
        for s in self.stages:
            if s.name == name:
                return s
        raise InputError(f"no stage {name!r} in this profile; stages: "
                         f"{[TOTAL, *(s.name for s in self.stages)]}")


class PeakRSS:
    """The process's peak resident memory over a ``with`` block.

    On Linux the kernel keeps the high-water mark itself: writing ``5`` to
    ``/proc/self/clear_refs`` resets it and ``VmHWM`` in ``/proc/self/status`` reads
    it, at no cost to the timed calls. Elsewhere a thread samples the RSS every
    ``interval`` seconds, which perturbs what it measures (on 2 cores it competes with
    torch's intra-op threads for a core), so it is the fallback only (``sampled`` says
    which was used).
    """

    def __init__(self, interval: float = 0.001) -> None:
        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.before = self.peak = self._proc.memory_info().rss
        self.sampled = not _reset_hwm()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakRSS:
        if self.sampled:
            self._thread.start()
        return self

    def current_peak(self) -> int:
        """The peak so far inside the block, in bytes."""
        now = self._proc.memory_info().rss
        return max(self.peak, now, 0 if self.sampled else _read_hwm())

    def __exit__(self, *exc: object) -> None:
        if self.sampled:
            self._stop.set()
            self._thread.join()
        else:
            self.peak = max(self.peak, _read_hwm())
        self.peak = max(self.peak, self._proc.memory_info().rss)


_STATUS, _CLEAR_REFS = Path("/proc/self/status"), Path("/proc/self/clear_refs")


def _reset_hwm() -> bool:
    """Reset the kernel's peak-RSS mark of this process; False where there is none."""
    try:
        _CLEAR_REFS.write_text("5")
        _read_hwm()
    except (OSError, ValueError):
        return False
    return True


def _read_hwm() -> int:
    """The kernel's peak-RSS mark of this process, in bytes."""
    for line in _STATUS.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise ValueError("no VmHWM in /proc/self/status")


def _check(prompts: Sequence[str], batch: int, runs: int, warmup: int) -> None:
    for name, value, low in (("batch", batch, 1), ("runs", runs, 1), ("warmup", warmup, 0)):
        check_int(name, value, low)
    if not prompts or isinstance(prompts, str):
        raise InputError(f"prompts must be a non-empty sequence of strings, got {prompts!r}")


def _stat(name: str, seconds: Sequence[float]) -> StageTime:
    return StageTime(name, tuple(float(x) * 1e3 for x in seconds))


def profile_latency(generator: Generator, prompts: Sequence[str], *, batch: int = 1,
                    runs: int = 100, warmup: int = 5, size: int = 32) -> LatencyProfile:
    """Time ``generator`` on ``batch`` prompts per call (cycling through ``prompts``,
    seed = the call's index), ``warmup`` untimed calls then ``runs`` timed ones."""
    return profile_interleaved([generator], prompts, batch=batch, runs=runs, warmup=warmup,
                               size=size, block=runs)[0]


def profile_interleaved(generators: Sequence[Generator], prompts: Sequence[str], *,
                        batch: int = 1, runs: int = 100, warmup: int = 5, size: int = 32,
                        block: int = 1) -> list[LatencyProfile]:
    """:func:`profile_latency` of several generators at once, in blocks round robin:
    each generator's warm-up calls, then ``block`` consecutive timed calls of each
    generator in turn until each has ``runs`` (the same prompts and seeds for all), so
    a slow or fast spell of the machine falls on all of them alike and their ratios
    hold. ``block`` > 1 keeps a generator's caches warm within its block (alternating
    every call between models measured each of them cold); ``block`` >= ``runs`` is
    one generator after another. The peak memory is the process's over all of it."""
    _check(prompts, batch, runs, warmup)
    check_int("block", block, 1)

    def call(generator: Generator, i: int) -> tuple[float, dict[str, float]]:
        chosen = [prompts[(i * batch + j) % len(prompts)] for j in range(batch)]
        seeds = [i * batch + j for j in range(batch)]
        t = time.perf_counter()
        out = generator.generate(chosen, seeds, size=size)
        return time.perf_counter() - t, dict(out.timings)

    for generator in generators:
        for i in range(warmup):
            call(generator, i)
    totals: list[list[float]] = [[] for _ in generators]
    per_stage: list[dict[str, list[float]]] = [{} for _ in generators]
    with PeakRSS() as mem:
        for lo in range(warmup, warmup + runs, block):
            for k, generator in enumerate(generators):
                for i in range(lo, min(lo + block, warmup + runs)):
                    seconds, timings = call(generator, i)
                    totals[k].append(seconds)
                    for name, value in timings.items():
                        per_stage[k].setdefault(name, []).append(value)
    mb = 1024.0 ** 2
    out = []
    for k in range(len(generators)):
        # A stage reported by only some calls (e.g. planning of layout prompts) counts
        # 0 in the others, so every stage's percentiles are over all the runs.
        stages = tuple(_stat(n, v + [0.0] * (runs - len(v))) for n, v in per_stage[k].items())
        out.append(LatencyProfile(batch=batch, runs=runs, warmup=warmup,
                                  total=_stat(TOTAL, totals[k]), stages=stages,
                                  stages_reported=bool(stages), peak_rss_mb=mem.peak / mb,
                                  rss_increase_mb=(mem.peak - mem.before) / mb))
    return out
