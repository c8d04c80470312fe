"""The defect zoo: generators with known, graded defects, over one fixed prompt set.

A zoo member is (defect family, severity); severity 0 is the clean oracle. All
members draw the same items (prompt, image index, seed) from one split; each
image's scene is realised once and every member edits that scene or its render
(:mod:`genlab.metrics.defects`), so two members differ only by their defect.
The exact ``scene`` judge then says which images are right: the truth the
``metrics`` track correlates every metric with.

The reference set (what FID and its kin compare with) is the oracle again, over
the same prompts with other seeds: a metric that liked the clean member less
than a defective one would be wrong by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from genlab.errors import InputError, UnknownNameError, suggest
from genlab.metrics import defects
from genlab.metrics.defects import FAMILIES, FAMILY, SEVERITIES
from genlab.tracks.scoring import derive_seed
from genlab.worlds.shapes import sampling
from genlab.worlds.shapes.render import render
from genlab.worlds.shapes.spec import PromptSpec, Scene
from genlab.worlds.shapes.splits import is_heldout
from genlab.worlds.shapes.world import ShapesWorld

CLEAN = "clean"
POOL_SIZE = 512  # train renders the memorising member copies from


@dataclass(frozen=True, order=True)
class Member:
    """One zoo generator: ``family`` at ``severity`` (``clean`` at 0)."""

    family: str
    severity: int

    def __post_init__(self) -> None:
        if self.family == CLEAN:
            if self.severity != 0:
                raise InputError(f"the clean member has severity 0, got {self.severity!r}")
            return
        if self.family not in FAMILY:
            raise UnknownNameError(f"unknown defect family {self.family!r}; known: "
                                   f"{', '.join(FAMILY)}." + suggest(self.family, FAMILY))
        if self.severity not in SEVERITIES:
            raise InputError(f"severity {self.severity!r} of {self.family}: accepted "
                             f"{SEVERITIES}")

    @property
    def name(self) -> str:
        return CLEAN if self.family == CLEAN else f"{self.family}@{self.severity}"

    @property
    def level(self) -> float:
        """The family's parameter at this severity (0 for the clean member)."""
        return 0.0 if self.family == CLEAN else FAMILY[self.family].levels[self.severity - 1]

    @classmethod
    def parse(cls, name: str) -> Member:
        if name == CLEAN:
            return cls(CLEAN, 0)
        family, _, sev = name.partition("@")
        if not sev.isdigit():
            raise InputError(f"zoo member {name!r}: expected 'clean' or 'family@severity' "
                             f"(e.g. 'blur@2')")
        return cls(family, int(sev))


def members(families: tuple[str, ...] | None = None) -> list[Member]:
    """The clean member, then every (family, severity) of ``families`` (default all)."""
    names = tuple(f.name for f in FAMILIES) if families is None else families
    return [Member(CLEAN, 0), *(Member(f, s) for f in names for s in SEVERITIES)]


@dataclass(frozen=True)
class ZooItem:
    """One image every member makes: prompt ``prompt_index``'s image ``image``."""

    key: str
    prompt_index: int
    image: int
    category: str
    spec: PromptSpec = field(repr=False)
    prompt: str
    seed: int
    heldout: bool


def zoo_items(split: str, prompts_per_category: int, images_per_prompt: int, seed: int
              ) -> list[ZooItem]:
    """The fixed items of a split: every category, ``prompts_per_category`` prompts,
    ``images_per_prompt`` images each (the world's own mix of held-out compositions)."""
    if prompts_per_category < 1 or images_per_prompt < 1:
        raise InputError(f"need prompts_per_category >= 1 and images_per_prompt >= 1, got "
                         f"{prompts_per_category!r}, {images_per_prompt!r}")
    world = ShapesWorld()
    out: list[ZooItem] = []
    p = 0
    for category in world.categories:
        specs = world.sample_specs(category, split, prompts_per_category,
                                   seed=derive_seed(seed, "zoo", split, category))
        for i, spec in enumerate(specs):
            text = world.prompt(spec)
            for j in range(images_per_prompt):
                key = f"{split}/{category}/p{i:03d}/i{j}"
                out.append(ZooItem(key, p, j, category, spec, text, derive_seed(seed, key),
                                   is_heldout(spec)))
            p += 1
    return out


class Zoo:
    """Renders every member's images of one item list (deterministic, cached scenes)."""

    def __init__(self, items: list[ZooItem], split: str, seed: int, size: int = 32) -> None:
        if not items:
            raise InputError("the zoo needs at least one item")
        self.items, self.split, self.seed, self.size = items, split, seed, size
        self.prompt_index = np.array([it.prompt_index for it in items])
        self.n_prompts = int(self.prompt_index.max()) + 1
        # the first item of each prompt, by prompt, then by item
        self.first_by_prompt = np.unique(self.prompt_index, return_index=True)[1]
        self.first_of_prompt = self.first_by_prompt[self.prompt_index]

    def _realise(self, tag: str) -> list[Scene]:
        return [sampling.realize(it.spec, np.random.default_rng(derive_seed(it.seed, tag)),
                                 self.split) for it in self.items]

    @cached_property
    def scenes(self) -> list[Scene]:
        return self._realise("zoo")

    @cached_property
    def reference_scenes(self) -> list[Scene]:
        """The same prompts realised with other seeds: the oracle's reference set."""
        return self._realise("reference")

    @cached_property
    def pool(self) -> np.ndarray:
        """``(POOL_SIZE, S, S, 3)`` fresh ``train`` renders for the memorising member."""
        rng = np.random.default_rng(derive_seed(self.seed, "memorised-pool"))
        return ShapesWorld().training_batch(rng, POOL_SIZE, self.size).images

    @cached_property
    def clean(self) -> np.ndarray:
        """``(n, S, S, 3) uint8``: the oracle's images, which most members start from."""
        return render(self.scenes, self.size)

    def reference(self) -> np.ndarray:
        return render(self.reference_scenes, self.size)

    def verdicts(self, images: np.ndarray) -> np.ndarray:
        """``(n,) bool``: the exact ``scene`` judge's verdict on each item's image."""
        from genlab.judges.scene import SceneJudge

        verdicts = SceneJudge().judge(images, [it.spec for it in self.items])
        return np.array([v.passed for v in verdicts], bool)

    def _uniform(self, family: str, n: int) -> np.ndarray:
        """One fixed draw per image (or prompt) per family: severity s touches the draws
        below its rate, so a worse member's touched set contains a milder one's."""
        return np.random.default_rng(derive_seed(self.seed, "coin", family)).random(n)

    def images(self, member: Member) -> np.ndarray:
        """``(n, S, S, 3) uint8``: ``member``'s image of every item."""
        if member.family == CLEAN:
            return self.clean.copy()
        fam, level = FAMILY[member.family], member.level
        rng = np.random.default_rng(derive_seed(self.seed, member.name))
        if fam.kind == "pixel":
            clean = self.clean
            if fam.name == "blur":
                return defects.blur(clean, level)
            if fam.name == "noise":
                return defects.noise(clean, level, rng)
            return defects.colour_shift(clean, level)
        if fam.kind == "scene":
            return render(self._edited(member, rng), self.size)
        return self._set_member(member)

    def _edited(self, member: Member, rng: np.random.Generator) -> list[Scene]:
        if member.family == "count":  # one vectorised placement for every scene
            return defects.count_off(self.scenes, int(member.level), rng)
        edit = defects.SCENE_EDITS[member.family]
        touched = (self._uniform(member.family, len(self.items)) < member.level
                   if FAMILY[member.family].rated else np.ones(len(self.items), bool))
        return [edit(s, it.spec, member.level, rng) if t else s
                for s, it, t in zip(self.scenes, self.items, touched.tolist(), strict=True)]

    def _set_member(self, member: Member) -> np.ndarray:
        n, rate, scenes = len(self.items), member.level, self.scenes
        if member.family == "mode-collapse":
            hit = (self._uniform(member.family, self.n_prompts) < rate)[self.prompt_index]
            return render([scenes[f] if h else s for s, f, h in
                           zip(scenes, self.first_of_prompt, hit.tolist(), strict=True)],
                          self.size)
        hit = self._uniform(member.family, n) < rate
        if member.family == "low-diversity":
            return render([defects.same_layout(s, scenes[f]) if h else s for s, f, h in
                           zip(scenes, self.first_of_prompt, hit.tolist(), strict=True)],
                          self.size)
        if member.family == "prompt-ignored":
            # another prompt's image (a fixed derangement of the prompts)
            shift = 1 + np.random.default_rng(derive_seed(self.seed, "shift")).integers(
                max(1, self.n_prompts - 1), size=n)
            other = self.first_by_prompt[(self.prompt_index + shift) % self.n_prompts]
            return render([scenes[o] if h else s for s, o, h in
                           zip(scenes, other.tolist(), hit.tolist(), strict=True)], self.size)
        if member.family == "memorisation":
            out = self.clean.copy()
            pick = np.random.default_rng(derive_seed(self.seed, "copy")).integers(POOL_SIZE,
                                                                                  size=n)
            out[hit] = self.pool[pick[hit]]
            return out
        raise InputError(f"no set rule for family {member.family!r}")  # pragma: no cover
