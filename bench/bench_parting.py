"""Benchmark: judge ``tracking`` 1.2's blob parting against the simulator's truth.

A judge's own accuracy is a reported figure. For ``--scenes`` scenes of each of the
``motion`` world's scenarios (``test`` split), ``--seconds`` of rollout at 30 fps are
rendered at 32 px and every frame with all its bodies wholly in view is parsed
(the ``scene`` detector, then :func:`~genlab.judges.parting.part_blobs`).

Part 1, the truth, under each condition of the ``scene`` judge's validation (clean,
Gaussian noise sigma 8, blur sigma 0.5 px, JPEG 75): over frames judgeable by judge
1.2, the share whose parse is exact (every kind in view counted right, no object of
another kind); over frames where the detector saw a blob, the share parted exactly,
and the parted bodies' position errors (px, against the nearest true body of their
kind); the share of frames judgeable by judges 1.1 and 1.2.

Part 2, counterfeits: in every clean frame with a blob the judge parted, one of the
bodies it was made of is redrawn wrong (1.3x its size, 0.75x its size, or as another
shape); where the detector still sees the same objects (the body stays in its blob),
the share of those frames the judge counts right is its false acceptance (want 0).

    python bench/bench_parting.py [--scenes 20] [--seconds 10]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

from genlab.judges.detect import BLOB, UNKNOWN, Detections, detect_batch
from genlab.judges.parting import TOLERANCE, Part, explain
from genlab.judges.tracking import judgeable, touching
from genlab.judges.validate import degrade
from genlab.worlds.motion import splits
from genlab.worlds.motion.frames import render_frames, scene_arrays
from genlab.worlds.motion.physics import Trajectory, simulate
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.arrays import SHAPE_CODE, SceneArrays
from genlab.worlds.shapes.render import render_arrays

SIZE, FPS = 32, 30
CONDITIONS = ("clean", "noise", "blur", "jpeg")


def _truth(traj: Trajectory, t: int) -> Counter:
    seen = traj.visible()[t]
    return Counter((b.colour, b.shape) for b, s in zip(traj.scene.bodies, seen, strict=True)
                   if s)


def _counts(det: Detections) -> Counter:
    return Counter((o.colour, o.shape) for o in det.objects)


def _blob(det: Detections) -> bool:
    return any(o.shape == BLOB or o.colour == UNKNOWN for o in det.objects)


def _part(frame: np.ndarray, det: Detections, parts: list[Part]
          ) -> tuple[Detections, list[float]]:
    """``det`` with its blobs parted (as :func:`~genlab.judges.parting.part_blobs` does),
    and the residual of each blob's best parting."""
    out, errors = [], []
    for obj, best in zip(det.objects, explain(frame, det, parts), strict=True):
        errors += [best.error] if best is not None else []
        out.extend(best.objects if best is not None and best.error <= TOLERANCE else [obj])
    return Detections(det.background, tuple(out)), errors


def _errors(det: Detections, traj: Trajectory, t: int) -> list[float]:
    """Px distance of each detected object to the nearest true body of its kind."""
    out = []
    for o in det.objects:
        near = [np.hypot(o.cx - traj.pos[t, i, 0], o.cy - traj.pos[t, i, 1])
                for i, b in enumerate(traj.scene.bodies)
                if (b.colour, b.shape) == (o.colour, o.shape)]
        if near:
            out.append(min(near) * SIZE)
    return out


def _in_blob(traj: Trajectory, t: int, before: Detections, after: Detections) -> int | None:
    """A body the frame's first parted blob was made of (``before`` and ``after``
    parting): the true body nearest its first part, or None if nothing was parted."""
    new = [o for o in after.objects if o not in before.objects]
    if not new:
        return None
    d = np.hypot(traj.pos[t, :, 0] - new[0].cx, traj.pos[t, :, 1] - new[0].cy)
    return int(np.argmin(np.where(traj.visible()[t], d, np.inf)))


def _counterfeits(traj: Trajectory, t: int, body: int) -> dict[str, np.ndarray]:
    """Frame ``t`` with ``body`` redrawn wrong, one way per entry."""
    arrays = scene_arrays(traj, t, t + 1)
    seen = np.flatnonzero(traj.visible()[t])
    row = int(np.flatnonzero(seen == body)[0])
    shape = traj.scene.bodies[body].shape
    other = next(s for s in vocab.SHAPES if s != shape)
    out = {}
    for name, field, value in (("1.3x size", "size", arrays.objects["size"][row] * 1.3),
                               ("0.75x size", "size", arrays.objects["size"][row] * 0.75),
                               ("other shape", "shape", SHAPE_CODE[other])):
        objs = arrays.objects.copy()
        objs[field][row] = value
        out[name] = render_arrays(SceneArrays(arrays.backgrounds, objs), SIZE)[0]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=20, help="scenes per scenario")
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    n = int(args.seconds * FPS)
    items = [it for sc in splits.SCENARIOS for it in splits.sample(sc, "test", args.scenes)]
    trajs = [simulate(it.scene, n, FPS) for it in items]
    rng = np.random.default_rng(0)
    print(f"{len(items)} scenes ({args.scenes} per scenario, test split) x {n} frames at "
          f"{SIZE} px\n")
    print("| condition | judgeable 1.1 | judgeable 1.2 | exact parse (judgeable 1.2) | "
          "blob frames | parted exactly | best fit's error (median, p99, max) | "
          "parted px (median, p99, max) | ms per blob frame |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    old_share = np.mean([(judgeable(tr, SIZE) & ~touching(tr, SIZE).any(axis=(1, 2))).mean()
                         for tr in trajs])
    new_share = np.mean([judgeable(tr, SIZE).mean() for tr in trajs])
    parted_frames: list[tuple[int, int, int, int]] = []
    for condition in CONDITIONS:
        exact = judged = blobs = parted = 0
        errors: list[float] = []
        residuals: list[float] = []
        seconds = 0.0
        for k, tr in enumerate(trajs):
            frames = degrade(render_frames(tr, SIZE), condition, rng)
            ok = judgeable(tr, SIZE)
            parts = [Part(b.shape, b.colour, b.size) for b in tr.scene.bodies]
            for t, det in enumerate(detect_batch(frames)):
                if not ok[t]:
                    continue
                blob, before = _blob(det), det
                if blob:
                    t0 = time.perf_counter()
                    det, fits = _part(frames[t], det, parts)
                    seconds += time.perf_counter() - t0
                    residuals += fits
                right = _counts(det) == _truth(tr, t)
                judged += 1
                exact += right
                if blob:
                    blobs += 1
                    parted += right
                    errors += _errors(det, tr, t) if right else []
                body = _in_blob(tr, t, before, det) if condition == "clean" and blob else None
                if body is not None:
                    parted_frames.append((k, t, body, len(before.objects)))
        e = np.array(errors) if errors else np.full(1, np.nan)
        r = np.array(residuals) if residuals else np.full(1, np.nan)
        print(f"| {condition} | {old_share:.3f} | {new_share:.3f} | {exact / judged:.4f} "
              f"({judged}) | {blobs} | {parted / max(blobs, 1):.4f} | "
              f"{np.median(r):.4f}, {np.percentile(r, 99):.4f}, {r.max():.4f} | "
              f"{np.median(e):.3f}, {np.percentile(e, 99):.3f}, {e.max():.3f} | "
              f"{1e3 * seconds / max(blobs, 1):.1f} |")

    print(f"\n| counterfeit (one body of a parted blob redrawn) | frames, body still in its blob | "
          f"best fit's error (min, p1, median) | parted and counted right "
          f"(false acceptance, tolerance {TOLERANCE}) |")
    print("|---|---:|---:|---:|")
    rows: dict[str, list[tuple[bool, float]]] = {}
    for k, t, body, n_objects in parted_frames:
        tr = trajs[k]
        parts = [Part(b.shape, b.colour, b.size) for b in tr.scene.bodies]
        for name, frame in _counterfeits(tr, t, body).items():
            det = detect_batch(frame[None])[0]
            if _blob(det) and len(det.objects) == n_objects:  # the body is still in its blob
                parsed, fits = _part(frame, det, parts)
                rows.setdefault(name, []).append((_counts(parsed) == _truth(tr, t),
                                                  min(fits, default=np.inf)))
    for name, res in rows.items():
        ok = np.array([a for a, _ in res])
        r = np.array([b for _, b in res])
        print(f"| {name} | {len(res)} | {r.min():.4f}, {np.percentile(r, 1):.4f}, "
              f"{np.median(r):.4f} | {ok.mean():.4f} ({ok.sum()}) |")


if __name__ == "__main__":
    main()
