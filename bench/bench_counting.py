"""Benchmark: how hard the counting-aware loss pulls, against the flow objective.

On one trained checkpoint (its raw, non-EMA weights, as training sees them),
for ``--batches`` training batches of the default data mix, prints the
gradient norm over the model's weights of the rectified-flow loss and of the
counting term (:mod:`genlab.generators.flow.counting`) at weight 1, with the
same noise, timesteps and dropout, and the counting weight at which the two
norms would be equal. A weight far above that lets the counter's gradient
steer training (with gradient clipping, it also shrinks the flow objective's
share of every update).

    python bench/bench_counting.py [--checkpoint DIR] [--batches 8]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import statistics

import torch

from genlab import paths
from genlab.generators.flow import FlowConfig, checkpoint
from genlab.generators.flow.objective import flow_loss, images_to_tensor

T = importlib.import_module("genlab.generators.flow.train")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default=None,
                    help="a flow run or checkpoint folder (default: the default profile's)")
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    models = paths.models_dir()
    ckpt = checkpoint.resolve(args.checkpoint or T.run_dir(FlowConfig.default(), models))
    model = checkpoint.load_model(ckpt, ema=False).train()
    c = dataclasses.replace(model.config, workers=1, count_loss=1.0, counter="default")
    run = T._new_run(c, cache_dir=models)

    def grad_norm(loss: torch.Tensor) -> float:
        model.zero_grad(set_to_none=True)
        loss.backward()
        return float(torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()
                                    if p.grad is not None)))

    flow_g, count_g = [], []
    for _ in range(args.batches):
        b = T._batch(c, run.rng)
        ids, mask = model.tokenizer.encode(b.prompts, b.boxes)
        x0 = images_to_tensor(b.images)
        state = run.noise.get_state()
        kw = {"t_mean": c.t_mean, "t_std": c.t_std, "cfg_dropout": c.cfg_dropout,
              "t_floor": c.loss_t_floor}
        flow_g.append(grad_norm(flow_loss(model, x0, ids, mask, generator=run.noise, **kw)))
        run.noise.set_state(state)  # the same noise, timesteps and dropout
        plain = flow_loss(model, x0, ids, mask, generator=run.noise, **kw)
        run.noise.set_state(state)
        both = flow_loss(model, x0, ids, mask, generator=run.noise, counter=run.counter,
                         count_weight=1.0, **kw)
        count_g.append(grad_norm(both - plain))  # the counting term's gradient alone
    f, k = statistics.median(flow_g), statistics.median(count_g)
    print(f"checkpoint {ckpt}; {args.batches} batches of {c.batch_size}; medians")
    print("| gradient norm: flow loss | counting term (weight 1) | weight where they are equal |")
    print("|---|---|---|")
    print(f"| {f:.4f} | {k:.3f} | {f / k:.4f} |")
    ratios = ", ".join(f"{b / a:.0f}" for a, b in zip(flow_g, count_g, strict=True))
    print(f"per batch, counting / flow gradient norm at weight 1: {ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
