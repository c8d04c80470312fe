"""Benchmark: the ``longvideo`` track on a scene set no one has looked at (issue 6).

The track's scenes are fixed by ``LongVideoConfig.seed``; perception was mended by
reading its failing rollouts (session 24), so its figures on those scenes are no longer
a held-out measurement. This runs chosen video generators on the default protocol with
another scene seed, into ``--db`` (never the main store); then ``python
bench/longvideo_table.py --db`` prints the tables, the comparison with ``video-twin``
included.

    python bench/longvideo_fresh.py --seed 1 --db /tmp/lvfresh/genlab.db \\
        [-g video-physics video-twin]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from genlab import catalog, paths
from genlab.store import Store
from genlab.tracks.longvideo import LongVideoConfig, LongVideoTrack


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True,
                    help=f"the scene set's seed (the track's own: {LongVideoConfig.seed})")
    ap.add_argument("--db", type=Path, required=True, help="the store (never the main one)")
    ap.add_argument("-g", "--generators", nargs="+", default=["video-physics", "video-twin"],
                    choices=catalog.VIDEO_GENERATORS.names(), metavar="NAME")
    args = ap.parse_args()
    if args.db.resolve() == paths.default_db().resolve():
        raise SystemExit(f"--db {args.db}: a fresh scene set never goes into the main store")
    if args.seed == LongVideoConfig.seed:
        raise SystemExit(f"--seed {args.seed} is the track's own scene set; choose another")
    config = dataclasses.replace(LongVideoConfig.default(), seed=args.seed)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    with Store(args.db) as store:
        for name in args.generators:
            generator = catalog.VIDEO_GENERATORS.get(name, profile="default")
            card = LongVideoTrack().run(name, generator, store, "default", config=config,
                                        progress=True)
            print(f"{name}: on track {card.get('on_track').value:.3f}", flush=True)


if __name__ == "__main__":
    main()
