"""A small video model trained on first use and cached by its config's key.

What ``video-state`` and ``video-objects`` share: the cache folder
``<cache_dir>/<name>-<config key>`` filled under a file lock by one process, the
model folder (``model.safetensors``, ``config.json``, ``meta.json``) written
atomically and read back with a clear error, and the training loop (AdamW, linear
warm-up over the first 5% of steps then cosine to 10% of the peak rate, gradients
clipped to norm 1).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from genlab.errors import CheckpointError, InputError
from genlab.generators.flow.checkpoint import cache_lock, read_weights, write_folder
from genlab.progress import Advance

Net = TypeVar("Net", bound=nn.Module)


def warmup_cosine(step: int, total: int) -> float:
    """The learning-rate factor at ``step`` of ``total``: linear warm-up over the first
    5%, then cosine from 1 to 0.1."""
    warm = max(1, total // 20)
    if step < warm:
        return (step + 1) / warm
    frac = (step - warm) / max(1, total - warm)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))


def fit(net: nn.Module, loss: Callable[[], torch.Tensor], steps: int, lr: float,
        advance: Advance) -> float:
    """``steps`` AdamW steps on ``loss()``; the mean loss over the last 5% of steps."""
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, steps))
    losses: list[float] = []
    for _ in range(steps):
        value = loss()
        opt.zero_grad(set_to_none=True)
        value.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(value.detach()))
        advance()
    return float(np.mean(losses[-max(1, len(losses) // 20):]))


def save(folder: Path, net: nn.Module, config: Any, meta: dict[str, Any]) -> None:
    """``net``'s weights, its ``config`` (a dataclass) and ``meta`` into ``folder/model``."""
    write_folder(folder / "model", {"model.safetensors": net.state_dict()},
                 {"config.json": json.dumps(dataclasses.asdict(config)),
                  "meta.json": json.dumps(meta)}, replace=True)


def ensure_trained(name: str, config: Any, cache_dir: Path,
                   train: Callable[[Path], None]) -> Path:
    """``cache_dir/<name>-<config.key()>``, filled by ``train(folder)`` first if it holds
    no model (file-locked, so concurrent callers wait for one to train)."""
    folder = Path(cache_dir) / f"{name}-{config.key()}"
    with cache_lock(folder):
        if not (folder / "model" / "meta.json").is_file():
            train(folder)
    return folder


def load(folder: Path, name: str, config_type: type, build: Callable[[Any], Net]
         ) -> tuple[Net, dict[str, Any]]:
    """The model in ``folder/model``, in eval mode without gradients, and its meta; any
    missing, corrupt or mismatched file is a CheckpointError naming it."""
    d = Path(folder) / "model"
    try:
        config = config_type(**json.loads((d / "config.json").read_text()))
        meta = json.loads((d / "meta.json").read_text())
        net = build(config)
        net.load_state_dict(read_weights(d / "model.safetensors"), strict=True)
    except (OSError, ValueError, TypeError, RuntimeError, InputError) as exc:
        raise CheckpointError(f"{name} model in {d} is unreadable: {exc}") from exc
    return net.eval().requires_grad_(False), meta
