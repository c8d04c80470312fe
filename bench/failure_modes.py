"""How a generator's failed images fail, per category of the ``control`` track.

Reads the latest complete ``control`` run of ``--generator`` from the store and
prints one markdown table: per category of ``--split``, the images judged, the
failed ones, and how many fail in each mode of :mod:`genlab.judges.failures`
(the judge's ``details["failure"]``; ``other`` for runs judged before 1.1). The
report shows the same modes summed over categories; this splits them, which is
what says whether, say, ``position`` fails on the side or on the objects.

    python bench/failure_modes.py [--db genlab-out/genlab.db] [-g|--generator flow] [--split test]
"""

from __future__ import annotations

import argparse
from collections import Counter

from genlab import paths
from genlab.errors import InputError
from genlab.judges.failures import MODES, OTHER, mode_of
from genlab.store import Store
from genlab.worlds.shapes import vocab


def table(store: Store, generator: str, split: str) -> str:
    runs = [r for r in store.latest_runs("control") if r.generator == generator]
    if not runs:
        known = sorted({r.generator for r in store.latest_runs("control")})
        raise InputError(f"no complete control run of {generator!r} in {store.path}; "
                         f"generators there: {known}")
    run = runs[0]
    counts: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    for s in store.samples(run.id, split=split):
        totals[s["category"]] += 1
        if not s["passed"]:
            counts.setdefault(s["category"], Counter())[mode_of(s["details"])] += 1
    modes = [m for m in (*MODES, OTHER) if any(m in c for c in counts.values())]
    lines = [f"run {run.id} ({run.generator}, track {run.track_version}, judge "
             f"{run.judge_version}), split {split}", "",
             "| category | images | failed | " + " | ".join(modes) + " |",
             "|---|" + "---:|" * (2 + len(modes))]
    for cat in vocab.CATEGORIES:
        if not totals[cat]:
            continue
        c = counts.get(cat, Counter())
        lines.append(f"| {cat} | {totals[cat]} | {sum(c.values())} | "
                     + " | ".join(str(c[m]) for m in modes) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=str(paths.default_db()))
    ap.add_argument("--generator", "-g", default="flow")
    ap.add_argument("--split", default="test", choices=("dev", "test"))
    args = ap.parse_args()
    with Store(args.db) as store:
        print(table(store, args.generator, args.split))


if __name__ == "__main__":
    main()
