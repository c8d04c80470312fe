"""English <-> :class:`MotionPrompt` for the ``motion`` world, and prompts realised as scenes.

A prompt names groups of bodies and what each group does:

    two red circles bouncing, a blue square sliding left and a green triangle resting
    a yellow circle drifting up and a purple square drifting left on a black background

Motions in a world with gravity (a floor below, walls at the sides): ``resting``
(on the floor), ``falling`` (from rest, high up), ``bouncing`` (dropped with a
sideways speed), ``sliding left`` / ``sliding right`` (along the floor). Motions in a
weightless world: ``drifting left|right|up|down`` (a constant velocity until a wall).
A scene has one gravity, so a prompt that mixes the two kinds is impossible physics:
a :class:`SpecError` that says which words need which world. ``parse(prompt(spec))
== spec`` for every valid spec; a word outside the vocabulary is a
:class:`ParseError` listing what is accepted. :func:`realise` draws a concrete
:class:`~genlab.worlds.motion.spec.MotionScene` for a prompt from a seeded generator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from genlab.errors import ParseError, SpecError
from genlab.worlds.motion.spec import Body, MotionScene, Physics
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.placement import MIN_SIZE

GRAVITY_MOTIONS: tuple[str, ...] = ("resting", "falling", "bouncing", "sliding left",
                                    "sliding right")
WEIGHTLESS_MOTIONS: tuple[str, ...] = ("drifting left", "drifting right", "drifting up",
                                       "drifting down")
MOTIONS: tuple[str, ...] = GRAVITY_MOTIONS + WEIGHTLESS_MOTIONS
MAX_BODIES = 8
MAX_GROUPS = 3
GRAVITY = 2.0  # image heights per second squared: a drop from the top lands in ~1 s
SIZES = (MIN_SIZE, 0.2)  # the shapes world's sizes, the range its detector is validated on
SPEEDS = (0.2, 0.6)
_SINGULAR = {p: s for s, p in vocab.PLURALS.items()}
_DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0),
               "down": (0.0, 1.0)}


@dataclass(frozen=True)
class MotionGroup:
    """``count`` bodies of one colour and shape doing one motion."""

    count: int
    colour: str
    shape: str
    motion: str

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) \
                or not 1 <= self.count <= MAX_BODIES:
            raise SpecError(f"group count {self.count!r} must be an int in 1..{MAX_BODIES}")
        if self.colour not in vocab.COLOURS:
            raise SpecError(f"unknown colour {self.colour!r}; accepted: "
                            f"{', '.join(vocab.COLOURS)}")
        if self.shape not in vocab.SHAPES:
            raise SpecError(f"unknown shape {self.shape!r}; accepted: {', '.join(vocab.SHAPES)}")
        if self.motion not in MOTIONS:
            raise SpecError(f"unknown motion {self.motion!r}; accepted: {', '.join(MOTIONS)}")


@dataclass(frozen=True)
class MotionPrompt:
    """What a ``motion`` prompt says: its groups (in prompt order) and background."""

    groups: tuple[MotionGroup, ...]
    background: str = vocab.DEFAULT_BACKGROUND

    def __post_init__(self) -> None:
        if not 1 <= len(self.groups) <= MAX_GROUPS:
            raise SpecError(f"a motion prompt has 1..{MAX_GROUPS} groups, got "
                            f"{len(self.groups)}")
        total = sum(g.count for g in self.groups)
        if total > MAX_BODIES:
            raise SpecError(f"a motion prompt has at most {MAX_BODIES} bodies, got {total}")
        kinds = [(g.colour, g.shape) for g in self.groups]
        if len(set(kinds)) != len(kinds):
            raise SpecError(f"each group needs its own colour and shape (identities must be "
                            f"trackable), got {kinds}")
        if self.background not in vocab.BACKGROUNDS:
            raise SpecError(f"unknown background {self.background!r}; accepted: "
                            f"{', '.join(vocab.BACKGROUNDS)}")
        heavy = [g.motion for g in self.groups if g.motion in GRAVITY_MOTIONS]
        light = [g.motion for g in self.groups if g.motion in WEIGHTLESS_MOTIONS]
        if heavy and light:
            raise SpecError(f"impossible physics: {', '.join(sorted(set(heavy)))} needs "
                            f"gravity and {', '.join(sorted(set(light)))} needs none; a "
                            "scene has one gravity")

    @property
    def gravity(self) -> bool:
        """Whether the prompt's world has gravity (every group agrees, or it is invalid)."""
        return self.groups[0].motion in GRAVITY_MOTIONS


# ---------------------------------------------------------------- spec -> English


def _phrase(g: MotionGroup) -> str:
    count = "a" if g.count == 1 else vocab.NUMBER_WORDS[g.count]
    noun = g.shape if g.count == 1 else vocab.PLURALS[g.shape]
    return f"{count} {g.colour} {noun} {g.motion}"


def prompt(spec: MotionPrompt) -> str:
    """The one English sentence of ``spec``."""
    phrases = [_phrase(g) for g in spec.groups]
    text = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    if spec.background != vocab.DEFAULT_BACKGROUND:
        text += f" on a {spec.background} background"
    return text


# ---------------------------------------------------------------- English -> spec


_WORDS: frozenset[str] = frozenset(
    set(vocab.NUMBERS) | {"a"} | set(vocab.COLOURS) | set(vocab.SHAPES)
    | set(vocab.PLURALS.values()) | {w for m in MOTIONS for w in m.split()}
    | {"and", "on", "background"} | set(vocab.BACKGROUNDS))
"""Every word a motion prompt may use."""


def _parse_group(words: list[str], text: str) -> MotionGroup:
    if len(words) < 4:
        raise ParseError(f"{' '.join(words)!r} in {text!r}: a group is <count> <colour> "
                         "<shape> <motion>, e.g. 'two red circles bouncing'")
    count_word, colour, noun, *motion_words = words
    count = 1 if count_word == "a" else vocab.NUMBERS.get(count_word)
    if count is None:
        raise ParseError(f"{count_word!r} is not a count; accepted: a, "
                         f"{', '.join(vocab.NUMBERS)}")
    if colour not in vocab.COLOURS:
        raise ParseError(f"{colour!r} is not a colour; accepted: {', '.join(vocab.COLOURS)}")
    plural = noun in _SINGULAR
    shape = _SINGULAR.get(noun, noun)
    if shape not in vocab.SHAPES or plural != (count > 1):
        raise ParseError(f"{noun!r} does not fit count {count_word!r}; accepted: "
                         f"{', '.join(vocab.SHAPES)} after 'a', their plurals after a number")
    motion = " ".join(motion_words)
    if motion not in MOTIONS:
        raise ParseError(f"{motion!r} is not a motion; accepted: {', '.join(MOTIONS)}")
    return MotionGroup(count, colour, shape, motion)


def parse(text: str) -> MotionPrompt:
    """The :class:`MotionPrompt` of ``text`` (ParseError outside the grammar, SpecError
    for a well-formed prompt that asks the impossible)."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError(f"a motion prompt must be a non-empty string, got {text!r}")
    clean = " ".join(text.strip().lower().split())
    unknown = sorted({w for w in re.split(r"[ ,]+", clean) if w} - _WORDS)
    if unknown:
        raise ParseError(f"unknown word(s) {unknown} in {text!r}; accepted: "
                         f"{', '.join(sorted(_WORDS))}")
    background = vocab.DEFAULT_BACKGROUND
    found = re.fullmatch(r"(.*) on a (\w+) background", clean)
    if found:
        clean, background = found.group(1), found.group(2)
    parts = clean.split(", ")
    if " and " not in parts[-1] and len(parts) > 1:
        raise ParseError(f"{text!r}: the last group comes after 'and'")
    *head, last = parts
    phrases = [*head, *last.split(" and ")]
    groups = tuple(_parse_group(p.split(), text) for p in phrases)
    return MotionPrompt(groups, background)


# ---------------------------------------------------------------- spec -> scene


def _velocity(motion: str, rng: np.random.Generator,
              speeds: tuple[float, float]) -> tuple[float, float]:
    speed = float(rng.uniform(*speeds))
    if motion in ("resting", "falling"):
        return 0.0, 0.0
    if motion == "bouncing":
        return speed * float(rng.choice([-1.0, 1.0])), 0.0
    dx, dy = _DIRECTIONS[motion.split()[1]]
    return speed * dx, speed * dy


def _height(motion: str, r: float, rng: np.random.Generator) -> float:
    if motion in ("resting", "sliding left", "sliding right"):
        return 1.0 - r
    if motion in ("falling", "bouncing"):
        return float(rng.uniform(r, 0.5))
    return float(rng.uniform(r, 1.0 - r))


def realise(spec: MotionPrompt, rng: np.random.Generator, *, tries: int = 200,
            speeds: tuple[float, float] = SPEEDS) -> MotionScene:
    """A concrete scene for ``spec``: sizes, non-overlapping start positions and the
    velocities its motions mean (speeds uniform in ``speeds``, :data:`SPEEDS` unless a
    split holds other speeds out), gravity :data:`GRAVITY` or none, walls and floor on."""
    bodies: list[Body] = []
    for g in spec.groups:
        for _ in range(g.count):
            for _ in range(tries):
                size = float(rng.uniform(*SIZES))
                r = size / 2
                x, y = float(rng.uniform(r, 1.0 - r)), _height(g.motion, r, rng)
                if all((x - b.x) ** 2 + (y - b.y) ** 2 > (r + b.radius + 0.01) ** 2
                       for b in bodies):
                    break
            else:
                raise SpecError(f"could not place {g.count} {g.colour} {g.shape}(s) "
                                f"without overlap in {tries} tries; ask for fewer bodies")
            vx, vy = _velocity(g.motion, rng, speeds)
            bodies.append(Body(g.shape, g.colour, x, y, size, vx, vy))
    physics = Physics(gravity=GRAVITY if spec.gravity else 0.0)
    return MotionScene(spec.background, tuple(bodies), physics)
