"""Track ``longvideo``: minutes of coherent video, measured exactly on the ``motion`` world.

The seed's problem 2: models reach 5-60 s of video; the target is 10+ minutes,
coherent. No benchmark measures identity or physics drift over minutes (VBench-Long
starts at 5 s and judges with detectors). Here the truth is the simulator's.

Protocol (Phyworld's, Kang et al., 2024): a generator is shown the first
``context`` frames of a ``motion`` video (the simulator's renders) and its prompt,
and continues it for each duration (default 4 s, 1 min, 10 min at 30 fps). The
continuation is judged frame by frame by the ``tracking`` judge against the
simulator's rollout from the same instant: identity, count and colour consistency,
position error in pixels, the horizon (``horizon_s``: the seconds a rollout stays on
track, median over rollouts and per scenario), flicker,
object permanence read from the video alone
(``consistency_permanence``: no body vanishes, appears or changes except through an
open side of the view; it needs no truth path, so a video whose bodies drifted off
their true paths loses nothing by it), and ``on_track`` (the frame is right in every
respect and within 1 px). Consistency scores use each rollout's last minute (the
whole video when shorter); position error is also reported over the first minute,
so growth shows. The shortest duration draws scenes from the whole ``test`` split,
half of which carry held-out physics (unseen speeds or motion x shape pairs), and
reports the position error of both halves (the OOD gap); the longer ones draw
in-distribution scenes whose bodies stay in view (:func:`_stays`). Each rollout is
generated chunk by chunk and saved after
every chunk, so a killed 10-minute rollout resumes where it stopped; generation
frames/s and peak memory are measured per rollout, and ``peak_mem_ratio`` is the
median peak memory of the longest rollouts over that of the next duration's (flat
memory: 1). Every video is written as an MP4
and a filmstrip (frames at 0, 10%, 50% and 100% of it: 0 s, 1 min, 5 min, 10 min).

The controls beside every generator (``catalog.VIDEO_CONTROLS``): the simulator itself
(``video-oracle``); the simulator from a start whose context renders pixel for pixel
as the truth's (``video-twin``: where it leaves the truth's path, no generator shown
the context can be sure of the path, so its horizon is the protocol's predictability
limit per scene); the simulator from a start drawn from that set about perception's
reading (``video-member``: what a reader who knows the set but not the truth would
read; pooled over rollouts, the share such a reader can expect; a body the set cannot be
drawn for keeps the reading); the last context frame, frozen; random motion.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genlab.contracts import VideoGenerator, VideoRequest
from genlab.errors import GenlabError, InputError, UnknownNameError, check_int, suggest
from genlab.judges import tracking
from genlab.progress import Advance, bars
from genlab.stats import ratio_of_medians_bootstrap, summed_bootstrap
from genlab.store import SampleRow, Store
from genlab.tracks import longvideo_scores as ls
from genlab.tracks.control import describe_generator, jsonable
from genlab.tracks.longvideo_rollout import clear, roll
from genlab.tracks.scorecard import Scorecard
from genlab.tracks.scoring import derive_seed
from genlab.worlds.motion import splits, video
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import check_fps, simulate
from genlab.worlds.motion.spec import MotionScene
from genlab.worlds.shapes.render import check_size

NAME, VERSION = "longvideo", "1.1"  # 1.1: long scenes keep their bodies in view
MAX_SECONDS = 3600.0


def duration_label(seconds: float) -> str:
    """``4.0`` -> ``"4s"``, ``60`` -> ``"1min"``, ``600`` -> ``"10min"``, ``1.5`` -> ``"1.5s"``."""
    if seconds >= 60 and float(seconds) % 60 == 0:
        return f"{int(seconds) // 60}min"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class LongVideoConfig:
    """The protocol of one ``longvideo`` evaluation; stored, resolved, with every run."""

    durations: tuple[float, ...] = (4.0, 60.0, 600.0)
    """Seconds of video generated after the context, one set of rollouts each."""
    scenes: tuple[int, ...] = (30, 6, 3)
    """Rollouts per duration (scenarios in turn: uniform, parabola, collision)."""
    fps: int = 30
    """Frames per second (a divisor of the simulator's 240 Hz)."""
    size: int = 32
    """Frame side in pixels."""
    context: int = 4
    """Frames of the simulator's video the generator is shown."""
    chunk_seconds: float = 10.0
    """Seconds generated between saves (what a killed rollout can lose)."""
    window_seconds: float = 60.0
    """The final window consistency is scored on (and the first one for growth)."""
    block_seconds: int = 10
    """The block bootstrap's block, in seconds."""
    seed: int = 20_261_127
    """The public seed of the scene sets and generator seeds."""
    resamples: int = 2000
    """Bootstrap resamples per interval (>= 1000)."""
    mp4_scale: int = 4
    """Nearest-neighbour upscaling of the MP4s and filmstrips."""

    def __post_init__(self) -> None:
        if not self.durations or len(self.scenes) != len(self.durations):
            raise InputError(f"longvideo durations {self.durations!r} and scenes "
                             f"{self.scenes!r} must be non-empty and of equal length")
        for d in self.durations:
            if isinstance(d, bool) or not isinstance(d, (int, float)) \
                    or not math.isfinite(d) or not 0 < d <= MAX_SECONDS:
                raise InputError(f"longvideo duration {d!r} seconds: accepted a number "
                                 f"in (0, {MAX_SECONDS:g}]")
        if list(self.durations) != sorted(set(self.durations)):
            raise InputError(f"longvideo durations {self.durations!r} must be increasing")
        for n in self.scenes:
            check_int("scenes per duration", n)
        check_fps(self.fps)
        check_size(self.size)
        check_int("context", self.context)
        check_int("block_seconds", self.block_seconds)
        check_int("mp4_scale", self.mp4_scale)
        for name in ("chunk_seconds", "window_seconds"):
            if not getattr(self, name) * self.fps >= 1:
                raise InputError(f"{name} {getattr(self, name)!r} must span >= 1 frame")
        for d in self.durations:
            if d * self.fps < 1 or abs(d * self.fps - round(d * self.fps)) > 1e-9:
                raise InputError(f"duration {d!r} s at {self.fps} fps is not a whole "
                                 "number of frames (>= 1)")

    def frames(self, seconds: float) -> int:
        return int(round(seconds * self.fps))

    @property
    def window(self) -> int:
        """The scoring window in whole seconds (the per-second series' unit)."""
        return max(1, int(round(self.window_seconds)))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(duration_label(d) for d in self.durations)

    @classmethod
    def stored(cls, config_json: str) -> LongVideoConfig:
        """The protocol a run of this track stored (its ``config_json``)."""
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v
                                  in json.loads(config_json)["track"]["config"].items()}
        return cls(**fields)

    @classmethod
    def smoke(cls) -> LongVideoConfig:
        """Seconds: two durations, four rollouts, two chunks in the longer one."""
        return cls(durations=(1.0, 2.0), scenes=(3, 1), chunk_seconds=1.0,
                   window_seconds=1.0, block_seconds=1, resamples=1000, mp4_scale=2)

    @classmethod
    def default(cls) -> LongVideoConfig:
        """30 x 4 s, 6 x 1 min and 3 x 10 min per generator (the issue's durations)."""
        return cls()


PROFILES = {"smoke": LongVideoConfig.smoke, "default": LongVideoConfig.default}


def config_for(profile: str) -> LongVideoConfig:
    if profile not in PROFILES:
        raise UnknownNameError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}."
                               + suggest(profile, PROFILES))
    return PROFILES[profile]()


@dataclass(frozen=True)
class LongVideoItem:
    """One rollout to make: a scene of the ``test`` split and a duration."""

    key: str
    label: str
    seconds: float
    scenario: str
    prompt: str
    scene: MotionScene = field(repr=False)
    ood: tuple[str, ...]
    seed: int


@functools.lru_cache(maxsize=4)
def items(config: LongVideoConfig) -> list[LongVideoItem]:
    """The fixed rollouts of ``config``: per duration, scenes of each scenario in turn
    (every ``test`` scene for the shortest duration, in-distribution ones after)."""
    out = []
    for d_index, (seconds, n) in enumerate(zip(config.durations, config.scenes, strict=True)):
        label = duration_label(seconds)
        per = [n // 3 + (i < n % 3) for i in range(3)]
        for scenario, count in zip(splits.SCENARIOS, per, strict=True):
            chosen = _draw(scenario, count, config.seed + d_index,
                           None if d_index == 0 else config)
            if len(chosen) < count:  # pragma: no cover - MAX_POOL is ample for this
                raise GenlabError(f"only {len(chosen)} {scenario} scenes for {label} in "
                                  f"{MAX_POOL} drawn; {count} asked")
            for i, it in enumerate(chosen[:count]):
                key = f"{label}/{scenario}/s{i:02d}"
                out.append(LongVideoItem(key, label, float(seconds), scenario, it.prompt,
                                         it.scene, it.ood, derive_seed(NAME, config.seed, key)))
    return out


STAY_SECONDS, STAY_SHARE = 20.0, 0.95
MAX_POOL = 512  # the most ``test`` scenes drawn per scenario and duration


def _draw(scenario: str, count: int, seed: int, config: LongVideoConfig | None
          ) -> list[splits.MotionItem]:
    """The first ``count`` (or fewer) ``test`` scenes of ``scenario`` drawn with
    ``seed``: every one, or with ``config`` the in-distribution ones whose bodies stay
    in view (:func:`_stays`). The draw is a prefix of one seeded sequence, so the pool
    grows (``4 * count + 8``, doubled up to :data:`MAX_POOL`) only when too few of its
    scenes qualify, and a larger pool never changes a choice a smaller one made (scene
    seeds the first pool served, the track's own included, draw the scenes they drew)."""
    n = 4 * count + 8
    while True:
        pool = splits.sample(scenario, "test", n, seed=seed)
        chosen = pool if config is None else [it for it in pool
                                              if not it.ood and _stays(it.scene, config)]
        if len(chosen) >= count or n >= MAX_POOL:
            return chosen[:count]
        n = min(2 * n, MAX_POOL)


def _stays(scene: MotionScene, config: LongVideoConfig) -> bool:
    """Whether every body is in view on >= 95% of the frames of the scene's first 20 s.
    The view has no ceiling: weightless bodies drifting up (or down, then off the
    floor) leave it for good within ~10 s, and a video of an empty view is matched by
    an empty output, so the long durations draw scenes that keep their bodies (1.0
    did not)."""
    frames = config.frames(min(STAY_SECONDS, config.durations[-1])) + config.context
    return bool((simulate(scene, frames, config.fps).visible().mean(axis=0)
                 >= STAY_SHARE).all())


def _safe(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key)


def _filmstrip_indices(frames: int) -> list[int]:
    return sorted({int(round(f * (frames - 1))) for f in (0.0, 0.1, 0.5, 1.0)})


class LongVideoTrack:
    """The ``longvideo`` track. ``run`` evaluates one video generator and stores it all."""

    name = NAME
    version = VERSION
    inputs = "video"
    headline = "on_track"

    @staticmethod
    def summary(records: Sequence[dict[str, Any]], full: bool = False
                ) -> tuple[tuple[str, str], ...]:
        """The command line's columns: the headline, fps, and per duration the on-track
        share and position error (``full``, for the report: also identity, count, colour
        and permanence consistency, the horizon, the first minute's position error and
        peak memory)."""
        cats = {r["category"] for r in records}
        cols = [("on_track", "on track"), ("fps", "frames/s")]
        for label in dict.fromkeys(c.rsplit("_", 1)[1] for c in cats
                                   if c.startswith("on_track_")):
            cols.append((f"on_track_{label}", f"on track {label}"))
            if full:
                cols += [(f"consistency_{k}_{label}", f"{k} {label}")
                         for k in ("identity", "count", "colour", "permanence")]
                cols.append((f"horizon_s_{label}", f"horizon s {label}"))
                cols.append((f"position_error_px_{label}_start", f"px {label} (1st min)"))
            cols.append((f"position_error_px_{label}", f"px {label}"))
            if full:
                cols += [(f"position_error_px_{label}_ood", f"px {label} OOD"),
                         (f"peak_mem_mb_{label}", f"peak MB {label}")]
        return tuple((c, h) for c, h in cols if not full or c in cats)

    def run(self, generator_name: str, generator: VideoGenerator, store: Store, profile: str,
            fresh: bool = False, *, config: LongVideoConfig | None = None,
            progress: bool = False) -> Scorecard:
        """Roll out, judge and score ``generator`` (resuming an unfinished identical run,
        a half-made rollout included, unless ``fresh``)."""
        config = config or config_for(profile)
        if not callable(getattr(generator, "start", None)):
            raise InputError(f"track {NAME!r} evaluates video generators; "
                             f"{generator_name!r} is not one (it has no start())")
        todo = items(config)
        resolved = jsonable({
            "track": {"name": NAME, "version": VERSION, "config": asdict(config)},
            "scene_set_sha256": hashlib.sha256(json.dumps(
                [(it.key, it.scene.to_json(), it.seed) for it in todo]).encode()).hexdigest(),
            "judge": {"name": tracking.NAME, "version": tracking.VERSION},
            "generator": describe_generator(generator)})  # type: ignore[arg-type]
        run = store.start_run(track=NAME, track_version=VERSION, generator=generator_name,
                              profile=profile, config=resolved, judge=tracking.NAME,
                              judge_version=tracking.VERSION, fresh=fresh)
        if run.status == "complete":
            return Scorecard.from_store(store, run.id)
        done = store.done_keys(run.id)
        pending = [it for it in todo if it.key not in done]
        folder = store.image_dir(run.id)
        with bars(progress) as task:
            advance = task(f"{NAME} · {generator_name}",
                           sum(config.frames(it.seconds) for it in pending))
            for it in pending:
                row, strip = self._one(it, generator, config, folder, store.path.parent,
                                       advance)
                store.add_samples(run.id, [row], strip[None])
                clear(folder / "chunks" / _safe(it.key))
        missing = {it.key for it in todo} - store.done_keys(run.id)
        if missing:  # pragma: no cover - only if rows vanish under us
            raise GenlabError(f"run {run.id} is missing {len(missing)} rollouts")
        store.finish_run(run.id, scores(store.samples(run.id), config))
        return Scorecard.from_store(store, run.id)

    @staticmethod
    def _one(it: LongVideoItem, generator: VideoGenerator, config: LongVideoConfig,
             folder: Path, root: Path, advance: Advance) -> tuple[SampleRow, np.ndarray]:
        """Generate (resumably), judge, and write the MP4 of one rollout."""
        start = simulate(it.scene, config.context, config.fps)
        context = render_frames(start, config.size)
        request = VideoRequest(it.prompt, it.seed, config.fps, context,
                               it.scene.to_json() if generator.privileged else "")
        n = config.frames(it.seconds)
        chunk = max(1, config.frames(config.chunk_seconds))
        result = roll(generator, request, n, chunk, folder / "chunks" / _safe(it.key), advance)
        reference = simulate(it.scene, n, config.fps, start=start.end)
        judged = tracking.track(result.frames, reference)
        series = ls.per_second(judged)
        mp4 = video.write_mp4(np.concatenate([context, result.frames]),
                              folder / "videos" / f"{_safe(it.key)}.mp4", config.fps,
                              scale=config.mp4_scale)
        indices = _filmstrip_indices(n)
        strip = video.filmstrip(result.frames, indices, scale=config.mp4_scale)
        window = config.window
        last = {s: ls.window_mean(series, s, -window, len(series["frames"]))
                for s in ("on_track", "identity_ok", "count_ok", "colour_ok",
                          "permanence_ok", "position_error_px")}
        passed = bool(last["on_track"] >= 0.99)
        reason = (f"last {min(window, it.seconds):g} s: on track {last['on_track']:.1%}, "
                  f"identity {last['identity_ok']:.1%}, count {last['count_ok']:.1%}, "
                  f"colour {last['colour_ok']:.1%}, permanence {last['permanence_ok']:.1%}, "
                  f"position error "
                  f"{last['position_error_px']:.2f} px; {result.fps:.0f} frames/s")
        details = {"seconds": it.seconds, "frames": n, "scenario": it.scenario,
                   "ood": list(it.ood), "fps": result.fps, "gen_seconds": result.seconds,
                   "peak_rss_mb": result.peak_rss_mb, "rss_before_mb": result.rss_before_mb,
                   "segments": result.segments, "mp4": mp4.relative_to(root).as_posix(),
                   "filmstrip_s": [i / config.fps for i in indices], "per_second": series}
        row = SampleRow(it.key, "test", it.label, it.key, it.prompt, "null",
                        it.scene.to_json(), it.seed, passed, reason, json.dumps(details),
                        bool(it.ood), len(it.scene.bodies))
        return row, strip


def scores(samples: Sequence[dict[str, Any]], config: LongVideoConfig) -> list[dict[str, Any]]:
    """Every category of the track from its stored rollouts (see the module docstring)."""
    opts = {"resamples": config.resamples, "seed": config.seed}
    block, window = config.block_seconds, config.window
    out, finals = [], []
    by_label = {label: rows for label in config.labels
                if (rows := [s for s in samples if s["category"] == label])}
    for label, rows in by_label.items():
        pairs = [(s["key"], s["details"]["per_second"]) for s in rows]
        finals += pairs
        seconds = float(rows[0]["details"]["seconds"])
        final = (-window, 10 ** 9)
        for cat, name in (("on_track", "on_track"), ("consistency_identity", "identity_ok"),
                          ("consistency_count", "count_ok"), ("consistency_colour", "colour_ok"),
                          ("consistency_permanence", "permanence_ok"),
                          ("position_error_px", "position_error_px"), ("flicker", "flicker"),
                          ("judgeable", "judgeable")):
            est = ls.window_estimate(pairs, name, final, block, **opts)
            if est is not None:
                out.append(ls.record(f"{cat}_{label}", est))
        if seconds > window:
            est = ls.window_estimate(pairs, "position_error_px", (0, window), block, **opts)
            if est is not None:
                out.append(ls.record(f"position_error_px_{label}_start", est))
        for flag, part in (("ood", [p for p, s in zip(pairs, rows, strict=True)
                                    if s["heldout"]]),
                           ("id", [p for p, s in zip(pairs, rows, strict=True)
                                   if not s["heldout"]])):
            if part and len(part) < len(pairs):
                est = ls.window_estimate(part, "position_error_px", final, block, **opts)
                if est is not None:
                    out.append(ls.record(f"position_error_px_{label}_{flag}", est))
        # the horizon: seconds on track, per rollout; the median, and per scenario
        on_path = [ls.horizon(series, seconds) for _, series in pairs]
        out.append(ls.record(f"horizon_s_{label}", ls.median_estimate(on_path, **opts)))
        for scenario in splits.SCENARIOS:
            mine = [h for h, s in zip(on_path, rows, strict=True)
                    if s["details"]["scenario"] == scenario]
            if mine and len(mine) < len(rows):
                out.append(ls.record(f"horizon_s_{label}_{scenario}",
                                     ls.median_estimate(mine, **opts)))
        keys = [s["key"] for s in rows]
        for cat, field_ in (("fps", "fps"), ("peak_mem_mb", "peak_rss_mb")):
            values = [float(s["details"][field_]) for s in rows]
            out.append(ls.record(f"{cat}_{label}", ls.rollout_estimate(values, keys, **opts)))
    if len(by_label) > 1:  # memory against duration: the longest over the one before
        before, longest = ([float(s["details"]["peak_rss_mb"]) for s in rows]
                           for rows in list(by_label.values())[-2:])
        out.append(ls.record("peak_mem_ratio", ratio_of_medians_bootstrap(
            longest, before, **opts)))
    est = ls.window_estimate(finals, "on_track", (-window, 10 ** 9), block, **opts)
    if est is not None:
        out.insert(0, ls.record("on_track", est))
    # generated frames / generation seconds over every rollout, rollouts resampled
    fps = summed_bootstrap([float(s["details"]["frames"]) for s in samples],
                           [float(s["details"]["gen_seconds"]) for s in samples],
                           proportion=False, **opts)
    out.insert(1, {**ls.record("fps", fps), "n": sum(int(s["details"]["frames"])
                                                     for s in samples)})
    return out
