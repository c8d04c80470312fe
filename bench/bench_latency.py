"""Benchmark: ``flow``'s latency per stage at batch 1, by step count, against 32 steps.

The measurement of issue 4, item 1 (:func:`genlab.tracks.latency.profile_latency`):
for each Euler step count, ``--runs`` timed ``generate`` calls of one prompt after
a warm-up, p50 and p95 per stage (the generator's own: text encoding, backbone,
sampler) and for the whole call, images/s, peak resident memory; and each
configuration's p50 as a ratio to the 32-step baseline timed in the same process.
The prompts cycle through 16 ``test`` prompts of ``position``. Uses
``--checkpoint``, else the default model (trained on first use, as ``genlab
run`` does).

    python bench/bench_latency.py [--checkpoint DIR] [--steps 32 16 8 4 1] [--runs 100]
        [--batch 1] [--threads 2]

``--batches 1 4 16 64`` instead profiles one registered generator (``-g``, at its own
setting, or ``name@sampler-steps``) at each batch size: ms per call, images/s and peak
memory (the issue's "throughput at several batch sizes"), ``--runs`` images per batch
size at least 5 calls.
"""

from __future__ import annotations

import argparse

import torch

from genlab.generators.flow import FlowGenerator
from genlab.generators.flow.entry import load_flow
from genlab.generators.flow.model import FlowModel
from genlab.tracks.latency import profile_latency
from genlab.worlds.shapes.world import ShapesWorld

BASELINE_STEPS = 32


def _model(arg: str | None) -> tuple[FlowModel, str]:
    if arg:
        return FlowGenerator(arg).model, arg
    gen = load_flow()  # the default model, trained on first use as `genlab run` does
    return gen.model, f"default model {gen.checkpoint.parent.name}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--steps", type=int, nargs="+", default=[32, 16, 8, 4, 1])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("-g", "--generator", default="flow",
                    help="with --batches: a registered generator, optionally @sampler-steps")
    ap.add_argument("--batches", type=int, nargs="+", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.batches:
        by_batch(args)
        return
    steps = [BASELINE_STEPS, *(s for s in args.steps if s != BASELINE_STEPS)]
    world = ShapesWorld()
    prompts = [world.prompt(s) for s in world.sample_specs("position", "test", 16, seed=0)]
    model, what = _model(args.checkpoint)
    print(f"flow latency, {what}, batch {args.batch}, {args.runs} timed runs after "
          f"{args.warmup}, {args.threads} threads (ms per call, p50/p95; "
          f"x = p50 over the 32-step p50)")
    base = None
    for n in steps:
        gen = FlowGenerator.from_model(model, steps=n)
        p = profile_latency(gen, prompts, batch=args.batch, runs=args.runs, warmup=args.warmup)
        base = base or p.total.p50_ms
        stages = "  ".join(f"{s.name} {s.p50_ms:.2f}/{s.p95_ms:.2f}" for s in p.stages)
        print(f"  {n:>3} steps  total {p.total.p50_ms:7.2f}/{p.total.p95_ms:7.2f}"
              f"  x{p.total.p50_ms / base:.3f}  {p.throughput_img_s:7.1f} img/s"
              f"  peak RSS {p.peak_rss_mb:.0f} MB  | {stages}")


def by_batch(args: argparse.Namespace) -> None:
    """One generator's call time, throughput and peak memory at each batch size."""
    from bench_interleaved import setting_options

    from genlab import catalog

    name, options = (setting_options(args.generator) if "@" in args.generator
                     else (args.generator, {}))
    gen = catalog.GENERATORS.get(name)
    if options:
        gen = gen.with_options(**options)
    world = ShapesWorld()
    prompts = [world.prompt(s) for s in world.sample_specs("position", "test", 16, seed=0)]
    print(f"{args.generator}: {gen.describe()}, {args.threads} threads; per batch size, "
          f"max(5, {args.runs} // batch) timed calls after {args.warmup}")
    print("| batch | ms / call p50 | ms / call p95 | ms / image | img/s | peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|")
    for b in args.batches:
        p = profile_latency(gen, prompts, batch=b, runs=max(5, args.runs // b),
                            warmup=min(args.warmup, 2) if b > 1 else args.warmup)
        print(f"| {b} | {p.total.p50_ms:.1f} | {p.total.p95_ms:.1f} | "
              f"{p.total.p50_ms / b:.2f} | {p.throughput_img_s:.0f} | {p.peak_rss_mb:.0f} |")


if __name__ == "__main__":
    main()
