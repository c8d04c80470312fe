"""Benchmark: how long any generator shown the context can stay on the truth's path
(issue 6: the predictability horizon of the ``longvideo`` track's scenes).

Part 1, the twins: for each rollout of the track's default protocol of at least
``--min-seconds`` (the 1- and 10-minute scenes), the ``video-twin`` start (a start whose
4 context frames render pixel for pixel as the truth's; generators/video/twin.py):
how far it was moved (px), how long the search took, and, simulated beside the truth
for the rollout's length, the seconds until some body is more than 1 px from its true
position (the twin's horizon: no generator can be sure of the path beyond it) and the
largest distance at 1 minute and at the end. Beside it, the same for
``video-physics``' perceived start (the current perception), which a generator can reach.

Part 2, the sensitivity: the same scenes' horizon when the truth's start is moved by
``--steps`` pixels along the line from it to the twin's (the context's pixels need
not hold):
how much a finer reading of the start would buy. Chaotic scenes gain a fixed number of
seconds per decade of precision (Lorenz, 1969), so no precision a uint8 context can
give holds them for ten minutes.

Part 1 takes other scene seeds (``--seeds``; ``bench/longvideo_fresh.py`` says which are
used), a cap on the seconds simulated (``--cap``) and perception's stages to compare
(``--stages polished settled centred inscribed inscribed+centred``), and ends with the
mean share of each rollout every column stays on the truth's path: the development
measure of perceptions 6 and 7.

    python bench/bench_twin.py [--min-seconds 60] [--steps 1e-2 1e-4 1e-6 1e-8 1e-10 1e-12]
        [--seeds 5 6 1] [--cap 60] [--stages polished settled centred] [--parts 1 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Iterator

import numpy as np

from genlab.contracts import VideoRequest
from genlab.generators.video.perceive import VERSION as PERCEPTION
from genlab.generators.video.perceive import perceive
from genlab.generators.video.twin import Twin, find_twin
from genlab.tracks import longvideo
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate
from genlab.worlds.motion.spec import MotionScene

CHUNK_S = 10.0


def _chunks(scene: MotionScene, config: longvideo.LongVideoConfig, seconds: float
            ) -> Iterator[np.ndarray]:
    """``scene``'s positions ``(n, bodies, 2)`` for ``seconds`` after the context, chunk
    by chunk of :data:`CHUNK_S` (simulated from t = 0)."""
    fps, per, frames = config.fps, round(config.fps * CHUNK_S), round(seconds * config.fps)
    state = simulate(scene, config.context, fps).end
    for done in range(0, frames, per):
        chunk = simulate(scene, min(per, frames - done), fps, start=state)
        state = chunk.end
        yield chunk.pos


def path(scene: MotionScene, config: longvideo.LongVideoConfig, seconds: float) -> np.ndarray:
    """``(frames, bodies, 2)`` positions of ``scene`` for ``seconds`` after the context."""
    return np.concatenate(list(_chunks(scene, config, seconds)))


def parting(truth: np.ndarray, other: MotionScene, config: longvideo.LongVideoConfig,
            seconds: float, marks: tuple[float, ...] = (60.0,)
            ) -> tuple[float | None, dict[float, float]]:
    """Seconds after the context until some body of ``other`` is > 1 px from its place
    on the truth's path ``truth`` (:func:`path`, at least ``seconds`` long; None if never
    within ``seconds``), and the largest distance (px) at each of ``marks`` and at the
    end (when ``marks`` is empty, the simulation stops at the horizon and reports no
    distance). ``other`` is simulated from t = 0; the clock starts at the context's
    end, as the track's does."""
    fps, size = config.fps, config.size
    horizon: float | None = None
    at: dict[float, float] = {}
    done = 0
    for pos in _chunks(other, config, seconds):
        n = len(pos)
        dist = np.linalg.norm(truth[done:done + n] - pos, axis=-1).max(-1) * size
        over = np.nonzero(dist > 1.0)[0]
        if horizon is None and len(over):
            horizon = (done + int(over[0])) / fps
        for m in marks:
            if done <= round(m * fps) - 1 < done + n:
                at[m] = float(dist[round(m * fps) - 1 - done])
        done += n
        at[seconds] = float(dist[-1])
        if horizon is not None and not marks:  # nothing more to read
            at.pop(seconds)
            break
    return horizon, at


def _fmt(h: float | None, seconds: float) -> str:
    return f"never in {seconds:g}" if h is None else f"{h:.1f}"


def _at(distances: dict[float, float], mark: float) -> str:
    return f"{distances[mark]:.2f}" if mark in distances else "-"


STAGES = {"polished": {"settled": False}, "settled": {"inscribed": False, "centred": False},
          "centred": {"inscribed": False}, "inscribed": {"centred": False},
          "inscribed+centred": {}}
"""Perception's last stage -> ``perceive``'s options (``inscribed+centred`` is the
default, perception 7; ``centred`` was perception 6)."""


def part1(configs: list[longvideo.LongVideoConfig], min_seconds: float, cap: float | None,
          stages: list[str]) -> list[tuple[longvideo.LongVideoItem, Twin]]:
    chosen = [(c, it) for c in configs for it in longvideo.items(c) if it.seconds >= min_seconds]
    print("| seed | rollout | prompt | twin step px | search s | twin: s until > 1 px | twin px "
          "at 1 min / end | " + " | ".join(f"perception {PERCEPTION} {s}: s until > 1 px | "
                                          "px at 1 min / end" for s in stages) + " |")
    print("|---|---|---|" + "---:|" * (4 + 2 * len(stages)))
    found, shares = [], np.zeros((len(chosen), 1 + len(stages)))
    for row, (config, it) in enumerate(chosen):
        seconds = it.seconds if cap is None else min(cap, it.seconds)
        start = simulate(it.scene, config.context, config.fps)
        context = render_frames(start, config.size)
        t0 = time.perf_counter()
        twin = find_twin(it.scene, it.prompt, context, config.fps, it.seed)
        search = time.perf_counter() - t0
        truth = path(it.scene, config, seconds)
        h_twin, d_twin = parting(truth, twin.scene, config, seconds)
        cells = [f"{_fmt(h_twin, seconds)} | {_at(d_twin, 60.0)} / {_at(d_twin, seconds)}"]
        shares[row, 0] = (seconds if h_twin is None else h_twin) / seconds
        for col, stage in enumerate(stages, 1):
            seen = perceive(VideoRequest(it.prompt, it.seed, config.fps, context),
                            **STAGES[stage])
            h_seen: float | None = 0.0
            d_seen: dict[float, float] = {}
            if seen.scene is not None and len(seen.scene.bodies) == len(it.scene.bodies):
                h_seen, d_seen = parting(truth, _match(it.scene, seen.scene), config,
                                         seconds)
            cells.append(f"{_fmt(h_seen, seconds)} | {_at(d_seen, 60.0)} / "
                         f"{_at(d_seen, seconds)}")
            shares[row, col] = (seconds if h_seen is None else h_seen) / seconds
        print(f"| {config.seed} | {it.key} | {it.prompt} | {twin.step_px:.1e} | {search:.2f} | "
              + " | ".join(cells) + " |", flush=True)
        found.append((it, twin))
    print(f"\nMean share of the rollout (capped at {cap if cap else 'its length'} s) on the "
          f"truth's path (within 1 px), over {len(chosen)} rollouts: twin "
          f"{shares[:, 0].mean():.4f}; " + "; ".join(
              f"perception {s} {shares[:, i].mean():.4f}" for i, s in enumerate(stages, 1)))
    return found


def order(truth: MotionScene, seen: MotionScene) -> list[int]:
    """For each body of ``truth``, the index of ``seen``'s body read for it: the nearest
    unclaimed perceived body of its kind at t = 0."""
    left = list(range(len(seen.bodies)))
    out = []
    for b in truth.bodies:
        same = [i for i in left
                if (seen.bodies[i].colour, seen.bodies[i].shape) == (b.colour, b.shape)]
        pick = min(same, key=lambda i: (seen.bodies[i].x - b.x) ** 2
                   + (seen.bodies[i].y - b.y) ** 2)
        left.remove(pick)
        out.append(pick)
    return out


def _match(truth: MotionScene, seen: MotionScene) -> MotionScene:
    """``seen``'s bodies in ``truth``'s order (:func:`order`), so that distances pair
    the same bodies."""
    return MotionScene(seen.background, tuple(seen.bodies[i] for i in order(truth, seen)),
                       seen.physics)


def toward(truth: MotionScene, twin: Twin, step: float) -> MotionScene:
    """The start ``step`` pixels from the truth's along the line to the twin's (the
    twin's own ``step_px`` gives the twin)."""
    a = step / twin.step_px
    bodies = tuple(dataclasses.replace(t, **{n: getattr(t, n) + a * (getattr(w, n)
                                                                     - getattr(t, n))
                                             for n in ("x", "y", "vx", "vy", "size")})
                   for t, w in zip(truth.bodies, twin.scene.bodies, strict=True))
    return dataclasses.replace(truth, bodies=bodies)


def part2(found: list[tuple[longvideo.LongVideoItem, Twin]],
          config: longvideo.LongVideoConfig, steps: list[float]) -> None:
    print("\n| rollout | " + " | ".join(f"{s:.0e} px" for s in steps)
          + " | seconds per decade |")
    print("|---|" + "---:|" * (len(steps) + 1))
    for it, twin in found:
        if twin.step_px == 0:
            continue
        truth = path(it.scene, config, it.seconds)
        horizons = [parting(truth, toward(it.scene, twin, step), config, it.seconds,
                            marks=())[0] for step in steps]
        closed = [(np.log10(s), h) for s, h in zip(steps, horizons, strict=True)
                  if h is not None]
        slope = "-"
        if len(closed) >= 2:
            x, y = np.array(closed).T
            slope = f"{-np.polyfit(x, y, 1)[0]:.1f}"
        print(f"| {it.key} | " + " | ".join(_fmt(h, it.seconds) for h in horizons)
              + f" | {slope} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-seconds", type=float, default=60.0,
                        help="the shortest rollouts of the track's protocol to take")
    parser.add_argument("--steps", type=float, nargs="+",
                        default=[1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12],
                        help="part 2's moves of the start, pixels")
    parser.add_argument("--seeds", type=int, nargs="+", default=[longvideo.LongVideoConfig.seed],
                        help="scene seeds (default: the track's own)")
    parser.add_argument("--cap", type=float, default=None,
                        help="part 1: simulate at most this many seconds of each rollout")
    parser.add_argument("--stages", nargs="+", default=["inscribed+centred"], choices=list(STAGES),
                        help="part 1: perception's last stage, one column each")
    parser.add_argument("--parts", type=int, nargs="+", default=[1, 2], choices=[1, 2])
    args = parser.parse_args()
    configs = [dataclasses.replace(longvideo.LongVideoConfig.default(), seed=s)
               for s in args.seeds]
    t0 = time.perf_counter()
    found = part1(configs, args.min_seconds, args.cap, args.stages)
    if 2 in args.parts:
        part2(found, configs[0], args.steps)
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
