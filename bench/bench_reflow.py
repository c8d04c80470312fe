"""Benchmark: reflow students of the default ``flow`` model, by training setting (issue 4).

Each variant of :class:`genlab.generators.flow.reflow.ReflowConfig` (the default
plus ``--variants`` overrides, as Python dict literals) is made (couples shared
between variants that draw the same couples; everything cached) and scored on
the ``realtime`` track's ``dev`` subset at each of ``--steps`` Euler steps at
guidance 1, beside the teacher at its 32-step baseline and at the couples'
setting, on the same prompts and seeds. Reports the accuracy with its 95%
interval, the ratio to the teacher's 32-step accuracy, and the seconds the
couples and the student took (as measured when they were made).

    python bench/bench_reflow.py [--variants "{'train_steps': 3000}" ...] [--steps 1 2 4]
        [--samplers euler ab2]
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
from typing import Any

from genlab import paths
from genlab.generators.flow.entry import load_flow
from genlab.generators.flow.reflow import ReflowConfig, load_student, run_dir
from genlab.tracks import control
from genlab.tracks.realtime_settings import QUALITY_SPLIT, RealtimeConfig
from genlab.tracks.scoring import score_split


def accuracy(gen: Any, quality: control.ControlConfig) -> dict[str, float]:
    judge = control.default_judge()
    samples: list[dict[str, Any]] = []
    todo = control.items(quality)
    for lo in range(0, len(todo), quality.batch_size):
        batch = todo[lo:lo + quality.batch_size]
        rows, _ = control.judge_batch(batch, gen, judge, quality.size)
        samples += [{"passed": r.passed, "split": r.split, "category": r.category,
                     "prompt": r.prompt, "boxes": json.loads(r.boxes_json),
                     "n_objects": r.n_objects, "heldout": r.heldout} for r in rows]
    recs = score_split(samples, QUALITY_SPLIT, quality.categories, resamples=2000,
                       seed=quality.seed, heldout_breakdown=False)
    return {r["category"].split("/", 1)[1]: (r["value"], r["ci_low"], r["ci_high"])
            for r in recs if "/n=" not in r["category"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="*", default=[])
    ap.add_argument("--steps", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--samplers", nargs="+", default=["euler"])
    ap.add_argument("--no-default", action="store_true", help="skip the default config")
    args = ap.parse_args()
    quality = RealtimeConfig.default().quality
    teacher = load_flow()
    base = ReflowConfig()
    configs = ([] if args.no_default else [("default", base)]) + [
        (v, dataclasses.replace(base, **ast.literal_eval(v))) for v in args.variants]
    cats = list(quality.categories)
    print("| model | steps | overall [95% CI] | x teacher-32 | "
          + " | ".join(c[:5] for c in cats) + " | couples s | student s |")
    print("|---|---:|---|---:|" + "---:|" * len(cats) + "---:|---:|")

    def row(name: str, steps: int, acc: dict[str, Any], ref: float, secs: str) -> None:
        v, lo, hi = acc["overall"]
        print(f"| {name} | {steps} | {v:.3f} [{lo:.3f}, {hi:.3f}] | {v / ref:.2f} | "
              + " | ".join(f"{acc[c][0]:.2f}" for c in cats) + f" | {secs} |", flush=True)

    ref_acc = accuracy(teacher.with_options(steps=32, sampler="euler"), quality)
    ref = ref_acc["overall"][0]
    row("teacher euler", 32, ref_acc, ref, "– | –")
    pairs = teacher.with_options(steps=base.teacher_steps, sampler=base.teacher_sampler)
    row(f"teacher {base.teacher_sampler}", base.teacher_steps, accuracy(pairs, quality), ref,
        "– | –")
    for name, config in configs:
        student = load_student(teacher, config, paths.models_dir())
        timing_file = run_dir(teacher.checkpoint, config, paths.models_dir()) / "timing.json"
        t = json.loads(timing_file.read_text()) if timing_file.exists() else {}
        secs = (f"{t.get('couples_s_this_call', float('nan')):.0f} | "
                f"{t.get('student_s_this_call', float('nan')):.0f}")
        for sampler in args.samplers:
            for steps in args.steps:
                label = name if sampler == "euler" else f"{name}, {sampler}"
                row(label, steps, accuracy(student.with_options(steps=steps, sampler=sampler),
                                           quality), ref, secs)


if __name__ == "__main__":
    main()
