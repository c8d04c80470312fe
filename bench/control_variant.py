"""Benchmark: one ``flow`` config variant through the whole ``control`` track, as
``genlab run control -g flow`` would measure it were it the default (issue 2's
quality bar, and the seed axis its decisions ask about).

The variant is ``FlowConfig.default()`` (or the profile ``--config`` names:
``session5`` is the default of sessions 5-22, which the commands of those sessions
varied) with some fields replaced (a Python dict literal). It is trained on first use
exactly as the default is (the same loop, data-parallel workers and budget; cached by
its key in ``genlab-out/models``, the training seconds printed from its log), then the
``control`` track runs on it under the name ``flow`` and on both controls, stored in
``--db`` (default: a database of its own under ``genlab-out/variants/<key>/``, never the
main one). Prints each category's accuracy with its interval, the variant's beside
``random-scene``'s, and whether the quality bar holds: every category above the negative
control with disjoint 95% intervals, and ``single`` >= 0.90.

``--guidance`` samples the variant at another classifier-free guidance scale than the
generator's default (2.0), and ``--interval lo,hi`` guides only at flow times in that
interval (``FlowGenerator``'s ``guidance_interval``), and ``--rule`` combines the
branches by another guidance rule (``guidance_rule``: ``apg[:eta=E,r=R]``,
``rescale[:phi=P]``); the store is then
``genlab-out/variants/<key>-w<scale>[-i<lo>-<hi>][-<rule>]/``.

    python bench/control_variant.py "{'exact_head_dim': True, 'seed': 1,
        'cross_attention_levels': (False, True, True)}" [--db PATH] [--profile default]
        [--guidance 3] [--interval 0,0.8] [--rule apg:eta=0]
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import time
from pathlib import Path

from genlab import catalog, paths
from genlab.generators.flow import FlowConfig, FlowGenerator, ensure_trained
from genlab.generators.flow.config import PROFILES
from genlab.store import Store
from genlab.tracks.control import ControlTrack


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("overrides", help="FlowConfig fields to replace, a dict literal")
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--config", default="default", choices=PROFILES,
                    help="the FlowConfig profile whose fields the overrides replace "
                         "(session5: the default of sessions 5-22)")
    ap.add_argument("--profile", default="default", choices=("smoke", "default"),
                    help="the control track's profile (smoke: a check of this script)")
    ap.add_argument("--guidance", type=float, default=None,
                    help="classifier-free guidance scale (default: the generator's own)")
    ap.add_argument("--interval", default=None,
                    help="guidance interval lo,hi of flow time (default: every step)")
    ap.add_argument("--rule", default=None,
                    help="guidance rule: apg[:eta=E,r=R], rescale[:phi=P] (default: cfg)")
    args = ap.parse_args()
    config = dataclasses.replace(FlowConfig.named(args.config),
                                 **ast.literal_eval(args.overrides))
    t0 = time.perf_counter()
    ckpt = ensure_trained(config, paths.models_dir(), progress=True)
    print(f"variant {config.key()}: checkpoint {ckpt} (this call {time.perf_counter() - t0:.0f} s)")
    for name in ("timing.json", "train_log.json"):
        if (ckpt.parent / name).is_file():
            print(f"{name}: {(ckpt.parent / name).read_text()[:400]}")
    flow = FlowGenerator(ckpt)
    folder = config.key()
    if args.guidance is not None:
        flow = flow.with_options(guidance=args.guidance)
        folder += f"-w{args.guidance:g}"
    if args.interval is not None:
        lo, hi = (float(x) for x in args.interval.split(","))
        flow = flow.with_options(guidance_interval=(lo, hi))
        folder += f"-i{lo:g}-{hi:g}"
    if args.rule is not None:
        flow = flow.with_options(guidance_rule=args.rule)
        folder += "-" + flow.guidance_rule.spec().replace(":", "-").replace(",", "-")
    db = args.db or paths.out_dir() / "variants" / folder / "genlab.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    track = ControlTrack()
    with Store(db) as store:
        cards = {"flow": track.run("flow", flow, store, args.profile,
                                   progress=True)}
        for name in catalog.CONTROLS:
            cards[name] = track.run(name, catalog.GENERATORS.get(name), store, args.profile)
    index = {(g, r.category): r for g, c in cards.items() for r in c.records}
    cats = sorted({cat for (g, cat) in index if g == "flow" and cat.startswith("test/")
                   and cat.count("/") == 1})
    print(f"\n{db}\n| category | flow variant | random-scene | disjoint |")
    print("|---|---|---|---|")
    bar = True
    for cat in cats + ["dev/overall"]:
        f, r = index[("flow", cat)], index.get(("random-scene", cat))
        disjoint = r is None or f.ci_low > r.ci_high
        bar &= disjoint or cat.split("/")[1] in ("overall", "heldout", "seen")
        rr = "–" if r is None else f"{r.value:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"
        print(f"| {cat} | {f.value:.3f} [{f.ci_low:.3f}, {f.ci_high:.3f}] | {rr} | "
              f"{'yes' if disjoint else 'NO'} |")
    single = index[("flow", "test/single")].value
    print(f"\nquality bar (every category disjoint from random-scene, single >= 0.90): "
          f"{'met' if bar and single >= 0.90 else 'NOT met'} (single {single:.3f})")
    print(json.dumps({"key": config.key(), "db": str(db)}))


if __name__ == "__main__":
    main()
