"""Feature caching across sampling steps: the DeepCache analog for ``flow`` (issue 4).

DeepCache (Ma, Fang & Wang, 2024, "DeepCache: Accelerating Diffusion Models for
Free") observes that a UNet's deep, low-resolution features change little
between adjacent denoising steps, while the shallow, full-resolution skip branch
carries the detail. So every ``interval``-th model evaluation runs the whole UNet
and caches the feature map entering its last (shallowest) up block; the
evaluations in between run only the shallow branch: ``conv_in``, the first down
block (whose outputs are the last up block's skip inputs), the last up block on
the *cached* deep feature, and the output convolution. Everything deeper (the
other down blocks, the middle block, the other up blocks) is skipped.

The shallow evaluation reuses diffusers' own ``UNet2DConditionModel.forward`` (its
embeddings, masks and skip bookkeeping stay diffusers'), with the deep blocks'
``forward`` swapped for stand-ins for the duration of the call: skipped down
blocks return placeholders of the right count, the middle block and the skipped
up blocks pass their input through, and the up block whose output is cached
returns the cache. Placeholders are never read: the last up block consumes only
the first down block's and ``conv_in``'s outputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from diffusers import UNet2DConditionModel
from torch import nn

from genlab.errors import InputError


def check_interval(interval: object) -> int:
    """``interval``: every how many model evaluations the whole UNet runs (1 = no caching)."""
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise InputError(f"feature cache interval must be an int >= 1 (1 = off), got "
                         f"{interval!r}")
    return interval


def _n_res(block: Any) -> int:
    """How many skip outputs a down block returns: one per ResNet, one per downsampler."""
    return len(block.resnets) + len(getattr(block, "downsamplers", None) or ())


class FeatureCache:
    """DeepCache on one UNet: call :meth:`__call__` around each model evaluation.

    ``with cache(step):`` runs the whole UNet when ``step % interval == 0`` (and
    captures the deep feature), else only the shallow branch on the captured one.
    One instance serves one sampling loop over one batch (the cache holds that
    batch's rows); :meth:`reset` forgets it.
    """

    def __init__(self, unet: Any, interval: int) -> None:
        if not isinstance(unet, UNet2DConditionModel):
            raise InputError(f"feature caching needs a UNet backbone (DeepCache skips its deep "
                             f"blocks); got {type(unet).__name__}")
        if len(unet.up_blocks) < 2:  # type: ignore[attr-defined]
            raise InputError("feature caching needs a UNet with at least two levels")
        self.unet: Any = unet  # diffusers' ModelMixin hides nn.Module's methods from mypy
        self.interval = check_interval(interval)
        self.feature: torch.Tensor | None = None
        self.full_calls = self.shallow_calls = 0

    def reset(self) -> None:
        self.feature = None

    @contextmanager
    def __call__(self, step: int) -> Iterator[None]:
        if self.interval == 1:
            yield
            return
        if step % self.interval == 0 or self.feature is None:
            with self._capture():
                yield
            self.full_calls += 1
        else:
            with self._shallow():
                yield
            self.shallow_calls += 1

    @contextmanager
    def _capture(self) -> Iterator[None]:
        def keep(_module: nn.Module, _args: Any, output: torch.Tensor) -> None:
            self.feature = output

        handle = self.unet.up_blocks[-2].register_forward_hook(keep)
        try:
            yield
        finally:
            handle.remove()

    @contextmanager
    def _shallow(self) -> Iterator[None]:
        unet, feature = self.unet, self.feature
        assert feature is not None

        def skipped_down(n: int) -> Any:
            def forward(hidden_states: torch.Tensor, *_a: Any, **_k: Any) -> Any:
                return hidden_states, (hidden_states,) * n
            return forward

        def passthrough(hidden_states: torch.Tensor, *_a: Any, **_k: Any) -> torch.Tensor:
            return hidden_states

        def cached(*_a: Any, **_k: Any) -> torch.Tensor:
            return feature

        swapped: list[nn.Module] = []
        try:
            for block in unet.down_blocks[1:]:
                swapped.append(_swap(block, skipped_down(_n_res(block))))
            if unet.mid_block is not None:
                swapped.append(_swap(unet.mid_block, passthrough))
            for block in unet.up_blocks[:-2]:
                swapped.append(_swap(block, passthrough))
            swapped.append(_swap(unet.up_blocks[-2], cached))
            yield
        finally:
            for block in swapped:  # back to the class's forward
                delattr(block, "forward")


def _swap(block: nn.Module, forward: Any) -> nn.Module:
    """Shadow ``block``'s forward with ``forward`` (an instance attribute) until deleted."""
    block.forward = forward  # type: ignore[method-assign]
    return block
