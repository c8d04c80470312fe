"""Benchmark: where the truth falls in the set of starts its context allows (issue 6).

The relative target's yardstick, ``video-member``, draws a start from the set of starts
whose context frames render pixel for pixel as the truth's, and perception reads that
set's centroid; both rest on the truth lying in the set like a uniform point of it (a
throwaway check of 16 bodies in session 26). Were the truth nearer the set's edge than
its members, a member would be a harder yardstick than the truth and the centroid a
worse reading than it seems; were it nearer the middle, the reverse. This measures it.

For every rollout of the track's protocol with scene seeds ``--seeds`` (every duration:
only the context is read), perception's reading, then ``--members`` K starts drawn from
the set (:func:`genlab.generators.video.inscribe.members`, as ``video-member`` draws
them), and for every body drawn the truth's rank among the K + 1 points (the members
and the truth pooled, so that the rank is uniform on 0..K exactly when the truth is
exchangeable with the members):

- per field (``x``, ``y``, ``vx``, ``vy``, ``size``, those the members vary): the
  number of pooled points below the truth: a verification rank histogram (Anderson,
  1996, J. Climate 9; Hamill, 2001, Mon. Wea. Rev. 129). U-shaped: the truth falls
  outside the members more often than one of them would; humped: inside;
- centre-outward, per body: the truth's squared Mahalanobis distance from the pooled
  mean (pooled covariance over the fields the members vary), ranked among the pooled
  points' own (a multivariate rank, Thorarinsdottir, Scheuerer & Heinz, 2016, JRSS A
  179): high ranks mean the truth lies toward the set's edge.

The control: the same ranks for one more start drawn by an independent walk (another
seed) in place of the truth. It is a draw like the members by construction, so its ranks
are uniform exactly when the members are independent uniform draws; where the truth's
are not and the control's are, the truth is not a uniform point of the set the members
are drawn from (not the walk's doing).

Printed: the histograms in 8 bins against the uniform count with a chi-square test, the
share of bodies whose truth (and control) lies in the outer tenth of its pooled set
with a Wilson interval, and the ``--show`` most outlying bodies.

    python bench/bench_calibration.py [--seeds 20261127 10 20] [--members 63] [--show 5]
                                      [--csv bodies.csv]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import time
from pathlib import Path

import numpy as np
from bench_twin import order
from scipy import stats

from genlab.contracts import VideoRequest
from genlab.generators.video.inscribe import members
from genlab.generators.video.perceive import perceive
from genlab.generators.video.refine import free_fields
from genlab.progress import bars
from genlab.tracks import longvideo
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate

BINS = 8


@dataclasses.dataclass(frozen=True)
class Ranked:
    """One drawn body: the fields its members vary, the per-field ranks (members below)
    of its truth and of the control, and the centre-outward ranks (0..K) of its truth,
    the control and perception's reading, each pooled with the members."""

    seed: int
    rollout: str
    body: str
    names: tuple[str, ...]
    truth_fields: tuple[int, ...]
    control_fields: tuple[int, ...]
    truth: int
    control: int
    reading: int

    @property
    def fields(self) -> str:
        """The truth's per-field ranks as ``x=12 vx=60``."""
        return " ".join(f"{n}={r}" for n, r in zip(self.names, self.truth_fields, strict=True))


def ranks(truth: np.ndarray, drawn: np.ndarray) -> tuple[np.ndarray, int]:
    """The truth's per-field ranks ``(fields,)`` and centre-outward rank among the
    pooled points (``truth (fields,)``, ``drawn (K, fields)``), each on 0..K."""
    pooled = np.vstack([truth[None], drawn])
    below = (drawn < truth[None]).sum(0)
    centred = pooled - pooled.mean(0)
    inv = np.linalg.pinv(np.cov(centred.T).reshape(len(truth), len(truth)))
    d2 = np.einsum("if,fg,ig->i", centred, inv, centred)
    return below, int((d2[1:] < d2[0]).sum())


def _histogram(values: list[int], k: int) -> tuple[np.ndarray, float]:
    """Counts of ranks 0..k in :data:`BINS` bins of (k + 1) / BINS ranks each, and the
    chi-square p-value against the uniform count."""
    counts = np.bincount(np.asarray(values, int) * BINS // (k + 1), minlength=BINS)
    return counts, float(stats.chisquare(counts).pvalue)


def _wilson(hits: int, n: int) -> tuple[float, float]:
    lo, hi = stats.binomtest(hits, n).proportion_ci(0.95, method="wilson")
    return float(lo), float(hi)


def _rollout(config: longvideo.LongVideoConfig, it: longvideo.LongVideoItem, k: int
             ) -> tuple[list[Ranked], int] | None:
    """One rollout's drawn bodies and how many of its bodies were not drawn; None where
    perception does not read it whole."""
    context = render_frames(simulate(it.scene, config.context, config.fps), config.size)
    seen = perceive(VideoRequest(it.prompt, it.seed, config.fps, context))
    if seen.scene is None or len(seen.scene.bodies) != len(it.scene.bodies):
        return None
    drawn, which = members(seen.scene, list(seen.motions), context, config.fps, k,
                           seed=it.seed)
    (control,), also = members(seen.scene, list(seen.motions), context, config.fps, 1,
                               seed=it.seed + 1)
    rows: list[Ranked] = []
    for t, j in enumerate(order(it.scene, seen.scene)):
        if j not in which & also:
            continue
        names = free_fields(seen.motions[j])
        cloud = np.array([[getattr(m.bodies[j], n) for n in names] for m in drawn])
        varied = np.ptp(cloud, axis=0) > 0
        (tf, tr), (cf, cr), (_, rr) = (
            ranks(np.array([getattr(b, n) for n in names])[varied], cloud[:, varied])
            for b in (it.scene.bodies[t], control.bodies[j], seen.scene.bodies[j]))
        body = it.scene.bodies[t]
        rows.append(Ranked(config.seed, it.key, f"{body.colour} {body.shape}",
                           tuple(np.array(names)[varied]), tuple(tf.tolist()),
                           tuple(cf.tolist()), tr, cr, rr))
    return rows, len(it.scene.bodies) - len(which & also)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[longvideo.LongVideoConfig.seed],
                        help="scene seeds (default: the track's own)")
    parser.add_argument("--members", type=int, default=63, help="starts drawn per rollout")
    parser.add_argument("--show", type=int, default=5, help="the most outlying bodies listed")
    parser.add_argument("--csv", type=Path, default=None, help="every body's ranks, as CSV")
    args = parser.parse_args()
    if args.members < 8 or (args.members + 1) % BINS:
        parser.error(f"--members must be >= 8 with members + 1 a multiple of {BINS} (equal "
                     f"bins), got {args.members}")
    k = args.members
    configs = [dataclasses.replace(longvideo.LongVideoConfig.default(), seed=s)
               for s in args.seeds]
    chosen = [(c, it) for c in configs for it in longvideo.items(c)]
    t0 = time.perf_counter()
    bodies: list[Ranked] = []
    skipped = undrawn = 0
    with bars(True) as task:
        step = task("rollouts", len(chosen))
        for config, it in chosen:
            got = _rollout(config, it, k)
            step()
            if got is None:
                skipped += 1
                continue
            ranked, missing = got
            bodies += ranked
            undrawn += missing
    n = len(bodies)
    print(f"{len(chosen)} rollouts of seeds {' '.join(map(str, args.seeds))}; {skipped} "
          f"not read whole by perception (left out); {n} bodies drawn, {undrawn} not (seen "
          f"alone in fewer than two context frames, or no member kept); {k} members each\n")
    print(f"| rank of the truth (0..{k}, {BINS} bins) | " + " | ".join(
        f"{i * (k + 1) // BINS}-{(i + 1) * (k + 1) // BINS - 1}" for i in range(BINS))
        + " | expected per bin | chi-square p |")
    print("|---|" + "---:|" * (BINS + 2))
    rows = [("per field", "truth", [r for b in bodies for r in b.truth_fields]),
            ("per field", "control", [r for b in bodies for r in b.control_fields]),
            ("centre-outward, per body", "truth", [b.truth for b in bodies]),
            ("centre-outward, per body", "control", [b.control for b in bodies])]
    for label, who, values in rows:
        counts, p = _histogram(values, k)
        print(f"| {label}: {who} ({len(values)}) | " + " | ".join(str(c) for c in counts)
              + f" | {len(values) / BINS:.1f} | {p:.3f} |")
    edge = int(np.ceil(0.9 * (k + 1)))
    print(f"\nBodies in the outer tenth of their pooled set (centre-outward rank >= {edge}; "
          f"a draw like the members: {(k + 1 - edge) / (k + 1):.3f}):")
    for who in ("truth", "control"):
        outer = sum(getattr(b, who) >= edge for b in bodies)
        lo, hi = _wilson(outer, n)
        print(f"- {who}: {outer} of {n} = {outer / n:.3f} [{lo:.3f}, {hi:.3f}]")
    reading = np.array([b.reading for b in bodies])
    print(f"- perception's reading (the set's centroid, were it read exactly): median rank "
          f"{np.median(reading):g}, {np.mean(reading >= edge):.3f} in the outer tenth")
    print(f"\nThe {args.show} bodies whose truth lies farthest out (centre-outward rank, of "
          f"{k}; per field, members below the truth):")
    print("| seed | rollout | body | per field | truth | control | reading |")
    print("|---|---|---|---|---:|---:|---:|")
    for b in sorted(bodies, key=lambda b: -b.truth)[:args.show]:
        print(f"| {b.seed} | {b.rollout} | {b.body} | {b.fields} | {b.truth} | {b.control} "
              f"| {b.reading} |")
    if args.csv:
        with args.csv.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["seed", "rollout", "body", "fields", "truth", "control", "reading",
                          "members"])
            out.writerows([b.seed, b.rollout, b.body, b.fields, b.truth, b.control,
                           b.reading, k] for b in bodies)
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
