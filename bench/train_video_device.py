"""Train learned video window models on an accelerator, for the compute-scaling check of
issue 6: does more training (steps, width) move the window models towards the track's
targets? The models come back as ordinary cache folders and are judged on the CPU by
``bench/bench_video_models.py --variant`` like any other variant.

Every ``--variant KIND=DICT`` (``bench_video_models.py``'s syntax: the kind's default
config with DICT's fields replaced) trains in its own process, all at once, on
``--device``. A variant that names no ``train_steps`` gets the largest of ``--steps``
that fits ``--budget-s``: a probe first times ``PROBE`` steps of every variant, all
running together as they will, and the step count is then fixed in each config (so in
its cache key) before training starts. Each finished model is written into
``--cache/video-<key>/`` and, with ``--tar-dir``, also packed into one ``<key>.tar``
there (a device run returns a few files, not folders). Prints one row per model: its
key, steps, seconds and final loss; ``--json`` writes them too.

    python bench/train_video_device.py --device cuda \\
        --variant "video-ar={'train_steps': 4000}" --variant "video-ar={}" \\
        --steps 40000 20000 10000 --budget-s 400 --cache /tmp/models
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import multiprocessing as mp
import os
import tarfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.generators.video import checkpoint
from genlab.generators.video.config import VideoConfig
from genlab.generators.video.data import ClipPool
from genlab.generators.video.entry import KINDS, video_config
from genlab.generators.video.model import WindowNet
from genlab.generators.video.train import loss_fn, sample_levels, train

PROBE = 60  # timed probe steps (after WARM untimed ones) per variant
WARM = 20
# the probe's step lacks the EMA update, the clip and the schedule: a step count fits the
# budget if it does at the probe's slowest time times this (the session-30 run: 37-41 ms
# probed, 45 ms a step over the 4,000-step training, the clip rendering included)
MARGIN = 1.3


def parse_variant(spec: str) -> tuple[str, dict[str, Any]]:
    kind, _, text = spec.partition("=")
    if kind not in KINDS:
        raise SystemExit(f"--variant {spec!r}: the kind must be one of {', '.join(KINDS)}")
    try:
        fields = ast.literal_eval(text or "{}")
        dataclasses.replace(video_config(kind, "default"), **fields)
    except (ValueError, SyntaxError, TypeError) as exc:
        raise SystemExit(f"--variant {spec!r}: {exc}") from None
    return kind, fields


def probe(config: VideoConfig, device: str) -> float:
    """Seconds per training step of ``config`` on ``device`` (a small clip pool: the
    step's cost does not depend on the pool's size)."""
    small = dataclasses.replace(config, scenes_per_scenario=2)
    pool, net = ClipPool(small), WindowNet(small).train().to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=small.lr)
    gen = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    for i in range(WARM + PROBE):
        if i == WARM:
            if device != "cpu":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        clips = pool.sample(rng, small.batch_size).to(device)
        loss = loss_fn(net, clips, sample_levels(small, small.batch_size, gen).to(device), gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    float(loss.detach())
    return (time.perf_counter() - t0) / PROBE


def _probe_job(args: tuple[VideoConfig, str, int]) -> float:
    torch.set_num_threads(args[2])
    return probe(*args[:2])


def _train_job(args: tuple[VideoConfig, str, str, int]) -> dict[str, Any]:
    config, device, cache, threads = args
    torch.set_num_threads(threads)
    folder = checkpoint.run_dir(config, Path(cache))
    train(config, folder, progress=False, device=device)
    meta = json.loads((folder / checkpoint.MODEL_DIR / checkpoint.META).read_text())
    return {"key": config.key(), "train_steps": config.train_steps,
            "train_seconds": meta["train_seconds"], "final_loss": meta["final_loss"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--variant", action="append", required=True, metavar="KIND=DICT")
    ap.add_argument("--steps", type=int, nargs="+", default=[40000, 20000, 10000],
                    help="step counts to choose from, for variants that name none")
    ap.add_argument("--budget-s", type=float, default=400.0,
                    help="wall-clock seconds the training may take, all variants together")
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--tar-dir", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    parsed = [parse_variant(v) for v in args.variant]
    base = [dataclasses.replace(video_config(k, "default"), **f) for k, f in parsed]
    # each process its share of the cores: torch's default (all of them, in every one
    # of the processes) oversubscribes the CPU, and the steps' CPU side then dominates
    threads = max(1, (os.cpu_count() or 1) // len(base))
    ctx = mp.get_context("spawn")
    with ctx.Pool(len(base)) as pool:
        t0 = time.perf_counter()
        per_step = pool.map(_probe_job, [(c, args.device, threads) for c in base])
        print(f"probe ({time.perf_counter() - t0:.0f} s): "
              + ", ".join(f"{s * 1e3:.1f} ms/step" for s in per_step), flush=True)
        slowest = max(per_step)
        fits = [s for s in sorted(args.steps, reverse=True)
                if s * slowest * MARGIN <= args.budget_s]
        if not fits:
            raise SystemExit(f"no step count of {args.steps} fits {args.budget_s} s at "
                             f"{slowest * 1e3:.1f} ms/step")
        configs = [c if "train_steps" in f else dataclasses.replace(c, train_steps=fits[0])
                   for c, (_, f) in zip(base, parsed, strict=True)]
        print(f"training {len(configs)} models: steps "
              + ", ".join(str(c.train_steps) for c in configs), flush=True)
        rows = pool.map(_train_job, [(c, args.device, str(args.cache), threads)
                                    for c in configs])
    for (kind, fields), row in zip(parsed, rows, strict=True):
        row["variant"] = f"{kind}={fields}"
        print(f"| {row['variant']} | {row['key']} | {row['train_steps']} | "
              f"{row['train_seconds']:.0f} | {row['final_loss']:.4f} |")
        if args.tar_dir:
            args.tar_dir.mkdir(parents=True, exist_ok=True)
            with tarfile.open(args.tar_dir / f"{row['key']}.tar", "w") as tar:
                tar.add(args.cache / f"video-{row['key']}", arcname=f"video-{row['key']}")
    if args.json:
        args.json.write_text(json.dumps({"device": args.device, "per_step_s": per_step,
                                         "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
