"""The ``longvideo`` track's stored figures as markdown tables (for docs/results.md).

Reads the latest complete ``longvideo`` run of every generator in ``--db`` and
prints, per duration, one row per generator: on-track share, identity, count and
colour consistency over the last minute (the whole video when shorter), the
position error over the first and the last minute, the OOD and in-distribution
position errors where the duration has both, the share of judgeable frames,
generation frames/s and peak memory; then each generator's overall figures and
``peak_mem_ratio`` (median peak memory of the longest rollouts over the next
duration's); then the horizon (median seconds before the first second in which under
half the judged frames are on track) per duration and scenario. Values carry their 95%
intervals.

``--rescore`` recomputes every score from the stored rollouts with this code and the
run's own stored protocol (scores are a function of the rows; a category added after
the run, such as the horizon, appears without generating anything again).
For each limit control among them (``video-twin``, the protocol's predictability limit;
``video-member``, a reader that knows the context's set of starts; ``catalog.
LIMIT_CONTROLS``), a table gives each generator's on-track share minus the limit's per
duration, and whether it is within ``--margin`` (0.05) at every duration with
permanence >= 0.99 at the longest.
``--drift GENERATOR`` adds, for that generator's longest rollouts, each one's position
error (px, the mean over that second) at chosen seconds and the share of its frames
whose permanence was judged: how the error grows, rollout by rollout.

    python bench/longvideo_table.py [--db genlab-out/genlab.db] [--rescore] [--drift NAME]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from genlab import paths
from genlab.catalog import LIMIT_CONTROLS
from genlab.store import Store
from genlab.tracks.longvideo import NAME, LongVideoConfig, scores
from genlab.tracks.longvideo_scores import window_mean
from genlab.worlds.motion.splits import SCENARIOS


def _ci(s: dict[str, Any] | None, fmt: str = ".3f") -> str:
    if s is None:
        return "–"
    return f"{s['value']:{fmt}} [{s['ci_low']:{fmt}}, {s['ci_high']:{fmt}}]"


COLUMNS = (("on_track_{}", "on track", ".3f"), ("consistency_identity_{}", "identity", ".3f"),
           ("consistency_count_{}", "count", ".3f"), ("consistency_colour_{}", "colour", ".3f"),
           ("consistency_permanence_{}", "permanence", ".3f"),
           ("position_error_px_{}_start", "px, 1st min", ".2f"),
           ("position_error_px_{}", "px, last min", ".2f"),
           ("position_error_px_{}_id", "px in-dist.", ".2f"),
           ("position_error_px_{}_ood", "px OOD", ".2f"), ("judgeable_{}", "judgeable", ".2f"),
           ("fps_{}", "frames/s", ".0f"), ("peak_mem_mb_{}", "peak MB", ".0f"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--rescore", action="store_true",
                    help="recompute the scores from the stored rollouts with this code")
    ap.add_argument("--margin", type=float, default=0.05,
                    help="the relative target's margin below each limit control's on-track share")
    ap.add_argument("--drift", default=None, metavar="GENERATOR",
                    help="per rollout of the longest duration: the error at chosen seconds")
    args = ap.parse_args()
    with Store(args.db or paths.default_db()) as store:
        runs = store.latest_runs(NAME)
        samples = {r.generator: store.samples(r.id) for r in runs}
        index = {}
        for r in runs:
            if args.rescore:
                config = LongVideoConfig.stored(store.run(r.id).config_json)
                records = scores(samples[r.generator], config)
            else:
                records = store.run_scores(r.id)
            index.update({(r.generator, s["category"]): s for s in records})
    rollouts = {g: len(rows) for g, rows in samples.items()}
    generators = [r.generator for r in runs]
    labels = list(dict.fromkeys(c.rsplit("_", 1)[1] for (_, c) in index
                                if c.startswith("on_track_")))
    for label in labels:
        cols = [c for c in COLUMNS if any((g, c[0].format(label)) in index for g in generators)]
        print(f"\n{label}\n")
        print("| generator | " + " | ".join(h for _, h, _ in cols) + " |")
        print("|---|" + "---:|" * len(cols))
        for g in generators:
            cells = [_ci(index.get((g, c.format(label))), fmt) for c, _, fmt in cols]
            print(f"| {g} | " + " | ".join(cells) + " |")
    print("\n| generator | rollouts | on track (all) | frames/s (all) | peak memory ratio |")
    print("|---|---:|---:|---:|---:|")
    for g in generators:
        print(f"| {g} | {rollouts[g]} | {_ci(index.get((g, 'on_track')))} | "
              f"{_ci(index.get((g, 'fps')), '.0f')} | "
              f"{_ci(index.get((g, 'peak_mem_ratio')))} |")
    horizons = [(label, sc) for label in labels for sc in ("", *SCENARIOS)
                if any((g, _horizon(label, sc)) in index for g in generators)]
    if horizons:
        print("\nHorizon: median seconds on track (n rollouts)\n")
        print("| generator | " + " | ".join(f"{label} {sc or 'all'}" for label, sc in horizons)
              + " |")
        print("|---|" + "---:|" * len(horizons))
        for g in generators:
            cells = []
            for label, sc in horizons:
                h = index.get((g, _horizon(label, sc)))
                cells.append("–" if h is None else f"{_ci(h, '.0f')} ({h['n']})")
            print(f"| {g} | " + " | ".join(cells) + " |")
    for limit in LIMIT_CONTROLS:
        if limit in generators:
            _against_limit(index, generators, labels, args.margin, limit)
    if samples.get(args.drift):
        _drift(args.drift, samples[args.drift])


def _against_limit(index: dict[tuple[str, str], dict[str, Any]], generators: list[str],
                   labels: list[str], margin: float, limit: str) -> None:
    """Each generator's on-track share at every duration against ``limit``'s, and
    whether it comes within ``margin`` of it at every duration with permanence >= 0.99
    at the longest (the relative target proposed for issue 6 in session 24)."""
    print(f"\nAgainst the limit ({limit}): on track minus the limit's, per duration; "
          f"target: within {margin:g} at every duration and permanence >= 0.99 at "
          f"{labels[-1]}\n")
    print("| generator | " + " | ".join(labels) + f" | permanence {labels[-1]} | target |")
    print("|---|" + "---:|" * (len(labels) + 2))
    def on_track(g: str, label: str) -> float | None:
        record = index.get((g, f"on_track_{label}"))
        return None if record is None else float(record["value"])

    for g in generators:
        pairs = [(on_track(g, label), on_track(limit, label)) for label in labels]
        gaps = [None if a is None or b is None else a - b for a, b in pairs]
        perm = index.get((g, f"consistency_permanence_{labels[-1]}"))
        held = all(gap is not None and gap >= -margin for gap in gaps) \
            and perm is not None and perm["value"] >= 0.99
        print(f"| {g} | " + " | ".join("–" if gap is None else f"{gap:+.3f}" for gap in gaps)
              + f" | {_ci(perm)} | {'met' if held else 'missed'} |")


DRIFT_SECONDS = (1, 2, 3, 8, 10, 60, 300, 600)


def _drift(generator: str, rows: list[dict[str, Any]]) -> None:
    """Each of ``generator``'s longest rollouts: its error at :data:`DRIFT_SECONDS`."""
    longest = max(float(r["details"]["seconds"]) for r in rows)
    chosen = [r for r in rows if float(r["details"]["seconds"]) == longest]
    at = [t for t in DRIFT_SECONDS if t <= longest]
    print(f"\n{generator}: position error px in second t (mean over its frames), "
          f"{longest:g} s rollouts\n")
    print("| rollout | scenario | " + " | ".join(f"t={t} s" for t in at)
          + " | permanence judged |")
    print("|---|---|" + "---:|" * (len(at) + 1))
    for r in chosen:
        ps = r["details"]["per_second"]
        errors = (window_mean(ps, "position_error_px", t - 1, t) for t in at)
        cells = ["–" if np.isnan(e) else f"{e:.2f}" for e in errors]
        judged = sum(ps["permanence_ok"]["n"]) / sum(ps["frames"]) \
            if "permanence_ok" in ps else float("nan")
        print(f"| {r['prompt']} | {r['details']['scenario']} | " + " | ".join(cells)
              + f" | {judged:.3f} |")


def _horizon(label: str, scenario: str) -> str:
    return f"horizon_s_{label}" + (f"_{scenario}" if scenario else "")


if __name__ == "__main__":
    main()
