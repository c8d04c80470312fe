"""The contracts every component is written against (DESIGN.md, "Contracts").

Small Protocols and frozen records only; implementations live in
``worlds/``, ``judges/``, ``generators/`` and ``tracks/``.

Array conventions: images are ``(n, H, W, 3) uint8`` numpy arrays, RGB,
origin top-left; a video is the same array with one entry per frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from genlab.errors import InputError
from genlab.worlds.shapes.spec import Box, PromptSpec

BoxList = tuple[Box, ...]


@dataclass(frozen=True)
class Generation:
    """What a generator returns.

    Attributes:
        images: ``(n, H, W, 3) uint8``, one per (prompt, seed).
        timings: seconds spent per stage over the whole call (e.g.
            ``text_encoding``, ``backbone``, ``decode``, ``sampler``); empty
            when the generator cannot split its time.
    """

    images: np.ndarray
    timings: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_images(self.images, what="generator output")


@runtime_checkable
class Generator(Protocol):
    """Text (+ boxes) to image. Sees prompts and seeds, never the ground-truth spec."""

    name: str

    def generate(
        self,
        prompts: Sequence[str],
        seeds: Sequence[int],
        *,
        boxes: Sequence[BoxList | None] | None = None,
        size: int = 32,
    ) -> Generation:
        """One image per (prompt, seed); ``boxes[i]`` is the layout for prompt i, if any."""
        ...


@dataclass(frozen=True)
class VideoRequest:
    """One video for a :class:`VideoGenerator` to continue.

    The protocol is Phyworld's (Kang et al., 2024, "How Far Is Video Generation from
    World Model"): the generator is shown the first frames of a ``motion`` video and
    its prompt, and continues it; the track compares the continuation with the
    simulator's, so a position error means something.

    Attributes:
        prompt: the scene's prompt ("two red circles bouncing").
        seed: seeds the generator's randomness.
        fps: frames per second of the context and of the continuation.
        context: ``(k, S, S, 3) uint8``, the first ``k >= 1`` frames (the simulator's
            renders); the continuation starts at frame ``k`` at the same side ``S``.
        scene_json: the exact initial scene (``MotionScene`` JSON). Privileged: the
            track fills it only for generators whose ``privileged`` is true (the oracle
            and the controls); for every other generator it is ``""``.
    """

    prompt: str
    seed: int
    fps: int
    context: np.ndarray = field(repr=False)
    scene_json: str = ""

    def __post_init__(self) -> None:
        check_images(self.context, what="video context")
        k, h, w, _ = self.context.shape
        if k < 1 or h != w or h < 1:
            raise InputError(f"video context must hold >= 1 square frame, got shape "
                             f"{self.context.shape}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise InputError(f"video seed must be an int, got {self.seed!r}")
        if isinstance(self.fps, bool) or not isinstance(self.fps, (int, np.integer)) \
                or self.fps < 1:
            raise InputError(f"video fps must be an int >= 1, got {self.fps!r}")

    @property
    def size(self) -> int:
        """The frames' side in pixels."""
        return int(self.context.shape[1])


@runtime_checkable
class VideoRollout(Protocol):
    """One video being generated, a chunk at a time, in constant memory if it can."""

    def next(self, n: int) -> np.ndarray:
        """The next ``n`` frames, ``(n, S, S, 3) uint8``."""
        ...

    def state(self) -> dict[str, np.ndarray]:
        """Everything needed to continue: ``start(request, resume=state())`` goes on
        with the frames this rollout would have made (random generator states included)."""
        ...


@runtime_checkable
class VideoGenerator(Protocol):
    """Context frames (+ prompt) to a continuation of any length, chunk by chunk."""

    name: str
    privileged: bool
    """Whether it reads :attr:`VideoRequest.scene_json` (the controls only)."""

    def start(self, request: VideoRequest,
              resume: Mapping[str, np.ndarray] | None = None) -> VideoRollout:
        """A rollout of ``request`` (from its context, or from a saved ``state()``)."""
        ...


def check_frames(frames: object, n: int, size: int, *, what: str) -> np.ndarray:
    """Loud check that a video generator returned ``n`` frames ``(n, size, size, 3) uint8``."""
    frames = check_images(frames, what=what)
    if frames.shape != (n, size, size, 3):
        raise InputError(f"{what} returned frames of shape {frames.shape}; asked for "
                         f"{(n, size, size, 3)}")
    return frames


@dataclass(frozen=True)
class Verdict:
    """A judge's ruling on one image.

    Attributes:
        passed: whether the image satisfies the spec exactly.
        reason: one sentence a person can read ("expected 5 red squares,
            found 4 red squares and 1 red blob").
        details: JSON-serialisable extras (detected objects, IoUs, ...).
    """

    passed: bool
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Judge(Protocol):
    """A pure function of (images, specs) to verdicts; versioned."""

    name: str
    version: str

    def judge(self, images: np.ndarray, specs: Sequence[PromptSpec]) -> list[Verdict]:
        ...


def identity(generator: Generator) -> dict[str, Any]:
    """What identifies a generator's outputs: its class, its ``version`` and ``config``
    if it has them, and whatever its optional ``describe()`` returns (sampling
    options, a checkpoint hash, a wrapped generator's identity)."""
    desc: dict[str, Any] = {"class": f"{type(generator).__module__}.{type(generator).__name__}"}
    for attr in ("version", "config"):
        if hasattr(generator, attr):
            desc[attr] = getattr(generator, attr)
    describe = getattr(generator, "describe", None)
    if callable(describe):
        desc["describe"] = describe()
    return desc


def with_options(generator: Generator, **options: object) -> Generator:
    """``generator`` sampling with other options (``steps``, ``sampler``, ``guidance``),
    through its optional ``with_options`` method; a generator without one (a renderer,
    a control) is an InputError naming it."""
    method = getattr(generator, "with_options", None)
    if not callable(method):
        raise InputError(f"generator {getattr(generator, 'name', generator)!r} has no "
                         f"sampling options; asked for {sorted(options)}")
    return method(**options)  # type: ignore[no-any-return]


def check_request(prompts: Sequence[str], seeds: Sequence[int],
                  boxes: Sequence[BoxList | None] | None) -> list[BoxList | None]:
    """Loud check of a :meth:`Generator.generate` call's arguments (one seed, an int,
    and at most one box list per prompt); returns one box list or None per prompt."""
    if isinstance(prompts, str):
        raise InputError("prompts must be a list of strings, got one string")
    if len(prompts) != len(seeds):
        raise InputError(f"{len(prompts)} prompts but {len(seeds)} seeds; give one seed per prompt")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer))]
    if bad:
        raise InputError(f"seeds must be ints, got {bad[0]!r}")
    if boxes is None:
        return [None] * len(prompts)
    if len(boxes) != len(prompts):
        raise InputError(f"{len(prompts)} prompts but {len(boxes)} box lists")
    return list(boxes)


def check_images(images: object, *, what: str = "images") -> np.ndarray:
    """Loud check of the ``(n, H, W, 3) uint8`` convention; returns the array."""
    if not isinstance(images, np.ndarray):
        raise InputError(f"{what} must be a numpy array (n, H, W, 3) uint8, "
                         f"got {type(images).__name__}")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise InputError(f"{what} must have shape (n, H, W, 3), got {images.shape}")
    if images.dtype != np.uint8:
        raise InputError(f"{what} must be uint8, got {images.dtype}")
    return images


def check_image(image: object, *, what: str = "image") -> np.ndarray:
    """Loud check of one ``(H, W, 3) uint8`` image."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"{what} must be a numpy array (H, W, 3) uint8, "
                         f"got {type(image).__name__}")
    if image.ndim != 3 or image.shape[-1] != 3:
        raise InputError(f"{what} must have shape (H, W, 3), got {image.shape}")
    if image.dtype != np.uint8:
        raise InputError(f"{what} must be uint8, got {image.dtype}")
    if min(image.shape[:2]) < 1:
        raise InputError(f"{what} is empty: shape {image.shape}")
    return image
