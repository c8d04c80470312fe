"""The ``realtime`` track's stored figures as one markdown table (for docs/results.md).

Reads the latest complete ``realtime`` run of every setting whose generator name
starts with one of ``--generators`` and prints a row per setting, slowest first:
model calls, p50 [95% CI] / p95 ms, ms per backbone call, the speedup over the
32-step baseline timed in the same process, images/s at the throughput batch,
the stream figures where the setting streams, accuracy and its ratio to the
baseline (both with 95% intervals).

    python bench/realtime_table.py [--db genlab-out/genlab.db] [--generators flow@ flow-reflow] \\
        [--stages]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from genlab import paths
from genlab.store import Store
from genlab.tracks.realtime import NAME, Setting


def _ci(s: dict | None, fmt: str = ".3f") -> str:  # type: ignore[type-arg]
    if s is None:
        return "–"
    return f"{s['value']:{fmt}} [{s['ci_low']:{fmt}}, {s['ci_high']:{fmt}}]"


def _v(s: dict | None, fmt: str) -> str:  # type: ignore[type-arg]
    return "–" if s is None else f"{s['value']:{fmt}}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--generators", nargs="+", default=["flow@"])
    ap.add_argument("--stages", action="store_true",
                    help="a second table: each setting's stages (p50 ms per batch-1 call)")
    args = ap.parse_args()
    with Store(args.db or paths.default_db()) as store:
        runs = [r for r in store.latest_runs(NAME)
                if any(r.generator.startswith(p) for p in args.generators)]
        rows = []
        for run in runs:
            scores = {s["category"]: s for s in store.run_scores(run.id)}
            setting = json.loads(run.config_json).get("setting")
            nfe = "–" if setting is None else str(Setting(**setting).nfe)
            rows.append((scores.get("latency_p50_ms", {"value": 0.0})["value"], run.generator,
                         nfe, scores))
    print("| setting | model calls | p50 [95% CI] / p95 ms | ms / backbone call | speedup (p50) "
          "| img/s at 64 | stream latency ms / gain | accuracy [95% CI] | x 32-step [95% CI] "
          "| FID [95% CI] |")
    print("|---|---:|---|---:|---:|---:|---|---|---|---|")
    for _, gen, nfe, s in sorted(rows, key=lambda r: -r[0]):
        stream = "–"
        if "stream_gain" in s:
            stream = (f"{_v(s.get('stream_latency_p50_ms'), '.1f')} / "
                      f"{_v(s.get('stream_gain'), '.2f')}")
        print(f"| `{gen}` | {nfe} | {_ci(s.get('latency_p50_ms'), '.1f')} / "
              f"{_v(s.get('latency_p95_ms'), '.1f')} | {_v(s.get('backbone_call_ms'), '.1f')} | "
              f"{_v(s.get('speedup_p50'), '.2f')} | {_v(s.get('throughput_img_s'), '.0f')} | "
              f"{stream} | {_ci(s.get('control_accuracy'))} | "
              f"{_ci(s.get('relative_accuracy'), '.2f')} | {_ci(s.get('fid'), '.1f')} |")
    both = [(s["control_accuracy"]["value"], s["fid"]["value"]) for _, _, _, s in rows
            if "control_accuracy" in s and "fid" in s]
    if len(both) >= 3:  # does the distribution metric order the settings as accuracy does?
        from scipy.stats import spearmanr

        acc, fid = zip(*both, strict=True)
        rho = spearmanr(acc, [-f for f in fid]).statistic
        print(f"\nSpearman(accuracy, -FID) over the {len(both)} settings with both: {rho:.3f}")
    if args.stages:
        _stages([(gen, s) for _, gen, _, s in sorted(rows, key=lambda r: -r[0])])


def _stages(rows: list[tuple[str, dict]]) -> None:  # type: ignore[type-arg]
    """Each setting's stage p50s, one column per stage any setting reports."""
    names = list(dict.fromkeys(c.removeprefix("stage_").removesuffix("_ms")
                               for _, s in rows for c in s if c.startswith("stage_")))
    print("\n| setting | " + " | ".join(f"{n} ms" for n in names) + " |")
    print("|---|" + "---:|" * len(names))
    for gen, s in rows:
        print(f"| `{gen}` | " + " | ".join(_v(s.get(f"stage_{n}_ms"), ".2f") for n in names)
              + " |")


if __name__ == "__main__":
    main()
