"""Benchmark: the ``longvideo`` track on a scene set no one has looked at (issue 6).

The track's scenes are fixed by ``LongVideoConfig.seed``; perception was mended by
reading its failing rollouts (session 24), so its figures on those scenes are no longer
a held-out measurement. This runs chosen video generators on the default protocol with
another scene seed, into ``--db`` (never the main store); then ``python
bench/longvideo_table.py --db`` prints the tables, the comparison with ``video-twin``
included.

Duration ``d`` (0, 1, 2) draws its scenes with seed ``seed + d``, so two scene seeds
closer than the number of durations share scenes. Seeds used so far (docs/results.md):
1 (session 24's fresh set; read in session 25 to mend perception, as were 5 and 6),
10 (held out in session 25, run once after perception 6 was fixed; its 10-minute scenes
in session 26's stage bench), 20 (held out in session 26, run once after perception
7 was fixed, then its misses read), 23 (held out in session 27, run once on
perception 7 before anything of it was read), 26 (held out in session 28, run once on
perception 7), 29 (held out in session 30), 32, 35 and 38 (held out in session 31, run
once on perception 7 and ``video-member`` 2; 35 then read). The next held-out set: 41 or above.
The track's own seed runs the track's own set with the chosen generators only (``genlab
run`` runs every control beside them).

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
    config = dataclasses.replace(LongVideoConfig.default(), seed=args.seed)
    if 0 < abs(args.seed - LongVideoConfig.seed) < len(config.durations):
        raise SystemExit(f"--seed {args.seed} shares some scenes with the track's own set "
                         f"(seed {LongVideoConfig.seed}: durations draw with seed + 0, 1, "
                         "...); choose another, or the track's own seed for its whole set")
    args.db.parent.mkdir(parents=True, exist_ok=True)
    with Store(args.db) as store:
        for name in args.generators:
            generator = catalog.VIDEO_GENERATORS.get(name, profile="default")
            card = LongVideoTrack().run(name, generator, store, "default", config=config,
                                        progress=True)
            print(f"{name}: on track {card.get('on_track').value:.3f}", flush=True)


if __name__ == "__main__":
    main()
