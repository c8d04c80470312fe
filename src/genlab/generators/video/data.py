"""Training clips of the video models: windows cut from ``motion`` renders of ``train``.

Every scenario of the ``motion`` world (uniform, parabola, collision) contributes
``scenes_per_scenario`` scenes of its ``train`` split, each simulated and rendered for
``scene_frames`` frames once (the simulator runs ~3k frames/s, the renderer ~10k); a
training window is ``W`` consecutive frames from a random scene and start. No flips
or other augmentation: a mirrored "drifting left" square would be a held-out
``test`` combination (:data:`genlab.worlds.motion.splits.HELDOUT_MOTION_SHAPE`).
"""

from __future__ import annotations

import numpy as np
import torch

from genlab.generators.video.config import VideoConfig
from genlab.generators.video.model import to_tensor
from genlab.progress import Advance
from genlab.worlds.motion import splits
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate


class ClipPool:
    """All rendered training frames ``(scenes, scene_frames, S, S, 3) uint8``."""

    def __init__(self, config: VideoConfig, advance: Advance | None = None) -> None:
        self.config = config
        videos = []
        for scenario in splits.SCENARIOS:
            for item in splits.sample(scenario, "train", config.scenes_per_scenario,
                                      seed=config.seed):
                traj = simulate(item.scene, config.scene_frames, config.fps)
                videos.append(render_frames(traj, config.size))
                if advance is not None:
                    advance()
        self.frames = np.stack(videos)

    def __len__(self) -> int:
        return len(self.frames)

    def sample(self, rng: np.random.Generator, batch: int,
               length: int | None = None) -> torch.Tensor:
        """``batch`` random windows ``(batch, length, 3, S, S)`` in [-1, 1] (``length``
        defaults to the window ``W``)."""
        w = self.config.window if length is None else length
        scene = rng.integers(0, len(self.frames), batch)
        start = rng.integers(0, self.frames.shape[1] - w + 1, batch)
        idx = start[:, None] + np.arange(w)[None]
        clips = self.frames[scene[:, None], idx]                   # (B, W, S, S, 3)
        return to_tensor(torch.from_numpy(clips))
