"""The two feature networks of the ``metrics`` track, trained here on ``train`` renders.

FID, KID, precision/recall and density/coverage read an image classifier's
penultimate features (Heusel et al., 2017, use Inception-v3's pool3); CMMD and
the alignment score read a contrastive image-text model's embeddings (Jayasumana
et al., 2024, and Hessel et al., 2021, use CLIP). Nothing is downloaded, so both
analogs are small networks trained on the ``shapes`` world:

- :class:`AttributeNet` (the Inception analog): an image to the count of every
  (colour, shape) kind (0..8, a softmax each), the background, and each kind's
  centroid. Its features are the 128-d layer before those heads. The centroid
  head keeps *where* in the features, so a position defect can move them.
- :class:`ClipNet` (the CLIP analog): an image tower and a text tower (a small
  Transformer over genlab's word tokenizer) into one 128-d sphere, trained with
  CLIP's symmetric InfoNCE over in-batch negatives only (Radford et al., 2021),
  as CLIP was; no hard negatives, so it is free to be as blind to counts as CLIP.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genlab.generators.flow.tokenizer import Tokenizer
from genlab.worlds.shapes import vocab

N_KINDS = len(vocab.COLOURS) * len(vocab.SHAPES)
N_COUNTS = vocab.MAX_COUNT + 1
N_BACKGROUNDS = len(vocab.BACKGROUNDS)
FEATURE_DIM = 128


def _tower(width: int, out: int) -> nn.Sequential:
    """``(n, 3, 32, 32)`` -> ``(n, out)``: three stride-2 stages, then a flattened 4x4
    map (not a global pool, so the features keep where things are)."""
    w = width
    layers: list[nn.Module] = []
    chans = [3, w, 2 * w, 4 * w]
    for a, b in zip(chans[:-1], chans[1:], strict=True):
        layers += [nn.Conv2d(a, b, 3, padding=1), nn.GroupNorm(8, b), nn.SiLU(),
                   nn.Conv2d(b, b, 3, stride=2, padding=1), nn.GroupNorm(8, b), nn.SiLU()]
    layers += [nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(16 * 4 * w, out)]
    return nn.Sequential(*layers)


class AttributeNet(nn.Module):
    """Image ``(n, 3, 32, 32)`` in [-1, 1] -> features ``(n, 128)`` and attribute heads."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.width = width
        self.body = _tower(width, FEATURE_DIM)
        self.counts = nn.Linear(FEATURE_DIM, N_KINDS * N_COUNTS)
        self.background = nn.Linear(FEATURE_DIM, N_BACKGROUNDS)
        self.centroids = nn.Linear(FEATURE_DIM, N_KINDS * 2)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 128-d features FID and its kin read (after the nonlinearity)."""
        return F.silu(self.body(x))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> count logits ``(n, kinds, 9)``, background logits ``(n, 3)``,
        centroids ``(n, kinds, 2)`` in image fractions."""
        f = self.features(x)
        return (self.counts(f).view(-1, N_KINDS, N_COUNTS), self.background(f),
                torch.sigmoid(self.centroids(f)).view(-1, N_KINDS, 2))


class TextTower(nn.Module):
    """Token ids ``(n, L)`` -> ``(n, out)``: a 2-layer Transformer, masked mean pool."""

    def __init__(self, vocab_size: int, max_tokens: int, dim: int = 128,
                 out: int = FEATURE_DIM) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(torch.zeros(max_tokens, dim))
        layer = nn.TransformerEncoderLayer(dim, 4, 2 * dim, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.proj = nn.Linear(dim, out)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.encoder(self.embed(ids) + self.pos[: ids.shape[1]],
                         src_key_padding_mask=~mask)
        m = mask.unsqueeze(-1).float()
        return self.proj((h * m).sum(1) / m.sum(1).clamp_min(1.0))


class ClipNet(nn.Module):
    """Images and prompts into one unit sphere; ``logit_scale`` as CLIP's (init 1/0.07)."""

    def __init__(self, width: int = 32, max_tokens: int = 40) -> None:
        super().__init__()
        self.width = width
        self.tokenizer = Tokenizer(max_tokens=max_tokens)
        self.image = _tower(width, FEATURE_DIM)
        self.text = TextTower(self.tokenizer.vocab_size, max_tokens)
        self.logit_scale = nn.Parameter(torch.tensor(2.659))  # log(1/0.07)

    def embed_images(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image(x), dim=-1)

    def embed_text(self, prompts: list[str]) -> torch.Tensor:
        ids, mask = self.tokenizer.encode(prompts)
        return F.normalize(self.text(ids, mask), dim=-1)
