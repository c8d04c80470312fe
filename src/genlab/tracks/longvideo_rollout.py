"""One long rollout of a video generator, saved chunk by chunk so that it resumes.

A rollout of ``frames`` frames is asked of the generator ``chunk`` frames at a time;
after each chunk one file ``chunk-00012.npz`` is written (to a temporary name, then
renamed: a chunk file is whole or absent) holding the chunk's frames, the
generator's :meth:`~genlab.contracts.VideoRollout.state` after it, and the time and
memory spent so far. A killed rollout restarts from its last chunk file: the
generator is started again from that state, so the frames it goes on with are
those it would have made without the interruption (the contract asks generators to
save their random states; a test checks it for every registered one).

Generation is timed alone (the ``next`` calls, not the writing); peak memory is the
kernel's high-water mark over the generation loop (:class:`~genlab.tracks.latency.
PeakRSS`), with the frames kept on disk until it ends, so a generator whose memory
grows with the video's length shows it and the track's own arrays do not.
"""

from __future__ import annotations

import ctypes
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from genlab.contracts import VideoGenerator, VideoRequest, check_frames
from genlab.errors import CheckpointError, check_int
from genlab.progress import Advance
from genlab.tracks.latency import PeakRSS

STATE = "state."  # key prefix of the generator's state arrays in a chunk file
MB = 1024 * 1024


@dataclass(frozen=True)
class RolloutResult:
    """A finished rollout's frames and costs.

    Attributes:
        frames: ``(T, S, S, 3) uint8``, the generated frames (context excluded).
        seconds: time in the generator's ``start`` and ``next`` calls, all segments.
        peak_rss_mb: the process's peak resident memory while generating (the largest
            over the segments of a resumed rollout).
        rss_before_mb: resident memory when generation (its first segment) began.
        segments: how many runs it took (1 unless it was resumed).
    """

    frames: np.ndarray
    seconds: float
    peak_rss_mb: float
    rss_before_mb: float
    segments: int

    @property
    def fps(self) -> float:
        return len(self.frames) / self.seconds if self.seconds > 0 else float("inf")


def _trim() -> None:
    """Hand memory freed by earlier work back to the system (glibc's ``malloc_trim``),
    so the resident size a rollout starts from is not the high tide of what ran
    before it; a no-op where there is no glibc."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _chunk_path(folder: Path, index: int) -> Path:
    return folder / f"chunk-{index:05d}.npz"


def chunk_files(folder: Path) -> list[Path]:
    """The whole chunk files in ``folder``, in order (temporary files ignored)."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob("chunk-[0-9][0-9][0-9][0-9][0-9].npz"))


def _save(path: Path, frames: np.ndarray, state: dict[str, np.ndarray],
          meta: dict[str, float]) -> None:
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    arrays = {"frames": frames, **{f"{STATE}{k}": np.asarray(v) for k, v in state.items()},
              **{k: np.asarray(v) for k, v in meta.items()}}
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **cast(dict[str, Any], arrays))  # numpy's stubs type a kwarg
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _load(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, float]]:
    try:
        with np.load(path) as data:
            frames = data["frames"]
            state = {k[len(STATE):]: data[k] for k in data.files if k.startswith(STATE)}
            meta = {k: float(data[k]) for k in data.files
                    if k != "frames" and not k.startswith(STATE)}
    except (OSError, ValueError, KeyError) as exc:
        raise CheckpointError(f"rollout chunk {path} is unreadable: {exc}; delete the "
                              "folder to start the rollout again") from exc
    return frames, state, meta


def roll(generator: VideoGenerator, request: VideoRequest, frames: int, chunk: int,
         folder: Path, advance: Advance | None = None) -> RolloutResult:
    """``frames`` frames of ``generator`` continuing ``request``, resumed from the chunk
    files in ``folder`` if any; ``advance(k)`` is called with each chunk's frame count
    (those already on disk included)."""
    check_int("frames", frames)
    check_int("chunk", chunk)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"seconds": 0.0, "peak_rss_mb": 0.0, "rss_before_mb": -1.0, "segments": 0.0}
    state: dict[str, np.ndarray] | None = None
    files = chunk_files(folder)
    for path in files[-1:]:
        _, state, meta = _load(path)
    sizes = [min(chunk, frames - chunk * i) for i in range(-(-frames // chunk))]
    if len(files) > len(sizes) or any(not path.name.endswith(f"{i:05d}.npz")
                                      for i, path in enumerate(files)):
        raise CheckpointError(f"rollout chunks in {folder} do not match {frames} frames in "
                              f"chunks of {chunk}; delete the folder to start again")
    done = sum(sizes[:len(files)])
    if advance is not None and done:
        advance(done)
    seconds, peak, before = meta["seconds"], meta["peak_rss_mb"], meta["rss_before_mb"]
    segments = int(meta["segments"])
    if done < frames:
        segments += 1
        # frames go to disk chunk by chunk and are read back only after the loop, so
        # the memory measured is the generator's alone, whatever the video's length
        _trim()  # the judge of the last rollout must not count as this one's memory
        with PeakRSS() as mem:
            before = mem.before / MB if before < 0 else before
            t0 = time.perf_counter()
            rollout = generator.start(request, resume=state)
            seconds += time.perf_counter() - t0
            for index in range(len(files), len(sizes)):
                t0 = time.perf_counter()
                part = rollout.next(sizes[index])
                seconds += time.perf_counter() - t0
                part = check_frames(part, sizes[index], request.size,
                                    what=f"video generator {generator.name!r}")
                peak = max(peak, mem.current_peak() / MB)
                _save(_chunk_path(folder, index), part, rollout.state(),
                      {"seconds": seconds, "peak_rss_mb": peak, "rss_before_mb": before,
                       "segments": float(segments)})
                if advance is not None:
                    advance(sizes[index])
        peak = max(peak, mem.peak / MB)
    parts = [_load(path)[0] for path in chunk_files(folder)]
    if [len(p) for p in parts] != sizes:
        raise CheckpointError(f"rollout chunks in {folder} hold {[len(p) for p in parts]} "
                              f"frames; expected {sizes}; delete the folder to start again")
    return RolloutResult(np.concatenate(parts), seconds, peak, before, segments)


def clear(folder: Path) -> None:
    """Remove a finished rollout's chunk files (once its row is stored)."""
    for path in chunk_files(folder):
        path.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (a stray temporary file) or already gone: harmless
