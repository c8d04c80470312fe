"""Benchmark: the learned verifier's own accuracy against ground truth.

Trains (or loads from the cache) the verifier of ``flow-verified`` and reports
the fraction of ``--n`` dev-split renders (all categories) whose every kind
count, rounded, is exact, clean and under Gaussian noise. A verifier is a
judge of candidates, so its accuracy is a reported figure, like the scene
judge's ``genlab judge-check``.

    python bench/bench_verifier.py [--n 1400] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from genlab import paths
from genlab.generators.verifier import VerifierConfig, count_accuracy, ensure_verifier


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1400, help="dev renders to check")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    config = VerifierConfig()
    t = time.perf_counter()
    net = ensure_verifier(config, paths.models_dir())
    print(f"verifier {config.key()} ready in {time.perf_counter() - t:.0f} s "
          "(training included when it was not cached)")
    for noise in (0.0, 8 / 255):
        acc = count_accuracy(net, args.n, noise=noise)
        print(f"noise {noise * 255:.0f}/255: count-exact {acc:.3f} on {args.n // 7 * 7} "
              "dev renders")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
