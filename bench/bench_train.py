"""Benchmark: ``flow`` training throughput and achieved GFLOP/s against plain matmul.

FLOPs of one training step (forward + backward of the rectified-flow loss,
text encoder included) are counted with ``torch.utils.flop_counter.FlopCounterMode``;
the step is then timed (best and median of ``--steps`` after a warm-up,
data and optimiser included) and the achieved GFLOP/s is compared with fp32
``--matmul``-square matmuls measured in the same process with the same
threads: the ratio says how much of the machine's dense-math speed the model
reaches (the issue's target is >= 0.4). The model itself already runs its UNet
channels_last with explicit-matmul attention (see ``FlowModel``).

The real training loop is timed too (``--loop-steps``, 0 skips it): ``train``
itself, in a temporary directory, with one process using every thread and with
``FlowConfig.workers`` = 2 data-parallel 1-thread processes, so the gain of the
data-parallel default is a ratio measured in the same run.

    python bench/bench_train.py [--profile default|session5|smoke] [--batch-size N] [--threads 2]
        [--overrides "{...}"] [--loop-steps 40] [--json]

``--variants "{...}" ...`` instead compares training steps of several configs
(each the profile with those fields replaced; the key ``'compile': True`` wraps
the UNet in ``torch.compile`` and reports its compile seconds, ``'autocast': True`` runs
the step under bfloat16 autocast and also gives its ratio to a bfloat16 matmul) against the
profile itself, timed in turn in one process so that they share the machine's
noise: images/s and ratio to matmul per row, and speed relative to the base.

``--ops N`` instead profiles 5 training steps (``torch.profiler``) and prints
the N operators with the most self time, and the share of the step spent in
the operators whose FLOPs the ratio counts (convolutions, matmuls, attention).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import csv
import dataclasses
import importlib
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from genlab import paths
from genlab.generators.flow.config import PROFILES, FlowConfig
from genlab.generators.flow.model import FlowModel
from genlab.generators.flow.train import _Run

T = importlib.import_module("genlab.generators.flow.train")


def matmul_gflops(n: int, repeats: int = 5, dtype: torch.dtype = torch.float32) -> float:
    """Best GFLOP/s of an n x n by n x n matmul (fp32 unless ``dtype``)."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def step_flops(run: _Run, config: FlowConfig) -> int:
    """FLOPs of one forward + backward of the training loss."""
    batch = T._batch(config, run.rng)
    with FlopCounterMode(display=False) as counter:
        T._loss(run, batch).backward()
    run.optimizer.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def measure(config: FlowConfig, steps: int) -> dict[str, float]:
    torch.set_flush_denormal(True)
    run = T._new_run(config, cache_dir=paths.models_dir())
    flops = step_flops(run, config)
    T._train_step(run)  # warm-up
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        T._train_step(run)
        times.append(time.perf_counter() - t)
    best, med = min(times), statistics.median(times)
    return {"gflop_per_step": flops / 1e9, "step_s_best": best, "step_s_median": med,
            "images_per_s_best": config.batch_size / best,
            "images_per_s_median": config.batch_size / med,
            "gflops_best": flops / best / 1e9, "gflops_median": flops / med / 1e9}


def optimizer_step_ms(config: FlowConfig, repeats: int = 20) -> dict[str, float]:
    """Milliseconds of one AdamW step over the model's parameters, per implementation
    (torch's per-tensor loop, ``foreach`` and ``fused``), timed here in turn."""
    params = list(FlowModel(config).parameters())
    for p in params:
        p.grad = torch.randn_like(p)
    out = {}
    for name, kw in (("loop", {"foreach": False}), ("foreach", {"foreach": True}),
                     ("fused", {"fused": True})):
        opt = torch.optim.AdamW(params, lr=1e-3, **kw)
        opt.step()
        t = time.perf_counter()
        for _ in range(repeats):
            opt.step()
        out[f"adamw_{name}_ms"] = (time.perf_counter() - t) / repeats * 1e3
    return out


def loop_images_per_s(config: FlowConfig, steps: int, workers: int) -> float:
    """Images/s of ``train`` over the second half of ``steps`` steps (start-up and the
    first steps excluded), with ``workers`` data-parallel processes."""
    half = max(1, steps // 2)
    c = dataclasses.replace(config, workers=workers, train_steps=2 * half,
                            checkpoint_every=2 * half, log_every=half)
    with tempfile.TemporaryDirectory() as tmp:
        T.train(c, Path(tmp), progress=False)
        with (Path(tmp) / T.CURVE).open(newline="") as f:
            last = list(csv.DictReader(f))[-1]
    return float(last["images_per_s"])


def compare(config: FlowConfig, variants: list[dict], steps: int, matmul: int) -> list[dict]:
    """Time one training step of ``config`` and of each variant in turn, ``steps``
    rounds after two warm-up steps each (compilation included there)."""
    torch.set_flush_denormal(True)
    rows = []
    for v in [{}, *variants]:
        fields = {k: x for k, x in v.items() if k not in ("compile", "autocast")}
        c = dataclasses.replace(config, workers=1, **fields)
        run = T._new_run(c, cache_dir=paths.models_dir())
        flops = step_flops(run, c)
        if v.get("compile"):
            run.model.unet = torch.compile(run.model.unet)
        t = time.perf_counter()
        with _autocast(v):
            T._train_step(run)
            T._train_step(run)
        rows.append({"variant": v, "config": c, "run": run, "flops": flops,
                     "warmup_s": time.perf_counter() - t, "times": []})
    ref = matmul_gflops(matmul)
    for _ in range(steps):
        for r in rows:
            t = time.perf_counter()
            with _autocast(r["variant"]):
                T._train_step(r["run"])
            r["times"].append(time.perf_counter() - t)
    ref = max(ref, matmul_gflops(matmul))
    ref_bf16 = matmul_gflops(matmul, dtype=torch.bfloat16)
    out = []
    for r in rows:
        med = statistics.median(r["times"])
        own = ref_bf16 if r["variant"].get("autocast") else ref
        out.append({"variant": r["variant"], "batch_size": r["config"].batch_size,
                    "gflop_per_step": r["flops"] / 1e9, "warmup_s": r["warmup_s"],
                    "images_per_s_median": r["config"].batch_size / med,
                    "ratio_median": r["flops"] / med / 1e9 / ref, "matmul_gflops": ref,
                    "ratio_own_dtype": r["flops"] / med / 1e9 / own,
                    "matmul_bf16_gflops": ref_bf16})
    for o in out:
        o["speed_vs_base"] = o["images_per_s_median"] / out[0]["images_per_s_median"]
    return out


def _autocast(variant: dict) -> contextlib.AbstractContextManager:
    """bfloat16 autocast for a variant with ``'autocast': True`` (forward and loss in
    bfloat16 where torch's CPU autocast list allows it; weights, gradients and AdamW in
    fp32), else nothing."""
    if variant.get("autocast"):
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


FLOP_OPS = ("aten::convolution_backward", "aten::mkldnn_convolution", "aten::mm", "aten::bmm",
            "aten::addmm", "aten::baddbmm", "aten::_scaled_dot_product_flash_attention_for_cpu",
            "aten::_scaled_dot_product_flash_attention_for_cpu_backward")


def op_profile(config: FlowConfig, top: int) -> None:
    """Print the ``top`` operators by self CPU time over 5 training steps, and the share
    of the counted-FLOP operators."""
    from torch.profiler import ProfilerActivity, profile

    torch.set_flush_denormal(True)
    run = T._new_run(dataclasses.replace(config, workers=1), cache_dir=paths.models_dir())
    for _ in range(2):
        T._train_step(run)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(5):
            T._train_step(run)
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events)
    flop = sum(e.self_cpu_time_total for e in events if e.key in FLOP_OPS)
    print(f"self CPU time per step {total / 5e3:.1f} ms; conv/matmul/attention operators "
          f"{flop / total:.0%} of it")
    for e in events[:top]:
        print(f"  {e.key[:60]:60s} {e.self_cpu_time_total / 5e3:7.2f} ms/step  "
              f"{e.count // 5:5d} calls/step")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", choices=PROFILES, default="default")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--overrides", default="{}",
                    help="FlowConfig fields to replace, as a dict literal (another backbone)")
    ap.add_argument("--steps", type=int, default=5, help="timed steps after one warm-up")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--matmul", type=int, default=1024, help="side of the reference matmul")
    ap.add_argument("--loop-steps", type=int, default=40,
                    help="steps of the real training loop per worker setting (0 skips)")
    ap.add_argument("--variants", nargs="+", default=None,
                    help="dict literals of fields to replace; compared with the profile "
                         "in one process ('compile': True compiles the UNet, 'autocast': "
                         "True trains under bfloat16 autocast)")
    ap.add_argument("--ops", type=int, default=0,
                    help="profile instead: the N operators with the most self time")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    config = FlowConfig.named(args.profile)
    overrides = ast.literal_eval(args.overrides)
    if not isinstance(overrides, dict):
        raise SystemExit(f"--overrides must be a dict literal, got {args.overrides!r}")
    config = dataclasses.replace(config, **overrides)
    if args.batch_size:
        config = dataclasses.replace(config, batch_size=args.batch_size)
    if args.ops:
        op_profile(config, args.ops)
        return 0
    if args.variants is not None:
        variants = [ast.literal_eval(v) for v in args.variants]
        if not all(isinstance(v, dict) for v in variants):
            raise SystemExit(f"--variants must be dict literals, got {args.variants}")
        table = compare(config, variants, args.steps, args.matmul)
        if args.json:
            print(json.dumps(table, indent=2, default=str))
            return 0
        print(f"flow {args.profile} training step, {args.threads} threads, matmul "
              f"{table[0]['matmul_gflops']:.1f} GFLOP/s; median of {args.steps} rounds")
        for o in table:
            own = (f" ({o['ratio_own_dtype']:.2f} to a bf16 matmul)"
                   if o["variant"].get("autocast") else "")
            print(f"  {str(o['variant'] or 'base'):70s} batch {o['batch_size']:4d} "
                  f"{o['gflop_per_step']:6.2f} GFLOP/step {o['images_per_s_median']:6.1f} img/s "
                  f"(x{o['speed_vs_base']:.2f})  ratio {o['ratio_median']:.2f}{own}  "
                  f"warm-up {o['warmup_s']:.0f} s")
        print(f"  bf16 matmul {table[0]['matmul_bf16_gflops']:.1f} GFLOP/s")
        return 0
    ref = matmul_gflops(args.matmul)
    res = measure(dataclasses.replace(config, workers=1), args.steps)  # one process, whole batch
    loop: dict[str, float] = {}
    if args.loop_steps:
        one = loop_images_per_s(config, args.loop_steps, 1)
        two = loop_images_per_s(config, args.loop_steps, 2)
        per_image = res["gflop_per_step"] / config.batch_size
        loop = {"loop_images_per_s_1_process": one, "loop_images_per_s_2_workers": two,
                "loop_workers_speedup": two / one,
                "loop_gflops_2_workers": two * per_image}
    opt = optimizer_step_ms(config)
    ref = max(ref, matmul_gflops(args.matmul))  # again after, in case load changed
    if loop:
        loop["loop_ratio_2_workers"] = loop["loop_gflops_2_workers"] / ref
    out = {"profile": args.profile, "overrides": overrides, "batch_size": config.batch_size,
           "threads": args.threads,
           "matmul_gflops": ref, **res,
           "ratio_best": res["gflops_best"] / ref, "ratio_median": res["gflops_median"] / ref,
           **loop, **opt, "target_ratio": 0.4,
           "machine": platform.processor() or platform.machine()}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"flow {args.profile} training, batch {config.batch_size}, {args.threads} threads")
        print(f"  {out['gflop_per_step']:.2f} GFLOP/step (fwd+bwd)")
        print(f"  {out['images_per_s_median']:.1f} img/s median, "
              f"{out['images_per_s_best']:.1f} best")
        print(f"  {out['gflops_median']:.1f} GFLOP/s median vs matmul {ref:.1f} GFLOP/s "
              f"({args.matmul}^2 fp32): ratio {out['ratio_median']:.2f} median, "
              f"{out['ratio_best']:.2f} best (target >= 0.4)")
        print(f"  AdamW step: {opt['adamw_loop_ms']:.1f} ms per-tensor loop, "
              f"{opt['adamw_foreach_ms']:.1f} ms foreach, {opt['adamw_fused_ms']:.1f} ms fused "
              f"(training uses fused)")
        if loop:
            print(f"  training loop: {loop['loop_images_per_s_1_process']:.1f} img/s in one "
                  f"{args.threads}-thread process, {loop['loop_images_per_s_2_workers']:.1f} "
                  f"with 2 data-parallel 1-thread workers "
                  f"(x{loop['loop_workers_speedup']:.2f}); 2 workers reach "
                  f"{loop['loop_gflops_2_workers']:.1f} GFLOP/s, ratio "
                  f"{loop['loop_ratio_2_workers']:.2f} to matmul")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
