"""Benchmark: the batched ``scene`` judge against a per-image scikit-image judge.

Both run the same checks on the same oracle renders in the same process:
background from the border median, hysteresis segmentation (components of
distance > 40, split into cores above half their peak), colour from the core
pixels' hue, coverage in two metrics, shape-template residuals, then the same
verdict logic. genlab does the image analysis for the whole batch at once (one
3-D ``ndimage.label``, ``np.bincount`` reductions); the baseline is the
textbook way: per image ``skimage.measure.label`` + ``regionprops`` and a
loop over regions, with the per-object maths delegated to the same helpers,
so the two differ only in batching. Agreement of their verdicts is reported.
Timings are the best of ``--repeats`` runs after a warm-up, methods taking
turns, by wall time and by process CPU time. The issue's target is >= 3x.

    python bench/bench_judge.py [--n N] [--sizes 32 64] [--condition jpeg] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
from skimage import measure, morphology

from genlab.judges import templates
from genlab.judges.detect import (
    _BACKGROUND_NAMES,
    BLOB,
    MAX_RESIDUAL,
    UNKNOWN,
    DetectedObject,
    Detections,
    _safe_box,
    is_object,
)
from genlab.judges.measure import (
    _METRICS,
    CORE_FRACTION,
    FG_DISTANCE,
    LUMA_RETRY,
    SPLIT_FRACTION,
    _colours,
    _coverage,
    estimate_backgrounds,
)
from genlab.judges.scene import SceneJudge, judge_detections
from genlab.judges.validate import CONDITIONS, degrade, draw
from genlab.worlds.shapes import render, vocab
from genlab.worlds.shapes.spec import PromptSpec

assert CORE_FRACTION  # the baseline shares every constant through the helpers


def _segment_one(dist: np.ndarray) -> np.ndarray:
    """Hysteresis segmentation of one ``(H, W)`` distance map, region by region."""
    low = measure.label(dist > FG_DISTANCE, connectivity=2)
    out = np.zeros(low.shape, np.int64)
    nxt = 1
    for r in measure.regionprops(low, intensity_image=dist):
        sl, m = r.slice, r.image
        core = m & (dist[sl] > max(FG_DISTANCE, SPLIT_FRACTION * r.intensity_max))
        cores, nc = measure.label(core, connectivity=2, return_num=True)
        view = out[sl]
        if nc == 1:
            view[m] = nxt
        else:
            view[cores > 0] = cores[cores > 0] + nxt - 1
        nxt += max(nc, 1)
    return out


def _object(r: measure._regionprops.RegionProperties, diff: np.ndarray, labels: np.ndarray,
            bg: np.ndarray, h: int, w: int) -> DetectedObject | None:
    """One region of the grown label image -> an object (None for a speck)."""
    ys, xs = r.coords[:, 0], r.coords[:, 1]
    d = diff[ys, xs].astype(np.float64)
    own = labels[ys, xs] == r.label  # the region's own pixels, not its ring
    dist = np.sqrt((d[own] ** 2).sum(1))
    peak = dist.max()
    colour, direction = _colours(d[own], dist, np.zeros(own.sum(), np.int64),
                                 np.array([peak]), bg[None])
    lab = np.zeros(len(ys), np.int64)
    x, y = xs + 0.5, ys + 0.5
    best = templates.fit(lab, _coverage(d.astype(np.float32), lab, direction, _METRICS[0]),
                         x, y, 1)
    if best.error[0] > LUMA_RETRY:
        luma = templates.fit(lab, _coverage(d.astype(np.float32), lab, direction, _METRICS[1]),
                             x, y, 1)
        best = luma if luma.error[0] < best.error[0] else best
    area = float(best.area[0])
    if not is_object(best.area, np.array([peak]), colour, h, w)[0]:
        return None
    shape_i = int(best.residual[0].argmin())
    if templates.fit_error(best, lab, x, y, MAX_RESIDUAL)[0] > MAX_RESIDUAL:
        y0, x0, y1, x1 = measure.regionprops((labels == r.label).astype(np.uint8))[0].bbox
        cx, cy, box = best.mx[0], best.my[0], (x0, y0, x1, y1)
        shape = BLOB
    else:
        shape = vocab.SHAPES[shape_i]
        side = np.sqrt(max(area, 0.0)) * templates.SIDE_PER_SQRT_AREA[shape]
        cx, cy = best.mx[0], best.my[0] - (side / 6 if shape == "triangle" else 0.0)
        box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    name = list(vocab.COLOURS)[colour[0]] if colour[0] >= 0 else UNKNOWN
    return DetectedObject(shape, name, _safe_box(box[0] / w, box[1] / h, box[2] / w, box[3] / h),
                          float(cx / w), float(cy / h), area)


def baseline_detect(image: np.ndarray) -> Detections:
    """Detections of one ``(H, W, 3) uint8`` image with scikit-image, per region."""
    h, w, _ = image.shape
    bgs = estimate_backgrounds(image[None])
    bg = np.rint(bgs.rgb[0]).astype(np.int16)
    diff = image.astype(np.int16) - bg
    labels = _segment_one(np.sqrt((diff.astype(np.float64) ** 2).sum(-1)))
    ring = morphology.dilation(labels, np.ones((3, 3), bool))
    grown = np.where(labels > 0, labels, ring)
    objects = [_object(r, diff, labels, bg.astype(np.float64), h, w)
               for r in measure.regionprops(grown)]
    return Detections(_BACKGROUND_NAMES[bgs.name_index[0]],
                      tuple(o for o in objects if o is not None))


def baseline_judge(images: np.ndarray, specs: Sequence[PromptSpec]) -> list:
    return [judge_detections(baseline_detect(im), s) for im, s in zip(images, specs, strict=True)]


def best_of(methods: dict[str, Callable[[], list]], repeats: int) -> dict[str, tuple]:
    """name -> (best wall s, best CPU s, output) over ``repeats`` runs after a warm-up."""
    outs = {name: fn() for name, fn in methods.items()}
    wall = dict.fromkeys(methods, float("inf"))
    cpu = dict.fromkeys(methods, float("inf"))
    for _ in range(repeats):
        for name, fn in methods.items():
            w0, c0 = time.perf_counter(), time.process_time()
            outs[name] = fn()
            cpu[name] = min(cpu[name], time.process_time() - c0)
            wall[name] = min(wall[name], time.perf_counter() - w0)
    return {name: (wall[name], cpu[name], outs[name]) for name in methods}


def bench(n: int, sizes: Sequence[int], repeats: int, seed: int,
          condition: str = "clean") -> list[dict[str, object]]:
    specs, scenes = draw(n, seed, backgrounds=tuple(vocab.BACKGROUNDS))
    judge = SceneJudge()
    records: list[dict[str, object]] = []
    for size in sizes:
        images = degrade(render.render(scenes, size), condition, np.random.default_rng(seed))
        timed = best_of({"genlab SceneJudge (batched)": partial(judge.judge, images, specs),
                         "skimage label + regionprops per image":
                             partial(baseline_judge, images, specs)}, repeats)
        (gw, gc, ours), (bw, bc, base) = timed.values()
        same = [a.passed == b.passed and a.reason == b.reason for a, b in
                zip(ours, base, strict=True)]
        records.append({
            "size": size, "condition": condition, "n": n,
            "genlab_images_per_s": n / gw, "baseline_images_per_s": n / bw,
            "speedup_wall": bw / gw, "speedup_cpu": bc / gc,
            "verdict_agreement": float(np.mean(same)),
            "genlab_pass_rate": float(np.mean([v.passed for v in ours])),
        })
    return records


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=300, help="images per size")
    p.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--condition", default="clean", choices=CONDITIONS,
                   help="degradation of the renders (jpeg makes some verdicts fail)")
    p.add_argument("--json", action="store_true", help="print the records as JSON")
    args = p.parse_args()
    records = bench(args.n, args.sizes, args.repeats, args.seed, args.condition)
    if args.json:
        print(json.dumps({"machine": platform.processor() or platform.machine(),
                          "records": records}, indent=2))
        return
    print(f"scene judge on {args.n} oracle renders ({args.condition}, all backgrounds), "
          f"best of {args.repeats}")
    print(f"{'size':>5} {'genlab img/s':>13} {'skimage img/s':>14} {'x wall':>7} {'x cpu':>6}"
          f" {'agree':>6} {'pass':>6}")
    for r in records:
        print(f"{r['size']:>5} {r['genlab_images_per_s']:>13.0f} "
              f"{r['baseline_images_per_s']:>14.0f} {r['speedup_wall']:>7.1f} "
              f"{r['speedup_cpu']:>6.1f} {r['verdict_agreement']:>6.1%} "
              f"{r['genlab_pass_rate']:>6.1%}")


if __name__ == "__main__":
    main()
