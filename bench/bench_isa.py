"""Benchmark: what pinning ``flow`` training to torch's AVX2 kernels would cost.

A training is deterministic for one instruction set of torch's CPU kernels, and another
set trains another draw (docs/results.md, session 21); pinning training to AVX2 would
make every x86 machine train the same model. The kernels are chosen once per process, so
this times one rank's training steps of ``FlowConfig.default()`` (one thread, the rank's
share of the batch, as a data-parallel worker trains) in child processes, alternating the
machine's default kernels and AVX2 (``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2``)
``--rounds`` times, and reports each round's AVX2 / default ratio of images/s (the nearest
to a same-process baseline that the kernel choice allows) and their median.

    python bench/bench_isa.py [--steps 60] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from genlab.machine import AVX2_KERNELS

CHILD = """
import importlib, sys, time, torch
from genlab.generators.flow import FlowConfig
from genlab.generators.flow.fingerprint import one_rank
train = importlib.import_module("genlab.generators.flow.train")
torch.set_num_threads(1)
torch.set_flush_denormal(True)
c = one_rank(FlowConfig.default())
run = train._new_run(c)
for _ in range(5):  # warm-up
    train._train_step(run)
steps = int(sys.argv[1])
t0 = time.perf_counter()
for _ in range(steps):
    train._train_step(run)
print(torch.backends.cpu.get_cpu_capability(), steps * c.batch_size / (time.perf_counter() - t0))
"""

ISA = {"default": {}, "avx2": AVX2_KERNELS}


def _time(isa: str, steps: int) -> tuple[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(steps)], capture_output=True,
                          text=True, env={**os.environ, **ISA[isa]})
    if done.returncode != 0:
        raise SystemExit(f"the {isa} child failed:\n{done.stderr[-2000:]}")
    capability, rate = done.stdout.split()[-2:]
    return capability, float(rate)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=60, help="timed steps per child")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print("| round | default kernels img/s | AVX2 kernels img/s | AVX2 / default |")
    print("|---:|---|---|---:|")
    ratios = []
    for r in range(1, args.rounds + 1):
        (cap_d, base), (cap_a, avx2) = _time("default", args.steps), _time("avx2", args.steps)
        ratios.append(avx2 / base)
        print(f"| {r} | {base:.1f} ({cap_d}) | {avx2:.1f} ({cap_a}) | {ratios[-1]:.3f} |",
              flush=True)
    print(f"\nmedian AVX2 / default: {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
