"""Images and prompts to the features the distribution metrics read, in batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from genlab.contracts import check_images
from genlab.errors import InputError
from genlab.generators.flow.objective import images_to_tensor
from genlab.metrics.feature_train import FeatureNets

BATCH = 512


def _check_size(images: np.ndarray, nets: FeatureNets) -> np.ndarray:
    images = check_images(images, what="metric input")
    side = nets.config.image_size
    if images.shape[1:3] != (side, side):
        raise InputError(f"images of side {images.shape[1]}x{images.shape[2]}: the feature "
                         f"networks read {side}x{side} renders (make them at size={side})")
    return images


@torch.no_grad()
def image_features(nets: FeatureNets, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(n, S, S, 3) uint8`` -> (classifier features ``(n, 128)``, CLIP-analog image
    embeddings ``(n, 128)``, unit norm), float32."""
    images = _check_size(images, nets)
    feats, embs = [], []
    for start in range(0, len(images), BATCH):
        x = images_to_tensor(images[start:start + BATCH])
        feats.append(nets.attribute.features(x).numpy())
        embs.append(nets.clip.embed_images(x).numpy())
    d = 128
    return (np.concatenate(feats) if feats else np.zeros((0, d), np.float32),
            np.concatenate(embs) if embs else np.zeros((0, d), np.float32))


@torch.no_grad()
def text_embeddings(nets: FeatureNets, prompts: Sequence[str]) -> np.ndarray:
    """Prompts -> CLIP-analog text embeddings ``(n, 128)`` float32, unit norm (each
    distinct prompt encoded once)."""
    if isinstance(prompts, str):
        raise InputError("text_embeddings takes a list of prompts, got one string")
    distinct = list(dict.fromkeys(prompts))
    out: dict[str, np.ndarray] = {}
    for start in range(0, len(distinct), BATCH):
        chunk = distinct[start:start + BATCH]
        for p, e in zip(chunk, nets.clip.embed_text(chunk).numpy(), strict=True):
            out[p] = e
    return np.stack([out[p] for p in prompts]) if prompts else np.zeros((0, 128), np.float32)
