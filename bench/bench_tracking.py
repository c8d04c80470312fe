"""Benchmark: the ``tracking`` judge against ground truth (issue 6, item 2).

A judge's own accuracy is a reported figure. For ``--scenes`` scenes of each of the
``motion`` world's scenarios (uniform, parabola, collision; the ``test`` split, so half
carry held-out physics), ``--seconds`` of rollout at ``--fps`` are judged five ways
against their own simulator rollout:

- ``oracle``: the simulator's frames: every ``*_ok`` must be 1 (its false-alarm rate
  is 1 minus that) and the position error sub-pixel;
- ``frozen``: the first frame repeated (the negative control): position error grows;
- ``colour drift``: from the middle on, the first body's colour turned to another;
- ``dropped``: from the middle on, the first body is missing;
- ``late``: the video lags the truth by 3 frames (a small timing error);
- ``pop-in``: the first body is missing in the first half and appears in the middle;
- ``duplicate``: from the middle on, a copy of the first body moves beside it;
- ``through a wall``: from the middle on, the first body slides left at 1 view a
  second through the side wall and out (walls on), never coming back.

``permanence_ok`` reads the video alone (no truth path): the oracle, the frozen and
the late videos keep permanence; the other four must fail it from the middle on.

For each: the mean of each series over judgeable frames (first half / second half)
and the share of frames that are judgeable; then the judge's speed in frames/s.

    python bench/bench_tracking.py [--scenes 7] [--seconds 10] [--fps 30]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from genlab.judges.tracking import track
from genlab.worlds.motion import splits
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import Trajectory, simulate
from genlab.worlds.shapes import vocab


def _variants(traj: Trajectory) -> dict[str, np.ndarray]:
    frames = render_frames(traj)
    half = len(traj) // 2
    first = traj.scene.bodies[0]
    other = next(c for c in vocab.COLOURS if c != first.colour
                 and (c, first.shape) not in {(b.colour, b.shape) for b in traj.scene.bodies})
    bodies = (dataclasses.replace(first, colour=other), *traj.scene.bodies[1:])
    recoloured = dataclasses.replace(traj.scene, bodies=bodies)
    drift = frames.copy()
    drift[half:] = render_frames(dataclasses.replace(traj, scene=recoloured))[half:]
    gone = traj.pos.copy()
    gone[half:, 0] = [5.0, 5.0]
    dropped = frames.copy()
    dropped[half:] = render_frames(dataclasses.replace(traj, pos=gone))[half:]
    late = np.concatenate([np.repeat(frames[:1], 3, axis=0), frames[:-3]])
    hidden = traj.pos.copy()
    hidden[:half, 0] = [5.0, 5.0]
    popin = render_frames(dataclasses.replace(traj, pos=hidden))
    twin = traj.pos[:, :1].copy()
    twin[:, 0, 0] = np.where(twin[:, 0, 0] < 0.5, twin[:, 0, 0] + 0.4, twin[:, 0, 0] - 0.4)
    twin[:half] = 5.0
    doubled = dataclasses.replace(traj.scene, bodies=(*traj.scene.bodies, first))
    duplicate = render_frames(dataclasses.replace(
        traj, scene=doubled, pos=np.concatenate([traj.pos, twin], axis=1),
        vel=np.concatenate([traj.vel, traj.vel[:, :1]], axis=1)))
    slide = traj.pos.copy()
    slide[half:, 0, 0] = slide[half, 0, 0] - np.arange(len(traj) - half) / traj.fps
    slide[half:, 0, 1] = slide[half, 0, 1]
    wall = render_frames(dataclasses.replace(traj, pos=slide))
    return {"oracle": frames, "frozen": np.repeat(frames[:1], len(frames), axis=0),
            "colour drift": drift, "dropped": dropped, "late": late, "pop-in": popin,
            "duplicate": duplicate, "through a wall": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=7, help="scenes per scenario")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--fps", type=int, default=30)
    args = ap.parse_args()
    frames_n = int(args.seconds * args.fps)
    stats: dict[str, dict[str, list[float]]] = {}
    judged, seconds, total = [], 0.0, 0
    flags: dict[str, list[bool]] = {}
    delays: dict[str, list[int]] = {}
    items = [it for sc in splits.SCENARIOS for it in splits.sample(sc, "test", args.scenes)]
    for item in items:
        traj = simulate(item.scene, frames_n, args.fps)
        for name, video in _variants(traj).items():
            t0 = time.perf_counter()
            result = track(video, traj)
            seconds += time.perf_counter() - t0
            total += len(video)
            half = len(video) // 2
            row = stats.setdefault(name, {})
            for series in ("count_ok", "colour_ok", "identity_ok", "position_error_px",
                           "permanence_ok"):
                for part, (lo, hi) in (("1st", (0, half)), ("2nd", (half, None))):
                    row.setdefault(f"{series} {part}", []).append(result.mean(series, lo, hi))
            if name == "oracle":
                judged.append(float(np.isfinite(result.count_ok).mean()))
            # permanence, per video: flagged at all, and how soon after the middle
            failed = np.flatnonzero(result.permanence_ok == 0)
            flags.setdefault(name, []).append(len(failed) > 0)
            if len(failed) and failed[0] >= half:
                delays.setdefault(name, []).append(int(failed[0] - half))
    print(f"{len(items)} scenes ({args.scenes} per scenario, test split) x {frames_n} frames "
          f"({args.seconds:g} s at {args.fps} fps); judgeable frames {np.mean(judged):.1%} "
          f"(min {min(judged):.1%}); judge speed {total / seconds:,.0f} frames/s")
    cols = list(next(iter(stats.values())))
    print("| video | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for name, row in stats.items():
        print(f"| {name} | " + " | ".join(f"{np.nanmean(row[c]):.3f}" for c in cols) + " |")
    print("\n| video | videos with a permanence failure | failures from the middle on: "
          "frames after it (median, max) |")
    print("|---|---:|---:|")
    for name, flagged in flags.items():
        d = delays.get(name, [])
        when = f"{np.median(d):.0f}, {max(d)}" if d else "-"
        print(f"| {name} | {sum(flagged)} / {len(flagged)} | {when} |")


if __name__ == "__main__":
    main()
