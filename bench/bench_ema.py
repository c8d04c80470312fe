"""Benchmark: how the EMA's length changes a ``flow`` run, several lengths from one training.

The EMA of the weights never feeds back into training, so one run that keeps extra EMAs
(``FlowConfig.extra_ema_decays``) holds exactly the models that runs with each of those
``ema_decay`` values would end with (the question EDM2's post-hoc EMA answers by
reconstruction, Karras et al., 2024; here the EMAs are kept exactly). The run is
``FlowConfig.default()`` with some fields replaced (a Python dict literal), trained as
the default is (data-parallel workers, cached in ``genlab-out/models``); each EMA is
then written into the cache as its own config's finished run (``train.split_emas``), so
``bench/control_variant.py "{..., 'ema_decay': d}"`` measures it on the whole track
without training, and judged here on ``--prompts`` dev prompts per category (one image
each, the prompts of ``bench_flow_variants.py``), with each category's 95% Wilson
interval and the mean's paired bootstrap difference against the config's own decay.
The decay column gives each EMA's decay at the last step too: diffusers' warm-up
(``(1 + k) / (10 + k)``) caps every decay, so decays above it are the same EMA.

    python bench/bench_ema.py "{'seed': 3}" --decays 0.998 0.999 0.9995 [--prompts 256]
"""

from __future__ import annotations

import argparse
import ast
import csv
import dataclasses
import importlib
import time

import numpy as np
import torch
from dev_accuracy import CATEGORIES, dev_specs, passes
from scipy.stats import binomtest

from genlab import paths
from genlab.generators.flow import FlowConfig, FlowGenerator, ensure_trained
from genlab.generators.flow.config import PROFILES
from genlab.judges.scene import SceneJudge
from genlab.worlds.shapes.world import ShapesWorld

# the module, not the function the package exports under the same name
flow_train = importlib.import_module("genlab.generators.flow.train")


def final_decay(decay: float, train_steps: int) -> float:
    """The decay of an EMA's last update: diffusers' ``EMAModel`` warms it up as
    ``(1 + k) / (10 + k)`` and caps it at ``decay``, so within ``train_steps`` every decay
    above ``1 - 9 / (9 + train_steps)`` gives the same EMA (0.99834 at 5,400 steps)."""
    return min(decay, train_steps / (9 + train_steps))


def mean_diff_interval(a: dict[str, np.ndarray], b: dict[str, np.ndarray],
                       rounds: int = 2000) -> tuple[float, float, float]:
    """Mean over categories of a - b, with a 95% bootstrap interval over prompts
    (resampled within each category, the same prompts for both: paired)."""
    rng = np.random.default_rng(0)
    diffs = [a[c] - b[c] for c in CATEGORIES]
    point = float(np.mean([d.mean() for d in diffs]))
    boots = np.mean([d[rng.integers(0, len(d), (rounds, len(d)))].mean(axis=1)
                     for d in diffs], axis=0)
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return point, float(lo), float(hi)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("overrides", nargs="?", default="{}",
                    help="FlowConfig fields to replace, a dict literal")
    ap.add_argument("--decays", type=float, nargs="+", default=[0.998, 0.999, 0.9995],
                    help="EMA decays kept beside the config's own")
    ap.add_argument("--prompts", type=int, default=256, help="dev prompts per category")
    ap.add_argument("--profile", default="default", choices=PROFILES,
                    help="the FlowConfig profile the overrides replace fields of (session5: "
                         "the default of sessions 5-22; smoke: a check of this script)")
    args = ap.parse_args()
    base = FlowConfig.named(args.profile)
    config = dataclasses.replace(base, **ast.literal_eval(args.overrides))
    extra = tuple(d for d in args.decays if d != config.ema_decay)
    config = dataclasses.replace(config, extra_ema_decays=extra)
    t0 = time.perf_counter()
    ckpt = ensure_trained(config, paths.models_dir(), progress=True)
    with (ckpt.parent / flow_train.CURVE).open() as f:
        train_s = float(list(csv.DictReader(f))[-1]["elapsed_s"])
    split = flow_train.split_emas(ckpt, paths.models_dir())
    print(f"run {config.key()} ({ckpt}): {train_s:.0f} s of training "
          f"(this call {time.perf_counter() - t0:.0f} s)")
    world, judge = ShapesWorld(), SceneJudge()
    specs = dev_specs(world, args.prompts)
    verdicts = {}
    for decay in sorted(split):
        t1 = time.perf_counter()
        verdicts[decay] = passes(FlowGenerator(split[decay]), world, judge, specs)
        print(f"  EMA {decay}: {split[decay]} judged in {time.perf_counter() - t1:.0f} s",
              flush=True)
    own = config.ema_decay
    print(f"\nFlowConfig.{args.profile}() + {args.overrides}, {args.prompts} dev prompts per "
          f"category, one image each, 20 Euler steps, guidance 2.0 (threads: "
          f"{torch.get_num_threads()})\n")
    print("| EMA decay (at the last step; its half-life in steps) | " + " | ".join(CATEGORIES)
          + f" | mean | mean - EMA {own}, 95% paired bootstrap |")
    print("|---|" + "---:|" * (len(CATEGORIES) + 2))
    for decay, v in verdicts.items():
        cells = []
        for c in CATEGORIES:
            k, n = int(v[c].sum()), len(v[c])
            ci = binomtest(k, n).proportion_ci(method="wilson")
            lo, hi = ci.low, ci.high
            cells.append(f"{k / n:.3f} [{lo:.2f}, {hi:.2f}]")
        mean = np.mean([v[c].mean() for c in CATEGORIES])
        d, lo, hi = mean_diff_interval(v, verdicts[own])
        diff = "–" if decay == own else f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"
        last = final_decay(decay, config.train_steps)
        half = np.log(0.5) / np.log(last) if last > 0 else 0.0
        print(f"| {decay} ({last:.5f}; {half:.0f}) | " + " | ".join(cells)
              + f" | {mean:.3f} | {diff} |")


if __name__ == "__main__":
    main()
