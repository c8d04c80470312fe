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
# The grounded model of ``flow-grounded`` at each profile.
GROUNDED_PROFILES = {"smoke": FlowConfig.grounded_smoke, "default": FlowConfig.grounded}


def profile_config(profile: str, grounded: bool = False) -> FlowConfig:
    """The FlowConfig of a profile name (``smoke`` or ``default``), of the grounded
    model when ``grounded``."""
    if profile not in PROFILES:
        raise InputError(f"unknown flow profile {profile!r}; accepted: {', '.join(PROFILES)}."
                         + suggest(profile, PROFILES))
    return (GROUNDED_PROFILES if grounded else PROFILES)[profile]()


def load_flow(*, profile: str = "default", cache_dir: Path | None = None,
              progress: bool = True, grounded: bool = False,
              **options: Any) -> FlowGenerator:
    """Train ``profile`` (its grounded model when ``grounded``) on first use (cached
    under ``cache_dir``, default ``genlab-out/models``) and return a FlowGenerator;
    ``options`` go to it (``steps``, ``sampler``, ``guidance``, ``batch_size``)."""
    if cache_dir is None:
        from genlab import paths

        cache_dir = paths.models_dir()
    ckpt = ensure_trained(profile_config(profile, grounded), Path(cache_dir),
                          progress=progress)
    return FlowGenerator(ckpt, **options)
