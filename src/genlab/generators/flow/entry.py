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
# The trained models, each at each profile: the baseline, the grounded model of
# ``flow-grounded``, the counting-loss model of ``flow-counting`` and the latent model
# of ``flow-latent``.
MODELS = {
    "base": PROFILES,
    "grounded": {"smoke": FlowConfig.grounded_smoke, "default": FlowConfig.grounded},
    "counting": {"smoke": FlowConfig.counting_smoke, "default": FlowConfig.counting},
    "latent": {"smoke": FlowConfig.latent_smoke, "default": FlowConfig.latent_default},
}


def profile_config(profile: str, model: str = "base") -> FlowConfig:
    """The FlowConfig of a profile name (``smoke`` or ``default``) for one of
    :data:`MODELS` (``base``, ``grounded``, ``counting``, ``latent``)."""
    if profile not in PROFILES:
        raise InputError(f"unknown flow profile {profile!r}; accepted: {', '.join(PROFILES)}."
                         + suggest(profile, PROFILES))
    if model not in MODELS:
        raise InputError(f"unknown flow model {model!r}; accepted: {', '.join(MODELS)}."
                         + suggest(model, MODELS))
    return MODELS[model][profile]()


def load_flow(*, profile: str = "default", cache_dir: Path | None = None,
              progress: bool = True, model: str = "base",
              **options: Any) -> FlowGenerator:
    """Train ``model`` at ``profile`` on first use (cached under ``cache_dir``, default
    ``genlab-out/models``) and return a FlowGenerator; ``options`` go to it
    (``steps``, ``sampler``, ``guidance``, ``batch_size``, ``compose``, ``attention``)."""
    if cache_dir is None:
        from genlab import paths

        cache_dir = paths.models_dir()
    ckpt = ensure_trained(profile_config(profile, model), Path(cache_dir),
                          progress=progress)
    return FlowGenerator(ckpt, **options)
