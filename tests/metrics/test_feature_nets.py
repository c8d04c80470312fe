"""The feature networks and the anchored metric: targets, training, cache, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab.errors import CheckpointError, InputError
from genlab.metrics.anchored import AnchoredConfig, ensure_anchored, pass_probability
from genlab.metrics.embed import image_features, text_embeddings
from genlab.metrics.feature_train import FeatureConfig, attribute_targets, ensure_features
from genlab.metrics.nets import N_KINDS
from genlab.worlds.shapes.arrays import SceneArrays
from genlab.worlds.shapes.spec import Scene, SceneObject
from genlab.worlds.shapes.world import ShapesWorld


@pytest.fixture(scope="module")
def cache(model_cache: Path) -> Path:
    """The session's model cache: the smoke networks train once for every test."""
    return model_cache


def test_attribute_targets_count_every_kind() -> None:
    scene = Scene("gray", (SceneObject("circle", "red", 0.2, 0.2, 0.1),
                           SceneObject("circle", "red", 0.6, 0.4, 0.1),
                           SceneObject("triangle", "blue", 0.5, 0.5, 0.1)))
    counts, bg, cent = attribute_targets(SceneArrays.from_scenes([scene]))
    assert counts.shape == (1, N_KINDS) and int(counts.sum()) == 3
    red_circle = 0  # colour red (0) x shapes + circle (0)
    assert int(counts[0, red_circle]) == 2
    assert cent[0, red_circle].tolist() == pytest.approx([0.4, 0.3])
    assert int(bg[0]) == 1  # gray


def test_features_train_cache_and_reload(cache: Path) -> None:
    nets = ensure_features(FeatureConfig.smoke(), cache, progress=False)
    assert {"attribute_count_exact", "clip_top1_image_to_text"} <= set(nets.accuracy)
    images = ShapesWorld().render([Scene("white")] * 3, 32)
    feats, embs = image_features(nets, images)
    assert feats.shape == embs.shape == (3, 128)
    assert np.allclose(np.linalg.norm(embs, axis=1), 1, atol=1e-5)
    again = ensure_features(FeatureConfig.smoke(), cache, progress=False)
    assert np.array_equal(image_features(again, images)[0], feats)
    text = text_embeddings(nets, ["a red circle", "two blue squares", "a red circle"])
    assert np.array_equal(text[0], text[2])


def test_feature_input_errors(cache: Path) -> None:
    nets = ensure_features(FeatureConfig.smoke(), cache, progress=False)
    with pytest.raises(InputError, match="64x64"):
        image_features(nets, np.zeros((1, 64, 64, 3), np.uint8))
    with pytest.raises(InputError, match="one string"):
        text_embeddings(nets, "a red circle")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="width"):
        FeatureConfig(width=12)


def test_a_corrupt_checkpoint_is_a_clear_error(cache: Path, tmp_path: Path) -> None:
    nets = ensure_features(FeatureConfig.smoke(), cache, progress=False)
    copy = tmp_path / nets.folder.name
    shutil.copytree(nets.folder, copy)
    (copy / "clip.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="delete the folder"):
        ensure_features(FeatureConfig.smoke(), tmp_path, progress=False)


def test_anchored_metric_trains_and_predicts(cache: Path) -> None:
    features = ensure_features(FeatureConfig.smoke(), cache, progress=False)
    net, accuracy = ensure_anchored(AnchoredConfig.smoke(), cache, features, progress=False)
    assert 0.0 <= accuracy["anchored_accuracy"] <= 1.0
    images = ShapesWorld().render([Scene("white")] * 2, 32)
    p = pass_probability(net, images, ["a red circle", "two blue squares"])
    assert p.shape == (2,) and ((p >= 0) & (p <= 1)).all()
    with pytest.raises(InputError, match="2 images but 1 prompts"):
        pass_probability(net, images, ["a red circle"])
    assert torch.is_grad_enabled()
    with pytest.raises(InputError, match="feature networks"):
        ensure_anchored(AnchoredConfig.smoke(), cache / "other", None, progress=False)
