"""The learned ``motion`` video generators: ``video-ar``, ``diffusion-forcing`` and ``fifo``.

Each continues a video from the last ``k`` frames of its context with a trained
:class:`~.model.WindowNet` (:mod:`.train`); none reads the prompt (the frames say
more than the prompt does) or the privileged scene. They differ in the training of
the net and in the sampler (:mod:`.rollout`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from genlab.contracts import VideoRequest
from genlab.errors import InputError, check_int
from genlab.generators.video import checkpoint
from genlab.generators.video.rollout import CHUNK_STEPS, ChunkRollout, FifoRollout, _Rollout

VERSION = "1"


def _check_noise(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise InputError(f"context_noise must be a number in [0, 1), got {value!r}")
    return float(value)


class _Learned:
    """What the three share: a trained net from a cache folder and request checks."""

    name = ""
    privileged = False
    version = VERSION
    forcing = ""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.net, self.meta = checkpoint.load(self.folder)
        self.config = self.net.config
        if self.config.forcing != self.forcing:
            raise InputError(f"{self.name!r} needs a model trained with {self.forcing} "
                             f"forcing; {self.folder} holds {self.config.forcing}")

    def _context(self, request: VideoRequest) -> np.ndarray:
        k, cfg = self.config.context, self.config
        if len(request.context) < k:
            raise InputError(f"{self.name!r} continues from the last {k} frames; the request "
                             f"has {len(request.context)}")
        if request.size != cfg.size or request.fps != cfg.fps:
            raise InputError(f"{self.name!r} was trained on {cfg.size}x{cfg.size} frames at "
                             f"{cfg.fps} fps; the request has {request.size}x{request.size} "
                             f"at {request.fps} fps")
        return request.context

    def _options(self) -> dict[str, Any]:
        raise NotImplementedError

    def start(self, request: VideoRequest,
              resume: Mapping[str, np.ndarray] | None = None) -> _Rollout:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """JSON-able identity: the model's config key and config, and sampling options."""
        return {"name": self.name, "version": self.version, "config_key": self.config.key(),
                "config": self.config.to_dict(), "sampling": self._options(),
                "train_seconds": self.meta.get("train_seconds"),
                "final_loss": self.meta.get("final_loss")}


class VideoARGenerator(_Learned):
    """``video-ar``: a frame-autoregressive model trained by teacher forcing (the past
    clean, the next ``W - k`` frames noised to one level; the standard AR video-diffusion
    setup, e.g. Ho et al., 2022, "Video Diffusion Models", arXiv 2204.03458, conditional
    sampling), rolled out chunk by chunk on its own clean outputs. Its known failure
    is exposure bias: it never saw its own errors as context during training."""

    name = "video-ar"
    forcing = "teacher"

    def __init__(self, folder: Path, *, steps: int = CHUNK_STEPS) -> None:
        super().__init__(folder)
        self.steps = check_int("steps", steps)

    def _options(self) -> dict[str, Any]:
        return {"sampler": "chunk", "steps": self.steps, "context_noise": 0.0,
                "chunk": self.config.chunk}

    def start(self, request: VideoRequest,
              resume: Mapping[str, np.ndarray] | None = None) -> _Rollout:
        return ChunkRollout(self.net, self._context(request), request.seed, steps=self.steps,
                            context_noise=0.0, resume=resume)


class DiffusionForcingGenerator(_Learned):
    """``diffusion-forcing``: Diffusion Forcing (Chen et al., 2024, "Diffusion Forcing:
    Next-token Prediction Meets Full-Sequence Diffusion", arXiv 2407.01392): the net is
    trained with independent per-frame noise levels, and rolled out chunk by chunk far
    past its training window with the paper's stabilisation: the generated context is
    handed back at a small noise level ``context_noise`` (and told so), so that its
    small errors look like noise the model has learnt to see through."""

    name = "diffusion-forcing"
    forcing = "diffusion"

    def __init__(self, folder: Path, *, steps: int = CHUNK_STEPS,
                 context_noise: float = 0.1) -> None:
        super().__init__(folder)
        self.steps = check_int("steps", steps)
        self.context_noise = _check_noise(context_noise)

    def _options(self) -> dict[str, Any]:
        return {"sampler": "chunk", "steps": self.steps, "context_noise": self.context_noise,
                "chunk": self.config.chunk}

    def start(self, request: VideoRequest,
              resume: Mapping[str, np.ndarray] | None = None) -> _Rollout:
        return ChunkRollout(self.net, self._context(request), request.seed, steps=self.steps,
                            context_noise=self.context_noise, resume=resume)


class FifoGenerator(_Learned):
    """``fifo``: FIFO-Diffusion (Kim et al., 2024, "FIFO-Diffusion: Generating Infinite
    Videos from Text without Training", arXiv 2405.11473) on the Diffusion Forcing net:
    a diagonal queue of ``W - k`` frames at rising noise levels, one network pass per
    output frame and constant memory. The net's per-frame levels make the diagonal
    an in-distribution input (FIFO-Diffusion's own base models never saw one); the
    ``k`` generated frames ahead of the queue are given at ``context_noise`` as in
    Diffusion Forcing."""

    name = "fifo"
    forcing = "diffusion"

    def __init__(self, folder: Path, *, context_noise: float = 0.1,
                 warmup_steps: int = 8) -> None:
        super().__init__(folder)
        self.context_noise = _check_noise(context_noise)
        self.warmup_steps = check_int("warmup_steps", warmup_steps)

    def _options(self) -> dict[str, Any]:
        return {"sampler": "fifo", "queue": self.config.chunk, "passes_per_frame": 1,
                "context_noise": self.context_noise, "warmup_steps": self.warmup_steps}

    def start(self, request: VideoRequest,
              resume: Mapping[str, np.ndarray] | None = None) -> _Rollout:
        return FifoRollout(self.net, self._context(request), request.seed,
                           warmup_steps=self.warmup_steps, context_noise=self.context_noise,
                           resume=resume)
