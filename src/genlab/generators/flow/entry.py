"""The catalog's entry point for ``flow``: a profile name -> a trained, cached FlowGenerator.

``genlab.catalog`` calls :func:`load_flow` lazily, so importing the catalog
never imports torch or diffusers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genlab.errors import InputError, suggest
from genlab.generators.flow.config import FlowConfig
from genlab.generators.flow.generator import FlowGenerator
from genlab.generators.flow.train import ensure_trained

PROFILES = {"smoke": FlowConfig.smoke, "default": FlowConfig.default}


def profile_config(profile: str) -> FlowConfig:
    """The FlowConfig of a profile name (``smoke`` or ``default``)."""
    if profile not in PROFILES:
        raise InputError(f"unknown flow profile {profile!r}; accepted: {', '.join(PROFILES)}."
                         + suggest(profile, PROFILES))
    return PROFILES[profile]()


def load_flow(*, profile: str = "default", cache_dir: Path | None = None,
              progress: bool = True, **options: Any) -> FlowGenerator:
    """Train ``profile`` on first use (cached under ``cache_dir``, default
    ``genlab-out/models``) and return a FlowGenerator; ``options`` go to it
    (``steps``, ``sampler``, ``guidance``, ``batch_size``)."""
    if cache_dir is None:
        from genlab import paths

        cache_dir = paths.models_dir()
    ckpt = ensure_trained(profile_config(profile), Path(cache_dir), progress=progress)
    return FlowGenerator(ckpt, **options)
