"""Benchmark: FID and KID of many generated sets against one reference, genlab vs torchmetrics.

The task (issue 5, item 2): score ``--k`` generated feature sets (``--n`` samples of
``--d`` features each) against one reference set (``--n-ref``) with FID and KID
(``--subsets`` subsets of ``--subset-size``, the torch-fidelity/torchmetrics
defaults). genlab builds one :class:`~genlab.metrics.reference.Reference` and scores
every set against it. torchmetrics is used as well as it can be: one
``FrechetInceptionDistance`` and one ``KernelInceptionDistance`` with an identity
``feature`` module and ``reset_real_features=False``, so the reference is fed once
and each set costs a ``reset``, an ``update`` and a ``compute``; in float64 (its own
advice for FID, and genlab's precision) and, for KID, in float32 as well (faster,
and less exact). ``torch.manual_seed(seed)`` before each KID ``compute`` makes
torchmetrics draw the very subsets genlab draws, so the values must agree to
rounding; their largest relative difference over the ``k`` sets is printed.

Timing: every round runs each (method, metric) once over all ``k`` sets, methods
taking turns in a rotating order after one untimed round; the table gives the
median of ``--repeats`` rounds and the speed ratio torchmetrics / genlab with a 95%
interval (both sets of rounds resampled). The issue's target is a ratio >= 2.
Machine noise moves single rounds; rerun on an idle machine for reported figures.

    python bench/bench_metrics.py [--k 10] [--n 2000] [--n-ref 2000] [--d 128]
        [--subsets 100] [--subset-size 1000] [--repeats 5] [--threads 2] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch

from genlab.metrics import Reference, fid, kid
from genlab.stats import ratio_of_medians_bootstrap


class Identity(torch.nn.Module):
    """torchmetrics' ``feature`` network for precomputed features."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.num_features = dim  # read by FrechetInceptionDistance (no dummy-image probe)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def make_sets(k: int, n: int, n_ref: int, d: int, seed: int
              ) -> tuple[np.ndarray, list[np.ndarray]]:
    """A correlated Gaussian reference and ``k`` generated sets drifting away from it."""
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((d, d)) / np.sqrt(d)
    ref = rng.standard_normal((n_ref, d)) @ mix
    gens = [(rng.standard_normal((n, d)) * (1 + 0.05 * i) + 0.02 * i) @ mix for i in range(k)]
    return ref, gens


Method = Callable[[], list[float]]


def genlab_methods(ref: np.ndarray, gens: list[np.ndarray], subsets: int, size: int,
                   seed: int) -> dict[str, Method]:
    def run_fid() -> list[float]:
        r = Reference(ref)
        return [fid(g, r) for g in gens]

    def run_kid() -> list[float]:
        r = Reference(ref)
        return [kid(g, r, subsets=subsets, subset_size=size, seed=seed) for g in gens]

    return {"FID": run_fid, "KID": run_kid}


def torchmetrics_methods(ref: np.ndarray, gens: list[np.ndarray], subsets: int, size: int,
                         seed: int, dtype: torch.dtype) -> dict[str, Method]:
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    ref_t = torch.from_numpy(ref).to(dtype)
    gens_t = [torch.from_numpy(g).to(dtype) for g in gens]

    def run_fid() -> list[float]:
        m = FrechetInceptionDistance(feature=Identity(ref.shape[1]), reset_real_features=False)
        m.update(ref_t, real=True)
        out = []
        for g in gens_t:
            m.reset()
            m.update(g, real=False)
            out.append(float(m.compute()))
        return out

    def run_kid() -> list[float]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "will save all features"
            m = KernelInceptionDistance(feature=Identity(ref.shape[1]), subsets=subsets,
                                        subset_size=size, reset_real_features=False)
        m.update(ref_t, real=True)
        out = []
        for g in gens_t:
            m.reset()
            m.update(g, real=False)
            torch.manual_seed(seed)  # the subsets genlab draws (genlab.metrics.kernel)
            out.append(float(m.compute()[0]))
        return out

    return {"FID": run_fid, "KID": run_kid}


def interleaved(methods: dict[str, Method], repeats: int
                ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """name -> (seconds of each timed round, values of the last round)."""
    names = list(methods)
    values = {name: methods[name]() for name in names}  # the untimed round
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            t = time.perf_counter()
            values[name] = methods[name]()
            times[name].append(time.perf_counter() - t)
    return times, values


def _rel(a: list[float], b: list[float]) -> float:
    x, y = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-300)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=10, help="generated sets")
    ap.add_argument("--n", type=int, default=2000, help="samples per generated set")
    ap.add_argument("--n-ref", type=int, default=2000, help="reference samples")
    ap.add_argument("--d", type=int, default=128, help="feature dimension")
    ap.add_argument("--subsets", type=int, default=100)
    ap.add_argument("--subset-size", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5, help="timed rounds")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true",
                    help="a tiny run to check the script: k=3, n=n_ref=300, d=32, "
                         "10 subsets of 100, 3 rounds")
    args = ap.parse_args()
    if args.quick:
        args.k, args.n, args.n_ref, args.d = 3, 300, 300, 32
        args.subsets, args.subset_size, args.repeats = 10, 100, 3
    torch.set_num_threads(args.threads)
    ref, gens = make_sets(args.k, args.n, args.n_ref, args.d, args.seed)
    opts = (args.subsets, args.subset_size, args.seed)
    sides = {"genlab": genlab_methods(ref, gens, *opts),
             "tm-f64": torchmetrics_methods(ref, gens, *opts, dtype=torch.float64),
             "tm-f32": torchmetrics_methods(ref, gens, *opts, dtype=torch.float32)}
    methods = {f"{side}/{metric}": fn for side, fns in sides.items()
               for metric, fn in fns.items()}
    times, values = interleaved(methods, args.repeats)
    for side in ("genlab", "tm-f64", "tm-f32"):  # per round: FID + KID
        times[f"{side}/FID+KID"] = [a + b for a, b in zip(times[f"{side}/FID"],
                                                          times[f"{side}/KID"], strict=True)]

    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), numpy {np.__version__} "
          f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}), "
          f"{os.cpu_count()} CPUs")
    print(f"task: {args.k} generated sets of n={args.n} vs one reference of n={args.n_ref}, "
          f"d={args.d}; KID {args.subsets} subsets of {args.subset_size}; median of "
          f"{args.repeats} interleaved rounds after one untimed round\n")
    print("| metric | genlab s | torchmetrics f64 s | ratio f64/genlab [95% CI] | "
          "torchmetrics f32 s | ratio f32/genlab [95% CI] |")
    print("|---|---:|---:|---|---:|---|")
    for metric in ("FID", "KID", "FID+KID"):
        ours = times[f"genlab/{metric}"]
        cells = [f"{np.median(ours):.3f}"]
        for side in ("tm-f64", "tm-f32"):
            theirs = times[f"{side}/{metric}"]
            ratio = ratio_of_medians_bootstrap(theirs, ours, seed=1)
            cells += [f"{np.median(theirs):.3f}",
                      f"**{ratio.value:.2f}** [{ratio.ci_low:.2f}, {ratio.ci_high:.2f}]"]
        print(f"| {metric} | " + " | ".join(cells) + " |")
    print("\n| metric | genlab values (first, last set) | max rel. diff vs torchmetrics f64 | "
          "vs torchmetrics f32 |")
    print("|---|---|---:|---:|")
    for metric in ("FID", "KID"):
        ours = values[f"genlab/{metric}"]
        print(f"| {metric} | {ours[0]:.6g}, {ours[-1]:.6g} | "
              f"{_rel(ours, values[f'tm-f64/{metric}']):.2e} | "
              f"{_rel(ours, values[f'tm-f32/{metric}']):.2e} |")


if __name__ == "__main__":
    main()
