"""The ``shapes`` world: the one object the rest of genlab talks to.

It bundles the closed vocabulary (:mod:`vocab`), the splits with held-out
compositions (:mod:`splits`), the samplers (:mod:`sampling`), the grammar
(:mod:`grammar`) and the renderer (:mod:`render`) behind the World contract
of DESIGN.md: ``sample_specs`` -> prompts -> ``render``, with ground truth at
every step. ``training_batch`` is the fast path a model trains on: specs,
prompts, layout boxes and anti-aliased images, thousands a second on one CPU
core.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from genlab.errors import InputError, SpecError, suggest
from genlab.worlds.shapes import grammar, sampling, vocab
from genlab.worlds.shapes.arrays import SceneArrays
from genlab.worlds.shapes.render import check_size, render, render_arrays
from genlab.worlds.shapes.spec import Box, PromptSpec, Scene
from genlab.worlds.shapes.splits import SPLIT_SEEDS, SPLITS, check_split

# Share of training specs that name their background ("... on a black
# background"), so the background words are learnt; the rest leave it to the
# default, as every dev/test spec does.
BACKGROUND_RATE = 0.2
# Share of test specs that use a held-out composition when the caller does
# not choose (splits.py: "about half of the test prompts").
TEST_HELDOUT_RATE = 0.5
_BACKGROUND_NAMES = tuple(vocab.BACKGROUNDS)


@dataclass(frozen=True)
class TrainingBatch:
    """What :meth:`ShapesWorld.training_batch` returns; all lists have length ``n``.

    Attributes:
        prompts: the canonical English prompt of each spec.
        boxes: the layout boxes a generator is given (``layout`` specs), else ``None``.
        images: ``(n, size, size, 3) uint8``, one realisation of each spec.
        specs: the ground truth.
        scenes: the rendered scenes (exact boxes and kinds of every object).
    """

    prompts: list[str]
    boxes: list[tuple[Box, ...] | None]
    images: np.ndarray
    specs: list[PromptSpec]
    scenes: SceneArrays


def _check_count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise InputError(f"n must be a non-negative int, got {n!r}")
    return int(n)


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def _check_category(category: str) -> None:
    if category not in vocab.CATEGORIES:
        raise SpecError(f"unknown category {category!r}; accepted: "
                        f"{', '.join(vocab.CATEGORIES)}."
                        + suggest(str(category), vocab.CATEGORIES))


@dataclass(frozen=True)
class ShapesWorld:
    """Coloured circles, squares and triangles with exact answers."""

    name: str = "shapes"
    categories: tuple[str, ...] = vocab.CATEGORIES
    splits: tuple[str, ...] = SPLITS

    def sample_specs(self, category: str, split: str, n: int, seed: int,
                     heldout: bool | None = None) -> list[PromptSpec]:
        """``n`` specs of ``category`` from ``split``, a pure function of the arguments.

        ``heldout`` forces (True) or forbids (False) a held-out composition; ``None``
        takes the split's mix: none in ``train``, the natural rate in ``dev`` and
        :data:`TEST_HELDOUT_RATE` in ``test``. The first ``k`` specs do not depend on
        ``n``. Backgrounds are left unspecified.
        """
        _check_category(category)
        check_split(split)
        n, seed = _check_count(n), _check_seed(seed)
        code = vocab.CATEGORIES.index(category)
        rng = np.random.default_rng([seed, SPLIT_SEEDS[split], code])
        flags: list[bool | None] = [heldout] * n
        if heldout is None and split == "test":  # a stream of its own: prefixes stay stable
            coin = np.random.default_rng([seed, SPLIT_SEEDS[split], code, 1]).random(n)
            flags = (coin < TEST_HELDOUT_RATE).tolist()
        # one spec per call keeps the prefix property (the first k do not depend on n)
        return [sampling.sample_specs([category], rng, split, f)[0] for f in flags]

    def realize(self, specs: Sequence[PromptSpec], seed: int,
                split: str = "dev") -> list[Scene]:
        """One scene per spec. Scene ``i`` is a pure function of ``(specs[i], seed, i,
        split)``, so it does not depend on the other specs or on batching."""
        check_split(split)
        seed = _check_seed(seed)
        return [sampling.realize(s, np.random.default_rng([seed, SPLIT_SEEDS[split], i]), split)
                for i, s in enumerate(specs)]

    def render(self, scenes: Sequence[Scene], size: int) -> np.ndarray:
        """``(n, size, size, 3) uint8`` images of ``scenes``."""
        return render(scenes, size)

    def prompt(self, spec: PromptSpec) -> str:
        return grammar.prompt(spec)

    def parse(self, text: str, boxes: Sequence[Box] | None = None) -> PromptSpec:
        return grammar.parse(text, boxes)

    def training_batch(self, rng: np.random.Generator, n: int, size: int,
                       categories: Sequence[str] | None = None) -> TrainingBatch:
        """``n`` fresh ``train`` examples: categories uniform over ``categories``
        (default all), :data:`BACKGROUND_RATE` of them with a named background."""
        n, size = _check_count(n), check_size(size)
        cats = tuple(self.categories if categories is None else categories)
        if not cats:
            raise InputError("categories is empty; give at least one of "
                             + ", ".join(vocab.CATEGORIES))
        for c in cats:
            _check_category(c)
        u = rng.random((2, n))
        chosen = [cats[i] for i in (u[0] * len(cats)).astype(np.int64).tolist()]
        specs = sampling.sample_specs(chosen, rng, "train")
        named = np.flatnonzero(u[1] < BACKGROUND_RATE)
        for i, b in zip(named.tolist(), rng.integers(len(_BACKGROUND_NAMES), size=named.size),
                        strict=True):
            specs[i] = dataclasses.replace(specs[i], background=_BACKGROUND_NAMES[b])
        scenes = sampling.realize_batch(specs, rng, "train")
        return TrainingBatch(prompts=[grammar.prompt(s) for s in specs],
                             boxes=[s.boxes for s in specs], images=render_arrays(scenes, size),
                             specs=specs, scenes=scenes)
