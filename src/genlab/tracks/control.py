"""Track ``control``: precise controllability, judged exactly on the ``shapes`` world.

Seven categories of prompts (single object, counting, several kinds, position,
attribute binding, negation and layout boxes), in the spirit of GenEval (Ghosh
et al., 2023) and T2I-CompBench (Huang et al., 2023), but with exact ground
truth: the scene judge reads the pixels back and compares with the spec, so
there is no detector error in the score.

Protocol (GenEval's): fixed prompt sets per category drawn with a public seed
from the ``dev`` split and the ``test`` split, half of the test prompts using
compositions held out of training (CLEVR-CoGenT's split, Johnson et al., 2017);
four images per prompt, each with a seed derived from (prompt, image index);
the score of a category is the fraction of images the judge passes, with a 95%
bootstrap interval that resamples distinct prompts (text and boxes), never
single images. 100 prompts per category and split (GenEval has 553 over 6
tasks): at 50, a model at 0.05 could not be told from a control at 0.00. The
generator sees prompts, layout boxes and seeds only, never the specs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import PurePath
from typing import Any

import numpy as np

from genlab.contracts import Generator, Judge, check_images, identity
from genlab.errors import GenlabError, InputError, UnknownNameError, suggest
from genlab.progress import bars
from genlab.store import SampleRow, Store
from genlab.tracks.scorecard import Scorecard
from genlab.tracks.scoring import derive_seed, score_split
from genlab.worlds.shapes import grammar, sampling, vocab
from genlab.worlds.shapes.spec import PromptSpec
from genlab.worlds.shapes.splits import is_heldout

NAME = "control"
VERSION = "1.1"  # 1.1: 100 prompts per category (was 50), clusters = distinct prompts
EVAL_SPLITS: tuple[str, ...] = ("dev", "test")
HELDOUT_SPLITS: tuple[str, ...] = ("test",)  # splits whose prompts are half held-out


@dataclass(frozen=True)
class ControlConfig:
    """The protocol of one ``control`` evaluation; stored, resolved, with every run."""

    size: int = 32
    """Image side in pixels."""
    images_per_prompt: int = 4
    """Images per prompt, each with its own seed (GenEval uses four)."""
    prompts_per_category: int = 100
    """Prompts per category per split; even, as half the test prompts are held out."""
    splits: tuple[str, ...] = EVAL_SPLITS
    """Splits scored; a subset of ``dev`` and ``test`` (never ``train``)."""
    categories: tuple[str, ...] = vocab.CATEGORIES
    """Prompt categories scored."""
    seed: int = 20_240_501
    """The public seed of the prompt sets, image seeds and bootstrap."""
    resamples: int = 2000
    """Bootstrap resamples per interval (>= 1000)."""
    batch_size: int = 128
    """Images per generator call (and per stored transaction)."""

    def __post_init__(self) -> None:
        bad = [s for s in self.splits if s not in EVAL_SPLITS]
        if bad or not self.splits:
            raise InputError(f"control splits {self.splits!r}: accepted a non-empty subset "
                             f"of {EVAL_SPLITS}")
        bad = [c for c in self.categories if c not in vocab.CATEGORIES]
        if bad or not self.categories:
            raise InputError(f"control categories {bad or self.categories!r}: accepted a "
                             f"non-empty subset of {vocab.CATEGORIES}")
        if self.prompts_per_category < 2 or self.prompts_per_category % 2:
            raise InputError(f"prompts_per_category {self.prompts_per_category!r} must be an "
                             "even int >= 2 (half the test prompts are held out)")
        if self.images_per_prompt < 1 or self.batch_size < 1:
            raise InputError("images_per_prompt and batch_size must be >= 1")

    @classmethod
    def smoke(cls) -> ControlConfig:
        """Tiny: the whole track on the controls in a few seconds."""
        return cls(prompts_per_category=4, resamples=1000, batch_size=32)

    @classmethod
    def default(cls) -> ControlConfig:
        """5600 images per generator (7 categories x 2 splits x 100 prompts x 4)."""
        return cls()


PROFILES = {"smoke": ControlConfig.smoke, "default": ControlConfig.default}


def config_for(profile: str) -> ControlConfig:
    if profile not in PROFILES:
        raise UnknownNameError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}."
                               + suggest(profile, PROFILES))
    return PROFILES[profile]()


# ---------------------------------------------------------------- prompt sets


@dataclass(frozen=True)
class Item:
    """One image to make: a prompt of the fixed set and the index of its image."""

    key: str
    prompt_id: str
    split: str
    category: str
    spec: PromptSpec = field(repr=False)
    prompt: str
    seed: int
    heldout: bool


class _FallbackWorld:
    """``sample_specs``/``prompt`` from the world's modules, until ShapesWorld lands."""

    def sample_specs(self, category: str, split: str, n: int, seed: int,
                     heldout: bool | None = None) -> list[PromptSpec]:
        rng = np.random.default_rng(seed)
        return [sampling.sample_spec(category, rng, split, heldout) for _ in range(n)]

    def prompt(self, spec: PromptSpec) -> str:
        return grammar.prompt(spec)


def _world() -> Any:
    try:
        from genlab.worlds.shapes.world import ShapesWorld
    except ModuleNotFoundError as exc:
        if exc.name != "genlab.worlds.shapes.world":
            raise  # a broken world is an error, not a reason to fall back
        return _FallbackWorld()
    return ShapesWorld()


def _specs(world: Any, category: str, split: str, config: ControlConfig) -> list[PromptSpec]:
    n = config.prompts_per_category
    if split not in HELDOUT_SPLITS:
        return list(world.sample_specs(category, split, n,
                                       seed=derive_seed(config.seed, split, category)))
    half = n // 2
    held = world.sample_specs(category, split, half, heldout=True,
                              seed=derive_seed(config.seed, split, category, "heldout"))
    seen = world.sample_specs(category, split, n - half, heldout=False,
                              seed=derive_seed(config.seed, split, category, "seen"))
    return [*held, *seen]


def items(config: ControlConfig) -> list[Item]:
    """Every image of the track, in a fixed order: split, category, prompt, image."""
    world = _world()
    out = []
    for split in config.splits:
        for category in config.categories:
            for i, spec in enumerate(_specs(world, category, split, config)):
                prompt_id = f"{split}/{category}/p{i:03d}"
                text = world.prompt(spec)
                for j in range(config.images_per_prompt):
                    out.append(Item(f"{prompt_id}/i{j}", prompt_id, split, category, spec, text,
                                    derive_seed(config.seed, prompt_id, j), is_heldout(spec)))
    return out


# ---------------------------------------------------------------- the run


def jsonable(obj: Any) -> Any:
    """JSON-safe copy: numpy to lists, dataclasses to dicts, paths to text, sets sorted.

    An object with ``to_dict()`` is stored as that, so that adding a config field
    (at a default that keeps the old behaviour) does not change the hash of runs
    that were identical before. Anything else becomes its type name, never its
    ``str``: a default repr holds a memory address, which would change the run's
    config hash in every process and defeat resuming.
    """
    def default(o: Any) -> Any:
        if isinstance(o, (np.generic, np.ndarray)):
            return o.tolist()
        if callable(getattr(o, "to_dict", None)):  # a config's canonical form: fields
            return o.to_dict()  # added later are left out at their defaults (FlowConfig)
        if is_dataclass(o) and not isinstance(o, type):
            return asdict(o)
        if isinstance(o, PurePath):
            return str(o)
        if isinstance(o, (set, frozenset)):
            return sorted(o, key=repr)
        return f"<{type(o).__module__}.{type(o).__qualname__}>"

    return json.loads(json.dumps(obj, default=default, sort_keys=True))


def describe_generator(generator: Generator) -> dict[str, Any]:
    """:func:`genlab.contracts.identity` of the generator, JSON-safe (the run's hash)."""
    return jsonable(identity(generator))


def default_judge() -> Judge:
    try:
        from genlab.judges.scene import SceneJudge
    except ImportError as exc:
        raise GenlabError(f"the scene judge is not available ({exc})") from exc
    return SceneJudge()


def _batches(todo: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    for start in range(0, len(todo), size):
        yield todo[start:start + size]


def _progress(batches: list[Sequence[Item]], label: str, enabled: bool
              ) -> Iterable[Sequence[Item]]:
    with bars(enabled) as task:
        advance = task(label, len(batches))
        for batch in batches:
            yield batch
            advance()


def judge_batch(batch: Sequence[Item], generator: Generator, judge: Judge, size: int
                ) -> tuple[list[SampleRow], np.ndarray]:
    """Generate and judge one batch of items: the rows to store and their images."""
    boxes = [it.spec.boxes for it in batch]  # layout boxes only; None elsewhere
    out = generator.generate([it.prompt for it in batch], [it.seed for it in batch],
                             boxes=boxes, size=size)
    images = check_images(out.images, what="generator output")
    if images.shape[:3] != (len(batch), size, size):
        raise InputError(f"generator returned images of shape {images.shape}; expected "
                         f"({len(batch)}, {size}, {size}, 3)")
    verdicts = judge.judge(images, [it.spec for it in batch])
    if len(verdicts) != len(batch):
        raise GenlabError(f"judge returned {len(verdicts)} verdicts for {len(batch)} images")
    rows = [SampleRow(it.key, it.split, it.category, it.prompt_id, it.prompt,
                      json.dumps(jsonable(it.spec.boxes)), it.spec.to_json(), it.seed,
                      bool(v.passed), str(v.reason), json.dumps(jsonable(dict(v.details))),
                      it.heldout, it.spec.n_objects)
            for it, v in zip(batch, verdicts, strict=True)]
    return rows, images


class ControlTrack:
    """The ``control`` track. ``run`` evaluates one generator and stores everything."""

    name = NAME
    version = VERSION
    headline = "test/overall"

    def run(self, generator_name: str, generator: Generator, store: Store, profile: str,
            fresh: bool = False, *, config: ControlConfig | None = None,
            judge: Judge | None = None, progress: bool = False) -> Scorecard:
        """Evaluate ``generator`` (resuming an unfinished identical run) and score it.

        Args:
            generator_name: the name results are stored under.
            profile: ``smoke`` or ``default``; picks the config unless ``config`` is given.
            fresh: start a new run even if an identical one exists.
            config: overrides the profile's config (stored, resolved, with the run).
            judge: overrides the scene judge (tests).
            progress: show a progress bar over batches.
        """
        config = config or config_for(profile)
        judge = judge or default_judge()
        todo = items(config)
        resolved = self.resolved_config(config, todo, generator, judge)
        run = store.start_run(track=NAME, track_version=VERSION, generator=generator_name,
                              profile=profile, config=resolved, judge=judge.name,
                              judge_version=judge.version, fresh=fresh)
        if run.status == "complete":
            return Scorecard.from_store(store, run.id)
        done = store.done_keys(run.id)
        pending = [it for it in todo if it.key not in done]
        batches = list(_batches(pending, config.batch_size))
        for batch in _progress(batches, f"{NAME} · {generator_name}", progress):
            rows, images = judge_batch(batch, generator, judge, config.size)
            store.add_samples(run.id, rows, images)
        missing = {it.key for it in todo} - store.done_keys(run.id)
        if missing:  # pragma: no cover - only if rows vanish under us
            raise GenlabError(f"run {run.id} is missing {len(missing)} samples after generation")
        samples = store.samples(run.id)
        scores = [rec for split in config.splits
                  for rec in score_split(samples, split, config.categories,
                                         resamples=config.resamples, seed=config.seed,
                                         heldout_breakdown=split in HELDOUT_SPLITS)]
        store.finish_run(run.id, scores)
        return Scorecard.from_store(store, run.id)

    @staticmethod
    def resolved_config(config: ControlConfig, todo: Sequence[Item], generator: Generator,
                        judge: Judge) -> dict[str, Any]:
        """Everything that decides the results; its hash identifies the run."""
        prompt_set = [(it.key, it.prompt, it.spec.to_json(), it.seed) for it in todo]
        return jsonable({
            "track": {"name": NAME, "version": VERSION, "config": asdict(config)},
            "prompt_set_sha256": _sha256(prompt_set),
            "judge": {"name": judge.name, "version": judge.version},
            "generator": describe_generator(generator),
        })


def _sha256(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()
