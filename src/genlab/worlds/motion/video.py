"""Videos of ``motion`` rollouts: MP4 files and filmstrips, for people to look at.

``write_mp4`` encodes frames as H.264 through PyAV (FFmpeg's libraries, shipped
inside the ``av`` wheel: nothing is downloaded), each frame scaled up by a whole
factor with nearest-neighbour pixels so that 32x32 frames stay sharp, written to a
temporary file and renamed into place, so that an interrupted write leaves no
half-written video. ``filmstrip`` lays chosen frames side by side (the report's "0 s,
1 min, 5 min, 10 min" strip).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from genlab.contracts import check_images
from genlab.errors import InputError, check_int


def _check_frames(frames: object) -> np.ndarray:
    images = check_images(frames, what="frames")
    if not len(images):
        raise InputError("frames must hold at least one frame, got none")
    return images


def upscale(frames: np.ndarray, factor: int) -> np.ndarray:
    """Each pixel as a ``factor`` x ``factor`` block."""
    check_int("scale", factor)
    return np.repeat(np.repeat(frames, factor, axis=-3), factor, axis=-2)


def write_mp4(frames: np.ndarray, path: str | os.PathLike[str], fps: int, *,
              scale: int = 8, crf: int = 18) -> Path:
    """Encode ``frames`` ``(T, H, W, 3) uint8`` at ``fps`` into ``path`` (H.264,
    yuv420p); returns the path."""
    import av

    frames = _check_frames(frames)
    check_int("scale", scale)
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 240:
        raise InputError(f"fps must be an int in 1..240, got {fps!r}")
    h, w = frames.shape[1] * scale, frames.shape[2] * scale
    if h % 2 or w % 2:
        raise InputError(f"H.264 needs even sides; {h}x{w} after scale {scale}: use an "
                         "even scale")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{os.getpid()}-{out.name}")
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.options = {"crf": str(crf)}
            for frame in frames:  # scaled one at a time: minutes of video stay small
                big = upscale(frame, scale)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(big, format="rgb24")))
            container.mux(stream.encode())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def read_mp4(path: str | os.PathLike[str]) -> np.ndarray:
    """Every frame of an MP4 as ``(T, H, W, 3) uint8`` (for tests and checks)."""
    import av

    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def filmstrip(frames: np.ndarray, indices: Sequence[int], *, scale: int = 4,
              gap: int = 2) -> np.ndarray:
    """Frames ``indices`` side by side, scaled, ``gap`` gray pixels apart:
    ``(H * scale, k * (W * scale + gap) - gap, 3) uint8``."""
    frames = _check_frames(frames)
    bad = [i for i in indices if not 0 <= i < len(frames)]
    if not indices or bad:
        raise InputError(f"filmstrip indices {list(indices)} must be in 0..{len(frames) - 1}")
    tiles = upscale(frames[list(indices)], scale)
    h = tiles.shape[1]
    spacer = np.full((h, gap, 3), 128, np.uint8)
    parts: list[np.ndarray] = []
    for tile in tiles:
        parts += [tile, spacer]
    return np.concatenate(parts[:-1], axis=1)
