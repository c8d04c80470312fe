"""Benchmark: ``flow`` sampling latency, ms per image, by batch size, steps and CFG.

Times ``FlowGenerator.generate`` (tokenizer, text encoder, sampler, uint8
conversion: the whole call) at batch 1 and batch 64 for 1, 4 and 16 Euler
steps, with classifier-free guidance (``guidance`` != 1: both branches in one
doubled batch, ~2x the backbone cost) and without (``guidance=1``: one
branch). Each cell is the best of ``--repeats`` calls after a warm-up. Uses a
checkpoint if given, else a freshly initialised default-config model (same
architecture, so the same cost).

    python bench/bench_sample.py [--checkpoint DIR] [--threads 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from genlab.generators.flow import FlowConfig, FlowGenerator
from genlab.generators.flow.model import FlowModel

PROMPT = "a red circle to the left of a blue square"


def time_call(gen: FlowGenerator, n: int, repeats: int) -> tuple[float, dict[str, float]]:
    """Best seconds of one generate call of n images, and that call's stage timings."""
    gen.generate([PROMPT] * n, list(range(n)))  # warm-up
    best, stages = float("inf"), {}
    for _ in range(repeats):
        t = time.perf_counter()
        out = gen.generate([PROMPT] * n, list(range(n)))
        dt = time.perf_counter() - t
        if dt < best:
            best, stages = dt, dict(out.timings)
    return best, stages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default=None, help="a flow checkpoint or run directory")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    ap.add_argument("--steps", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.checkpoint:
        base = FlowGenerator(args.checkpoint)
        model = base.model
    else:
        torch.manual_seed(0)
        model = FlowModel(FlowConfig.default()).eval()
    rows = []
    for batch in args.batches:
        for steps in args.steps:
            for guidance in (3.0, 1.0):
                gen = FlowGenerator.from_model(model, steps=steps, guidance=guidance,
                                               batch_size=max(args.batches))
                secs, stages = time_call(gen, batch, args.repeats if batch == 1 else 1)
                rows.append({"batch": batch, "steps": steps, "cfg": guidance != 1.0,
                             "ms_per_image": 1000 * secs / batch,
                             **{f"{k}_ms": 1000 * v / batch for k, v in stages.items()}})
    source = args.checkpoint or "fresh default-config model"
    if args.json:
        print(json.dumps({"model": source, "threads": args.threads, "rows": rows}, indent=2))
        return 0
    print(f"flow sampling (euler), {source}, {args.threads} threads: ms per image")
    print(f"{'batch':>5} {'steps':>5} {'cfg':>4} {'ms/img':>9} {'backbone':>9} {'text':>7}")
    for r in rows:
        print(f"{r['batch']:>5} {r['steps']:>5} {'yes' if r['cfg'] else 'no':>4} "
              f"{r['ms_per_image']:>9.2f} {r['backbone_ms']:>9.2f} {r['text_encoding_ms']:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
