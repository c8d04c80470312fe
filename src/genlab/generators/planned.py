"""Layout planning + grounded generation: the LMD recipe with a programmatic planner.

LLM-grounded Diffusion (Lian et al., 2023, "LMD") splits text-to-image in two:
a planner turns the prompt into a layout (one box per object), then a
layout-grounded model draws each object in its box (GLIGEN, Li et al., 2023).
In the ``shapes`` world the grammar is the planner: it parses the prompt,
realises one scene that satisfies it exactly (counts, the relation of a
``position`` prompt), and reads each object's box off that scene. The prompt
is rewritten into the ``layout`` form of the same objects ("a red circle and a
blue square") and handed with the boxes to any generator that takes layout
boxes (the ``flow`` baseline takes them as mask channels, :mod:`.flow.box_maps`).

Two planners share the grammar:

- :func:`plan` (``flow-planned``) writes boxes for the layout form, which the
  baseline's box masks take: no negation, every object a distinct kind (colour
  and shape named, count one), at most ``max_boxes`` objects. Any other prompt
  (counting, negation, repeated kinds) goes to the inner generator unchanged,
  as do prompts that already come with boxes.
- :func:`plan_scene` (``flow-grounded``) plans every prompt: the whole scene,
  each object's box, colour and shape (LMD's planner also names each box's
  object), for a model that takes the plan as a grounding map
  (:mod:`genlab.generators.flow.grounding`). Counting becomes n boxes, and a
  negation is kept by what the plan leaves out (LMD's negation 100%: the
  layout simply holds no forbidden object). Open colours are filled with
  colours the training split uses for that shape. Given layout boxes are kept.

Both see the prompt and the seed, never the ground-truth spec of the scorer;
a prompt the grammar rejects (an unknown word, more than eight objects, a
negation that forbids what it asks for) is the grammar's ParseError.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from genlab.contracts import BoxList, Generation, Generator, check_request, identity, with_options
from genlab.errors import InputError, SpecError
from genlab.generators.flow.generator import FlowGenerator
from genlab.generators.flow.grounding import Grounding, from_scene
from genlab.generators.flow.stream import StreamResult
from genlab.worlds.shapes import grammar, sampling
from genlab.worlds.shapes.spec import PromptSpec


@dataclass(frozen=True)
class Plan:
    """What the inner generator receives for one prompt: its text and boxes."""

    prompt: str
    boxes: BoxList | None

    @property
    def planned(self) -> bool:
        return self.boxes is not None


def plan(prompt: str, seed: int, max_boxes: int, given: BoxList | None = None) -> Plan:
    """The layout-form prompt and one box per object for ``prompt``, or the prompt
    unchanged where it cannot be planned (see the module docstring). The boxes are a
    deterministic function of (prompt, seed)."""
    spec = grammar.parse(prompt, given)  # ParseError names the bad word
    if given is not None or not _plannable(spec, max_boxes):
        return Plan(prompt, given)
    scene = sampling.realize(spec, np.random.default_rng(int(seed)), "dev")
    boxes = tuple(o.box for o in scene.objects)
    layout = PromptSpec("layout", spec.groups, boxes=boxes, background=spec.background)
    return Plan(grammar.prompt(layout), boxes)


def _plannable(spec: PromptSpec, max_boxes: int) -> bool:
    kinds = [(g.colour, g.shape) for g in spec.groups]
    return (spec.negation is None and len(kinds) <= max_boxes
            and all(g.count == 1 and g.colour and g.shape for g in spec.groups)
            and len(set(kinds)) == len(kinds))


class PlannedGenerator:
    """``inner`` behind the grammar's layout planner (LMD analog); the ``planning``
    stage is timed beside the inner generator's stages."""

    def __init__(self, inner: Generator, max_boxes: int, name: str) -> None:
        if isinstance(max_boxes, bool) or not isinstance(max_boxes, int) or max_boxes < 1:
            raise InputError(f"max_boxes must be an int >= 1, got {max_boxes!r}")
        self.inner, self.max_boxes, self.name = inner, max_boxes, name

    def describe(self) -> dict[str, object]:
        """What decides the images: the planner and the inner generator's identity."""
        return {"planner": "grammar", "max_boxes": self.max_boxes,
                "inner": identity(self.inner)}

    def with_options(self, **options: object) -> PlannedGenerator:
        """This generator around ``inner.with_options(**options)`` (sampling options)."""
        new = copy.copy(self)
        new.inner = with_options(self.inner, **options)
        return new

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *,
                 boxes: Sequence[BoxList | None] | None = None, size: int = 32) -> Generation:
        given = check_request(prompts, seeds, boxes)
        t0 = time.perf_counter()
        plans = [plan(p, int(s), self.max_boxes, b)
                 for p, s, b in zip(prompts, seeds, given, strict=True)]
        planning = time.perf_counter() - t0
        out = self.inner.generate([p.prompt for p in plans], seeds,
                                  boxes=[p.boxes for p in plans], size=size)
        return Generation(out.images, {"planning": planning, **out.timings})


@dataclass(frozen=True)
class ScenePlan:
    """A whole-scene plan: the prompt (unchanged), its given boxes, and one grounded
    object per object the scene holds."""

    prompt: str
    boxes: BoxList | None
    grounding: Grounding


def plan_scene(prompt: str, seed: int, given: BoxList | None = None) -> ScenePlan:
    """The scene plan of any prompt, a deterministic function of (prompt, seed, given)."""
    spec = grammar.parse(prompt, given)
    # "train": open colours avoid the compositions the model never saw in training,
    # unless the prompt itself asks for one ("three triangles" where every colouring
    # of three triangles is a held-out count): then any colours will do.
    try:
        scene = sampling.realize(spec, np.random.default_rng(int(seed)), "train")
    except SpecError:
        scene = sampling.realize(spec, np.random.default_rng(int(seed)), "dev")
    return ScenePlan(prompt, given, from_scene(scene))


class GroundedGenerator:
    """A grounded ``flow`` model behind the whole-scene planner (LMD + GLIGEN analog);
    the ``planning`` stage is timed beside the model's stages."""

    def __init__(self, inner: FlowGenerator, name: str) -> None:
        if not inner.config.grounding:
            raise InputError(f"{name} needs a flow model trained with grounding=True; "
                             f"{inner.checkpoint} has none")
        self.inner, self.name = inner, name

    def describe(self) -> dict[str, object]:
        """What decides the images: the planner and the inner generator's identity."""
        return {"planner": "grammar-scene", "inner": identity(self.inner)}

    def with_options(self, **options: object) -> GroundedGenerator:
        """This generator around ``inner.with_options(**options)`` (sampling options)."""
        new = copy.copy(self)
        new.inner = self.inner.with_options(**options)
        return new

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *,
                 boxes: Sequence[BoxList | None] | None = None, size: int = 32) -> Generation:
        given, plans, planning = self._plan(prompts, seeds, boxes)
        out = self.inner.generate(list(prompts), seeds, boxes=given, size=size,
                                  grounding=[p.grounding for p in plans])
        return Generation(out.images, {"planning": planning, **out.timings})

    def stream(self, prompts: Sequence[str], seeds: Sequence[int], *,
               boxes: Sequence[BoxList | None] | None = None, size: int = 32) -> StreamResult:
        """:meth:`generate`'s images through the inner model's stream batching (the plans
        are drawn up front; their time is the ``planning`` stage)."""
        given, plans, planning = self._plan(prompts, seeds, boxes)
        out = self.inner.stream(list(prompts), seeds, boxes=given, size=size,
                                grounding=[p.grounding for p in plans])
        gen = Generation(out.generation.images, {"planning": planning, **out.generation.timings})
        return dataclasses.replace(out, generation=gen)

    def _plan(self, prompts: Sequence[str], seeds: Sequence[int],
              boxes: Sequence[BoxList | None] | None
              ) -> tuple[list[BoxList | None], list[ScenePlan], float]:
        given = check_request(prompts, seeds, boxes)
        t0 = time.perf_counter()
        plans = [plan_scene(p, int(s), b) for p, s, b in zip(prompts, seeds, given, strict=True)]
        return given, plans, time.perf_counter() - t0
