"""The protocol of the ``realtime`` track: its settings (one way to sample a generator)
and its configuration (which settings, the quality subset, the timing), with the
profiles ``smoke`` and ``default``. The track itself is :mod:`genlab.tracks.realtime`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from genlab.errors import InputError, UnknownNameError, check_int, suggest
from genlab.generators.flow.autoencoder import check_decoder
from genlab.generators.flow.feature_cache import check_interval
from genlab.generators.flow.precision import DTYPES
from genlab.generators.flow.sampling import CALLS_PER_STEP, get_sampler, time_grid
from genlab.metrics.feature_train import FeatureConfig
from genlab.tracks import control

QUALITY_SPLIT = "dev"  # the public split: a frontier is for choosing settings


@dataclass(frozen=True)
class Setting:
    """One way to sample a generator: ``sampler`` at ``steps`` steps, guidance
    ``guidance`` (None: the generator's own), feature caching every ``cache`` model
    evaluations (1: off; :mod:`genlab.generators.flow.feature_cache`), the backbone's
    ``dtype`` (``float32`` or ``bfloat16``; the generator refuses one its CPU cannot
    run natively), ``stream`` (the prompts go through the generator's ``stream``
    method, one entering per batched call: :mod:`genlab.generators.flow.stream`), and
    a latent model's ``decoder`` (``vae`` or ``tiny``:
    :mod:`genlab.generators.flow.autoencoder`; a pixel model skips ``tiny`` settings)."""

    sampler: str
    steps: int
    guidance: float | None = None
    cache: int = 1
    stream: bool = False
    dtype: str = "float32"
    decoder: str = "vae"

    def __post_init__(self) -> None:
        get_sampler(self.sampler)  # UnknownNameError with close matches
        time_grid(self.steps)  # InputError unless an int >= 1
        if self.guidance is not None and (isinstance(self.guidance, bool)
                                          or not isinstance(self.guidance, (int, float))
                                          or not np.isfinite(self.guidance)):
            raise InputError(f"setting guidance must be a finite number or None, "
                             f"got {self.guidance!r}")
        check_interval(self.cache)
        if self.dtype not in DTYPES:
            raise InputError(f"unknown setting dtype {self.dtype!r}; accepted: "
                             f"{', '.join(DTYPES)}")
        check_decoder(self.decoder)
        if not isinstance(self.stream, bool):
            raise InputError(f"setting stream must be true or false, got {self.stream!r}")
        if self.stream and (self.sampler != "euler" or self.cache != 1):
            raise InputError(f"a stream setting takes the euler sampler without feature "
                             f"caching; got sampler {self.sampler!r}, cache {self.cache}")

    @property
    def label(self) -> str:
        """``euler-8``; ``-w1`` at guidance 1, ``-c2`` with feature caching every 2
        evaluations, ``-tiny`` decoded by the tiny decoder, ``-stream`` streamed:
        ``euler-4-w1-stream``."""
        return (f"{self.sampler}-{self.steps}"
                + ("" if self.guidance is None else f"-w{self.guidance:g}")
                + ("" if self.cache == 1 else f"-c{self.cache}")
                + ("" if self.dtype == "float32" else "-bf16")
                + ("" if self.decoder == "vae" else f"-{self.decoder}")
                + ("-stream" if self.stream else ""))

    @property
    def nfe(self) -> int:
        """Model evaluations per image: steps x the sampler's calls per step (a cached
        evaluation counts as one: it is a cheaper one)."""
        return self.steps * CALLS_PER_STEP[self.sampler]

    def options(self) -> dict[str, Any]:
        """The generator's ``with_options`` for this setting (``stream`` is not one:
        the track streams through the generator's ``stream`` method)."""
        out: dict[str, Any] = {"sampler": self.sampler, "steps": self.steps}
        if self.guidance is not None:
            out["guidance"] = float(self.guidance)
        if self.cache != 1:
            out["cache"] = self.cache
        if self.dtype != "float32":
            out["dtype"] = self.dtype
        if self.decoder != "vae":
            out["decoder"] = self.decoder
        return out

    def as_dict(self) -> dict[str, Any]:
        """The stored form: fields at their defaults left out, so that runs stored before
        a field existed keep their identity."""
        d = asdict(self)
        for name, default in (("cache", 1), ("stream", False), ("dtype", "float32"),
                              ("decoder", "vae")):
            if d[name] == default:
                del d[name]
        return d


def _settings(spec: Sequence[tuple[str, Sequence[int]]], **kw: Any) -> tuple[Setting, ...]:
    return tuple(Setting(sampler, s, **kw) for sampler, steps in spec for s in steps)


@dataclass(frozen=True)
class RealtimeConfig:
    """The protocol of one ``realtime`` evaluation; stored, resolved, with every run."""

    settings: tuple[Setting, ...] = (
        *_settings((("euler", (32, 16, 8, 4, 2, 1)), ("heun", (4, 2, 1)), ("ab2", (8, 4, 2)),
                    ("dpmpp-2m", (8, 4)), ("unipc", (8, 4)))),
        *_settings((("euler", (8, 1)),), guidance=1.0),
        Setting("euler", 32, cache=4), Setting("ab2", 8, cache=2), Setting("euler", 4, stream=True),
        *_settings((("euler", (32,)), ("ab2", (8, 4))), decoder="tiny"))
    """Settings swept on a generator with ``with_options``; the first is the baseline
    of ``relative_accuracy``. A generator without a ``stream`` method skips the stream
    settings; one without a latent space (``latent``) skips the ``tiny`` decoder's."""
    student_settings: tuple[Setting, ...] = (
        *_settings((("euler", (1, 2, 3, 4, 8)), ("ab2", (5, 6, 7, 8)))),
        Setting("euler", 2, stream=True), Setting("euler", 4, stream=True))
    """Settings swept on a student (a generator with a ``reference``, the model it was
    distilled from: few-step students and the guidance-distilled model, whose 8 steps
    are compared with the teacher's); the reference's baseline setting is run beside
    them."""
    quality: control.ControlConfig = field(default_factory=lambda: control.ControlConfig(
        splits=(QUALITY_SPLIT,), prompts_per_category=16, images_per_prompt=4, batch_size=64))
    """The ``control`` subset that measures accuracy (the ``dev`` split only)."""
    features: FeatureConfig = field(default_factory=FeatureConfig)
    """The feature networks whose attribute classifier the ``fid`` of each setting reads
    (the metrics track's; :mod:`genlab.tracks.realtime_fid`)."""
    latency_runs: int = 100
    """Timed batch-1 calls (the issue asks for >= 100)."""
    warmup: int = 5
    """Untimed calls before the timed ones."""
    latency_block: int = 10
    """Consecutive timed batch-1 calls of one setting before the next setting's turn."""
    throughput_batch: int = 64
    """Images per call when measuring throughput."""
    throughput_runs: int = 3
    """Timed calls at ``throughput_batch`` (after one untimed call)."""
    resamples: int = 2000
    """Bootstrap resamples per interval."""
    seed: int = 20_241_105
    """Seeds the bootstrap."""

    def __post_init__(self) -> None:
        for what in ("settings", "student_settings"):
            labels = [s.label for s in getattr(self, what)]
            if not labels:
                raise InputError(f"realtime needs at least one setting in {what}")
            dup = sorted({x for x in labels if labels.count(x) > 1})
            if dup:
                raise InputError(f"realtime {what} repeat {dup}; each must be distinct")
        if self.quality.splits != (QUALITY_SPLIT,):
            raise InputError(f"realtime measures accuracy on the {QUALITY_SPLIT!r} split only, "
                             f"got splits {self.quality.splits!r}")
        for name, low in (("latency_runs", 1), ("warmup", 0), ("throughput_batch", 1),
                          ("throughput_runs", 1), ("latency_block", 1)):
            check_int(name, getattr(self, name), low)

    @property
    def baseline(self) -> Setting:
        return self.settings[0]

    @classmethod
    def smoke(cls) -> RealtimeConfig:
        """Tiny: every code path in seconds."""
        return cls(settings=(*_settings((("euler", (4, 1)),)), Setting("euler", 1, decoder="tiny")),
                   student_settings=_settings((("euler", (1,)),)),
                   quality=control.ControlConfig(splits=(QUALITY_SPLIT,), prompts_per_category=2,
                                                 images_per_prompt=1, resamples=1000,
                                                 batch_size=32),
                   features=FeatureConfig.smoke(), latency_runs=3, warmup=1,
                   throughput_batch=4, throughput_runs=2, resamples=1000)

    @classmethod
    def default(cls) -> RealtimeConfig:
        return cls()


PROFILES: dict[str, Callable[[], RealtimeConfig]] = {"smoke": RealtimeConfig.smoke,
                                                     "default": RealtimeConfig.default}


def config_for(profile: str) -> RealtimeConfig:
    if profile not in PROFILES:
        raise UnknownNameError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}."
                               + suggest(profile, PROFILES))
    return PROFILES[profile]()
