"""Spec samplers (one per prompt category) and scene realisation for ``shapes``.

``sample_spec`` draws what a prompt asks for; ``realize`` draws one concrete
scene satisfying it: sizes and positions by random sequential adsorption
(:mod:`~genlab.worlds.shapes.placement`) with a margin between every pair of
boxes, so objects never overlap by construction. ``sample_specs`` and
``realize_batch`` are the batched forms training uses (one vectorised
placement for the whole batch, scenes as :class:`SceneArrays`).

In ``train`` no held-out composition (:mod:`~genlab.worlds.shapes.splits`)
appears in a prompt or in a picture, named or not (CLEVR-CoGenT's protocol,
Johnson et al., 2017). All randomness comes from a ``numpy.random.Generator``
the caller seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from genlab.errors import SpecError
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.arrays import (
    BACKGROUND_CODE,
    COLOUR_CODE,
    OBJECT_DTYPE,
    SHAPE_CODE,
    SceneArrays,
)
from genlab.worlds.shapes.placement import (  # noqa: F401  (re-exported geometry)
    BORDER,
    MARGIN,
    MIN_SIZE,
    NO_RELATION,
    REL_GAP,
    RELATION_CODES,
    place_batch,
    place_boxes,
    size_range,
)
from genlab.worlds.shapes.spec import Box, Group, PromptSpec, Scene, SceneObject
from genlab.worlds.shapes.splits import (
    HELDOUT_COLOUR_SHAPE,
    HELDOUT_COUNT_SHAPE,
    check_split,
    counts_heldout,
    group_is_heldout,
    groups_show_heldout,
)

ALL_KINDS: tuple[tuple[str, str], ...] = tuple(
    (c, s) for c in vocab.COLOURS for s in vocab.SHAPES
)
_TRAIN_KINDS = tuple(k for k in ALL_KINDS if k not in HELDOUT_COLOUR_SHAPE)
_COLOURS = tuple(vocab.COLOURS)
_RELATIONS = tuple(vocab.RELATIONS)


class _Draw:
    """Draws colours/shapes/counts, avoiding held-out compositions in ``train``.

    Uniforms are drawn from ``rng`` in blocks and served from a Python list:
    one ``Generator.integers`` call costs ~3 us, a list read ~0.1 us.
    """

    def __init__(self, rng: np.random.Generator, split: str, block: int = 64) -> None:
        self.rng = rng
        self.train = split == "train"
        self._kinds = _TRAIN_KINDS if self.train else ALL_KINDS
        self._block = block
        self._buf: list[float] = []

    def below(self, k: int) -> int:
        """A uniform int in ``0..k-1``."""
        if not self._buf:
            self._buf = self.rng.random(self._block).tolist()
        return int(self._buf.pop() * k)

    def kind(self, exclude: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset()
             ) -> tuple[str, str]:
        """A (colour, shape) pair outside ``exclude``, uniformly (by rejection)."""
        while True:
            k = self._kinds[self.below(len(self._kinds))]
            if k not in exclude:
                return k

    def count(self, shape: str, lo: int, hi: int) -> int:
        counts = [n for n in range(lo, hi + 1)
                  if not (self.train and (n, shape) in HELDOUT_COUNT_SHAPE)]
        return counts[self.below(len(counts))]

    def colour(self) -> str:
        return _COLOURS[self.below(len(_COLOURS))]

    def shape(self) -> str:
        return vocab.SHAPES[self.below(len(vocab.SHAPES))]


def _single(d: _Draw) -> PromptSpec:
    c, s = d.kind()
    return PromptSpec("single", (Group(1, s, c),))


def _counting(d: _Draw) -> PromptSpec:
    c, s = d.kind()
    return PromptSpec("counting", (Group(d.count(s, 1, vocab.MAX_COUNT), s, c),))


def _multi(d: _Draw) -> PromptSpec:
    n_groups = 2 + d.below(2)
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
    return PromptSpec("position", (a, b), relation=_RELATIONS[d.below(len(_RELATIONS))])


def _negation(d: _Draw) -> PromptSpec:
    s = d.shape()
    form = d.below(3)
    if form == 0:      # "three circles and no red objects"
        colour = None
        neg = Group(0, None, d.colour())
    elif form == 1:    # "two red squares and no triangles"
        colour = d.colour()
        neg = Group(0, [x for x in vocab.SHAPES if x != s][d.below(2)], None)
    else:              # "a circle and no blue circles"
        colour = None
        neg = Group(0, s, d.colour())
    if colour is not None and d.train and (colour, s) in HELDOUT_COLOUR_SHAPE:
        colour = None
        neg = Group(0, None, d.colour())
    return PromptSpec("negation", (Group(d.count(s, 1, 4), s, colour),), negation=neg)


def _layout_groups(d: _Draw) -> tuple[Group, ...]:
    n = 1 + d.below(4)
    used: set[tuple[str, str]] = set()
    groups = []
    for _ in range(n):
        c, s = d.kind(used)
        used.add((c, s))
        groups.append(Group(1, s, c))
    return tuple(groups)


def _layout(d: _Draw) -> PromptSpec:
    groups = _layout_groups(d)
    return PromptSpec("layout", groups, boxes=tuple(place_boxes(d.rng, len(groups))))


SAMPLERS: dict[str, Callable[[_Draw], PromptSpec]] = {
    "single": _single,
    "counting": _counting,
    "multi": _multi,
    "binding": _binding,
    "position": _position,
    "negation": _negation,
    "layout": _layout,
}


def _check_request(categories: Sequence[str], split: str,
                   flags: Sequence[bool | None]) -> None:
    for category in set(categories):
        if category not in SAMPLERS:
            raise SpecError(f"unknown category {category!r}; accepted: {', '.join(SAMPLERS)}")
    check_split(split)
    if split == "train" and any(flags):
        raise SpecError("heldout=True asks for a held-out composition, which the train "
                        "split never contains; use split='test' (or 'dev')")


def _accept(groups: tuple[Group, ...], d: _Draw, heldout: bool | None) -> bool:
    if d.train and groups_show_heldout(groups):
        return False
    return heldout is None or any(group_is_heldout(g) for g in groups) == heldout


def _draw_one(category: str, d: _Draw, heldout: bool | None) -> PromptSpec | tuple[Group, ...]:
    """One spec, or for ``layout`` its groups only (the caller places the boxes)."""
    for _ in range(10_000):
        if category == "layout":
            groups = _layout_groups(d)
            if _accept(groups, d, heldout):
                return groups
        else:
            spec = SAMPLERS[category](d)
            if _accept(spec.groups, d, heldout):
                return spec
    raise SpecError(f"could not draw a {category} spec with heldout={heldout}")  # pragma: no cover


def sample_specs(categories: Sequence[str], rng: np.random.Generator, split: str = "train",
                 heldout: bool | None | Sequence[bool | None] = None) -> list[PromptSpec]:
    """One spec per entry of ``categories`` (the batched :func:`sample_spec`).

    ``heldout`` is one value for all, or one per spec. Layout boxes of the
    whole batch are placed in one vectorised call.
    """
    flags = [heldout] * len(categories) if heldout is None or isinstance(heldout, bool) \
        else list(heldout)
    if len(flags) != len(categories):
        raise SpecError(f"{len(categories)} categories but {len(flags)} heldout flags")
    _check_request(categories, split, flags)
    d = _Draw(rng, split, block=256)
    drawn = [_draw_one(c, d, h) for c, h in zip(categories, flags, strict=True)]
    layouts = [g for g in drawn if isinstance(g, tuple)]
    boxes = iter(_layout_boxes(rng, [len(g) for g in layouts]))
    return [PromptSpec("layout", s, boxes=next(boxes)) if isinstance(s, tuple) else s
            for s in drawn]


def _layout_boxes(rng: np.random.Generator, counts: list[int]) -> list[tuple[Box, ...]]:
    """Boxes for layout specs of ``counts`` objects, placed in one vectorised call."""
    if not counts:
        return []
    x0, y0, side = (a.tolist() for a in place_batch(rng, np.array(counts)))
    return [tuple(Box(x, y, x + s, y + s) for x, y, s in zip(x0[k][:n], y0[k][:n], side[k][:n],
                                                             strict=True))
            for k, n in enumerate(counts)]


def sample_spec(category: str, rng: np.random.Generator, split: str = "train",
                heldout: bool | None = None) -> PromptSpec:
    """One spec of ``category``. ``heldout`` forces (True) or forbids (False) a held-out
    composition in the prompt; ``None`` takes whatever the split allows."""
    return sample_specs([category], rng, split, heldout)[0]


# ---------------------------------------------------------------- realisation


def _fill_colours(g: Group, neg: Group | None, d: _Draw) -> list[str]:
    """Colours for the ``g.count`` objects of group ``g`` (which may leave colour open).

    In ``train`` an open colour never makes a held-out pair, nor a held-out
    number of one colour x shape ("four triangles" drawn as three red and one
    blue would show three red triangles).
    """
    if g.colour is not None:
        return [g.colour] * g.count
    assert g.shape is not None
    options = [c for c in _COLOURS
               if not (neg is not None and neg.matches(g.shape, c))
               and not (d.train and (c, g.shape) in HELDOUT_COLOUR_SHAPE)]
    for _ in range(1000):
        colours = [options[d.below(len(options))] for _ in range(g.count)]
        if not (d.train and counts_heldout((c, g.shape) for c in colours)):
            return colours
    raise SpecError(f"cannot colour {g} in train without a held-out count")  # pragma: no cover


def _kinds(spec: PromptSpec, d: _Draw) -> tuple[list[int], list[int]]:
    """(shape codes, colour codes) of every object of ``spec``, in group order."""
    shapes: list[int] = []
    colours: list[int] = []
    for g in spec.groups:
        assert g.shape is not None
        shapes += [SHAPE_CODE[g.shape]] * g.count
        colours += [COLOUR_CODE[c] for c in _fill_colours(g, spec.negation, d)]
    return shapes, colours


def _given_boxes(spec: PromptSpec) -> np.ndarray:
    """(3, n) centre x, centre y and side of the objects inscribed in a layout's boxes."""
    assert spec.boxes is not None
    return np.array([((b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2, min(b.width, b.height))
                     for b in spec.boxes]).T


def realize_batch(specs: Sequence[PromptSpec], rng: np.random.Generator,
                  split: str = "train") -> SceneArrays:
    """One concrete scene per spec, satisfying it exactly, as :class:`SceneArrays`.

    Boxes of all free scenes are placed in one vectorised call; objects are
    listed in group order and (except for position and layout, whose boxes
    are tied to their objects) take the boxes in random order.
    """
    check_split(split)
    d = _Draw(rng, split, block=256)
    kinds = [_kinds(s, d) for s in specs]
    counts = np.array([len(k[0]) for k in kinds], np.int64)
    rel = np.array([RELATION_CODES[s.relation] if s.relation else NO_RELATION for s in specs])
    free = np.array([s.boxes is None for s in specs], bool)
    m = int(counts.max(initial=0))
    x0, y0, side = np.zeros((3, len(specs), m))
    if free.any():
        placed = place_batch(rng, counts[free], rel[free])
        k = placed[0].shape[1]
        x0[free, :k], y0[free, :k], side[free, :k] = placed
    cx, cy = x0 + side / 2, y0 + side / 2  # place_batch returns the boxes shuffled
    for i in np.flatnonzero(~free).tolist():
        n = counts[i]
        cx[i, :n], cy[i, :n], side[i, :n] = _given_boxes(specs[i])
    valid = np.arange(m) < counts[:, None]
    obj = np.zeros(int(counts.sum()), OBJECT_DTYPE)
    obj["scene"] = np.repeat(np.arange(len(specs)), counts)
    obj["shape"] = [c for k in kinds for c in k[0]]
    obj["colour"] = [c for k in kinds for c in k[1]]
    obj["x"], obj["y"], obj["size"] = cx[valid], cy[valid], side[valid]
    bg = np.array([BACKGROUND_CODE[s.background or vocab.DEFAULT_BACKGROUND] for s in specs],
                  np.int8)
    return SceneArrays(bg, obj)


def realize(spec: PromptSpec, rng: np.random.Generator, split: str = "train") -> Scene:
    """One concrete :class:`Scene` that satisfies ``spec`` exactly."""
    return realize_batch([spec], rng, split).to_scenes()[0]


def random_scene(rng: np.random.Generator) -> Scene:
    """A valid scene of 1..MAX_COUNT random objects (the negative control's draw)."""
    n = int(rng.integers(1, vocab.MAX_COUNT + 1))
    d = _Draw(rng, "dev")
    objs = []
    for b in place_boxes(rng, n):
        c, s = d.kind()
        objs.append(SceneObject(s, c, (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2, b.width))
    return Scene(vocab.DEFAULT_BACKGROUND, tuple(objs))
