"""The frozen description of a ``motion`` scene: its bodies at t = 0 and its physics.

Coordinates are image fractions with y growing downward, as in ``shapes``: the view
is the unit square, the floor is y = 1, the side walls x = 0 and x = 1. Velocities
are image fractions per second, gravity image fractions per second squared
(downward). A body collides as the disc inscribed in its box (radius ``size / 2``),
whatever its shape, and never rotates: the simplification that keeps every state
exact and cheap (Phyworld's 2-D worlds, Kang et al., 2024, "How Far Is Video
Generation from World Model", make the same choice of discs and boxes).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

from genlab.errors import SpecError
from genlab.worlds.shapes import vocab

MAX_SPEED = 4.0  # image fractions per second: faster is beyond what 30 fps can show
MAX_GRAVITY = 20.0


def _finite(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not low <= value <= high:
        raise SpecError(f"{name} {value!r} must be a finite number in [{low}, {high}]")


@dataclass(frozen=True)
class Body:
    """One object at t = 0: a ``shapes`` object with a velocity."""

    shape: str
    colour: str
    x: float
    y: float
    size: float
    vx: float = 0.0
    vy: float = 0.0

    def __post_init__(self) -> None:
        if self.shape not in vocab.SHAPES:
            raise SpecError(f"unknown shape {self.shape!r}; accepted: {', '.join(vocab.SHAPES)}")
        if self.colour not in vocab.COLOURS:
            raise SpecError(f"unknown colour {self.colour!r}; accepted: "
                            f"{', '.join(vocab.COLOURS)}")
        _finite("body size", self.size, 0.02, 0.5)
        _finite("body x", self.x, -1.0, 2.0)
        _finite("body y", self.y, -1.0, 2.0)
        for name in ("vx", "vy"):
            _finite(f"body {name}", getattr(self, name), -MAX_SPEED, MAX_SPEED)

    @property
    def radius(self) -> float:
        return self.size / 2


@dataclass(frozen=True)
class Physics:
    """The laws of one scene.

    Attributes:
        gravity: downward acceleration (0 = off).
        walls: elastic side walls at x = 0 and x = 1 (off: bodies leave the view).
        floor: an elastic floor at y = 1 (off: falling bodies leave the view).
        collisions: elastic collisions between bodies (discs, masses ~ size squared).
    """

    gravity: float = 0.0
    walls: bool = True
    floor: bool = True
    collisions: bool = True

    def __post_init__(self) -> None:
        _finite("gravity", self.gravity, 0.0, MAX_GRAVITY)
        for name in ("walls", "floor", "collisions"):
            if not isinstance(getattr(self, name), bool):
                raise SpecError(f"physics {name} must be true or false, "
                                f"got {getattr(self, name)!r}")


@dataclass(frozen=True)
class MotionScene:
    """A background, the bodies at t = 0 and the physics that moves them."""

    background: str = vocab.DEFAULT_BACKGROUND
    bodies: tuple[Body, ...] = field(default_factory=tuple)
    physics: Physics = field(default_factory=Physics)

    def __post_init__(self) -> None:
        if self.background not in vocab.BACKGROUNDS:
            raise SpecError(f"unknown background {self.background!r}; accepted: "
                            f"{', '.join(vocab.BACKGROUNDS)}")
        if not self.bodies:
            raise SpecError("a motion scene needs at least one body")
        for b in self.bodies:
            inside = 0 <= b.x - b.radius and b.x + b.radius <= 1
            if self.physics.walls and not inside:
                raise SpecError(f"body at x={b.x} (radius {b.radius}) starts outside the "
                                "side walls; with walls on, bodies start between them")
            if self.physics.floor and b.y + b.radius > 1:
                raise SpecError(f"body at y={b.y} (radius {b.radius}) starts below the floor")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> MotionScene:
        try:
            d = json.loads(text)
            return cls(d["background"], tuple(Body(**b) for b in d["bodies"]),
                       Physics(**d["physics"]))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise SpecError(f"not a motion scene JSON: {exc}") from exc
