"""The entry point of the learned video generators: a kind and a profile -> a trained,
cached :class:`~genlab.contracts.VideoGenerator`.

``video-ar`` uses the teacher-forced model; ``diffusion-forcing`` and ``fifo`` share the
Diffusion Forcing model (one training, two samplers). Models are trained on first use
into ``cache_dir`` (default ``genlab-out/models``) and reloaded after.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from genlab.contracts import VideoGenerator
from genlab.errors import UnknownNameError, suggest
from genlab.generators.video.config import VideoConfig
from genlab.generators.video.learned import (
    DiffusionForcingGenerator,
    FifoGenerator,
    VideoARGenerator,
    _Learned,
)
from genlab.generators.video.train import ensure_trained

KINDS: dict[str, type[_Learned]] = {"video-ar": VideoARGenerator,
                                    "diffusion-forcing": DiffusionForcingGenerator,
                                    "fifo": FifoGenerator}
PROFILES = {"smoke": VideoConfig.smoke, "default": VideoConfig.default}


def video_config(kind: str, profile: str = "default") -> VideoConfig:
    """The VideoConfig that generator ``kind`` is trained with at ``profile``."""
    if kind not in KINDS:
        raise UnknownNameError(f"unknown video generator {kind!r}; accepted: "
                               f"{', '.join(KINDS)}." + suggest(kind, KINDS))
    if profile not in PROFILES:
        raise UnknownNameError(f"unknown video profile {profile!r}; accepted: "
                               f"{', '.join(PROFILES)}." + suggest(profile, PROFILES))
    return PROFILES[profile](KINDS[kind].forcing)


def load_video_generator(kind: str, *, profile: str = "default", cache_dir: Path | None = None,
                         progress: bool = True, fields: Mapping[str, Any] | None = None,
                         **options: Any) -> VideoGenerator:
    """Generator ``kind`` (``video-ar``, ``diffusion-forcing``, ``fifo``) at ``profile``
    (``smoke`` or ``default``), trained on first use; ``fields`` replace some of the
    profile's ``VideoConfig`` fields (a variant, cached under its own key); ``options`` are
    its sampling options (``steps``, ``context_noise``, ``warmup_steps``)."""
    config = dataclasses.replace(video_config(kind, profile), **(fields or {}))
    if cache_dir is None:
        from genlab import paths

        cache_dir = paths.models_dir()
    folder = ensure_trained(config, Path(cache_dir), progress=progress)
    generator: VideoGenerator = KINDS[kind](folder, **options)
    return generator
