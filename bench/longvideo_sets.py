"""Benchmark: the ``longvideo`` relative target over several scene sets at once (issue 6).

``longvideo_table.py`` judges one store (one scene set) at a time: the generator's
on-track share in each duration's last minute minus the limit control's, within
``--margin`` at every duration. With one to three rollouts per duration and scenario,
one set's verdict is close to a coin toss at 10 minutes. This reads the stores of
several sets (each from ``longvideo_fresh.py``), prints each set's gaps and verdict,
and pools the rollouts of every set: the gap per duration with a paired 95% interval
(rollouts resampled, the same ones for both sides:
:func:`genlab.stats.paired_difference_bootstrap`), and the share of rollouts on which
the generator stays on track at least as long as the limit (the horizon,
``longvideo_scores.horizon``).

    python bench/longvideo_sets.py --db /tmp/s31/fresh29/genlab.db /tmp/s31/fresh10/... \\
        [-g video-physics] [--limit video-member] [--margin 0.05]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from genlab.stats import paired_difference_bootstrap
from genlab.store import Store
from genlab.tracks.longvideo import NAME, LongVideoConfig
from genlab.tracks.longvideo_scores import horizon, window_sums

PERMANENCE = 0.99

Row = dict[str, Any]


def read_set(db: Path, generator: str, limit: str) -> tuple[LongVideoConfig,
                                                            list[tuple[Row, Row]]]:
    """The set's protocol and its rollouts as (generator's row, limit's row) pairs, in
    key order; a store missing either, or whose two runs differ in protocol or
    rollouts, is an error naming it."""
    if not db.is_file():
        raise SystemExit(f"--db {db}: no such store")
    with Store(db) as store:
        runs = {r.generator: r for r in store.latest_runs(NAME)}
        missing = [g for g in (generator, limit) if g not in runs]
        if missing:
            raise SystemExit(f"{db}: no complete {NAME} run of {', '.join(missing)} "
                             f"(it has: {', '.join(runs) or 'none'})")
        config, other = (LongVideoConfig.stored(runs[g].config_json) for g in (generator, limit))
        if config != other:
            raise SystemExit(f"{db}: {generator} and {limit} ran different protocols")
        mine, theirs = (store.samples(runs[g].id) for g in (generator, limit))
    if [r["key"] for r in mine] != [r["key"] for r in theirs]:
        raise SystemExit(f"{db}: {generator} and {limit} hold different rollouts")
    return config, list(zip(mine, theirs, strict=True))


def _final(row: Row, name: str, window: int) -> tuple[float, float]:
    """``name``'s sum and judged frames over the rollout's last ``window`` seconds."""
    series = row["details"]["per_second"]
    return window_sums(series, name, -window, len(series["frames"]))


def _unit(a: Row, b: Row, window: int) -> list[float]:
    """One rollout, both sides: on-track sum and frames of each, then each horizon."""
    return [*_final(a, "on_track", window), *_final(b, "on_track", window),
            *(horizon(r["details"]["per_second"], float(r["details"]["seconds"]))
              for r in (a, b))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, nargs="+", required=True,
                    help="one store per scene set (longvideo_fresh.py)")
    ap.add_argument("-g", "--generator", default="video-physics")
    ap.add_argument("--limit", default="video-member", help="the limit control")
    ap.add_argument("--margin", type=float, default=0.05)
    args = ap.parse_args()
    if args.margin < 0:
        ap.error(f"--margin must be >= 0, got {args.margin}")
    sets = [read_set(db, args.generator, args.limit) for db in args.db]
    config0 = sets[0][0]
    labels = config0.labels
    if any(c.labels != labels for c, _ in sets):
        raise SystemExit(f"the stores' durations differ: {[c.labels for c, _ in sets]}")
    print(f"{args.generator} against {args.limit}: on track in each duration's last "
          f"{config0.window} s, minus the limit's; the target: within {args.margin:g} at "
          f"every duration, permanence >= {PERMANENCE} at {labels[-1]}\n")
    print("| scene seed | rollouts | " + " | ".join(labels) + f" | permanence {labels[-1]} | "
          "target |")
    print("|---|---:|" + "---:|" * (len(labels) + 2))
    # per duration, one row per rollout of every set: the columns of _unit
    pooled: dict[str, list[list[float]]] = {label: [] for label in labels}
    met = 0
    for config, pairs in sets:
        gaps = []
        for label in labels:
            units = [_unit(a, b, config.window) for a, b in pairs if a["category"] == label]
            pooled[label] += units
            sa, za, sb, zb, _, _ = np.sum(units, axis=0)
            gaps.append(sa / za - sb / zb)
        ps, pn = np.sum([_final(a, "permanence_ok", config.window) for a, _ in pairs
                         if a["category"] == labels[-1]], axis=0)
        permanence = ps / pn if pn else float("nan")
        held = all(g >= -args.margin for g in gaps) and permanence >= PERMANENCE
        met += held
        print(f"| {config.seed} | {len(pairs)} | " + " | ".join(f"{g:+.3f}" for g in gaps)
              + f" | {permanence:.3f} | {'met' if held else 'missed'} |")
    print(f"\nMet on {met} of {len(sets)} sets.\n")
    print(f"Pooled over the {len(sets)} sets (rollouts resampled, paired): the gap, and the "
          f"share of rollouts {args.generator} stays on track at least as long as "
          f"{args.limit} (horizon)\n")
    print("| duration | rollouts | gap [95%] | horizon >= the limit's | within the margin |")
    print("|---|---:|---|---:|---|")
    for label in labels:
        u = np.array(pooled[label])
        est = paired_difference_bootstrap((u[:, 0], u[:, 1]), (u[:, 2], u[:, 3]),
                                          resamples=config0.resamples, seed=config0.seed)
        verdict = "yes, interval too" if est.ci_low >= -args.margin else \
            "the point only" if est.value >= -args.margin else "no"
        print(f"| {label} | {len(u)} | {est.value:+.3f} [{est.ci_low:+.3f}, "
              f"{est.ci_high:+.3f}] | {np.mean(u[:, 4] >= u[:, 5]):.2f} | {verdict} |")


if __name__ == "__main__":
    main()
