"""The cache of trained video models: ``<cache_dir>/video-<config key>/model/``.

``model/`` holds

    model.safetensors   the EMA weights of the :class:`~.model.WindowNet` (what sampling uses)
    config.json         the VideoConfig that built them
    meta.json           training time, final loss and the loss curve

and only ever appears by renaming a complete temporary directory into place, so a
kill at any moment leaves no half-written model. The run folder's file lock (the
``flow`` cache's :func:`~genlab.generators.flow.checkpoint.cache_lock`) makes a
second process wait for the first one's training instead of training again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from genlab.errors import CheckpointError, InputError
from genlab.generators.flow.checkpoint import read_weights, write_folder
from genlab.generators.video.config import VideoConfig
from genlab.generators.video.model import WindowNet

WEIGHTS, CONFIG, META = "model.safetensors", "config.json", "meta.json"
MODEL_DIR = "model"


def run_dir(config: VideoConfig, cache_dir: Path) -> Path:
    return Path(cache_dir) / f"video-{config.key()}"


def save(folder: Path, net: WindowNet, meta: dict[str, Any]) -> Path:
    """Write ``net``'s weights, config and ``meta`` into ``folder/model`` atomically."""
    return write_folder(folder / MODEL_DIR, {WEIGHTS: net.state_dict()},
                        {CONFIG: net.config.to_json(), META: json.dumps(meta)}, replace=True)


def is_complete(folder: Path) -> bool:
    return all((folder / MODEL_DIR / f).is_file() for f in (WEIGHTS, CONFIG, META))


def load(folder: Path) -> tuple[WindowNet, dict[str, Any]]:
    """The trained net of run folder ``folder`` (eval mode) and its meta."""
    d = folder / MODEL_DIR
    try:
        config = VideoConfig.from_json((d / CONFIG).read_text())
        meta = json.loads((d / META).read_text())
    except FileNotFoundError as exc:
        raise CheckpointError(f"video model {d} is incomplete: {exc}") from exc
    except (ValueError, TypeError, KeyError, InputError) as exc:
        raise CheckpointError(f"video model config in {d} is unreadable: {exc}") from exc
    net = WindowNet(config)
    try:
        net.load_state_dict(read_weights(d / WEIGHTS), strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"weights in {d} do not match their config: "
                              f"{str(exc)[:300]}") from exc
    return net.eval().requires_grad_(False), meta

