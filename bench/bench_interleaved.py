"""Benchmark: batch-1 latency of several settings timed interleaved (round robin), issue 4.

The ``realtime`` track times its settings one after another, minutes apart, and this
machine's speed drifts by 13-36% over minutes (docs/results.md), as much as the margin
to the 33 ms line. Here every round calls each setting once, in turn, so slow and
fast spells of the machine fall on all settings alike: the p50 of each (with its 95%
interval over the timed runs) and its ratio to the first setting's p50 (resampling
both) are comparable in a way the track's rows minutes apart are not. Calls cycle
through the track's latency prompts with seeds as the track's profiler draws them.

    python bench/bench_interleaved.py --settings flow-guidance-distilled-compiled@ab2-7 \\
        flow-reflow-compiled@euler-8 [--runs 100] [--warmup 5]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from genlab import catalog
from genlab.stats import iid_bootstrap, ratio_of_medians_bootstrap
from genlab.tracks import control
from genlab.tracks.realtime_settings import RealtimeConfig


def _setting(spec: str) -> tuple[str, dict[str, Any]]:
    """``generator@sampler-steps`` -> (generator, with_options)."""
    name, _, setting = spec.partition("@")
    sampler, _, steps = setting.rpartition("-")
    if not (name and sampler and steps.isdigit()):
        raise SystemExit(f"--settings takes generator@sampler-steps, got {spec!r}")
    return name, {"sampler": sampler, "steps": int(steps)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", nargs="+", required=True)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    quality = RealtimeConfig.default().quality
    prompts = list(dict.fromkeys(it.prompt for it in control.items(quality)
                                 if it.spec.boxes is None))
    loaded: dict[str, Any] = {}
    gens = []
    for spec in args.settings:
        name, options = _setting(spec)
        if name not in loaded:
            loaded[name] = catalog.GENERATORS.get(name, progress=False)
        gens.append(loaded[name].with_options(**options))
    ms: list[list[float]] = [[] for _ in gens]
    for i in range(args.warmup + args.runs):
        for k, gen in enumerate(gens):
            t = time.perf_counter()
            gen.generate([prompts[i % len(prompts)]], [i], size=quality.size)
            if i >= args.warmup:
                ms[k].append((time.perf_counter() - t) * 1e3)
    print(f"interleaved: {args.runs} rounds after {args.warmup}, every setting once a round")
    print("| setting | p50 ms [95% CI] | p95 ms | x first setting's p50 [95% CI] |")
    print("|---|---|---:|---|")
    for spec, times in zip(args.settings, ms, strict=True):
        p50 = iid_bootstrap(times, "p50", seed=1)
        p95 = iid_bootstrap(times, "p95", seed=2)
        ratio = ratio_of_medians_bootstrap(times, ms[0], seed=3)
        print(f"| `{spec}` | {p50.value:.1f} [{p50.ci_low:.1f}, {p50.ci_high:.1f}] | "
              f"{p95.value:.1f} | {ratio.value:.2f} [{ratio.ci_low:.2f}, {ratio.ci_high:.2f}] |")


if __name__ == "__main__":
    main()
