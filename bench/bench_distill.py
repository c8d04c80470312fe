"""Benchmark: guidance- and consistency-distilled students of ``flow``, by setting (issue 4).

Each variant of :class:`genlab.generators.flow.distill.DistillConfig` (Python dict
literals of overrides, e.g. ``"{'method': 'consistency', 'target': 'student'}"``) is
made (cached) and scored on the ``realtime`` track's ``dev`` subset at each of
``--steps`` of each of ``--samplers`` at guidance 1, beside the teacher's 32-step
baseline on the same prompts and seeds (accuracy only: the track times them).
Reports the accuracy with its 95% interval, the ratio to the teacher's, the
per-category accuracies and the seconds the student took to make.

    python bench/bench_distill.py --variants "{'method': 'consistency'}" [--steps 1 2 4]
        [--samplers euler]
"""

from __future__ import annotations

import argparse
import ast
import json

from bench_reflow import accuracy

from genlab import paths
from genlab.generators.flow.distill import DistillConfig, load_student, run_dir
from genlab.generators.flow.entry import load_flow
from genlab.tracks.realtime_settings import RealtimeConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", required=True)
    ap.add_argument("--steps", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--samplers", nargs="+", default=["euler"])
    args = ap.parse_args()
    quality = RealtimeConfig.default().quality
    teacher = load_flow()
    cats = list(quality.categories)
    print("| model | sampler | steps | overall [95% CI] | x teacher-32 | "
          + " | ".join(c[:5] for c in cats) + " | student s |")
    print("|---|---|---:|---|---:|" + "---:|" * len(cats) + "---:|")
    ref_acc = accuracy(teacher.with_options(steps=32, sampler="euler"), quality)
    ref = ref_acc["overall"][0]

    def row(name: str, sampler: str, steps: int, acc: dict, secs: str) -> None:  # type: ignore[type-arg]
        v, lo, hi = acc["overall"]
        print(f"| {name} | {sampler} | {steps} | {v:.3f} [{lo:.3f}, {hi:.3f}] | {v / ref:.2f} | "
              + " | ".join(f"{acc[c][0]:.2f}" for c in cats) + f" | {secs} |", flush=True)

    row("teacher (w=2)", "euler", 32, ref_acc, "–")
    for v in args.variants:
        config = DistillConfig(**ast.literal_eval(v))
        student = load_student(teacher, config, paths.models_dir())
        timing = run_dir(teacher.checkpoint, config, paths.models_dir()) / "timing.json"
        secs = (f"{json.loads(timing.read_text())['student_s_this_call']:.0f}"
                if timing.exists() else "–")
        for sampler in args.samplers:
            for steps in args.steps:
                row(v, sampler, steps, accuracy(student.with_options(steps=steps, sampler=sampler),
                                                quality), secs)


if __name__ == "__main__":
    main()
