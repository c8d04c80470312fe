"""Splits of the ``shapes`` world and the compositions held out of ``train``.

``test`` measures generalisation, not memory (the protocol of CLEVR-CoGenT,
Johnson et al., 2017, and T2I-CompBench's unseen combinations): some
colour x shape pairs and some count x shape pairs never appear in any ``train``
prompt *or* image, and about half of the ``test`` prompts use one of them.
"""

from __future__ import annotations

from genlab.errors import SpecError
from genlab.worlds.shapes.spec import Group, PromptSpec

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
