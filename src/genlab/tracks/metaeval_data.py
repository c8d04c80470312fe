"""The ``metrics`` track's data: every zoo member's images, judged and embedded once.

Per split, every member of the defect zoo (:mod:`genlab.metrics.zoo`) renders its
images of the split's fixed items; the exact ``scene`` judge rules on each; the
two feature networks embed them, and the anchored metric predicts each verdict.
Those arrays are all any metric reads, so they are computed once per config
(minutes) and kept in one ``.npz`` under the model cache (written to a temporary
name and renamed, so a killed run leaves nothing half written); every metric
under test then scores all members in seconds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genlab.errors import InputError, UnknownNameError, check_int, suggest
from genlab.metrics.anchored import AnchoredConfig, ensure_anchored, pass_probability
from genlab.metrics.embed import image_features, text_embeddings
from genlab.metrics.feature_train import FeatureConfig, ensure_features
from genlab.metrics.reference import Reference
from genlab.metrics.under_test import ReferenceView, SampleView
from genlab.metrics.zoo import Member, Zoo, members, zoo_items
from genlab.progress import bars

SPLITS = ("dev", "test")


@dataclass(frozen=True)
class MetricsConfig:
    """The protocol of one ``metrics`` evaluation; stored, resolved, with every run."""

    size: int = 32
    prompts_per_category: int = 100
    """Test prompts per category."""
    dev_prompts_per_category: int = 40
    """Dev prompts per category."""
    images_per_prompt: int = 4
    families: tuple[str, ...] | None = None
    """Defect families in the zoo (None: all eleven)."""
    stability_prompts_per_category: int = 180
    """Prompts per category of the sample-size study (x images_per_prompt >= 5,000)."""
    stability_sizes: tuple[int, ...] = (100, 200, 500, 1000, 2000, 5000)
    stability_member: str = "blur@2"
    """The zoo member whose metric intervals the sample-size study measures."""
    stability_resamples: int = 100
    seed: int = 20_241_126
    resamples: int = 2000
    """Bootstrap resamples of the correlation intervals (over zoo members)."""
    features: FeatureConfig = FeatureConfig()
    anchored: AnchoredConfig = AnchoredConfig()

    def __post_init__(self) -> None:
        for name in ("prompts_per_category", "dev_prompts_per_category", "images_per_prompt",
                     "stability_prompts_per_category", "stability_resamples"):
            check_int(f"MetricsConfig.{name}", getattr(self, name))
        if self.resamples < 1000:
            raise InputError(f"MetricsConfig.resamples must be >= 1000, got {self.resamples}")
        Member.parse(self.stability_member)
        if self.families is not None:
            members(self.families)  # unknown names fail here, with a suggestion
        stab_n = 7 * self.stability_prompts_per_category * self.images_per_prompt
        if not self.stability_sizes or max(self.stability_sizes) > stab_n \
                or min(self.stability_sizes) < 2:
            raise InputError(f"stability_sizes {self.stability_sizes!r} must lie in "
                             f"2..{stab_n} (the study's images)")

    @classmethod
    def smoke(cls) -> MetricsConfig:
        """Tiny: three families, 350 test images a member (FID needs > 128), networks
        trained for a few steps."""
        return cls(prompts_per_category=25, dev_prompts_per_category=10, images_per_prompt=2,
                   families=("blur", "count", "mode-collapse"),
                   stability_prompts_per_category=12, stability_sizes=(50, 160),
                   stability_resamples=5, resamples=1000,
                   features=FeatureConfig.smoke(), anchored=AnchoredConfig.smoke())

    @classmethod
    def default(cls) -> MetricsConfig:
        return cls()

    def split_prompts(self, split: str) -> int:
        return self.prompts_per_category if split == "test" else self.dev_prompts_per_category

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True, default=str).encode()
                              ).hexdigest()[:12]


PROFILES = {"smoke": MetricsConfig.smoke, "default": MetricsConfig.default}


def config_for(profile: str) -> MetricsConfig:
    if profile not in PROFILES:
        raise UnknownNameError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}."
                               + suggest(profile, PROFILES))
    return PROFILES[profile]()


@dataclass(frozen=True)
class SplitData:
    """One split's zoo, judged and embedded."""

    split: str
    samples: dict[str, SampleView]  # member name -> its images
    reference: ReferenceView
    thumbnails: dict[str, np.ndarray]  # member name -> (2S, 2S, 3) uint8 grid of 4 images


def _grid(images: np.ndarray) -> np.ndarray:
    """The first four images as a 2x2 grid ``(2S, 2S, 3)``."""
    four = np.concatenate([images[:4], np.repeat(images[-1:], max(0, 4 - len(images)), 0)])
    return np.concatenate([np.concatenate(list(four[:2]), 1),
                           np.concatenate(list(four[2:4]), 1)], 0)


def _compute(config: MetricsConfig, split: str, cache_dir: Path, progress: bool,
             prompts_per_category: int, only: list[Member] | None = None
             ) -> dict[str, np.ndarray]:
    nets = ensure_features(config.features, cache_dir, progress)
    anchored, _ = ensure_anchored(config.anchored, cache_dir, nets, progress)
    items = zoo_items(split, prompts_per_category, config.images_per_prompt, config.seed)
    zoo = Zoo(items, split, config.seed, config.size)
    prompts = [it.prompt for it in items]
    out: dict[str, np.ndarray] = {"text": text_embeddings(nets, prompts)}
    out["ref/classifier"], out["ref/clip"] = image_features(nets, zoo.reference())
    todo = only if only is not None else members(config.families)
    with bars(progress) as task:
        advance = task(f"metrics · {split} zoo", len(todo))
        for m in todo:
            images = zoo.images(m)
            out[f"{m.name}/passed"] = zoo.verdicts(images)
            out[f"{m.name}/classifier"], out[f"{m.name}/clip"] = image_features(nets, images)
            out[f"{m.name}/anchored"] = pass_probability(anchored, images, prompts)
            out[f"{m.name}/thumb"] = _grid(images)
            advance()
    return out


def _cached(path: Path, build: Any) -> dict[str, np.ndarray]:
    if not path.is_file():
        arrays = build()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def _split_data(split: str, arrays: dict[str, np.ndarray]) -> SplitData:
    names = sorted({k.split("/")[0] for k in arrays if k.endswith("/passed")})
    text = arrays["text"]
    samples = {n: SampleView(arrays[f"{n}/classifier"], arrays[f"{n}/clip"], text,
                             arrays[f"{n}/anchored"], arrays[f"{n}/passed"], n) for n in names}
    ref = ReferenceView(Reference(arrays["ref/classifier"], name="ref"),
                        Reference(arrays["ref/clip"], name="ref"))
    thumbs = {n: arrays[f"{n}/thumb"] for n in names}
    return SplitData(split, samples, ref, thumbs)


def load_split(config: MetricsConfig, split: str, cache_dir: Path, progress: bool = False
               ) -> SplitData:
    """The split's zoo data (computed and cached on first use; kept in memory, so the
    metrics of one process share it and its Reference statistics)."""
    if split not in SPLITS:
        raise InputError(f"metrics split {split!r}; accepted: {', '.join(SPLITS)}")
    return _load(config, split, Path(cache_dir), progress)


def load_stability(config: MetricsConfig, cache_dir: Path, progress: bool = False
                   ) -> SplitData:
    """The sample-size study's set: one member over a larger test item list."""
    return _load(config, "stability", Path(cache_dir), progress)


@functools.lru_cache(maxsize=3)
def _load(config: MetricsConfig, part: str, cache_dir: Path, progress: bool) -> SplitData:
    path = cache_dir / f"metrics-data-{config.key()}" / f"{part}.npz"
    if part == "stability":
        only = [Member.parse(config.stability_member)]
        arrays = _cached(path, lambda: _compute(
            config, "test", cache_dir, progress, config.stability_prompts_per_category, only))
        return _split_data("test", arrays)
    arrays = _cached(path, lambda: _compute(config, part, cache_dir, progress,
                                            config.split_prompts(part)))
    return _split_data(part, arrays)
