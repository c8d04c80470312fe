"""Composable guidance: a prompt as a weighted sum of conditional predictions.

Composable Diffusion (Liu et al., 2022, "Compositional Visual Generation with
Composable Diffusion Models") reads a prompt as a conjunction of concepts and
guides with the sum of their conditional directions,
``v = v_u + sum_i w_i (v_{c_i} - v_u)``: AND is a positive term per concept,
NOT a negative one. In the ``shapes`` grammar:

- ``binding`` and ``multi`` (AND): one term per object group ("a red square and
  a blue circle" -> "a red square" AND "a blue circle"), each at weight ``w``, so
  no group's attributes leak into another's through one shared text state;
- ``negation`` (NOT): the whole prompt at ``w``, minus the forbidden kind at
  ``w``, split evenly over the concrete kinds the negated group names ("no red
  objects" -> "a red circle", "a red square", "a red triangle", each at
  ``-w / 3``);
- every other category (single, counting, position, layout) is one term, the
  prompt itself at ``w``: plain classifier-free guidance. A relation cannot be
  split into independent concepts.

Each term costs one more backbone evaluation per sampler step.
"""

from __future__ import annotations

from dataclasses import dataclass

from genlab.contracts import BoxList
from genlab.worlds.shapes import grammar, vocab
from genlab.worlds.shapes.spec import Group, PromptSpec


@dataclass(frozen=True)
class Term:
    """One conditional prediction of a composition and its guidance weight."""

    prompt: str
    boxes: BoxList | None
    weight: float


def _alone(g: Group, background: str | None) -> str:
    """The prompt of one group on its own (a ``single`` or ``counting`` prompt)."""
    category = "single" if g.count == 1 else "counting"
    return grammar.prompt(PromptSpec(category, (g,), background=background))


def terms(prompt: str, boxes: BoxList | None, w: float) -> tuple[Term, ...]:
    """The composition of ``prompt`` at guidance ``w`` (ParseError on a bad prompt)."""
    spec = grammar.parse(prompt, boxes)
    if spec.category in ("binding", "multi"):
        return tuple(Term(_alone(g, spec.background), None, w) for g in spec.groups)
    if spec.category == "negation":
        neg = spec.negation
        assert neg is not None
        kinds = [(c, s) for c in vocab.COLOURS for s in vocab.SHAPES if neg.matches(s, c)]
        return (Term(prompt, None, w), *(
            Term(_alone(Group(1, s, c), spec.background), None, -w / len(kinds))
            for c, s in kinds))
    return (Term(prompt, boxes, w),)
