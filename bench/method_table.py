"""The method table of the ``control`` track: scores, training compute and sampling cost.

Reads the latest complete ``control`` run of each generator from the store
(``genlab run`` writes them) and prints one markdown table: every ``test``
category with its 95% interval, then per generator

- training compute: FLOPs of one training step of its flow model (counted by
  ``FlopCounterMode``, as ``bench_train.py`` does) times its steps, and the
  seconds its run took (``curve.csv``; 0 for the controls);
- sampling cost: milliseconds per image of ``generate`` on the same
  ``--prompts`` test prompts per category, timed here in turn, best of
  ``--rounds``, and the ratio to the first generator (the baseline) measured
  in the same process.

    python bench/method_table.py [--db genlab-out/genlab.db] [--prompts 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import importlib
import json
import time
from pathlib import Path
from typing import Any

import torch

from genlab import catalog, paths
from genlab.generators.flow.config import FlowConfig
from genlab.store import Store
from genlab.worlds.shapes.world import ShapesWorld

T = importlib.import_module("genlab.generators.flow.train")
ORDER = ("flow", "flow-planned", "flow-composed", "flow-verified", "flow-attend", "flow-counting",
         "flow-grounded", "oracle",
         "random-scene")
SUMMARY = ("heldout", "seen", "overall")


def _flow_config(tree: Any) -> FlowConfig | None:
    """The FlowConfig inside a run's stored generator identity, if any."""
    if isinstance(tree, dict):
        if "train_steps" in tree and "block_out_channels" in tree:
            return FlowConfig.from_json(json.dumps({"format_version": 1, **tree}))
        for v in tree.values():
            found = _flow_config(v)
            if found is not None:
                return found
    return None


def training_cost(config: FlowConfig | None, models: Path) -> tuple[float, float]:
    """(TFLOP, seconds) of training ``config``'s model; zeros for a control."""
    if config is None:
        return 0.0, 0.0
    from torch.utils.flop_counter import FlopCounterMode

    c = dataclasses.replace(config, workers=1)
    run = T._new_run(c, cache_dir=models)
    with FlopCounterMode(display=False) as counter:
        T._loss(run, T._batch(c, run.rng)).backward()
    curve = T.run_dir(config, models) / T.CURVE
    with curve.open(newline="") as f:
        seconds = float(list(csv.DictReader(f))[-1]["elapsed_s"])
    return counter.get_total_flops() * config.train_steps / 1e12, seconds


def sampling_ms(names: list[str], prompts: int, rounds: int, models: Path) -> dict[str, float]:
    """Best ms per image of each generator on the same test prompts, timed in turn."""
    world = ShapesWorld()
    specs = [s for c in world.categories for s in world.sample_specs(c, "test", prompts, 1)]
    texts, boxes = [world.prompt(s) for s in specs], [s.boxes for s in specs]
    gens = {n: catalog.GENERATORS.get(n, profile="default", cache_dir=models, progress=False)
            for n in names}
    best = dict.fromkeys(names, float("inf"))
    for _ in range(rounds):
        for n, g in gens.items():
            t = time.perf_counter()
            g.generate(texts, list(range(len(texts))), boxes=boxes)
            best[n] = min(best[n], (time.perf_counter() - t) / len(texts) * 1e3)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default=None, help="the store (default genlab-out/genlab.db)")
    ap.add_argument("--prompts", type=int, default=8, help="test prompts per category to time")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    store = Store(Path(args.db) if args.db else paths.default_db())
    runs = {r.generator: r for r in store.latest_runs("control")}
    names = [n for n in ORDER if n in runs] + sorted(set(runs) - set(ORDER))
    scores = {n: {s["category"]: s for s in store.run_scores(runs[n].id)} for n in names}
    models = paths.models_dir()
    cost = {n: training_cost(_flow_config(json.loads(runs[n].config_json)), models)
            for n in names}
    ms = sampling_ms(names, args.prompts, args.rounds, models)
    cats = [f"test/{c}" for c in ShapesWorld().categories] + [f"test/{c}" for c in SUMMARY]
    print("| category | " + " | ".join(f"`{n}`" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for c in cats:
        cells = []
        for n in names:
            s = scores[n].get(c)
            cells.append("-" if s is None else
                         f"{s['value']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}]")
        print(f"| {c} | " + " | ".join(cells) + " |")
    print("| training TFLOP | " + " | ".join(f"{cost[n][0]:.1f}" for n in names) + " |")
    print("| training s | " + " | ".join(f"{cost[n][1]:.0f}" for n in names) + " |")
    base = ms[names[0]]
    print("| sampling ms/img (x baseline) | "
          + " | ".join(f"{ms[n]:.1f} (x{ms[n] / base:.2f})" for n in names) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
