"""Splits of the ``motion`` world, with out-of-distribution physics held out of ``train``.

Phyworld's protocol (Kang et al., 2024, "How Far Is Video Generation from World Model:
A Physical Law Perspective"): three scenarios with one law each, and a test set whose
physics the training set never shows, so that a generator's error there measures
whether it learnt the law or memorised its cases:

    uniform    weightless bodies drifting at constant velocity
    parabola   bodies falling or bouncing under gravity
    collision  two bodies drifting toward each other on one line

Held out of ``train`` (and ``dev``) entirely: speeds above :data:`TRAIN_SPEEDS` (test
draws :data:`OOD_SPEEDS`), and the motion x shape pairs of :data:`HELDOUT_MOTION_SHAPE`
(each motion and each shape is still seen, never together). About half the ``test``
items carry one held-out factor, named in :attr:`MotionItem.ood`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from genlab.errors import InputError, SpecError, check_int
from genlab.worlds.motion import grammar
from genlab.worlds.motion.grammar import MotionGroup, MotionPrompt
from genlab.worlds.motion.spec import MotionScene
from genlab.worlds.shapes import vocab

SPLITS: tuple[str, ...] = ("train", "dev", "test")
SCENARIOS: tuple[str, ...] = ("uniform", "parabola", "collision")
TRAIN_SPEEDS: tuple[float, float] = grammar.SPEEDS
OOD_SPEEDS: tuple[float, float] = (0.8, 1.2)
HELDOUT_MOTION_SHAPE: frozenset[tuple[str, str]] = frozenset({
    ("bouncing", "triangle"), ("drifting right", "square"), ("drifting left", "circle")})
TEST_OOD_RATE = 0.5
SPLIT_SEEDS: dict[str, int] = {"train": 0, "dev": 1_000_003, "test": 2_000_003}
_MOTIONS = {"uniform": grammar.WEIGHTLESS_MOTIONS, "parabola": ("falling", "bouncing")}


@dataclass(frozen=True)
class MotionItem:
    """One sampled scene: its prompt, the spec it says and the scene that realises it.

    Attributes:
        ood: the held-out factors it carries: ``()``, ``("speed",)`` or
            ``("combination",)`` (``test`` only).
    """

    split: str
    scenario: str
    prompt: str
    spec: MotionPrompt
    scene: MotionScene
    ood: tuple[str, ...] = ()


def _heldout(spec: MotionPrompt) -> bool:
    return any((g.motion, g.shape) in HELDOUT_MOTION_SHAPE for g in spec.groups)


def _groups(scenario: str, rng: np.random.Generator, combination: bool) -> MotionPrompt:
    """A random prompt of ``scenario``; with ``combination`` its first group is a held-out
    motion x shape pair of the scenario's motions."""
    kinds = [(c, s) for c in vocab.COLOURS for s in vocab.SHAPES]
    order = rng.permutation(len(kinds))
    if scenario == "collision":
        (c0, s0), (c1, s1) = kinds[order[0]], kinds[order[1]]
        groups = [MotionGroup(1, c0, s0, "drifting right"), MotionGroup(1, c1, s1,
                                                                         "drifting left")]
    else:
        n = int(rng.integers(1, 3))
        groups = []
        for k in range(n):
            colour, shape = kinds[order[k]]
            groups.append(MotionGroup(int(rng.integers(1, 3)), colour, shape,
                                      str(rng.choice(_MOTIONS[scenario]))))
    if combination:
        pairs = sorted(p for p in HELDOUT_MOTION_SHAPE
                       if p[0] in (_MOTIONS.get(scenario) or ("drifting right",
                                                              "drifting left")))
        motion, shape = pairs[int(rng.integers(len(pairs)))]
        first = groups[0] if scenario != "collision" else next(
            g for g in groups if g.motion == motion)
        colour = first.colour
        if any((g.colour, g.shape) == (colour, shape) for g in groups if g is not first):
            colour = next(c for c in vocab.COLOURS if all((g.colour, g.shape) != (c, shape)
                                                          for g in groups))
        groups[groups.index(first)] = dataclasses.replace(first, colour=colour, shape=shape,
                                                          motion=motion)
    return MotionPrompt(tuple(groups))


def _collide(scene: MotionScene, rng: np.random.Generator) -> MotionScene:
    """Put a collision scene's two bodies on one horizontal line, facing each other."""
    left, right = scene.bodies
    y = float(rng.uniform(0.3, 0.7))
    return dataclasses.replace(scene, bodies=(
        dataclasses.replace(left, x=float(rng.uniform(left.radius + 0.02, 0.35)), y=y),
        dataclasses.replace(right, x=float(rng.uniform(0.65, 0.98 - right.radius)), y=y)))


def sample(scenario: str, split: str, n: int, seed: int = 0) -> list[MotionItem]:
    """``n`` items of ``scenario`` from ``split`` (deterministic in ``seed``)."""
    if scenario not in SCENARIOS:
        raise InputError(f"unknown motion scenario {scenario!r}; accepted: "
                         f"{', '.join(SCENARIOS)}")
    if split not in SPLITS:
        raise SpecError(f"unknown split {split!r}; accepted: {', '.join(SPLITS)}")
    check_int("n", n, 0)
    rng = np.random.default_rng((SPLIT_SEEDS[split], SCENARIOS.index(scenario), seed))
    out: list[MotionItem] = []
    while len(out) < n:
        ood: tuple[str, ...] = ()
        if split == "test" and rng.random() < TEST_OOD_RATE:
            ood = (str(rng.choice(["speed", "combination"])),)
        spec = _groups(scenario, rng, "combination" in ood)
        if "speed" in ood and all(g.motion == "falling" for g in spec.groups):
            # a speed is held out only where a body starts moving: make one bounce
            first = dataclasses.replace(spec.groups[0], motion="bouncing")
            spec = dataclasses.replace(spec, groups=(first, *spec.groups[1:]))
        if "combination" not in ood and _heldout(spec):  # only there a held-out pair
            continue
        speeds = OOD_SPEEDS if "speed" in ood else TRAIN_SPEEDS
        scene = grammar.realise(spec, rng, speeds=speeds)
        if scenario == "collision":
            scene = _collide(scene, rng)
        out.append(MotionItem(split, scenario, grammar.prompt(spec), spec, scene, ood))
    return out
