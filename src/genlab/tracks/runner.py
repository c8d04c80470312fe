"""Run tracks over generators, controls included: what ``genlab run`` does.

Names are checked before anything is built or trained, so a typo fails in a
second with a close-match suggestion rather than after a training run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from genlab import catalog
from genlab.contracts import Generator
from genlab.errors import GenlabError, UnknownNameError, suggest
from genlab.store import Store
from genlab.tracks.scorecard import Scorecard, Track

PROFILES: tuple[str, ...] = ("smoke", "default")


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise UnknownNameError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}."
                               + suggest(profile, PROFILES))
    return profile


def plan(tracks: Sequence[str] | None, generators: Sequence[str] | None
         ) -> tuple[list[str], list[str]]:
    """The tracks (default: every registered one) and generators (default:
    ``catalog.DEFAULT_GENERATORS``, and always the controls) to run, names checked."""
    track_names = list(dict.fromkeys(tracks or catalog.TRACKS.names()))
    gen_names = list(dict.fromkeys([*(generators or catalog.DEFAULT_GENERATORS),
                                    *catalog.CONTROLS]))
    for name in track_names:
        catalog.TRACKS.factory(name)
    for name in gen_names:
        catalog.GENERATORS.factory(name)
    return track_names, gen_names


def build_generator(name: str, *, profile: str, cache_dir: Path, progress: bool) -> Generator:
    """``catalog.GENERATORS.get`` with a missing optional dependency made a clear error."""
    try:
        return catalog.GENERATORS.get(name, profile=profile, cache_dir=cache_dir,
                                      progress=progress)
    except ImportError as exc:
        raise GenlabError(f"generator {name!r} cannot be built: {exc}") from exc


def run_tracks(store: Store, tracks: Sequence[str] | None, generators: Sequence[str] | None, *,
               profile: str, cache_dir: Path, fresh: bool = False, progress: bool = True
               ) -> list[Scorecard]:
    """Every (generator, track) pair; each generator is built once (the flow model
    trains on first use and is cached in ``cache_dir``)."""
    check_profile(profile)
    track_names, gen_names = plan(tracks, generators)
    built: list[Track] = [catalog.TRACKS.get(t) for t in track_names]
    cards = []
    for name in gen_names:
        gen = build_generator(name, profile=profile, cache_dir=cache_dir, progress=progress)
        for track in built:
            cards.append(track.run(name, gen, store, profile, fresh=fresh, progress=progress))
    return cards
