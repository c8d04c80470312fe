"""Benchmark: how a ``flow`` checkpoint fails on a few prompts, against guidance.

For each checkpoint, guidance scale, guidance interval and guidance rule, draws
``--images`` images of each prompt (seeds 0..n-1) and judges them with the ``scene``
judge against the prompt's own parse: the pass rate and the share of images where the judge finds no
object at all (an empty canvas), the failure that decides ``single`` on ``test`` for
held-out colour and shape pairs (``bench/failure_modes.py --prompts single``).

    python bench/prompt_outcomes.py --checkpoint genlab-out/models/flow-<key> \\
        --prompts "a purple triangle" "a red square" --guidance 1 2 3 [--intervals 0,1 0,0.8]
        [--rules cfg apg apg:eta=0.5,r=4 rescale:phi=0.7]
"""

from __future__ import annotations

import argparse
import itertools

import torch

from genlab.generators.flow import FlowGenerator, checkpoint
from genlab.judges.scene import SceneJudge
from genlab.worlds.shapes.grammar import parse


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", nargs="+", required=True)
    ap.add_argument("--prompts", nargs="+", required=True)
    ap.add_argument("--guidance", type=float, nargs="+", default=[2.0])
    ap.add_argument("--intervals", nargs="+", default=["0,1"],
                    help="guidance intervals lo,hi of flow time (1 = noise)")
    ap.add_argument("--rules", nargs="+", default=["cfg"],
                    help="guidance rules (genlab.generators.flow.guidance): cfg, "
                         "apg[:eta=E,r=R], rescale[:phi=P]")
    ap.add_argument("--images", type=int, default=64, help="images per prompt")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    judge = SceneJudge()
    specs = {p: parse(p) for p in args.prompts}  # ParseError names a word outside the grammar
    intervals = [tuple(float(x) for x in i.split(",")) for i in args.intervals]
    seeds = list(range(args.images))
    print(f"{args.images} images per prompt, 20 Euler steps\n")
    print("| checkpoint | prompt | w | interval | rule | passed | empty canvas |")
    print("|---|---|---:|---|---|---:|---:|")
    for ckpt in args.checkpoint:
        path = checkpoint.resolve(ckpt)
        for w, interval, rule in itertools.product(args.guidance, intervals, args.rules):
            gen = FlowGenerator(path, guidance=w).with_options(guidance_interval=interval,
                                                               guidance_rule=rule)
            for prompt, spec in specs.items():
                images = gen.generate([prompt] * len(seeds), seeds).images
                verdicts = judge.judge(images, [spec] * len(seeds))
                passed = sum(v.passed for v in verdicts) / len(seeds)
                empty = sum(v.details.get("n_objects") == 0
                            for v in verdicts) / len(seeds)
                lo, hi = interval
                print(f"| {path.parent.name} | {prompt} | {w:g} | {lo:g}-{hi:g} | "
                      f"{gen.guidance_rule.spec()} | {passed:.3f} | {empty:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
