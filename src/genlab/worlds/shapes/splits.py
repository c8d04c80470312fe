"""Splits of the ``shapes`` world and the compositions held out of ``train``.

``test`` measures generalisation, not memory (the protocol of CLEVR-CoGenT,
Johnson et al., 2017, and T2I-CompBench's unseen combinations): some
colour x shape pairs and some count x shape pairs never appear in any ``train``
prompt *or* image, and about half of the ``test`` prompts use one of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from genlab.errors import SpecError
from genlab.worlds.shapes.spec import Group, PromptSpec, Scene

SPLITS: tuple[str, ...] = ("train", "dev", "test")

# One held-out colour per shape, so every colour and every shape is still seen.
HELDOUT_COLOUR_SHAPE: frozenset[tuple[str, str]] = frozenset(
    {("yellow", "circle"), ("cyan", "square"), ("purple", "triangle")}
)
# One held-out count per shape (count words are still seen with other shapes).
HELDOUT_COUNT_SHAPE: frozenset[tuple[int, str]] = frozenset(
    {(5, "circle"), (7, "square"), (3, "triangle")}
)

# Seeds of the split streams, so that splits never share a sample by accident.
SPLIT_SEEDS: dict[str, int] = {"train": 0, "dev": 1_000_003, "test": 2_000_003}


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise SpecError(f"unknown split {split!r}; accepted: {', '.join(SPLITS)}")


def group_is_heldout(g: Group) -> bool:
    if g.shape is None:
        return False
    if g.colour is not None and (g.colour, g.shape) in HELDOUT_COLOUR_SHAPE:
        return True
    return (g.count, g.shape) in HELDOUT_COUNT_SHAPE


def is_heldout(spec: PromptSpec) -> bool:
    """Whether the spec names a composition that ``train`` never contains."""
    return any(group_is_heldout(g) for g in spec.groups)


def counts_heldout(objects: Iterable[tuple[str | None, str]]) -> bool:
    """Whether ``(colour, shape)`` objects include a held-out number of one shape,
    counted over all colours or within one colour (``None`` colours count only
    towards the shape)."""
    return _tallies_heldout(Counter(objects))


def _tallies_heldout(tally: Counter[tuple[str | None, str]]) -> bool:
    by_shape: Counter[str] = Counter()
    for (c, s), n in tally.items():
        by_shape[s] += n
        if c is not None and (n, s) in HELDOUT_COUNT_SHAPE:
            return True
    return any((n, s) in HELDOUT_COUNT_SHAPE for s, n in by_shape.items())


def shows_heldout(spec: PromptSpec) -> bool:
    """Whether every picture of ``spec`` shows a held-out composition, named or not.

    Stricter than :func:`is_heldout`: "a red triangle, a blue triangle and a
    green triangle" names no count but shows three triangles, so ``train``
    never draws it either.
    """
    return groups_show_heldout(spec.groups)


def groups_show_heldout(groups: Sequence[Group]) -> bool:
    """:func:`shows_heldout` of a spec with these positive ``groups``."""
    if any(group_is_heldout(g) for g in groups):
        return True
    if len(groups) == 1:  # one group: its own count is all group_is_heldout needs
        return False
    tally: Counter[tuple[str | None, str]] = Counter()
    for g in groups:
        if g.shape is not None:
            tally[g.colour, g.shape] += g.count
    return _tallies_heldout(tally)


def scene_is_heldout(scene: Scene) -> bool:
    """Whether a picture shows a held-out composition: an object of a held-out
    colour x shape pair, or a held-out number of one shape (all colours, or one)."""
    if any((o.colour, o.shape) in HELDOUT_COLOUR_SHAPE for o in scene.objects):
        return True
    return counts_heldout((o.colour, o.shape) for o in scene.objects)
