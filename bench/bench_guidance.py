"""Benchmark: ``flow`` accuracy on ``dev`` against guidance scale, sampler and steps.

Loads one trained checkpoint and judges ``--prompts`` dev prompts per category
(one image each, the same seeds for every setting) with the scene judge, for
every combination of ``--guidance``, ``--samplers`` and ``--steps``. This is
how the ``flow`` generator's sampling defaults are chosen: on ``dev``, never
on ``test``. ``--planner`` also (``both``) or only (``on``) scores the model
behind the grammar's layout planner (``flow-planned``, LMD analog), on the
same prompts and seeds; ``--compose`` adds rows with composable guidance
(``flow-composed``; ``--planner none --compose`` scores only those), and
``--best-of 1 2 4`` rows of best-of-N with the learned verifier
(``flow-verified``): accuracy against N. A grounded
checkpoint (``grounding=True``) is always scored behind the whole-scene planner
(``flow-grounded``), its only use; with ``--best-of`` also as best-of-N behind it
(the combination of methods 1 and 3, ``scene-bestN`` rows). ``--intervals`` applies
the guidance only within each interval of flow time (``FlowGenerator``'s
``guidance_interval``), and ``--rules`` combines the branches by each guidance rule
(``guidance_rule``: ``cfg``, ``apg[:eta=E,r=R]``, ``rescale[:phi=P]``).
Several ``--checkpoint`` folders give accuracy against training compute (the
step of each is read from its ``meta.json``).

    python bench/bench_guidance.py [--checkpoint genlab-out/models/flow-<key> ...] \\
        [--guidance 2 3 4 5] [--samplers euler heun] [--steps 20] [--prompts 64]
        [--planner off|on|both|none] [--compose] [--intervals 0,1 0,0.8] [--rules cfg apg]
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import torch
from dev_accuracy import CATEGORIES, accuracy, dev_specs

from genlab import paths
from genlab.contracts import Generator
from genlab.generators.flow import FlowConfig, FlowGenerator, checkpoint
from genlab.generators.flow.train import run_dir
from genlab.generators.planned import GroundedGenerator, PlannedGenerator
from genlab.judges.scene import SceneJudge
from genlab.worlds.shapes.world import ShapesWorld


def _wrap(flow: FlowGenerator, planner: str) -> Generator:
    """The generator a table row scores: the model alone, behind the layout planner,
    or (a grounded model) behind the whole-scene planner."""
    if planner == "on":
        return PlannedGenerator(flow, flow.config.box_channels, name="flow-planned")
    if planner == "scene":
        return GroundedGenerator(flow, name="flow-grounded")
    if "best" in planner:  # best-of-N with the learned verifier (flow-verified), of the
        # text-only model ("best4") or of the grounded one behind its planner ("scene-best4")
        from genlab.generators.verified import VerifiedGenerator
        from genlab.generators.verifier import VerifierConfig, ensure_verifier

        vconfig = VerifierConfig()
        net = ensure_verifier(vconfig, paths.models_dir())
        inner = _wrap(flow, "scene") if planner.startswith("scene") else flow
        return VerifiedGenerator(inner, net, vconfig, int(planner.split("best")[1]),
                                 name="flow-verified")
    if planner == "compose":
        return FlowGenerator.from_model(flow.model, steps=flow.steps, sampler=flow.sampler,
                                        guidance=flow.guidance, compose=True)
    return flow


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", nargs="+", default=None,
                    help="flow checkpoint or run directories (default: the main job's model)")
    ap.add_argument("--guidance", type=float, nargs="+", default=[2.0, 3.0, 4.0, 5.0])
    ap.add_argument("--samplers", nargs="+", default=["euler"])
    ap.add_argument("--steps", type=int, nargs="+", default=[20])
    ap.add_argument("--prompts", type=int, default=64, help="dev prompts per category")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--planner", choices=("off", "on", "both", "none"), default="off",
                    help="score the model behind the layout planner too (both) or only (on)")
    ap.add_argument("--compose", action="store_true",
                    help="also score the model with composable guidance (flow-composed)")
    ap.add_argument("--best-of", type=int, nargs="*", default=[],
                    help="also score best-of-N with the learned verifier, for each N")
    ap.add_argument("--intervals", nargs="+", default=["0,1"],
                    help="guidance intervals lo,hi of flow time (1 = noise): guidance only "
                         "at lo <= t <= hi (Kynkaanniemi et al., 2024); default 0,1")
    ap.add_argument("--rules", nargs="+", default=["cfg"],
                    help="guidance rules: cfg, apg[:eta=E,r=R] (Sadat et al., 2025), "
                         "rescale[:phi=P] (Lin et al., 2024); default cfg")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.checkpoint is None:
        args.checkpoint = [str(run_dir(FlowConfig.default(), paths.models_dir()))]
    world, judge = ShapesWorld(), SceneJudge()
    specs = dev_specs(world, args.prompts)
    print(f"flow on dev, {args.prompts} prompts per category, one image each")
    intervals = [tuple(float(x) for x in i.split(",")) for i in args.intervals]
    print(f"{'step':>5} {'planner':<7} {'sampler':<7} {'steps':>5} {'w':>4} {'interval':>9} "
          f"{'rule':<16} " + " ".join(f"{c:>9}" for c in CATEGORIES) + f" {'mean':>6} {'s/img':>6}")
    planners = {"off": ("off",), "on": ("on",), "both": ("off", "on"),
                "none": ()}[args.planner] + (("compose",) if args.compose else ()) \
        + tuple(f"best{n}" for n in args.best_of)
    for ckpt in args.checkpoint:
        path = checkpoint.resolve(ckpt)
        step = checkpoint.load_meta(path)["step"]
        print(f"# {path}")
        for sampler, steps, w, interval, rule in itertools.product(
                args.samplers, args.steps, args.guidance, intervals, args.rules):
            flow = FlowGenerator(path, steps=steps, sampler=sampler, guidance=w)
            if interval != (0.0, 1.0) or rule != "cfg":
                flow = flow.with_options(guidance_interval=interval, guidance_rule=rule)
            rows = (("scene",) + tuple(f"scene-best{n}" for n in args.best_of)
                    if flow.config.grounding else planners)
            for planner in rows:  # one checkpoint load for both rows
                gen = _wrap(flow, planner)
                t0 = time.perf_counter()
                acc = accuracy(gen, world, judge, specs)
                per_image = (time.perf_counter() - t0) / sum(len(v) for v in specs.values())
                print(f"{step:>5} {planner:<7} {sampler:<7} {steps:>5} {w:>4g} "
                      f"{f'{interval[0]:g}-{interval[1]:g}':>9} "
                      f"{flow.guidance_rule.spec():<16} "
                      + " ".join(f"{acc[c]:>9.3f}" for c in CATEGORIES)
                      + f" {np.mean(list(acc.values())):>6.3f} {per_image:>6.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
