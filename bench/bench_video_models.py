"""Benchmark: the learned ``motion`` video generators against the controls (issue 6, item 3).

For ``--scenes`` scenes of each ``motion`` scenario (``test`` split, so about half carry
held-out physics), every generator is shown the first ``k = 4`` frames and rolls out
``--seconds`` s at 30 fps; one further scene (``--long-scenario``) is rolled out for
``--long-seconds``. Every rollout is judged by ``tracking`` against the simulator's
own continuation from frame ``k`` (``simulate(scene, n, fps, start=ref0.end)``).

Columns: generation speed (frames/s at batch 1, ``--threads`` torch threads, the
rollout's ``next`` calls only), the ``*_ok`` means and the position error over the
first and the last part (halves of the short rollouts; first and last 10 s of the long
one), the error of the first generated frames before errors compound (``step err``:
their squared pixel error against the simulator's render, summed over the scenes, over
that of the last context frame held still, for the first frame and the first ``STEP``:
below 1 a generator predicts the next frames better than a still does), and the long
rollout's resident-memory growth after its first 10 s (the output buffer is allocated
and touched up front, so it does not count). ``--memory-seconds`` adds an unjudged
rollout of that length per learned generator that only tracks memory (600 s = 18,000
frames). Controls: ``video-oracle`` (the simulator: scores ~1 and
sub-pixel) and ``frozen-frame`` (the last context frame: consistent, wrong positions).
``--variant KIND=DICT`` adds a learned generator whose training config is the default's
with some fields replaced (a dict literal, e.g. ``"fifo={'fg_weight': 10}"``), trained
on first use into ``genlab-out/models`` like the default; keys that are not
``VideoConfig`` fields are the generator's sampling options (``steps``,
``context_noise``, ``warmup_steps``).

    python bench/bench_video_models.py [--profile default] [--scenes 3] [--seconds 10]
        [--long-seconds 60] [--long-index 3] [--memory-seconds 0] [--threads 2]
        [--generators video-oracle frozen-frame video-ar diffusion-forcing fifo video-state]
        [--variant "diffusion-forcing={'fg_weight': 10}" ...]
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import os
import time
from typing import Any

import numpy as np
import torch

from genlab import catalog
from genlab.contracts import VideoGenerator, VideoRequest
from genlab.errors import InputError
from genlab.generators.video.config import VideoConfig
from genlab.generators.video.entry import KINDS, load_video_generator
from genlab.judges.tracking import TrackingResult, track
from genlab.worlds.motion import splits
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate

K, FPS, CHUNK = 4, 30, 30
STEP = 8  # the first frames of a rollout whose error against a still is reported
OK = ("count_ok", "colour_ok", "identity_ok")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _rollout(gen: VideoGenerator, item: splits.MotionItem, n: int,
             memory: bool = False) -> tuple[np.ndarray, float, float]:
    """``n`` frames after the first ``K``; their generation seconds; RSS growth (MB)
    after the first 10 s (``memory`` only)."""
    context = render_frames(simulate(item.scene, K, FPS))
    request = VideoRequest(item.prompt, 0, FPS, context,
                           item.scene.to_json() if gen.privileged else "")
    frames = np.empty((n, *context.shape[1:]), np.uint8)
    frames.fill(0)  # touch the pages now, so that the buffer is not counted as growth
    rollout, seconds, base, peak = gen.start(request), 0.0, None, 0.0
    for lo in range(0, n, CHUNK):
        t0 = time.perf_counter()
        frames[lo:lo + CHUNK] = rollout.next(min(CHUNK, n - lo))
        seconds += time.perf_counter() - t0
        if memory and lo >= 10 * FPS:
            rss = _rss_mb()
            base = rss if base is None else base
            peak = max(peak, rss - base)
    return frames, seconds, peak


def _judge(item: splits.MotionItem, frames: np.ndarray) -> TrackingResult:
    ref0 = simulate(item.scene, K, FPS)
    return track(frames, simulate(item.scene, len(frames), FPS, start=ref0.end))


def _step_errors(item: splits.MotionItem, frames: np.ndarray) -> np.ndarray:
    """``(m, 2)``: the mean squared pixel error of each of the first ``m = min(STEP,
    len(frames))`` frames against the simulator's render, and that of the last context
    frame held still."""
    made = frames[:STEP].astype(np.float64)
    truth = render_frames(simulate(item.scene, K + len(made), FPS)).astype(np.float64)
    return np.stack([((made - truth[K:]) ** 2).mean((1, 2, 3)),
                     ((truth[K - 1] - truth[K:]) ** 2).mean((1, 2, 3))], 1)


def _row(results: list[TrackingResult], parts: list[tuple[int, int | None]]) -> dict[str, float]:
    """Means over scenes of each series, per part (``*_ok`` over all frames)."""
    row = {s: float(np.nanmean([r.mean(s) for r in results])) for s in OK}
    for i, (lo, hi) in enumerate(parts):
        row[f"err{i}"] = float(np.nanmean([r.mean("position_error_px", lo, hi)
                                           for r in results]))
    for s in OK:
        lo, hi = parts[-1]
        row[f"{s}_last"] = float(np.nanmean([r.mean(s, lo, hi) for r in results]))
    return row


def _memory_only(gen: VideoGenerator, item: splits.MotionItem, seconds: float) -> float:
    context = render_frames(simulate(item.scene, K, FPS))
    rollout = gen.start(VideoRequest(item.prompt, 0, FPS, context,
                                     item.scene.to_json() if gen.privileged else ""))
    base, peak = None, 0.0
    for lo in range(0, int(seconds * FPS), CHUNK):
        rollout.next(CHUNK)
        if lo >= 10 * FPS:
            base = _rss_mb() if base is None else base
            peak = max(peak, _rss_mb() - base)
    return peak


def _variant(spec: str, profile: str) -> tuple[str, VideoGenerator]:
    """``KIND=DICT`` -> (a name, the generator on the default config with DICT's fields)."""
    kind, _, fields_text = spec.partition("=")
    if kind not in KINDS:
        raise SystemExit(f"--variant {spec!r}: the kind must be one of {', '.join(KINDS)}")
    known = {f.name for f in dataclasses.fields(VideoConfig)}
    try:
        given = ast.literal_eval(fields_text)
        generator = load_video_generator(
            kind, profile=profile, fields={k: v for k, v in given.items() if k in known},
            **{k: v for k, v in given.items() if k not in known})
    except (ValueError, SyntaxError, TypeError, AttributeError, InputError) as exc:
        raise SystemExit(f"--variant {spec!r}: {exc}") from None
    name = kind + " " + ",".join(f"{k}={v}" for k, v in sorted(given.items()))
    return name, generator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--scenes", type=int, default=3, help="scenes per scenario")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--long-seconds", type=float, default=60.0)
    ap.add_argument("--long-scenario", default="parabola", choices=splits.SCENARIOS)
    ap.add_argument("--long-index", type=int, default=3,
                    help="which test scene of --long-scenario (0-based) the long rollout uses")
    ap.add_argument("--memory-seconds", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--generators", nargs="*", default=["video-oracle", "frozen-frame",
                                                        *KINDS, "video-state"],
                    help="any registered video generators")
    ap.add_argument("--variant", action="append", default=[], metavar="KIND=DICT",
                    help="a learned generator on a config variant (repeatable)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    items = [it for sc in splits.SCENARIOS for it in splits.sample(sc, "test", args.scenes)]
    long_item = splits.sample(args.long_scenario, "test", args.long_index + 1)[-1]
    n, n_long = int(args.seconds * FPS), int(args.long_seconds * FPS)
    short_rows, long_rows, info = {}, {}, {}
    todo: list[tuple[str, VideoGenerator | None]] = [(g, None) for g in args.generators]
    todo += [_variant(spec, args.profile) for spec in args.variant]
    for name, built in todo:
        gen: VideoGenerator = built or catalog.VIDEO_GENERATORS.get(name, profile=args.profile)
        info[name] = gen.describe() if hasattr(gen, "describe") else {}
        results, secs, frames_n, steps = [], 0.0, 0, []
        for item in items:
            frames, s, _ = _rollout(gen, item, n)
            results.append(_judge(item, frames))
            steps.append(_step_errors(item, frames))
            secs, frames_n = secs + s, frames_n + n
        err = np.sum(steps, 0)                         # (min(STEP, n), 2), summed over scenes
        short_rows[name] = {"fps": frames_n / secs, "step1": err[0, 0] / err[0, 1],
                            "steps": err[:, 0].sum() / err[:, 1].sum(),
                            **_row(results, [(0, n // 2), (n // 2, None)])}
        if n_long:
            frames, s, growth = _rollout(gen, long_item, n_long, memory=True)
            ten = 10 * FPS
            long_rows[name] = {"fps": n_long / s, "rss": growth,
                               **_row([_judge(long_item, frames)], [(0, ten), (-ten, None)])}
        if args.memory_seconds and name.split()[0] in KINDS:
            long_rows[name]["rss_long"] = _memory_only(gen, long_item, args.memory_seconds)
        print(f"done {name}", flush=True)
    _print(args, items, long_item, short_rows, long_rows, info)


def _print(args: Any, items: list[splits.MotionItem], long_item: splits.MotionItem,
           short_rows: dict[str, dict[str, float]], long_rows: dict[str, dict[str, float]],
           info: dict[str, dict[str, Any]]) -> None:
    print(f"\n## Short rollouts: {len(items)} test scenes ({args.scenes} per scenario), "
          f"{args.seconds:g} s = {int(args.seconds * FPS)} frames after k={K}, "
          f"{args.threads} torch threads, profile {args.profile}\n")
    print("| generator | frames/s | count_ok | colour_ok | identity_ok | pos err 1st half px "
          f"| pos err 2nd half px | step err frame 1 / still | step err frames 1-{STEP} "
          "/ still |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in short_rows.items():
        print(f"| {name} | {r['fps']:,.0f} | {r['count_ok']:.3f} | {r['colour_ok']:.3f} | "
              f"{r['identity_ok']:.3f} | {r['err0']:.2f} | {r['err1']:.2f} | "
              f"{r['step1']:.3f} | {r['steps']:.3f} |")
    if long_rows:
        print(f"\n## Long rollout: one {args.long_scenario} test scene ({long_item.prompt!r}"
              f"{', ood ' + '/'.join(long_item.ood) if long_item.ood else ''}), "
              f"{args.long_seconds:g} s = {int(args.long_seconds * FPS)} frames\n")
        mem = args.memory_seconds > 0
        print("| generator | frames/s | count_ok | colour_ok | identity_ok | count_ok last 10 s "
              "| colour_ok last 10 s | pos err first 10 s px | pos err last 10 s px "
              "| RSS growth MB |" + (f" RSS growth {args.memory_seconds:g} s MB |" if mem else ""))
        print("|---|" + "---:|" * (9 + mem))
        for name, r in long_rows.items():
            extra = f" {r.get('rss_long', float('nan')):.1f} |" if mem else ""
            print(f"| {name} | {r['fps']:,.0f} | {r['count_ok']:.3f} | {r['colour_ok']:.3f} | "
                  f"{r['identity_ok']:.3f} | {r['count_ok_last']:.3f} | "
                  f"{r['colour_ok_last']:.3f} | {r['err0']:.2f} | {r['err1']:.2f} | "
                  f"{r['rss']:.1f} |" + extra)
    print("\n## Training\n")
    print("| generator | config key | forcing | train s | final loss | sampling |")
    print("|---|---|---|---:|---:|---|")
    for name, d in info.items():
        if "config" in d:
            forcing = d["config"].get("forcing", "free-running")  # video-state has none
            print(f"| {name} | {d['config_key']} | {forcing} | "
                  f"{d['train_seconds']:.0f} | {d['final_loss']:.4f} | "
                  f"{d.get('sampling', 'one pass per frame')} |")


if __name__ == "__main__":
    main()
