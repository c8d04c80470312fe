"""Frozen, JSON-round-tripping specs of the ``shapes`` world.

Two levels, as in GenEval (Ghosh et al., 2023): a :class:`PromptSpec` is what a
prompt *asks for* (it round-trips through English exactly), and a :class:`Scene`
is one concrete picture that satisfies it (positions and sizes), which the
renderer draws. Judges compare pixels against the PromptSpec; the judge
validation compares detections against the Scene.

All geometry is in image fractions (0..1, origin top-left, y down), so one
scene renders at any size.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from genlab.errors import SpecError
from genlab.worlds.shapes import vocab


def _check_colour(colour: str | None, *, optional: bool) -> None:
    if colour is None and optional:
        return
    if colour not in vocab.COLOURS:
        raise SpecError(f"unknown colour {colour!r}; accepted: {', '.join(vocab.COLOURS)}")


def _check_shape(shape: str | None, *, optional: bool) -> None:
    if shape is None and optional:
        return
    if shape not in vocab.SHAPES:
        raise SpecError(f"unknown shape {shape!r}; accepted: {', '.join(vocab.SHAPES)}")


@dataclass(frozen=True)
class Group:
    """``count`` objects of one kind; ``None`` colour/shape means 'any'.

    A positive group always names a shape; a negated group (count 0) names a
    colour, a shape or both ("no red objects", "no triangles").
    """

    count: int
    shape: str | None
    colour: str | None

    def __post_init__(self) -> None:
        if not isinstance(self.count, int) or not 0 <= self.count <= vocab.MAX_COUNT:
            raise SpecError(f"group count {self.count!r} must be an int in 0..{vocab.MAX_COUNT}")
        _check_shape(self.shape, optional=True)
        _check_colour(self.colour, optional=True)
        if self.count > 0 and self.shape is None:
            raise SpecError(f"a positive group needs a shape: {self}")
        if self.count == 0 and self.shape is None and self.colour is None:
            raise SpecError("a negated group must name a colour, a shape or both")

    def matches(self, shape: str, colour: str) -> bool:
        """Whether an object of ``shape``/``colour`` is of this group's kind."""
        return (self.shape in (None, shape)) and (self.colour in (None, colour))


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in image fractions: (x0, y0) top-left, (x1, y1) bottom-right."""

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        vals = (self.x0, self.y0, self.x1, self.y1)
        if not all(isinstance(v, (int, float)) and 0.0 <= v <= 1.0 for v in vals):
            raise SpecError(f"box {vals} must lie inside the image: every coordinate in [0, 1]")
        if not (self.x0 < self.x1 and self.y0 < self.y1):
            raise SpecError(f"box {vals} is empty: need x0 < x1 and y0 < y1")

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def iou(self, other: Box) -> float:
        ix = max(0.0, min(self.x1, other.x1) - max(self.x0, other.x0))
        iy = max(0.0, min(self.y1, other.y1) - max(self.y0, other.y0))
        inter = ix * iy
        union = self.width * self.height + other.width * other.height - inter
        return inter / union if union > 0 else 0.0

    def gap(self, other: Box) -> float:
        """Chebyshev gap between boxes (negative when they overlap)."""
        dx = max(other.x0 - self.x1, self.x0 - other.x1)
        dy = max(other.y0 - self.y1, self.y0 - other.y1)
        return max(dx, dy)


@dataclass(frozen=True)
class PromptSpec:
    """What a prompt asks for. ``prompt(spec)`` and ``parse`` round-trip it exactly.

    Attributes:
        category: one of :data:`vocab.CATEGORIES`.
        groups: the positive object groups, in prompt order.
        relation: for ``position``: groups[0] is ``relation`` of groups[1].
        negation: for ``negation``: a count-0 group that must be absent.
        boxes: for ``layout``: one box per object (every group has count 1),
            given to generators as structured input beside the prompt.
        background: a background name, or ``None`` for "unspecified" (the
            renderer then uses :data:`vocab.DEFAULT_BACKGROUND`).
    """

    category: str
    groups: tuple[Group, ...]
    relation: str | None = None
    negation: Group | None = None
    boxes: tuple[Box, ...] | None = None
    background: str | None = None

    def __post_init__(self) -> None:
        if self.category not in vocab.CATEGORIES:
            raise SpecError(
                f"unknown category {self.category!r}; accepted: {', '.join(vocab.CATEGORIES)}"
            )
        if not self.groups or any(g.count < 1 for g in self.groups):
            raise SpecError(f"{self.category} spec needs positive groups, got {self.groups}")
        if self.background is not None and self.background not in vocab.BACKGROUNDS:
            raise SpecError(
                f"unknown background {self.background!r}; accepted: {', '.join(vocab.BACKGROUNDS)}"
            )
        if self.n_objects > vocab.MAX_COUNT:
            raise SpecError(f"{self.n_objects} objects asked; at most {vocab.MAX_COUNT} fit")
        _CATEGORY_RULES[self.category](self)

    @property
    def n_objects(self) -> int:
        return sum(g.count for g in self.groups)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PromptSpec:
        return prompt_spec_from_dict(json.loads(text))


def prompt_spec_from_dict(d: dict[str, Any]) -> PromptSpec:
    try:
        return PromptSpec(
            category=d["category"],
            groups=tuple(Group(**g) for g in d["groups"]),
            relation=d.get("relation"),
            negation=Group(**d["negation"]) if d.get("negation") else None,
            boxes=tuple(Box(**b) for b in d["boxes"]) if d.get("boxes") is not None else None,
            background=d.get("background"),
        )
    except (KeyError, TypeError) as exc:
        raise SpecError(f"malformed prompt spec {d!r}: {exc}") from exc


# ---------------------------------------------------------------- category rules


def _kinds_distinct(spec: PromptSpec) -> None:
    kinds = [(g.shape, g.colour) for g in spec.groups]
    if len(set(kinds)) != len(kinds):
        raise SpecError(f"{spec.category}: groups must be of distinct kinds, got {kinds}")


def _no_extras(spec: PromptSpec, *, relation: bool = False, negation: bool = False,
               boxes: bool = False) -> None:
    for name, allowed in (("relation", relation), ("negation", negation), ("boxes", boxes)):
        if (getattr(spec, name) is not None) != allowed:
            need = "needs" if allowed else "takes no"
            raise SpecError(f"category {spec.category!r} {need} {name}")


def _all_coloured(spec: PromptSpec) -> None:
    if any(g.colour is None for g in spec.groups):
        raise SpecError(f"{spec.category}: every group needs a colour")


def _rule_single(spec: PromptSpec) -> None:
    _no_extras(spec)
    _all_coloured(spec)
    if len(spec.groups) != 1 or spec.groups[0].count != 1:
        raise SpecError("single: exactly one object")


def _rule_counting(spec: PromptSpec) -> None:
    _no_extras(spec)
    _all_coloured(spec)
    if len(spec.groups) != 1:
        raise SpecError("counting: exactly one group")


def _rule_multi(spec: PromptSpec) -> None:
    _no_extras(spec)
    _all_coloured(spec)
    if len(spec.groups) not in (2, 3):
        raise SpecError(f"multi: two or three groups, got {len(spec.groups)}")
    _kinds_distinct(spec)


def _rule_binding(spec: PromptSpec) -> None:
    _no_extras(spec)
    _all_coloured(spec)
    a, b = spec.groups if len(spec.groups) == 2 else (None, None)
    if a is None or b is None or a.count != 1 or b.count != 1:
        raise SpecError("binding: exactly two single objects")
    if a.colour == b.colour or a.shape == b.shape:
        raise SpecError("binding: the two objects differ in both colour and shape")


def _rule_position(spec: PromptSpec) -> None:
    _no_extras(spec, relation=True)
    _all_coloured(spec)
    if spec.relation not in vocab.RELATIONS:
        raise SpecError(
            f"unknown relation {spec.relation!r}; accepted: {', '.join(vocab.RELATIONS)}"
        )
    if len(spec.groups) != 2 or any(g.count != 1 for g in spec.groups):
        raise SpecError("position: exactly two single objects")
    _kinds_distinct(spec)


def _rule_negation(spec: PromptSpec) -> None:
    _no_extras(spec, negation=True)
    neg = spec.negation
    assert neg is not None
    if neg.count != 0:
        raise SpecError(f"negation: the negated group has count 0, got {neg.count}")
    if len(spec.groups) != 1:
        raise SpecError("negation: exactly one positive group")
    g = spec.groups[0]
    # Contradiction: every object the positive part asks for would be forbidden.
    if (neg.shape in (None, g.shape)) and (neg.colour is None or neg.colour == g.colour):
        raise SpecError(
            f"negation contradicts itself: the prompt asks for {g.count} "
            f"{g.colour or 'any-colour'} {g.shape}(s) and forbids "
            f"{neg.colour or 'any-colour'} {neg.shape or 'objects'}"
        )


def _rule_layout(spec: PromptSpec) -> None:
    _no_extras(spec, boxes=True)
    _all_coloured(spec)
    assert spec.boxes is not None
    if any(g.count != 1 for g in spec.groups):
        raise SpecError("layout: every object is listed singly ('a red circle')")
    if len(spec.boxes) != len(spec.groups):
        raise SpecError(f"layout: {len(spec.groups)} objects but {len(spec.boxes)} boxes")
    for i, a in enumerate(spec.boxes):
        for b in spec.boxes[i + 1:]:
            if a.gap(b) < 0:
                raise SpecError(f"layout: boxes {a} and {b} overlap")


_CATEGORY_RULES = {
    "single": _rule_single,
    "counting": _rule_counting,
    "multi": _rule_multi,
    "binding": _rule_binding,
    "position": _rule_position,
    "negation": _rule_negation,
    "layout": _rule_layout,
}


# ---------------------------------------------------------------- scenes


@dataclass(frozen=True)
class SceneObject:
    """One drawn object. ``size`` is the side of its square bounding box (image fraction);
    every shape fills that box (circle inscribed, triangle apex-up on the box's base)."""

    shape: str
    colour: str
    x: float
    y: float
    size: float

    def __post_init__(self) -> None:
        _check_shape(self.shape, optional=False)
        _check_colour(self.colour, optional=False)
        if not 0 < self.size <= 1:
            raise SpecError(f"object size {self.size!r} must be in (0, 1]")

    @property
    def box(self) -> Box:
        h = self.size / 2
        return Box(self.x - h, self.y - h, self.x + h, self.y + h)


@dataclass(frozen=True)
class Scene:
    """A concrete picture: a background and non-overlapping objects."""

    background: str
    objects: tuple[SceneObject, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.background not in vocab.BACKGROUNDS:
            raise SpecError(
                f"unknown background {self.background!r}; accepted: {', '.join(vocab.BACKGROUNDS)}"
            )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Scene:
        d = json.loads(text)
        return cls(d["background"], tuple(SceneObject(**o) for o in d["objects"]))
