"""``video-state``: context compression into a learned recurrent state, trained free-running.

The ``motion`` world is deterministic: given a few frames, the next one is fixed, so
a one-pass predictor can continue a video without a sampler. This generator keeps
the whole past in a fixed-size convolutional GRU state (Shi et al., 2015, "Convolutional
LSTM Network"; Ballas et al., 2016, ConvGRU; the PredRNN family of video predictors):
the issue's "context compression" direction at its simplest, constant memory and one
network pass per frame. Each step encodes the last frame (a 2x pixel unshuffle, then
convolutions), updates the state, and decodes the next frame from it.

Trained free-running (the model's own outputs are its next inputs for ``unroll``
steps after ``warmup`` true frames, gradients through the whole rollout), as
scheduled-sampling's end point and Self-Forcing (Huang et al., 2025) argue: a model
that never sees its own errors in training drifts on them at test time (exposure
bias). Outputs pass through uint8 between steps at sampling time, so the state
conditions on exactly the frames the caller sees.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genlab.contracts import VideoRequest
from genlab.errors import CheckpointError, InputError, check_int
from genlab.generators.video import cached
from genlab.generators.video.config import VideoConfig
from genlab.generators.video.data import ClipPool
from genlab.generators.video.model import to_tensor, to_uint8
from genlab.progress import bars

FORMAT_VERSION = 1


@dataclass(frozen=True)
class StateConfig:
    """Everything that determines a trained ``video-state`` model.

    Attributes:
        size, fps: frames the model is trained on (it continues videos at these only).
        width: channels of the encoder, the decoder and the GRU state (at half size).
        warmup: true frames fed before the model's own (the request's context length
            at most; the state is warmed on the context at sampling time).
        unroll: free-running steps per training clip.
        train_steps, batch_size, lr: AdamW steps, clips per step, peak learning rate
            (cosine to 10%).
        scenes_per_scenario, scene_frames, seed: the ``train``-split clip pool.
    """

    size: int = 32
    fps: int = 30
    width: int = 32
    warmup: int = 4
    unroll: int = 12
    train_steps: int = 1200
    batch_size: int = 16
    lr: float = 2e-3
    scenes_per_scenario: int = 80
    scene_frames: int = 300
    seed: int = 0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.name not in ("lr", "seed"):
                check_int(f.name, getattr(self, f.name))
        if self.size % 2:
            raise InputError(f"video-state size must be even, got {self.size}")
        if not 0 < self.lr < 1:
            raise InputError(f"lr {self.lr!r} must be in (0, 1)")

    @classmethod
    def smoke(cls) -> StateConfig:
        return cls(width=8, unroll=3, train_steps=4, batch_size=2, scenes_per_scenario=2,
                   scene_frames=24)

    def key(self) -> str:
        text = json.dumps({"format": FORMAT_VERSION, **dataclasses.asdict(self)},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


class StateNet(nn.Module):
    """One step: ``(B, 3, S, S)`` frame in [-1, 1] and ``(B, C, S/2, S/2)`` state ->
    the next frame and the new state."""

    def __init__(self, config: StateConfig) -> None:
        super().__init__()
        c = config.width
        self.config = config
        self.encode = nn.Sequential(nn.Conv2d(12, c, 3, padding=1), nn.SiLU(),
                                    nn.Conv2d(c, c, 3, padding=1), nn.SiLU())
        self.gates = nn.Conv2d(2 * c, 2 * c, 3, padding=1)      # update and reset
        self.candidate = nn.Conv2d(2 * c, c, 3, padding=1)
        self.decode = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.SiLU(),
                                    nn.Conv2d(c, c, 3, padding=1), nn.SiLU(),
                                    nn.Conv2d(c, 12, 3, padding=1))

    def initial(self, batch: int) -> torch.Tensor:
        half = self.config.size // 2
        return torch.zeros(batch, self.config.width, half, half)

    def forward(self, frame: torch.Tensor, state: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.encode(F.pixel_unshuffle(frame, 2))
        z, r = torch.sigmoid(self.gates(torch.cat([x, state], 1))).chunk(2, 1)
        h = torch.tanh(self.candidate(torch.cat([x, r * state], 1)))
        state = (1 - z) * state + z * h
        # the next frame as a change of this one: most pixels stay as they are
        nxt = frame + F.pixel_shuffle(self.decode(state), 2)
        return nxt.clamp(-1, 1), state


# ------------------------------------------------------------------ training


def _loss(net: StateNet, clips: torch.Tensor, warmup: int) -> torch.Tensor:
    """Free-running rollout of ``clips`` ``(B, T, 3, S, S)`` after ``warmup`` true frames;
    mean squared error of every predicted frame."""
    state = net.initial(len(clips))
    frame = clips[:, 0]
    errors = []
    for t in range(1, clips.shape[1]):
        pred, state = net(frame, state)
        if t >= warmup:
            errors.append((pred - clips[:, t]).pow(2).mean())
            frame = pred
        else:
            frame = clips[:, t]
    return torch.stack(errors).mean()


def train(config: StateConfig, folder: Path, progress: bool = True) -> None:
    """Train ``config`` and save it into ``folder/model`` (atomically)."""
    torch.manual_seed(config.seed)
    t0 = time.perf_counter()
    clip = config.warmup + config.unroll
    pool_config = VideoConfig(size=config.size, fps=config.fps, context=1, window=clip,
                              scenes_per_scenario=config.scenes_per_scenario,
                              scene_frames=config.scene_frames, seed=config.seed)
    with bars(progress) as task:
        pool = ClipPool(pool_config, task("rendering video clips (video-state)",
                                          3 * config.scenes_per_scenario))
        net = StateNet(config).train()
        rng = np.random.default_rng(config.seed)
        final = cached.fit(
            net, lambda: _loss(net, pool.sample(rng, config.batch_size), config.warmup),
            config.train_steps, config.lr,
            task("training video-state (free-running)", config.train_steps))
    cached.save(folder, net.eval(), config, {"train_seconds": time.perf_counter() - t0,
                                             "final_loss": final,
                                             "train_steps": config.train_steps})


def ensure_trained(config: StateConfig, cache_dir: Path, progress: bool = True) -> Path:
    """``cache_dir/video-state-<key>``, trained first if missing (file-locked)."""
    return cached.ensure_trained("video-state", config, cache_dir,
                                 lambda folder: train(config, folder, progress=progress))


def load(folder: Path) -> tuple[StateNet, dict[str, Any]]:
    return cached.load(folder, "video-state", StateConfig, StateNet)


# ------------------------------------------------------------------ sampling


class _StateRollout:
    """The state and the last frame: all a ``video-state`` rollout keeps."""

    def __init__(self, net: StateNet, frame: torch.Tensor, state: torch.Tensor) -> None:
        self.net, self._frame, self._state = net, frame, state

    @torch.inference_mode()
    def next(self, n: int) -> np.ndarray:
        check_int("frames", n)
        out = []
        frame, state = self._frame, self._state
        threads = torch.get_num_threads()
        # one intra-op thread: a 32-channel convolution on 16x16 is too small to split,
        # and a second thread waits on a core another process holds (measured: 532
        # frames/s on one thread, 16 on two, with another job on the other core)
        torch.set_num_threads(1)
        try:
            for _ in range(n):
                pred, state = self.net(to_tensor(frame)[None], state)
                frame = to_uint8(pred)[0]
                out.append(frame)
        finally:
            torch.set_num_threads(threads)
        self._frame, self._state = frame, state
        return torch.stack(out).numpy()

    def state(self) -> dict[str, np.ndarray]:
        return {"frame": self._frame.numpy().copy(), "state": self._state.numpy().copy()}


class VideoStateGenerator:
    """``video-state``: see the module docstring. Deterministic: the seed is unused."""

    name = "video-state"
    privileged = False
    version = "1"

    def __init__(self, folder: Path) -> None:
        self.net, self.meta = load(folder)
        self.config = self.net.config

    @torch.inference_mode()
    def start(self, request: VideoRequest,
              resume: Mapping[str, np.ndarray] | None = None) -> _StateRollout:
        cfg = self.config
        if request.size != cfg.size or request.fps != cfg.fps:
            raise InputError(f"'video-state' was trained on {cfg.size}x{cfg.size} frames at "
                             f"{cfg.fps} fps; the request has {request.size}x{request.size} "
                             f"at {request.fps} fps")
        if resume is not None:
            try:
                frame = torch.from_numpy(np.asarray(resume["frame"], np.uint8).copy())
                state = torch.from_numpy(np.asarray(resume["state"], np.float32).copy())
            except KeyError as exc:
                raise CheckpointError(f"video-state rollout state lacks {exc}") from exc
            if frame.shape != (cfg.size, cfg.size, 3) or state.shape != self.net.initial(1).shape:
                raise CheckpointError(f"video-state rollout state of shapes {tuple(frame.shape)}"
                                      f", {tuple(state.shape)} does not fit this model")
            return _StateRollout(self.net, frame, state)
        context = torch.from_numpy(np.ascontiguousarray(request.context))
        state = self.net.initial(1)
        for frame in context[:-1]:  # warm the state on the context; the last frame is
            _, state = self.net(to_tensor(frame)[None], state)  # the first input
        return _StateRollout(self.net, context[-1], state)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "config_key": self.config.key(),
                "config": dataclasses.asdict(self.config),
                "train_seconds": self.meta.get("train_seconds"),
                "final_loss": self.meta.get("final_loss")}


def load_state_generator(*, profile: str = "default", cache_dir: Path | None = None,
                         progress: bool = True) -> VideoStateGenerator:
    """``video-state`` at ``profile`` (``smoke`` or ``default``), trained on first use."""
    from genlab import paths

    configs = {"smoke": StateConfig.smoke, "default": StateConfig}
    if profile not in configs:
        raise InputError(f"unknown profile {profile!r}; accepted: {', '.join(configs)}")
    folder = ensure_trained(configs[profile](), Path(cache_dir or paths.models_dir()),
                            progress=progress)
    return VideoStateGenerator(folder)
