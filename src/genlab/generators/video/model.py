"""The window network of the learned video generators: ``W`` frames in, ``W`` clean
frames out, every frame at its own noise level.

The frames are stacked as channels after a 2x pixel unshuffle (a lossless
space-to-depth, Shi et al., 2016, that cuts the convolutions' cost ~4x), with one
constant channel per frame holding that frame's noise level; diffusers'
``UNet2DModel`` maps them to every frame's clean estimate (x0-prediction). Its own
timestep input gets the window's mean level. This per-frame level input is what lets
one network serve teacher forcing, Diffusion Forcing and FIFO-Diffusion's diagonal
queue alike.

Noise follows rectified flow (Liu et al., 2022): ``x_t = (1 - t) x0 + t eps``, so a
deterministic Euler step of the flow from ``t`` to ``s < t`` given the estimate ``x0``
is ``x_s = x0 + (s / t) (x_t - x0)`` (:func:`euler_step`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import UNet2DModel
from torch import nn

from genlab.generators.video.config import VideoConfig


class WindowNet(nn.Module):
    """``(B, W, 3, S, S)`` noisy frames in [-1, 1] + ``(B, W)`` levels in [0, 1] ->
    ``(B, W, 3, S, S)`` clean estimates."""

    def __init__(self, config: VideoConfig) -> None:
        super().__init__()
        self.config = config
        w, half = config.window, config.size // 2
        levels = len(config.block_out_channels)
        self.unet = UNet2DModel(
            sample_size=half, in_channels=13 * w, out_channels=12 * w,
            block_out_channels=config.block_out_channels,
            layers_per_block=config.layers_per_block,
            down_block_types=("DownBlock2D",) * levels, up_block_types=("UpBlock2D",) * levels,
            norm_num_groups=config.norm_num_groups, add_attention=False)

    def forward(self, frames: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
        b, w, c, s, _ = frames.shape
        x = F.pixel_unshuffle(frames.reshape(b, w * c, s, s), 2)      # (B, 12W, S/2, S/2)
        lv = levels[:, :, None, None].expand(b, w, s // 2, s // 2)
        # diffusers' models type their __call__ loosely
        out = self.unet(torch.cat([x, lv.to(x.dtype)], 1),  # type: ignore[operator]
                        levels.mean(1) * 1000).sample
        out = F.pixel_shuffle(out, 2).reshape(b, w, c, s, s)
        if self.config.anchor:
            k = self.config.context
            out = out + frames[:, k - 1:k]
        return out


def noise(frames: torch.Tensor, levels: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """``frames`` ``(B, W, 3, S, S)`` moved to per-frame ``levels`` ``(B, W)`` along the
    rectified-flow path with noise ``eps``."""
    t = levels[:, :, None, None, None]
    return (1 - t) * frames + t * eps


def euler_step(x: torch.Tensor, x0: torch.Tensor, t: torch.Tensor,
               s: torch.Tensor) -> torch.Tensor:
    """One Euler step of the rectified flow from level ``t`` to ``s`` (broadcastable
    against ``x``) given the clean estimate ``x0``; at ``s = 0`` it returns ``x0``."""
    return x0 + (s / t.clamp_min(1e-6)) * (x - x0)


def to_tensor(frames_u8: torch.Tensor) -> torch.Tensor:
    """``(..., S, S, 3) uint8`` -> ``(..., 3, S, S) float32`` in [-1, 1]."""
    return frames_u8.movedim(-1, -3).float() / 127.5 - 1


def to_uint8(frames: torch.Tensor) -> torch.Tensor:
    """``(..., 3, S, S)`` in [-1, 1] -> ``(..., S, S, 3) uint8``, clamped first (an
    estimate outside the range is an overshoot, not a colour)."""
    return ((frames.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).movedim(-3, -1)
