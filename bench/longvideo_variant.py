"""Benchmark: one ``video-objects`` config variant through the whole ``longvideo`` track,
as ``genlab run longvideo -g video-objects`` would measure it were it the default
(issue 6).

The variant is ``ObjectsConfig()`` with some fields replaced (a Python dict literal).
Its learned simulator is trained on first use exactly as the default's is (cached by
its key in ``genlab-out/models``); then the track runs on it under the name
``video-objects <overrides>`` in ``--db`` (give a copy of a store that holds the
default's and the controls' runs, and ``bench/longvideo_table.py --db`` prints them
side by side). Prints the variant's headline figures.

    python bench/longvideo_variant.py "{'heads': 'linear'}" --db /tmp/lv/genlab.db
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
from pathlib import Path

from genlab import paths
from genlab.generators.video.dynamics import ObjectsConfig
from genlab.generators.video.objects import VideoObjectsGenerator, ensure_trained
from genlab.store import Store
from genlab.tracks.longvideo import LongVideoTrack


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("overrides", help="ObjectsConfig fields to replace, a dict literal")
    ap.add_argument("--db", type=Path, required=True,
                    help="the store to add the variant's run to (never the main one)")
    ap.add_argument("--profile", default="default", choices=("smoke", "default"),
                    help="the longvideo track's profile (smoke: a check of this script)")
    args = ap.parse_args()
    if args.db.resolve() == paths.default_db().resolve():
        raise SystemExit(f"--db {args.db}: a variant never goes into the main store")
    fields = ast.literal_eval(args.overrides)
    config = dataclasses.replace(ObjectsConfig(), **fields)
    folder = ensure_trained(config, paths.models_dir(), progress=True)
    generator = VideoObjectsGenerator(folder)
    name = "video-objects " + ",".join(f"{k}={v}" for k, v in sorted(fields.items()))
    args.db.parent.mkdir(parents=True, exist_ok=True)
    with Store(args.db) as store:
        card = LongVideoTrack().run(name, generator, store, args.profile, progress=True)
    print(f"{name} (key {config.key()}, trained in {generator.meta.get('train_seconds', 0):.0f} s)")
    for r in card.records:
        if r.category in ("on_track", "fps") or r.category.startswith(("horizon_s_10min",
                                                                         "on_track_")):
            print(f"  {r.category}: {r.value:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]")


if __name__ == "__main__":
    main()
