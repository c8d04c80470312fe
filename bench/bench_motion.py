"""Benchmark: the ``motion`` world's simulator and renderer over long rollouts (issue 6, item 1).

For a few prompts of the grammar (realised with fixed seeds), simulate ``--minutes`` of
motion at ``--fps`` and render every frame at ``--size``: simulated and rendered
frames per second (both must stay far above the 30 frames/s a 10-minute rollout has
to be generated at), the largest relative deviation of the energy from its start
(elastic physics: bounded, no drift), and whether every body stays inside walls and
floor. With ``--mp4 DIR``, each rollout is also written as an MP4 (H.264, frames scaled
x4) and its filmstrip (frames at 0 s, 1 min, 5 min and the last) as a PNG: encoding
frames/s and file size.

    python bench/bench_motion.py [--minutes 10] [--fps 30] [--size 32] [--mp4 DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from genlab.worlds.motion import grammar, video
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
    ap.add_argument("--mp4", type=Path, default=None, help="write MP4s and filmstrips here")
    args = ap.parse_args()
    frames = int(round(args.minutes * 60 * args.fps))
    print(f"{frames} frames ({args.minutes:g} min at {args.fps} fps), {args.size}x{args.size}")
    mp4 = " | MP4 encoded frames/s | MP4 MB" if args.mp4 else ""
    print("| prompt | bodies | simulated frames/s | rendered frames/s | max energy deviation "
          f"| inside walls and floor{mp4} |")
    print("|---|---:|---:|---:|---:|---" + ("|---:|---:" if args.mp4 else "") + "|")
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
        extra = ""
        if args.mp4:
            t3 = time.perf_counter()
            path = video.write_mp4(images, args.mp4 / f"motion-{k}.mp4", args.fps, scale=4)
            t4 = time.perf_counter()
            marks = sorted({i for i in (0, 60 * args.fps, 300 * args.fps, frames - 1)
                            if i < frames})
            Image.fromarray(video.filmstrip(images, marks)).save(
                args.mp4 / f"motion-{k}-filmstrip.png")
            extra = f" | {frames / (t4 - t3):,.0f} | {path.stat().st_size / 1e6:.1f}"
        print(f"| {text} | {len(scene.bodies)} | {frames / (t1 - t0):,.0f} | "
              f"{frames / (t2 - t1):,.0f} | {np.abs(e / e[0] - 1).max():.2%} | {inside}"
              f"{extra} |")


if __name__ == "__main__":
    main()
