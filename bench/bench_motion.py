"""Benchmark: the ``motion`` world's simulator and renderer over long rollouts (issue 6, item 1).

For a few prompts of the grammar (realised with fixed seeds), simulate ``--minutes`` of
motion at ``--fps`` and render every frame at ``--size``: simulated and rendered
frames per second (both must stay far above the 30 frames/s a 10-minute rollout has
to be generated at), the largest relative deviation of the energy from its start
(elastic physics: bounded, no drift), and whether every body stays inside walls and
floor. With ``--mp4 DIR``, each rollout is also written as an MP4 (H.264, frames scaled
x4) and its filmstrip (frames at 0 s, 1 min, 5 min and the last) as a PNG: encoding
frames/s and file size.

The simulator's speed-up: the first ``--reference-seconds`` of each rollout stepped frame
by frame by the numpy reference (``physics.advance_numpy``) and by the compiled steps
(``physics.advance``, :mod:`genlab.worlds.motion.physics_kernel`), in the same process:
each one's simulated frames/s, their ratio, and whether every state agrees to the bit.

    python bench/bench_motion.py [--minutes 10] [--fps 30] [--size 32] [--mp4 DIR]
                                 [--reference-seconds 20]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from genlab.worlds.motion import grammar, video
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import SIM_HZ, State, advance, advance_numpy, simulate
from genlab.worlds.motion.spec import MotionScene

PROMPTS = (
    "a red circle bouncing",
    "two red circles bouncing, a blue square sliding left and a green triangle resting",
    "three yellow circles bouncing and two purple squares sliding right",
    "a cyan circle drifting left, a blue square drifting down and two red triangles "
    "drifting right",
)


def _stepped(step: Callable[[MotionScene, State, int], State], scene: MotionScene,
             frames: int, fps: int) -> tuple[float, np.ndarray]:
    """Seconds to step ``frames`` frames with ``step`` (as ``simulate`` does), and the
    ``(frames, 2, n, 2)`` positions and velocities."""
    state, out = State.initial(scene), []
    t0 = time.perf_counter()
    for _ in range(frames):
        state = step(scene, state, SIM_HZ // fps)
        out.append((state.pos, state.vel))
    return time.perf_counter() - t0, np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--mp4", type=Path, default=None, help="write MP4s and filmstrips here")
    ap.add_argument("--reference-seconds", type=float, default=20.0,
                    help="seconds stepped by the numpy reference beside the kernel")
    args = ap.parse_args()
    ref = int(round(args.reference_seconds * args.fps))
    warm = grammar.realise(grammar.parse(PROMPTS[0]), np.random.default_rng(0))
    advance(warm, State.initial(warm), 1)  # compile (or load) the kernel before timing
    print(f"The simulator over the first {ref} frames, stepped frame by frame:")
    print("| prompt | reference (numpy) frames/s | kernel frames/s | ratio | same bits |")
    print("|---|---:|---:|---:|---|")
    for k, text in enumerate(PROMPTS):
        scene = grammar.realise(grammar.parse(text), np.random.default_rng(k))
        slow, a = _stepped(advance_numpy, scene, ref, args.fps)
        fast, b = _stepped(advance, scene, ref, args.fps)
        print(f"| {text} | {ref / slow:,.0f} | {ref / fast:,.0f} | {slow / fast:.0f}x | "
              f"{np.array_equal(a, b)} |")
    print()
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
