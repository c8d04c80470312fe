"""The frozen configuration of a learned ``motion`` video model, stored beside its weights.

One dataclass holds everything that determines a trained window model (:mod:`.model`):
frame size, window and context length, backbone shape, the forcing scheme (teacher
forcing or Diffusion Forcing), optimiser and data. Its JSON is written next to the
weights and its hash names the cache folder ``video-<key>`` (:mod:`.checkpoint`).

Profiles: :meth:`VideoConfig.smoke` trains in seconds (tests) and
:meth:`VideoConfig.default` takes 4000 steps of ~0.15 s on 2 idle CPU cores (~11 minutes
with the clip rendering), once per forcing scheme; on 2 cores shared with another job
the teacher-forced model took 32 minutes (the bench prints each model's time).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from genlab.errors import InputError, check_int

# Bump when the meaning of a stored config or the weight layout changes, so that the
# cache never hands back weights built by older code.
FORMAT_VERSION = 1

FORCINGS = ("teacher", "diffusion")

# A pixel more than this (in [-1, 1] units) from its frame's per-channel median is a
# body's (``VideoConfig.fg_weight``); antialiased edges are in, the flat background out.
FG_LEVEL = 0.1


@dataclass(frozen=True)
class VideoConfig:
    """Everything that determines a trained video window model.

    Attributes:
        size: side of the square RGB frames (pixels).
        fps: frame rate of the training clips (the model only continues videos at it).
        context: ``k``, the frames the model conditions on.
        window: ``W``, the frames the network sees at once; the last ``W - k`` are the
            ones it denoises (the chunk of an autoregressive step, FIFO's queue).
        block_out_channels: channels per level of diffusers' ``UNet2DModel`` (no
            attention: at 16x16 after the pixel unshuffle, three levels of 3x3
            convolutions already see the whole frame).
        layers_per_block: ResNet blocks per UNet level.
        norm_num_groups: GroupNorm groups (must divide every width).
        forcing: ``"teacher"`` (the ``k`` context frames clean, the rest noised to one
            shared level: an autoregressive model) or ``"diffusion"`` (Diffusion Forcing,
            Chen et al., 2024: every frame at its own noise level).
        sorted_share: with ``"diffusion"``, the share of training windows whose
            independent per-frame levels are sorted to rise along time, so that the
            causal patterns the rollouts use (clean past, noisy future; FIFO's diagonal)
            are common rather than one ordering in ``W!``.
        train_steps: optimiser steps.
        batch_size: windows per step.
        lr: peak AdamW learning rate (linear warmup, then cosine to 10%).
        warmup_steps: linear warmup steps.
        weight_decay: AdamW weight decay.
        grad_clip: gradient-norm clip (0 disables).
        ema_decay: maximum EMA decay (diffusers' EMAModel with warmup); sampling uses it.
        scenes_per_scenario: ``train``-split scenes rendered per ``motion`` scenario.
        scene_frames: frames rendered per scene (clips start anywhere in them).
        seed: seeds the data pool, initial weights and training noise.
        fg_weight: extra weight on the squared error of the bodies' pixels (those more
            than ``FG_LEVEL`` from their frame's per-channel median, the flat
            background): a pixel of a body counts ``1 + fg_weight`` times. The bodies
            are 5-13% of a frame, so an unweighted loss is mostly background. 0 (the
            default) leaves the loss unweighted.
        anchor: the network answers every frame's clean estimate as a change of the
            window's last context frame (as the net is given it, noisy or not) rather
            than outright: a skip from input to output that makes "the bodies stay as
            they are" the answer of a zero output, so the net spends itself on the
            motion. False (the default) predicts the frames outright.
        self_context_steps: with ``"teacher"``, the last this many optimiser steps give
            half of each batch a context the net made itself: from a clip of ``W +
            (W - k)`` frames it samples the chunk after the first ``k`` (the rollout's
            own sampler, :data:`~.rollout.CHUNK_STEPS` Euler steps, through
            uint8), and learns the true chunk after that from the last ``k`` frames
            made. Scheduled sampling (Bengio et al., 2015, "Scheduled Sampling for
            Sequence Prediction with Recurrent Neural Networks") with one chunk of the
            model's own error, the train-test gap Self Forcing (Huang et al., 2025)
            closes with whole rollouts. 0 (the default) always trains on true context.
    """

    size: int = 32
    fps: int = 30
    context: int = 4
    window: int = 8
    block_out_channels: tuple[int, ...] = (32, 64, 128)
    layers_per_block: int = 1
    norm_num_groups: int = 8
    forcing: str = "teacher"
    sorted_share: float = 0.5
    train_steps: int = 4000
    batch_size: int = 32
    lr: float = 1e-3
    warmup_steps: int = 200
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    scenes_per_scenario: int = 80
    scene_frames: int = 300
    seed: int = 0
    fg_weight: float = 0.0
    anchor: bool = False
    self_context_steps: int = 0

    def __post_init__(self) -> None:
        for name in ("size", "fps", "context", "window", "layers_per_block", "norm_num_groups",
                     "train_steps", "batch_size", "scenes_per_scenario", "scene_frames"):
            check_int(name, getattr(self, name))
        check_int("warmup_steps", self.warmup_steps, 0)
        if self.size % 2:
            raise InputError(f"video size must be even (2x pixel unshuffle), got {self.size}")
        if self.window <= self.context:
            raise InputError(f"window ({self.window}) must exceed context ({self.context})")
        if self.scene_frames < self.window:
            raise InputError(f"scene_frames ({self.scene_frames}) must be >= window "
                             f"({self.window})")
        if self.forcing not in FORCINGS:
            raise InputError(f"unknown forcing {self.forcing!r}; accepted: {', '.join(FORCINGS)}")
        if any(c % self.norm_num_groups for c in self.block_out_channels):
            raise InputError(f"norm_num_groups {self.norm_num_groups} must divide every "
                             f"width of {self.block_out_channels}")
        if not 0.0 <= self.sorted_share <= 1.0 or not 0.0 <= self.ema_decay < 1.0:
            raise InputError("sorted_share must be in [0, 1] and ema_decay in [0, 1)")
        check_int("self_context_steps", self.self_context_steps, 0)
        if self.self_context_steps > self.train_steps:
            raise InputError(f"self_context_steps ({self.self_context_steps}) must be at "
                             f"most train_steps ({self.train_steps})")
        if self.self_context_steps and (self.forcing != "teacher"
                                        or self.scene_frames < self.window + self.chunk):
            raise InputError("self_context_steps needs forcing 'teacher' and scene_frames "
                             f">= window + chunk ({self.window + self.chunk}); got "
                             f"{self.forcing!r} and {self.scene_frames}")
        if not isinstance(self.anchor, bool):
            raise InputError(f"anchor must be True or False, got {self.anchor!r}")
        if isinstance(self.fg_weight, bool) or not isinstance(self.fg_weight, (int, float)) \
                or not 0.0 <= self.fg_weight <= 1e3:
            raise InputError(f"fg_weight must be a number in [0, 1000], got {self.fg_weight!r}")
        object.__setattr__(self, "fg_weight", float(self.fg_weight))  # 10 and 10.0: one key

    @property
    def chunk(self) -> int:
        """Frames denoised per network pass (``W - k``)."""
        return self.window - self.context

    @classmethod
    def default(cls, forcing: str = "teacher") -> VideoConfig:
        """The profile the benchmark uses (~11 minutes of training on 2 idle cores)."""
        return cls(forcing=forcing)

    @classmethod
    def smoke(cls, forcing: str = "teacher") -> VideoConfig:
        """A tiny model that trains in a few seconds, for tests."""
        return cls(forcing=forcing, block_out_channels=(8, 16), train_steps=6, batch_size=4,
                   warmup_steps=2, scenes_per_scenario=2, scene_frames=24)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["block_out_channels"] = list(self.block_out_channels)
        # added in sessions 28 and 30: a config without them keeps the key it had before
        for name in ("fg_weight", "anchor", "self_context_steps"):
            if not d[name]:
                del d[name]
        return d

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT_VERSION, **self.to_dict()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VideoConfig:
        d = json.loads(text)
        if d.pop("format", None) != FORMAT_VERSION:
            raise InputError(f"video config of another format (this code reads "
                             f"{FORMAT_VERSION})")
        d["block_out_channels"] = tuple(d["block_out_channels"])
        return cls(**d)

    def key(self) -> str:
        """12 hex digits of the config's hash: the cache folder is ``video-<key>``."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]
