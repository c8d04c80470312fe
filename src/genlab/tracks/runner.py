"""Run tracks over generators, controls included: what ``genlab run`` does.

A track takes image generators, video generators or metrics (its ``inputs``:
``"image"`` unless it says ``"video"`` or ``"metric"``); each is paired with the
generators of its kind, the kind's controls always beside them. Names are checked
before anything is built or trained, so a typo fails in a second with a close-match
suggestion rather than after a training run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from genlab import catalog
from genlab.errors import GenlabError, InputError, UnknownNameError, suggest
from genlab.store import Store
from genlab.tracks.scorecard import Scorecard, Track

PROFILES: tuple[str, ...] = ("smoke", "default")
KINDS: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...]]] = {
    "image": (catalog.GENERATORS, catalog.DEFAULT_GENERATORS, catalog.CONTROLS),
    "video": (catalog.VIDEO_GENERATORS, catalog.DEFAULT_VIDEO_GENERATORS,
              catalog.VIDEO_CONTROLS),
    "metric": (catalog.METRICS, catalog.DEFAULT_METRICS, catalog.METRIC_CONTROLS),
}


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise UnknownNameError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}."
                               + suggest(profile, PROFILES))
    return profile


def track_inputs(track: object) -> str:
    """``"image"``, ``"video"`` or ``"metric"``: the kind of generator a track evaluates."""
    kind = getattr(track, "inputs", "image")
    if kind not in KINDS:
        raise GenlabError(f"track {getattr(track, 'name', track)!r} declares inputs "
                          f"{kind!r}; accepted: {', '.join(KINDS)}")
    return str(kind)


def plan(tracks: Sequence[str] | None, generators: Sequence[str] | None
         ) -> list[tuple[str, list[str]]]:
    """Each track to run (default: every registered one) with the generators it runs
    on: those given of its kind (default: the kind's defaults and the track's own
    ``extra_defaults``), then the kind's controls. A track asked for by name whose
    kind none of the given generators has is an error; among the default tracks it
    is skipped."""
    for name in generators or ():
        catalog.generator_kind(name)
    track_names = list(dict.fromkeys(tracks or catalog.TRACKS.names()))
    out = []
    for name in track_names:
        track = catalog.TRACKS.get(name)
        kind = track_inputs(track)
        _, defaults, controls = KINDS[kind]
        if generators:
            chosen = [g for g in generators if catalog.generator_kind(g) == kind]
            if not chosen:
                if tracks:
                    raise InputError(f"track {name!r} evaluates {kind} generators; none of "
                                     f"{list(generators)} is one (e.g. {', '.join(controls)})")
                continue
        else:  # the kind's defaults, and any the track adds for itself
            chosen = [*defaults, *getattr(track, "extra_defaults", ())]
        out.append((name, list(dict.fromkeys([*chosen, *controls]))))
    return out


def build_generator(name: str, *, profile: str, cache_dir: Path, progress: bool) -> Any:
    """The generator called ``name`` from its kind's registry, a missing optional
    dependency made a clear error."""
    registry = KINDS[catalog.generator_kind(name)][0]
    try:
        return registry.get(name, profile=profile, cache_dir=cache_dir, progress=progress)
    except ImportError as exc:
        raise GenlabError(f"generator {name!r} cannot be built: {exc}") from exc


def run_tracks(store: Store, tracks: Sequence[str] | None, generators: Sequence[str] | None, *,
               profile: str, cache_dir: Path, fresh: bool = False, progress: bool = True
               ) -> list[Scorecard]:
    """Every (track, generator) pair of :func:`plan`; each generator is built once
    (trained models train on first use and are cached in ``cache_dir``)."""
    check_profile(profile)
    pairs = plan(tracks, generators)
    built_tracks: dict[str, Track] = {t: catalog.TRACKS.get(t) for t, _ in pairs}
    cards = []
    for gen_name in dict.fromkeys(g for _, gens in pairs for g in gens):
        gen = build_generator(gen_name, profile=profile, cache_dir=cache_dir,
                              progress=progress)
        for track_name, gens in pairs:
            if gen_name in gens:
                track = built_tracks[track_name]
                extra = {"cache_dir": cache_dir} if getattr(track, "uses_cache", False) else {}
                cards.append(track.run(gen_name, gen, store, profile, fresh=fresh,
                                       progress=progress, **extra))
    return cards
