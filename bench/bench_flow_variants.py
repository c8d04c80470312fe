"""Benchmark: how fast ``flow`` variants learn, against the default config trained alongside.

Each variant is ``FlowConfig.default()`` with some fields replaced (a Python
dict literal, e.g. ``"{'t_mean': -0.5}"``), trained for ``--steps`` steps in
its own process with one thread (two variants share the two cores of this
machine evenly, so the baseline and the variant see the same contention),
then judged on ``--prompts`` dev prompts per category (one image each) with
the scene judge. The baseline (no overrides) is always trained too, so each
row's accuracy is read against a model of equal training compute measured in
the same run; ``ratio`` is variant single accuracy over the baseline's.

This is the experiment loop behind the ``flow`` defaults; the runs are kept
under ``--out`` so a later call with the same variant reuses the trained model.

    python bench/bench_flow_variants.py --steps 1000 "{'t_mean': -0.5}" ["{...}" ...]
"""

from __future__ import annotations

import argparse
import ast
import csv
import dataclasses
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

CATEGORIES = ("single", "binding", "counting", "position")


def run_one(overrides: dict, steps: int, out: Path, prompts: int, guidance: float) -> dict:
    """Train (or reuse) one variant and judge it; runs inside a worker process."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from genlab.generators.flow import FlowConfig, FlowGenerator
    from genlab.judges.scene import SceneJudge
    from genlab.worlds.shapes.world import ShapesWorld

    train = importlib.import_module("genlab.generators.flow.train")
    config = dataclasses.replace(FlowConfig.default(), train_steps=steps, **overrides)
    ckpt = train.ensure_trained(config, out, progress=False)
    with (ckpt.parent / train.CURVE).open() as f:  # training seconds, even when cached
        train_s = float(list(csv.DictReader(f))[-1]["elapsed_s"])
    world, judge = ShapesWorld(), SceneJudge()
    gen = FlowGenerator(ckpt, steps=20, guidance=guidance)
    acc = {}
    for cat in CATEGORIES:
        specs = world.sample_specs(cat, "dev", prompts, 7)
        images = gen.generate([world.prompt(s) for s in specs], list(range(prompts)),
                              boxes=[s.boxes for s in specs]).images
        acc[cat] = float(np.mean([v.passed for v in judge.judge(images, specs)]))
    return {"overrides": overrides, "train_steps": steps, "train_s": round(train_s, 1),
            "checkpoint": str(ckpt), "accuracy": acc}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("variants", nargs="*", help="FlowConfig overrides as dict literals")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--prompts", type=int, default=64, help="dev prompts per category")
    ap.add_argument("--guidance", type=float, default=2.0)
    ap.add_argument("--jobs", type=int, default=2, help="variants trained at once")
    ap.add_argument("--out", default="genlab-out/bench-variants")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    out = Path(args.out)
    if args.worker is not None:  # child process: one variant, JSON on stdout
        print(json.dumps(run_one(ast.literal_eval(args.worker), args.steps, out, args.prompts,
                                 args.guidance)))
        return 0
    variants = [{}] + [ast.literal_eval(v) for v in args.variants]
    for v in variants:
        if not isinstance(v, dict):
            raise SystemExit(f"a variant must be a dict literal of FlowConfig fields, got {v!r}")
    base_cmd = [sys.executable, __file__, "--steps", str(args.steps), "--prompts",
                str(args.prompts), "--guidance", str(args.guidance), "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rows: list[dict] = []
    for lo in range(0, len(variants), args.jobs):
        procs = [subprocess.Popen([*base_cmd, "--worker", repr(v)], stdout=subprocess.PIPE,
                                  text=True, env=env) for v in variants[lo:lo + args.jobs]]
        for p in procs:
            stdout, _ = p.communicate()
            if p.returncode != 0:
                raise SystemExit(f"a variant failed (exit {p.returncode})")
            rows.append(json.loads(stdout.strip().splitlines()[-1]))
    base = rows[0]["accuracy"]["single"]
    print(f"flow variants, {args.steps} steps x batch 32, {args.prompts} dev prompts per "
          f"category, guidance {args.guidance}, 20 Euler steps")
    print(f"{'overrides':<44} {'train s':>8} " + " ".join(f"{c:>9}" for c in CATEGORIES)
          + f" {'single/base':>11}")
    for r in rows:
        acc = r["accuracy"]
        ratio = acc["single"] / base if base else float("nan")
        print(f"{json.dumps(r['overrides']) or '{}':<44} {r['train_s']:>8.0f} "
              + " ".join(f"{acc[c]:>9.3f}" for c in CATEGORIES) + f" {ratio:>11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
