"""Spec samplers (one per prompt category) and scene realisation for ``shapes``.

``sample_spec`` draws what a prompt asks for; ``realize`` draws one concrete
scene satisfying it: sizes and positions by rejection sampling with a margin
between every pair of boxes, so objects never overlap by construction.
All randomness comes from a ``numpy.random.Generator`` the caller seeds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from genlab.errors import SpecError
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.spec import Box, Group, PromptSpec, Scene, SceneObject
from genlab.worlds.shapes.splits import (
    HELDOUT_COLOUR_SHAPE,
    HELDOUT_COUNT_SHAPE,
    group_is_heldout,
)

# Geometry, as image fractions. At 32 px the smallest object is 5.4 px and
# the smallest gap 2.2 px: enough for the judge to separate and name them.
MARGIN = 0.07          # minimum Chebyshev gap between two objects' boxes
BORDER = 0.03          # minimum gap between a box and the image edge
MIN_SIZE = 0.17
REL_GAP = 0.15         # minimum centre offset along a position relation's axis
# size range by number of objects in the scene
def size_range(n: int) -> tuple[float, float]:
    if n <= 1:
        return (0.24, 0.42)
    if n <= 3:
        return (0.2, 0.3)
    if n <= 5:
        return (0.18, 0.24)
    return (MIN_SIZE, 0.2)


ALL_KINDS: tuple[tuple[str, str], ...] = tuple(
    (c, s) for c in vocab.COLOURS for s in vocab.SHAPES
)


class _Draw:
    """Draws colours/shapes/counts, avoiding held-out compositions in ``train``."""

    def __init__(self, rng: np.random.Generator, split: str) -> None:
        self.rng = rng
        self.train = split == "train"

    def kind(self, exclude: set[tuple[str, str]] = frozenset()) -> tuple[str, str]:  # type: ignore[assignment]
        kinds = [k for k in ALL_KINDS if k not in exclude
                 and not (self.train and k in HELDOUT_COLOUR_SHAPE)]
        c, s = kinds[self.rng.integers(len(kinds))]
        return c, s

    def count(self, shape: str, lo: int, hi: int) -> int:
        counts = [n for n in range(lo, hi + 1)
                  if not (self.train and (n, shape) in HELDOUT_COUNT_SHAPE)]
        return int(counts[self.rng.integers(len(counts))])

    def colour(self) -> str:
        return list(vocab.COLOURS)[self.rng.integers(len(vocab.COLOURS))]

    def shape(self) -> str:
        return vocab.SHAPES[self.rng.integers(len(vocab.SHAPES))]


def _single(d: _Draw) -> PromptSpec:
    c, s = d.kind()
    return PromptSpec("single", (Group(1, s, c),))


def _counting(d: _Draw) -> PromptSpec:
    c, s = d.kind()
    return PromptSpec("counting", (Group(d.count(s, 1, vocab.MAX_COUNT), s, c),))


def _multi(d: _Draw) -> PromptSpec:
    n_groups = 2 + int(d.rng.integers(2))
    budget = 6  # total objects; keeps multi scenes readable at 32 px
    groups: list[Group] = []
    used: set[tuple[str, str]] = set()
    for i in range(n_groups):
        c, s = d.kind(used)
        used.add((c, s))
        left = budget - sum(g.count for g in groups) - (n_groups - i - 1)
        groups.append(Group(d.count(s, 1, min(3, left)), s, c))
    return PromptSpec("multi", tuple(groups))


def _two_distinct(d: _Draw) -> tuple[Group, Group]:
    c1, s1 = d.kind()
    c2, s2 = d.kind({(c, s) for c, s in ALL_KINDS if c == c1 or s == s1})
    return Group(1, s1, c1), Group(1, s2, c2)


def _binding(d: _Draw) -> PromptSpec:
    return PromptSpec("binding", _two_distinct(d))


def _position(d: _Draw) -> PromptSpec:
    a, b = _two_distinct(d)
    rel = list(vocab.RELATIONS)[d.rng.integers(len(vocab.RELATIONS))]
    return PromptSpec("position", (a, b), relation=rel)


def _negation(d: _Draw) -> PromptSpec:
    s = d.shape()
    form = int(d.rng.integers(3))
    if form == 0:      # "three circles and no red objects"
        colour = None
        neg = Group(0, None, d.colour())
    elif form == 1:    # "two red squares and no triangles"
        colour = d.colour()
        neg = Group(0, [x for x in vocab.SHAPES if x != s][d.rng.integers(2)], None)
    else:              # "a circle and no blue circles"
        colour = None
        neg = Group(0, s, d.colour())
    if colour is not None and d.train and (colour, s) in HELDOUT_COLOUR_SHAPE:
        colour = None
        neg = Group(0, None, d.colour())
    return PromptSpec("negation", (Group(d.count(s, 1, 4), s, colour),), negation=neg)


def _layout(d: _Draw) -> PromptSpec:
    n = 1 + int(d.rng.integers(4))
    used: set[tuple[str, str]] = set()
    groups = []
    for _ in range(n):
        c, s = d.kind(used)
        used.add((c, s))
        groups.append(Group(1, s, c))
    boxes = place_boxes(d.rng, n)
    return PromptSpec("layout", tuple(groups), boxes=tuple(boxes))


SAMPLERS: dict[str, Callable[[_Draw], PromptSpec]] = {
    "single": _single,
    "counting": _counting,
    "multi": _multi,
    "binding": _binding,
    "position": _position,
    "negation": _negation,
    "layout": _layout,
}


def sample_spec(category: str, rng: np.random.Generator, split: str = "train",
                heldout: bool | None = None) -> PromptSpec:
    """One spec of ``category``. ``heldout`` forces (True) or forbids (False) a held-out
    composition; ``None`` takes whatever the split allows."""
    if category not in SAMPLERS:
        raise SpecError(f"unknown category {category!r}; accepted: {', '.join(SAMPLERS)}")
    d = _Draw(rng, split)
    for _ in range(10_000):
        spec = SAMPLERS[category](d)
        if heldout is None or any(group_is_heldout(g) for g in spec.groups) == heldout:
            return spec
    raise SpecError(f"could not draw a {category} spec with heldout={heldout}")


# ---------------------------------------------------------------- placement


def place_boxes(rng: np.random.Generator, n: int, sizes: list[float] | None = None,
                fixed: list[Box] | None = None) -> list[Box]:
    """``n`` square boxes with at least MARGIN between any two and BORDER to the edge."""
    lo, hi = size_range(n)
    for _ in range(200):  # restarts
        boxes: list[Box] = list(fixed or [])
        ok = True
        for i in range(n):
            size = sizes[i] if sizes else float(rng.uniform(lo, hi))
            for _ in range(200):
                x0 = float(rng.uniform(BORDER, 1 - BORDER - size))
                y0 = float(rng.uniform(BORDER, 1 - BORDER - size))
                b = Box(x0, y0, x0 + size, y0 + size)
                if all(b.gap(o) >= MARGIN for o in boxes):
                    boxes.append(b)
                    break
            else:
                ok = False
                break
        if ok:
            return boxes[len(fixed or []):]
    raise SpecError(f"cannot place {n} objects without overlap")


def _position_boxes(rng: np.random.Generator, relation: str) -> list[Box]:
    lo, hi = size_range(2)
    for _ in range(1000):
        a, b = place_boxes(rng, 2)
        ax, ay = (a.x0 + a.x1) / 2, (a.y0 + a.y1) / 2
        bx, by = (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2
        d = {"left": bx - ax, "right": ax - bx, "above": by - ay, "below": ay - by}[relation]
        if d >= REL_GAP:
            return [a, b]
    raise SpecError(f"cannot place a {relation} pair")  # pragma: no cover


def _fill_colour(g: Group, neg: Group | None, d: _Draw) -> str:
    """A colour for an object of group ``g`` (which may leave colour open)."""
    if g.colour is not None:
        return g.colour
    assert g.shape is not None
    options = [c for c in vocab.COLOURS
               if not (neg is not None and neg.matches(g.shape, c))
               and not (d.train and (c, g.shape) in HELDOUT_COLOUR_SHAPE)]
    return options[d.rng.integers(len(options))]


def realize(spec: PromptSpec, rng: np.random.Generator, split: str = "train") -> Scene:
    """One concrete :class:`Scene` that satisfies ``spec`` exactly."""
    d = _Draw(rng, split)
    kinds: list[tuple[str, str]] = []
    for g in spec.groups:
        for _ in range(g.count):
            assert g.shape is not None
            kinds.append((g.shape, _fill_colour(g, spec.negation, d)))
    if spec.boxes is not None:
        boxes = list(spec.boxes)
    elif spec.relation is not None:
        boxes = _position_boxes(rng, spec.relation)
    else:
        boxes = place_boxes(rng, len(kinds))
    order = rng.permutation(len(kinds)) if spec.boxes is None and spec.relation is None \
        else np.arange(len(kinds))
    objects = []
    for (shape, colour), i in zip(kinds, order):
        b = boxes[int(i)]
        size = min(b.width, b.height)
        objects.append(SceneObject(shape, colour, (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2, size))
    background = spec.background or vocab.DEFAULT_BACKGROUND
    return Scene(background, tuple(objects))


def random_scene(rng: np.random.Generator) -> Scene:
    """A valid scene of 1..MAX_COUNT random objects (the negative control's draw)."""
    n = int(rng.integers(1, vocab.MAX_COUNT + 1))
    d = _Draw(rng, "dev")
    boxes = place_boxes(rng, n)
    objs = []
    for b in boxes:
        c, s = d.kind()
        objs.append(SceneObject(s, c, (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2, b.width))
    return Scene(vocab.DEFAULT_BACKGROUND, tuple(objs))
