"""The ``metrics`` track's stored figures as markdown tables (for docs/results.md).

Reads the latest complete ``metrics`` run of every metric in ``--db`` and prints:
the agreement table (Spearman and Kendall with the exact truth on the ``test``
zoo, severity rho, the ``dev`` zoo's Spearman; 95% intervals), the
sample-size study (value and interval width at each n), the "what each metric
misses" table (severity rho per defect family), the zoo's exact correctness per
member, the seed's claims as findings, and the feature networks' and the
anchored metric's own accuracy (from the model cache).

    python bench/metrics_table.py [--db genlab-out/genlab.db] [--models genlab-out/models]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from genlab import paths
from genlab.store import Store
from genlab.tracks.metaeval import NAME, member_rows
from genlab.tracks.metaeval_findings import findings
from genlab.tracks.metaeval_scores import family_severity


def _ci(s: dict[str, Any] | None, fmt: str = ".3f") -> str:
    if s is None:
        return "–"
    return f"{s['value']:{fmt}} [{s['ci_low']:{fmt}}, {s['ci_high']:{fmt}}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--models", type=Path, default=None)
    args = ap.parse_args()
    with Store(args.db or paths.default_db()) as store:
        runs = store.latest_runs(NAME)
        index = {(r.generator, s["category"]): s for r in runs for s in store.run_scores(r.id)}
        rows = {r.generator: member_rows(store.samples(r.id), "test") for r in runs}
        dev = {r.generator: member_rows(store.samples(r.id), "dev") for r in runs}
        config = {r.generator: json.loads(r.config_json) for r in runs}
    names = sorted(rows, key=lambda g: -index.get((g, "spearman_truth"), {"value": -9})["value"])
    print("| metric | direction | Spearman vs truth | Kendall vs truth | severity rho | "
          "Spearman vs truth (dev) |")
    print("|---|---|---:|---:|---:|---:|")
    for g in names:
        d = config[g]["metric"]["direction"]
        print(f"| {g} | {d} | " + " | ".join(_ci(index.get((g, c))) for c in (
            "spearman_truth", "kendall_truth", "spearman_severity", "dev/spearman_truth"))
              + " |")
    sizes = sorted({int(c.rsplit("n", 1)[1]) for (_, c) in index
                    if c.startswith("ci_width_n")})
    member = next(iter(config.values()))["track"]["config"]["stability_member"] if config else ""
    print(f"\nsample-size study ({member}): value [95% interval] at n images\n")
    print("| metric | " + " | ".join(f"n={n}" for n in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for g in names:
        print(f"| {g} | " + " | ".join(_ci(index.get((g, f"value_n{n}")), ".4g")
                                        for n in sizes) + " |")
    fams = list(dict.fromkeys(r["family"] for rs in rows.values() for r in rs
                              if r["family"] != "clean"))
    print("\nseverity rho per family (below 0.5: missed)\n")
    print("| metric | " + " | ".join(fams) + " |")
    print("|---|" + "---:|" * len(fams))
    for g in names:
        per = family_severity(rows[g], config[g]["metric"]["direction"])
        print(f"| {g} | " + " | ".join("–" if math.isnan(per.get(f, math.nan))
                                        else f"{per[f]:.2f}" for f in fams) + " |")
    if "truth" in rows:
        print("\nexact correctness of the zoo (test | dev)\n")
        dev_c = {r["name"]: r["correctness"] for r in dev["truth"]}
        print("| member | test | dev |\n|---|---:|---:|")
        for r in rows["truth"]:
            d = dev_c.get(r["name"], math.nan)
            print(f"| {r['name']} | {r['correctness']:.3f} | {d:.3f} |")
    print("\nfindings\n")
    for f in findings({g: (config[g]["metric"]["direction"], rows[g]) for g in rows}):
        print(f"- {f}")
    models = args.models or paths.models_dir()
    for folder in sorted(Path(models).glob("features-*")) + sorted(Path(models).glob(
            "anchored-*")):
        acc = folder / "accuracy.json"
        if acc.is_file():
            print(f"\n{folder.name}: {json.loads(acc.read_text())}")


if __name__ == "__main__":
    main()
