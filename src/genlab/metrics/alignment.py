"""Image-text alignment: the CLIPScore analog (Hessel et al., 2021).

``CLIP-S(c, v) = w * max(cos(c, v), 0)`` with ``w = 2.5`` (Hessel et al., 2021,
"CLIPScore: A Reference-free Evaluation Metric for Image Captioning", eq. 1; the
weight stretches the typical cosines of CLIP ViT-B/32, about 0 to 0.4, towards
[0, 1]). Here ``v`` is the contrastive image-text model's embedding of a generated
image and ``c`` the embedding of that image's prompt. torchmetrics' ``CLIPScore``
computes ``100 * max(cos, 0)`` and only from images and strings through a Hugging
Face CLIP, so it cannot score these embeddings; its value is this one times 40.
"""

from __future__ import annotations

import numpy as np

from genlab.errors import InputError
from genlab.metrics import checks

CLIP_SCORE_WEIGHT = 2.5  # Hessel et al. (2021), sec. 3


def alignment_per_image(image: np.ndarray, text: np.ndarray, *,
                        weight: float = CLIP_SCORE_WEIGHT) -> np.ndarray:
    """``(n,)`` per-image scores ``weight * max(cos(image_i, text_i), 0)``.

    Args:
        image: ``(n, d)`` image embeddings of the generated images.
        text: ``(n, d)`` text embeddings of each image's prompt (row i pairs with row i).
        weight: the rescaling ``w`` (2.5 in the paper); must be > 0.
    """
    if not (isinstance(weight, (int, float)) and not isinstance(weight, bool)
            and np.isfinite(weight) and weight > 0):
        raise InputError(f"alignment weight must be a finite number > 0, got {weight!r}")
    img = checks.unit_rows("gen", checks.features("gen", image))
    txt = checks.unit_rows("text", checks.features("text", text))
    if img.shape != txt.shape:
        raise InputError(f"gen image embeddings {img.shape} and text embeddings {txt.shape} "
                         "must have the same shape: one prompt embedding per image")
    cos = np.einsum("ij,ij->i", img, txt)
    return float(weight) * np.maximum(cos, 0.0)


def alignment_score(image: np.ndarray, text: np.ndarray, *,
              weight: float = CLIP_SCORE_WEIGHT) -> float:
    """Mean of :func:`alignment_per_image`: in [0, weight]; higher is better."""
    return float(alignment_per_image(image, text, weight=weight).mean())
