"""Benchmark: the context's own ambiguity, drawn (issue 6): how long starts drawn
uniformly from the set that renders the context stay on the truth's path, beside
perception's reading and the twin's.

``video-twin`` (bench/bench_twin.py) is one witness per rollout: the truth's start
walked to the edge of the set of starts whose context frames render pixel for pixel as
the truth's, one free field at a time. Its horizon says where some start of the set
leaves the truth's path, not where a typical one does. This bench draws many: for each
rollout of at least ``--min-seconds`` of the track's protocol (scene seeds ``--seeds``;
at most ``--cap`` seconds simulated), perception's reading (``video-physics``' default
perception), and ``--members`` starts drawn about uniformly from the set
(:func:`genlab.generators.video.inscribe.members`: the bodies seen alone in at least two
context frames, a pair on one line together; the other bodies keep the reading, and the
row says how many of the scene's bodies were drawn), each simulated beside the truth:
the seconds until some body is more than 1 px from its true position.

The truth lies in the set like a uniform point of it (docs/results.md, session 26), so a
member is what a reader who knows the set exactly, but not which of its points is the
truth, would read: the members' horizons are the spread of what the context can say.
Where perception's horizon is at or above the members' median, its reading does as well
as a typical start the context allows on that rollout, whatever the twin's witness found.

Columns: the twin's horizon, perception's, the members' median and quartiles, the share
of members whose horizon perception reaches or passes, and two readers that choose without
the truth: each start's expected horizon with the members as the truth (perception's, and
the largest of the reading's and the members', :func:`typical`), then the horizon of the
start with the largest one (the typical member: the path most of the set agrees with,
the reading of greatest expected horizon under a flat prior on the set). The last lines
give each column's mean share of the rollout on the truth's path, over the rollouts
perception read whole and over those whose every body was drawn (a body not drawn keeps
the reading in every member, so the members share its error).

    python bench/bench_members.py [--seeds 20] [--min-seconds 60] [--cap 60] [--members 16]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
from bench_twin import _match, path

from genlab.contracts import VideoRequest
from genlab.generators.video.inscribe import members
from genlab.generators.video.perceive import perceive
from genlab.generators.video.twin import find_twin
from genlab.stats import paired_difference_bootstrap
from genlab.tracks import longvideo
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate


def _horizon(a: np.ndarray, b: np.ndarray, fps: int, size: int) -> float:
    """Seconds until some body of path ``a`` is > 1 px from its place on path ``b``
    (``(frames, bodies, 2)``, image fractions); the paths' length if never."""
    over = np.nonzero(np.linalg.norm(a - b, axis=-1).max(-1) * size > 1.0)[0]
    return (int(over[0]) if len(over) else len(a)) / fps


def _fmt(h: float, seconds: float) -> str:
    return f"never in {seconds:g}" if h >= seconds else f"{h:.1f}"


def typical(paths: np.ndarray, fps: int, size: int) -> tuple[int, np.ndarray]:
    """The path of ``paths`` ``(n, frames, bodies, 2)`` that stays longest, on average,
    within 1 px of the others (the others as the truth: its expected horizon), and every
    path's expected horizon (seconds)."""
    n = len(paths)
    pair = np.array([[_horizon(paths[i], paths[j], fps, size) if i != j else 0.0
                      for j in range(n)] for i in range(n)])
    expected = pair.sum(1) / (n - 1)
    return int(expected.argmax()), expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[longvideo.LongVideoConfig.seed],
                        help="scene seeds (default: the track's own)")
    parser.add_argument("--min-seconds", type=float, default=60.0,
                        help="the shortest rollouts of the track's protocol to take")
    parser.add_argument("--cap", type=float, default=60.0,
                        help="simulate at most this many seconds of each rollout")
    parser.add_argument("--members", type=int, default=16, help="starts drawn per rollout")
    args = parser.parse_args()
    if args.members < 1 or args.cap <= 0:
        parser.error(f"--members must be >= 1 and --cap > 0, got {args.members} and {args.cap}")
    configs = [dataclasses.replace(longvideo.LongVideoConfig.default(), seed=s)
               for s in args.seeds]
    chosen = [(c, it) for c in configs for it in longvideo.items(c)
              if it.seconds >= args.min_seconds]
    if not chosen:
        parser.error(f"no rollout of seeds {args.seeds} lasts {args.min_seconds} s or more")
    t0 = time.perf_counter()
    print("| seed | rollout | prompt | bodies drawn | twin s | perception s | members s: median "
          "[q25, q75] | members perception reaches | expected s: perception / typical member "
          "| typical member s |")
    print("|---|---|---|---:|---:|---:|---|---:|---|---:|")
    shares = np.full((len(chosen), 4), np.nan)
    labels = np.array([it.label for _, it in chosen])
    whole = np.zeros(len(chosen), bool)  # every body of the scene drawn
    for row, (config, it) in enumerate(chosen):
        seconds, fps, size = min(args.cap, it.seconds), config.fps, config.size
        context = render_frames(simulate(it.scene, config.context, fps), size)
        truth = path(it.scene, config, seconds)
        twin = find_twin(it.scene, it.prompt, context, fps, it.seed)
        h_twin = _horizon(path(twin.scene, config, seconds), truth, fps, size)
        seen = perceive(VideoRequest(it.prompt, it.seed, fps, context))
        if seen.scene is None or len(seen.scene.bodies) != len(it.scene.bodies):
            print(f"| {config.seed} | {it.key} | {it.prompt} | perception found "
                  f"{seen.found} of {len(it.scene.bodies)} bodies | | | | | | |", flush=True)
            continue
        drawn, which = members(seen.scene, list(seen.motions), context, fps, args.members,
                               seed=it.seed)
        paths = np.array([path(_match(it.scene, m), config, seconds)
                          for m in (seen.scene, *drawn)])  # the reading first
        h = np.array([_horizon(p, truth, fps, size) for p in paths])
        pick, expected = typical(paths, fps, size)
        q25, q50, q75 = np.percentile(h[1:], [25, 50, 75])
        print(f"| {config.seed} | {it.key} | {it.prompt} | {len(which)} of "
              f"{len(it.scene.bodies)} | {_fmt(h_twin, seconds)} | {_fmt(h[0], seconds)} | "
              f"{q50:.1f} [{q25:.1f}, {q75:.1f}] | {np.mean(h[1:] <= h[0]):.2f} | "
              f"{expected[0]:.1f} / {expected[pick]:.1f} | {_fmt(h[pick], seconds)} |",
              flush=True)
        shares[row] = np.array([h_twin, h[0], h[1:].mean(), h[pick]]) / seconds
        whole[row] = len(which) == len(it.scene.bodies)
    print(f"\nMean share of the rollout (capped at {args.cap:g} s) on the truth's path (within "
          "1 px):")
    read = ~np.isnan(shares[:, 0])
    for label, rows in (("perception read whole", read), ("every body drawn", whole)):
        done = shares[rows]
        print(f"- over the {len(done)} of {len(chosen)} rollouts {label}: twin "
              f"{done[:, 0].mean():.4f}; perception {done[:, 1].mean():.4f}; a member (mean "
              f"of {args.members}) {done[:, 2].mean():.4f}; the typical member "
              f"{done[:, 3].mean():.4f}")
    print("\nPaired differences of those shares per duration, over the rollouts perception "
          "read whole (95% intervals, rollouts resampled):\n")
    print("| duration | rollouts | perception - a member (mean) | the typical member - "
          "perception |")
    print("|---|---:|---|---|")
    for label in dict.fromkeys(labels[read]):
        done = shares[read & (labels == label)]
        ones = np.ones(len(done))
        cells = [paired_difference_bootstrap((x, ones), (y, ones))
                 for x, y in ((done[:, 1], done[:, 2]), (done[:, 3], done[:, 1]))]
        print(f"| {label} | {len(done)} | " + " | ".join(
            f"{e.value:+.3f} [{e.ci_low:+.3f}, {e.ci_high:+.3f}]" for e in cells) + " |")
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
