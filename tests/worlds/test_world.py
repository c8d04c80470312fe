"""The ``ShapesWorld`` API: sampling, realisation, rendering and training batches."""

from __future__ import annotations

import time

import numpy as np
import pytest

from genlab.errors import InputError, ParseError, SpecError
from genlab.worlds.shapes import grammar, vocab
from genlab.worlds.shapes.splits import SPLITS, is_heldout, scene_is_heldout, shows_heldout
from genlab.worlds.shapes.world import BACKGROUND_RATE, ShapesWorld, TrainingBatch

W = ShapesWorld()


def test_identity() -> None:
    assert W.name == "shapes"
    assert W.categories == vocab.CATEGORIES
    assert W.splits == SPLITS == ("train", "dev", "test")


@pytest.mark.parametrize("category", vocab.CATEGORIES)
def test_sample_specs_is_a_pure_function(category: str) -> None:
    a = W.sample_specs(category, "dev", 12, seed=3)
    assert len(a) == 12 and all(s.category == category for s in a)
    assert all(s.background is None for s in a)
    assert a == W.sample_specs(category, "dev", 12, seed=3)
    assert a[:5] == W.sample_specs(category, "dev", 5, seed=3)  # prefixes are stable
    assert a != W.sample_specs(category, "dev", 12, seed=4)
    assert a != W.sample_specs(category, "test", 12, seed=3)  # splits differ
    assert W.sample_specs(category, "test", 0, seed=3) == []


def test_categories_get_their_own_streams() -> None:
    singles = W.sample_specs("single", "dev", 30, seed=0)
    bindings = W.sample_specs("binding", "dev", 30, seed=0)
    assert [s.groups[0] for s in singles] != [s.groups[0] for s in bindings]


def test_heldout_mix_per_split() -> None:
    train = [s for c in vocab.CATEGORIES for s in W.sample_specs(c, "train", 60, seed=1)]
    assert not any(shows_heldout(s) for s in train)
    test = [s for c in vocab.CATEGORIES for s in W.sample_specs(c, "test", 60, seed=1)]
    share = np.mean([is_heldout(s) for s in test])
    assert 0.4 < share < 0.6
    assert all(is_heldout(s) for s in W.sample_specs("counting", "test", 30, 2, heldout=True))
    assert not any(is_heldout(s) for s in W.sample_specs("layout", "test", 30, 2, heldout=False))


@pytest.mark.parametrize("args,error", [
    (("sngle", "dev", 3, 0), SpecError),
    (("single", "validation", 3, 0), SpecError),
    (("single", "dev", -1, 0), InputError),
    (("single", "dev", 2.5, 0), InputError),
    (("single", "dev", 3, -1), InputError),
    (("single", "train", 3, 0, True), SpecError),
])
def test_sample_specs_errors(args: tuple, error: type[Exception]) -> None:
    with pytest.raises(error):
        W.sample_specs(*args)


def test_unknown_category_suggests_the_close_name() -> None:
    with pytest.raises(SpecError, match="Did you mean 'single'"):
        W.sample_specs("sngle", "dev", 3, 0)


def test_realize_and_render() -> None:
    specs = [s for c in vocab.CATEGORIES for s in W.sample_specs(c, "dev", 4, seed=0)]
    scenes = W.realize(specs, seed=9)
    assert len(scenes) == len(specs)
    assert scenes == W.realize(specs, seed=9)
    assert scenes != W.realize(specs, seed=10)
    assert scenes[5:9] != W.realize(specs[5:9], seed=9)  # scene i is tied to index i ...
    assert scenes[:9] == W.realize(specs[:9], seed=9)    # ... not to the batch
    for spec, scene in zip(specs, scenes, strict=True):
        assert len(scene.objects) == spec.n_objects
    images = W.render(scenes, 32)
    assert images.shape == (len(specs), 32, 32, 3) and images.dtype == np.uint8
    with pytest.raises(SpecError):
        W.realize(specs, seed=0, split="holdout")
    with pytest.raises(InputError):
        W.render(scenes, 16)


def test_prompt_and_parse_delegate_to_the_grammar() -> None:
    spec = W.sample_specs("position", "dev", 1, seed=0)[0]
    assert W.prompt(spec) == grammar.prompt(spec)
    assert W.parse(W.prompt(spec)) == spec
    layout = W.sample_specs("layout", "dev", 1, seed=0)[0]
    assert W.parse(W.prompt(layout), layout.boxes) == layout
    with pytest.raises(ParseError):
        W.parse("a red dodecahedron")


def test_training_batch() -> None:
    batch = W.training_batch(np.random.default_rng(0), 700, 32)
    assert isinstance(batch, TrainingBatch)
    assert batch.images.shape == (700, 32, 32, 3) and batch.images.dtype == np.uint8
    assert len(batch.prompts) == len(batch.boxes) == len(batch.specs) == 700
    assert batch.prompts == [grammar.prompt(s) for s in batch.specs]
    assert {s.category for s in batch.specs} == set(vocab.CATEGORIES)
    for spec, boxes in zip(batch.specs, batch.boxes, strict=True):
        assert (boxes is not None) == (spec.category == "layout")
        assert boxes == spec.boxes
        assert not shows_heldout(spec)
    named = np.mean([s.background is not None for s in batch.specs])
    assert abs(named - BACKGROUND_RATE) < 0.06
    assert {s.background for s in batch.specs} == {None, *vocab.BACKGROUNDS}
    # the image's corner is its background
    for spec, img in zip(batch.specs, batch.images, strict=True):
        bg = vocab.BACKGROUNDS[spec.background or vocab.DEFAULT_BACKGROUND]
        assert tuple(img[0, 0]) == bg


def test_training_batch_is_deterministic_and_respects_categories() -> None:
    a = W.training_batch(np.random.default_rng(5), 40, 48, categories=["counting", "negation"])
    b = W.training_batch(np.random.default_rng(5), 40, 48, categories=["counting", "negation"])
    assert a.prompts == b.prompts and np.array_equal(a.images, b.images)
    assert {s.category for s in a.specs} == {"counting", "negation"}
    assert a.images.shape == (40, 48, 48, 3)
    empty = W.training_batch(np.random.default_rng(5), 0, 32)
    assert empty.images.shape == (0, 32, 32, 3) and empty.specs == []


def test_training_images_show_the_specs() -> None:
    # the number of distinct object colours in a single-object image is one
    batch = W.training_batch(np.random.default_rng(2), 50, 64, categories=["single"])
    for spec, img in zip(batch.specs, batch.images, strict=True):
        colour = vocab.COLOURS[spec.groups[0].colour]  # type: ignore[index]
        assert (img.reshape(-1, 3) == colour).all(axis=1).sum() > 20


def test_training_batch_errors() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(SpecError):
        W.training_batch(rng, 4, 32, categories=["single", "counts"])
    with pytest.raises(InputError):
        W.training_batch(rng, 4, 32, categories=[])
    with pytest.raises(InputError):
        W.training_batch(rng, -4, 32)
    with pytest.raises(InputError):
        W.training_batch(rng, 4, 300)


def test_train_realisations_never_show_heldout() -> None:
    specs = [s for c in vocab.CATEGORIES for s in W.sample_specs(c, "train", 40, seed=8)]
    assert not any(scene_is_heldout(s) for s in W.realize(specs, seed=1, split="train"))


@pytest.mark.slow
def test_training_batch_throughput() -> None:
    # The flow model trains on this on a CPU: >= 5,000 images/s at 32 px, spec sampling,
    # realisation and rendering included (CPU time, so other processes do not count).
    rng = np.random.default_rng(0)
    W.training_batch(rng, 512, 32)
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        W.training_batch(rng, 512, 32)
        best = min(best, time.process_time() - t0)
    assert 512 / best >= 5000
