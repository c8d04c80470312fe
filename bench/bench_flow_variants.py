"""Benchmark: how fast ``flow`` variants learn, against the default config trained alongside.

Each variant is ``FlowConfig.default()`` (or the profile ``--config`` names;
``session5``: the default of sessions 5-22, which their commands varied) with some
fields replaced (a Python dict literal, e.g. ``"{'t_mean': -0.5}"``), trained for
``--steps`` steps in its own process with one thread (two variants share the two cores
of this machine evenly, so the baseline and the variant see the same contention),
then judged on ``--prompts`` dev prompts per category (one image each) with
the scene judge. The baseline (``--base``, default: no overrides) is always
trained too, and every variant's overrides apply on top of it, so each row's
accuracy is read against a baseline measured in the same run; ``ratio`` is
variant single accuracy over the baseline's. Variants train with
``workers=1`` unless they override it. A variant may set its own
``train_steps``: a faster variant gets more steps in an equal-time comparison.

This is the experiment loop behind the ``flow`` defaults; the runs are kept
under ``--out`` so a later call with the same variant reuses the trained model.

    python bench/bench_flow_variants.py --steps 1000 [--base "{...}"] "{'t_mean': -0.5}" [...]
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dev_accuracy import CATEGORIES, accuracy, dev_specs

from genlab.generators.flow.config import PROFILES


def run_one(overrides: dict, steps: int, out: Path, prompts: int, guidance: float,
            profile: str) -> dict:
    """Train (or reuse) one variant of the FlowConfig ``profile`` and judge it; runs inside
    a worker process."""
    import torch

    torch.set_num_threads(1)
    from genlab.generators.flow import FlowConfig, FlowGenerator
    from genlab.judges.scene import SceneJudge
    from genlab.worlds.shapes.world import ShapesWorld

    train = importlib.import_module("genlab.generators.flow.train")
    # An override may set its own train_steps (a faster variant gets more steps in an
    # equal-time comparison) and workers (default 1: one process and one thread per
    # variant, so two variants at a time share the two cores evenly).
    config = dataclasses.replace(FlowConfig.named(profile),
                                 **{"train_steps": steps, "workers": 1, **overrides})
    ckpt = train.ensure_trained(config, out, progress=False)
    with (ckpt.parent / train.CURVE).open() as f:  # training seconds, even when cached
        train_s = float(list(csv.DictReader(f))[-1]["elapsed_s"])
    world, judge = ShapesWorld(), SceneJudge()
    gen = FlowGenerator(ckpt, steps=20, guidance=guidance)
    if config.grounding:  # a grounded model draws the whole-scene planner's plans
        from genlab.generators.planned import GroundedGenerator

        gen = GroundedGenerator(gen, name="flow-grounded")
    acc = accuracy(gen, world, judge, dev_specs(world, prompts))
    return {"overrides": overrides, "train_steps": config.train_steps,
            "train_s": round(train_s, 1),
            "checkpoint": str(ckpt), "accuracy": acc}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("variants", nargs="*", help="FlowConfig overrides as dict literals")
    ap.add_argument("--base", default="{}",
                    help="overrides of the --config profile that form the baseline; every "
                         "variant's overrides apply on top of them")
    ap.add_argument("--config", default="default", choices=PROFILES,
                    help="the FlowConfig profile the overrides replace fields of")
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
                                 args.guidance, args.config)))
        return 0
    literals = [ast.literal_eval(v) for v in [args.base, *args.variants]]
    for v in literals:
        if not isinstance(v, dict):
            raise SystemExit(f"a variant must be a dict literal of FlowConfig fields, got {v!r}")
    base = literals[0]
    variants = [base] + [{**base, **v} for v in literals[1:]]
    base_cmd = [sys.executable, __file__, "--steps", str(args.steps), "--prompts",
                str(args.prompts), "--guidance", str(args.guidance), "--out", str(out),
                "--config", args.config]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def work(v: dict) -> dict:  # one worker process; --jobs of them run at once
        p = subprocess.run([*base_cmd, "--worker", repr(v)], stdout=subprocess.PIPE,
                           text=True, env=env, check=False)
        if p.returncode != 0:
            raise SystemExit(f"variant {v!r} failed (exit {p.returncode})")
        return json.loads(p.stdout.strip().splitlines()[-1])

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(work, variants))
    base_single = rows[0]["accuracy"]["single"]
    print(f"flow variants, {args.steps} steps unless overridden, {args.prompts} dev prompts per "
          f"category, guidance {args.guidance}, 20 Euler steps")
    print(f"{'overrides':<44} {'steps':>6} {'train s':>8} "
          + " ".join(f"{c:>9}" for c in CATEGORIES) + f" {'mean':>6} {'single/base':>11}")
    print(f"base: FlowConfig.{args.config}() with {json.dumps(base)}")
    for own, r in zip([{}, *literals[1:]], rows, strict=True):
        acc = r["accuracy"]
        ratio = acc["single"] / base_single if base_single else float("nan")
        print(f"{json.dumps(own) if own else 'base':<44} {r['train_steps']:>6} "
              f"{r['train_s']:>8.0f} " + " ".join(f"{acc[c]:>9.3f}" for c in CATEGORIES)
              + f" {sum(acc.values()) / len(acc):>6.3f} {ratio:>11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
