"""Benchmark: attention guidance on the ``flow`` baseline (issue 3, method 4).

Two measurements on one checkpoint (default: the ``default`` profile's):

1. **Localisation.** Does the baseline's cross-attention say *where* an object
   is? For ``--scenes`` dev scenes per category (single, position, binding,
   multi), the true image is noised to ``x_t`` at each ``--t`` and passed
   through the conditional branch; for every object word (colour and noun of
   each group) we read the share of its attention that falls inside the true
   boxes of its group's objects, over the share of the grid those boxes cover.
   1.0 is an attention map that ignores position; a localising map is well
   above 1. Then ``--descent`` normalised gradient steps of the ``box`` loss
   on ``x_t`` (step 0.2 each): how far the loss can be pushed at all.
2. **Accuracy.** dev accuracy (``--prompts`` per category, one image each, the
   same seeds) of the unguided baseline and of every ``--modes`` x
   ``--strengths`` setting, guided over the first ``--until`` of the path, with
   sampling milliseconds per image as a ratio to the unguided run of this process.

    python bench/bench_attention.py [--checkpoint DIR] [--scenes 32] [--prompts 64] \\
        [--modes box excite] [--strengths 0.003 0.01 0.03] [--until 0.5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from dev_accuracy import CATEGORIES, accuracy, dev_specs

from genlab import paths
from genlab.generators.flow import FlowConfig, FlowGenerator
from genlab.generators.flow import attention as A
from genlab.generators.flow.grounding import from_scene
from genlab.generators.flow.objective import images_to_tensor
from genlab.generators.flow.train import run_dir
from genlab.judges.scene import SceneJudge
from genlab.worlds.shapes.world import ShapesWorld

LOCALISATION_CATEGORIES = ("single", "position", "binding", "multi")


def localisation(gen: FlowGenerator, scenes_per: int, ts: list[float], descent: int
                 ) -> list[tuple[float, float, float, float, float, float]]:
    """Per t: (inside share / area share, the same for nouns only, the box loss per
    word before descent, after ``descent`` steps, fraction of words whose peak cell
    is in its region, and that fraction for a peak in a random cell)."""
    world = ShapesWorld()
    side = gen.attention_side()
    specs = [s for c in LOCALISATION_CATEGORIES
             for s in world.sample_specs(c, "dev", scenes_per, 11)]
    scenes = world.realize(specs, 11)
    prompts = [world.prompt(s) for s in specs]
    x0 = images_to_tensor(world.render(scenes, gen.config.image_size))
    targets = [A.Target(A.group_tokens(p, s.boxes), A.regions(p, s.boxes, from_scene(sc), side))
               for p, s, sc in zip(prompts, specs, scenes, strict=True)]
    ids, mask = gen.model.tokenizer.encode(prompts, [s.boxes for s in specs])
    with torch.no_grad():
        states, smask = gen.model.encode(ids, mask)
    cond = (states, smask, gen.model.box_maps(ids))
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
    words = sum(len(w) for tg in targets for w in tg.tokens)
    rows = []
    for t in ts:
        x = (1 - t) * x0 + t * eps
        with torch.no_grad():
            a = gen.attention_maps(x, t, cond)
        ratio, noun_ratio, hits, chance = [], [], 0, 0.0
        for i, tg in enumerate(targets):
            assert tg.regions is not None
            for group, region in zip(tg.tokens, tg.regions, strict=True):
                area = region.sum() / region.size
                for k, s in enumerate(group):
                    m = a[i, s]
                    inside = float((m * torch.from_numpy(region)).sum() / m.sum())
                    ratio.append(inside / area)
                    if k == len(group) - 1:
                        noun_ratio.append(inside / area)
                    hits += bool(region.reshape(-1)[int(m.argmax())] > 0)
                    chance += float((region > 0).mean())
        before = after = float("nan")
        for step in range(descent + 1):
            with torch.enable_grad():
                xg = x.detach().requires_grad_(True)
                loss = A.box_loss(gen.attention_maps(xg, t, cond), targets)
                (g,) = torch.autograd.grad(loss.sum(), xg)
            if step == 0:
                before = float(loss.detach().sum()) / words
            after = float(loss.detach().sum()) / words
            rms = g.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp(min=1e-12)
            x = x - 0.2 * g / rms
        rows.append((float(np.mean(ratio)), float(np.mean(noun_ratio)), before, after,
                     hits / words, chance / words))
    return rows


class _Timed:
    """A generator that adds up the seconds its ``generate`` calls take."""

    def __init__(self, inner: FlowGenerator) -> None:
        self.inner, self.seconds = inner, 0.0

    def generate(self, *args: object, **kwargs: object) -> object:
        t0 = time.perf_counter()
        out = self.inner.generate(*args, **kwargs)  # type: ignore[arg-type]
        self.seconds += time.perf_counter() - t0
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default=None,
                    help="a flow run or checkpoint folder (default: the default profile's)")
    ap.add_argument("--scenes", type=int, default=32, help="dev scenes per category")
    ap.add_argument("--t", type=float, nargs="+", default=[0.9, 0.7, 0.5, 0.3])
    ap.add_argument("--descent", type=int, default=5)
    ap.add_argument("--prompts", type=int, default=64, help="dev prompts per category")
    ap.add_argument("--modes", nargs="+", default=list(A.MODES), choices=A.MODES)
    ap.add_argument("--strengths", type=float, nargs="+", default=[0.003, 0.01, 0.03])
    ap.add_argument("--until", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ckpt = args.checkpoint or run_dir(FlowConfig.default(), paths.models_dir())
    probe = FlowGenerator(ckpt, attention=A.AttentionGuidance("box", 0.01, args.until))
    print(f"checkpoint {probe.checkpoint}, attention grid {probe.attention_side()}x"
          f"{probe.attention_side()}")
    if args.scenes > 0:
        print(f"\nlocalisation: {args.scenes} dev scenes per category of "
              f"{', '.join(LOCALISATION_CATEGORIES)}; 1.0 = blind to position")
        print("| t | inside/area (all words) | nouns | box loss per word | after "
              f"{args.descent} steps | peak in region | by chance |")
        print("|---|---|---|---|---|---|---|")
        for t, r in zip(args.t, localisation(probe, args.scenes, args.t, args.descent),
                        strict=True):
            print(f"| {t} | {r[0]:.2f} | {r[1]:.2f} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.2f} "
                  f"| {r[5]:.2f} |")
    if args.prompts > 0:
        world, judge = ShapesWorld(), SceneJudge()
        specs = dev_specs(world, args.prompts)
        settings: list[A.AttentionGuidance | None] = [None] + [
            A.AttentionGuidance(m, s, args.until) for m in args.modes for s in args.strengths]
        print(f"\ndev accuracy, {args.prompts} prompts per category, guided over the first "
              f"{args.until} of 20 Euler steps, guidance 2")
        print("| setting | " + " | ".join(CATEGORIES) + " | mean | ms/img (x unguided) |")
        print("|---|" + "---|" * (len(CATEGORIES) + 2))
        base_ms = None
        for st in settings:
            gen = _Timed(FlowGenerator(ckpt, attention=st))
            acc = accuracy(gen, world, judge, specs)
            ms = gen.seconds / (args.prompts * len(CATEGORIES)) * 1e3
            base_ms = base_ms or ms
            name = "unguided" if st is None else f"{st.mode} {st.strength}"
            print(f"| {name} | " + " | ".join(f"{acc[c]:.3f}" for c in CATEGORIES)
                  + f" | {np.mean(list(acc.values())):.3f} | {ms:.1f} (x{ms / base_ms:.2f}) |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
