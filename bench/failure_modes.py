"""How a generator's failed images fail, per category of the ``control`` track.

Reads the latest complete ``control`` run of ``--generator`` from the store and
prints one markdown table: per category of ``--split``, the images judged, the
failed ones, and how many fail in each mode of :mod:`genlab.judges.failures`
(the judge's ``details["failure"]``; ``other`` for runs judged before 1.1). The
report shows the same modes summed over categories; this splits them, which is
what says whether, say, ``position`` fails on the side or on the objects.

``--prompts CATEGORY`` prints instead one row per distinct prompt of that category:
its images, pass rate, whether it is a held-out composition, its share of the
category's failures and its commonest failure reason. A category's score is a mean
over images, so a prompt drawn often (the samplers draw prompts with replacement)
weighs in proportion; this shows which prompts decide it.

    python bench/failure_modes.py [--db genlab-out/genlab.db] [-g|--generator flow] [--split test]
        [--prompts single]
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from genlab import paths
from genlab.errors import InputError
from genlab.judges.failures import MODES, OTHER, mode_of
from genlab.store import Store
from genlab.worlds.shapes import vocab


def latest_run(store: Store, generator: str) -> Any:
    """The latest complete ``control`` run of ``generator``; none is an InputError."""
    runs = [r for r in store.latest_runs("control") if r.generator == generator]
    if not runs:
        known = sorted({r.generator for r in store.latest_runs("control")})
        raise InputError(f"no complete control run of {generator!r} in {store.path}; "
                         f"generators there: {known}")
    return runs[0]


def prompt_table(store: Store, generator: str, split: str, category: str) -> str:
    """One row per distinct prompt of ``category``, most images first."""
    if category not in vocab.CATEGORIES:
        raise InputError(f"unknown category {category!r}; accepted: "
                         f"{', '.join(vocab.CATEGORIES)}")
    run = latest_run(store, generator)
    images: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    heldout: dict[str, bool] = {}
    reasons: dict[str, Counter[str]] = {}
    for s in store.samples(run.id, split=split, category=category):
        p = s["prompt"]
        images[p] += 1
        passed[p] += s["passed"]
        heldout[p] = s["heldout"]
        if not s["passed"]:
            reasons.setdefault(p, Counter())[s["reason"]] += 1
    failed = sum(images.values()) - sum(passed.values())
    lines = [f"run {run.id} ({run.generator}), split {split}, category {category}: "
             f"{sum(images.values())} images, {len(images)} distinct prompts, "
             f"pass rate {sum(passed.values()) / max(1, sum(images.values())):.3f}", "",
             "| prompt | held out | images | passed | share of the failures | "
             "commonest failure (images) |", "|---|---|---:|---:|---:|---|"]
    for p, n in sorted(images.items(), key=lambda kv: (-kv[1], kv[0])):
        top = reasons.get(p, Counter()).most_common(1)
        why = f"{top[0][0]} ({top[0][1]})" if top else "–"
        share = (n - passed[p]) / failed if failed else 0.0
        lines.append(f"| {p} | {'yes' if heldout[p] else 'no'} | {n} | {passed[p] / n:.3f} | "
                     f"{share:.2f} | {why} |")
    return "\n".join(lines)


def table(store: Store, generator: str, split: str) -> str:
    run = latest_run(store, generator)
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
    ap.add_argument("--prompts", metavar="CATEGORY", default=None,
                    help="one row per distinct prompt of this category instead")
    args = ap.parse_args()
    with Store(args.db) as store:
        if args.prompts is not None:
            print(prompt_table(store, args.generator, args.split, args.prompts))
        else:
            print(table(store, args.generator, args.split))


if __name__ == "__main__":
    main()
