"""Benchmark: the ``motion`` world's simulator and renderer over long rollouts (issue 6, item 1).

For a few prompts of the grammar (realised with fixed seeds), simulate ``--minutes`` of
motion at ``--fps`` and render every frame at ``--size``: simulated and rendered
frames per second (both must stay far above the 30 frames/s a 10-minute rollout has
to be generated at), the largest relative deviation of the energy from its start
(elastic physics: bounded, no drift), and whether every body stays inside walls and
floor.

    python bench/bench_motion.py [--minutes 10] [--fps 30] [--size 32]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from genlab.worlds.motion import grammar
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate

PROMPTS = (
    "a red circle bouncing",
    "two red circles bouncing, a blue square sliding left and a green triangle resting",
    "three yellow circles bouncing and two purple squares sliding right",
    "a cyan circle drifting left, a blue square drifting down and two red triangles "
    "drifting right",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--size", type=int, default=32)
    args = ap.parse_args()
    frames = int(round(args.minutes * 60 * args.fps))
    print(f"{frames} frames ({args.minutes:g} min at {args.fps} fps), {args.size}x{args.size}")
    print("| prompt | bodies | simulated frames/s | rendered frames/s | max energy deviation "
          "| inside walls and floor |")
    print("|---|---:|---:|---:|---:|---|")
    for k, text in enumerate(PROMPTS):
        scene = grammar.realise(grammar.parse(text), np.random.default_rng(k))
        t0 = time.perf_counter()
        traj = simulate(scene, frames, args.fps)
        t1 = time.perf_counter()
        images = render_frames(traj, args.size)
        t2 = time.perf_counter()
        e = traj.energy()
        r = np.array([b.radius for b in scene.bodies])
        inside = bool((traj.pos[..., 1] + r <= 1 + 1e-9).all()
                      and (traj.pos[..., 0] - r >= -1e-9).all()
                      and (traj.pos[..., 0] + r <= 1 + 1e-9).all())
        assert images.shape[0] == frames
        print(f"| {text} | {len(scene.bodies)} | {frames / (t1 - t0):,.0f} | "
              f"{frames / (t2 - t1):,.0f} | {np.abs(e / e[0] - 1).max():.2%} | {inside} |")


if __name__ == "__main__":
    main()
