"""Benchmark: batch-1 latency of several settings timed interleaved, in fresh processes, issue 4.

The ``realtime`` track times its settings one after another, minutes apart, and this
machine's speed drifts by 13-36% over minutes (docs/results.md), as much as the margin
to the 33 ms line. Here every round calls each setting once, in turn, so slow and
fast spells of the machine fall on all settings alike: the p50 of each (with its 95%
interval over the timed runs) and its ratio to the first setting's p50 (resampling
both) are comparable in a way the track's rows minutes apart are not. Calls cycle
through the track's latency prompts with seeds as the track's profiler draws them.

With ``--processes N`` the whole measurement runs in N fresh Python processes, one
after another, and the table gives each setting's p50 in every process and their
median: how far the absolute latency of one process (which is what one run of the
track reports) moves on this machine. ``--threads`` sets torch's intra-op threads
(default: torch's own, 2 here); ``--no-aslr`` starts each process with address-space
layout randomisation off (``setarch -R``), so that every process places its memory alike.

    python bench/bench_interleaved.py --settings flow-guidance-distilled-compiled@ab2-7 \\
        flow-reflow-compiled@euler-8 [--runs 100] [--warmup 5] [--processes 1] [--threads 2] \\
        [--no-aslr] [--ops N]

``--ops N`` instead profiles each setting's batch-1 calls with ``torch.profiler``
(20 calls after 5) and prints its N operators with the most self time.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from typing import Any

import numpy as np


def setting_options(spec: str) -> tuple[str, dict[str, Any]]:
    """``generator@sampler-steps`` -> (generator, with_options)."""
    name, _, setting = spec.partition("@")
    sampler, _, steps = setting.rpartition("-")
    if not (name and sampler and steps.isdigit()):
        raise SystemExit(f"--settings takes generator@sampler-steps, got {spec!r}")
    return name, {"sampler": sampler, "steps": int(steps)}


def latency_prompts() -> tuple[list[str], int]:
    """The track's batch-1 prompts (its quality subset without layout) and image size."""
    from genlab.tracks import control
    from genlab.tracks.realtime_settings import RealtimeConfig

    quality = RealtimeConfig.default().quality
    return list(dict.fromkeys(it.prompt for it in control.items(quality)
                              if it.spec.boxes is None)), quality.size


def measure(settings: list[str], runs: int, warmup: int) -> list[list[float]]:
    """Every setting's batch-1 milliseconds, one call of each per round."""
    from genlab import catalog

    prompts, size = latency_prompts()
    loaded: dict[str, Any] = {}
    gens = []
    for spec in settings:
        name, options = setting_options(spec)
        if name not in loaded:
            loaded[name] = catalog.GENERATORS.get(name, progress=False)
        gens.append(loaded[name].with_options(**options))
    ms: list[list[float]] = [[] for _ in gens]
    for i in range(warmup + runs):
        for k, gen in enumerate(gens):
            t = time.perf_counter()
            gen.generate([prompts[i % len(prompts)]], [i], size=size)
            if i >= warmup:
                ms[k].append((time.perf_counter() - t) * 1e3)
    return ms


def _table(settings: list[str], ms: list[list[float]]) -> None:
    from genlab.stats import iid_bootstrap, ratio_of_medians_bootstrap

    print("| setting | p50 ms [95% CI] | p95 ms | x first setting's p50 [95% CI] |")
    print("|---|---|---:|---|")
    for spec, times in zip(settings, ms, strict=True):
        p50 = iid_bootstrap(times, "p50", seed=1)
        p95 = iid_bootstrap(times, "p95", seed=2)
        ratio = ratio_of_medians_bootstrap(times, ms[0], seed=3)
        print(f"| `{spec}` | {p50.value:.1f} [{p50.ci_low:.1f}, {p50.ci_high:.1f}] | "
              f"{p95.value:.1f} | {ratio.value:.2f} [{ratio.ci_low:.2f}, {ratio.ci_high:.2f}] |")


def _processes(args: argparse.Namespace) -> None:
    """Run the measurement in ``args.processes`` fresh processes; tabulate their p50s."""
    p50s: list[list[float]] = []
    for k in range(args.processes):
        cmd = [sys.executable, __file__, "--child", "--runs", str(args.runs), "--warmup",
               str(args.warmup), "--settings", *args.settings]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        if args.no_aslr:  # the same addresses in every process (util-linux setarch -R)
            cmd = ["setarch", platform.machine(), "-R", *cmd]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        ms = json.loads(out.strip().splitlines()[-1])
        p50s.append([float(np.median(m)) for m in ms])
        print(f"process {k + 1}/{args.processes}: "
              + ", ".join(f"{v:.1f}" for v in p50s[-1]), file=sys.stderr, flush=True)
    cols = " | ".join(f"p{k + 1}" for k in range(args.processes))
    print(f"| setting | {cols} | median | min-max |")
    print("|---|" + "---:|" * (args.processes + 2))
    for j, spec in enumerate(args.settings):
        vals = [p[j] for p in p50s]
        print(f"| `{spec}` | " + " | ".join(f"{v:.1f}" for v in vals)
              + f" | {np.median(vals):.1f} | {min(vals):.1f}-{max(vals):.1f} |")


def operators(spec: str, top: int, calls: int = 20) -> None:
    """Where one setting's batch-1 calls spend their time: ``torch.profiler`` over
    ``calls`` calls after 5 (self CPU time per operator, per image), e.g. dynamo's guard
    checks (``TorchDynamo Cache Lookup``) beside the compiled graph."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from genlab import catalog

    prompts, size = latency_prompts()
    name, options = setting_options(spec)
    gen = catalog.GENERATORS.get(name, progress=False).with_options(**options)
    with torch.no_grad():
        for i in range(5):
            gen.generate([prompts[i]], [i], size=size)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for i in range(calls):
                gen.generate([prompts[i % len(prompts)]], [i], size=size)
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events) / calls / 1e3
    print(f"`{spec}`: {total:.2f} ms of self CPU time per image (profiler overhead "
          f"included), top {top} operators:")
    print("| operator | ms / image | calls / image | us / call |")
    print("|---|---:|---:|---:|")
    for e in events[:top]:
        print(f"| {e.key[:60]} | {e.self_cpu_time_total / calls / 1e3:.2f} | "
              f"{e.count / calls:.1f} | {e.self_cpu_time_total / max(e.count, 1):.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", nargs="+", required=True)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's own)")
    ap.add_argument("--no-aslr", action="store_true",
                    help="run each process with address-space randomisation off")
    ap.add_argument("--ops", type=int, default=0,
                    help="instead: profile 20 calls of each setting, print its N top operators")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.ops:
        for spec in args.settings:
            operators(spec, args.ops)
        return
    if args.processes > 1 and not args.child:
        print(f"{args.processes} fresh processes, each {args.runs} rounds after "
              f"{args.warmup}, every setting once a round; batch-1 p50 ms per process")
        _processes(args)
        return
    ms = measure(args.settings, args.runs, args.warmup)
    if args.child:
        print(json.dumps(ms))
        return
    print(f"interleaved: {args.runs} rounds after {args.warmup}, every setting once a round")
    _table(args.settings, ms)


if __name__ == "__main__":
    main()
