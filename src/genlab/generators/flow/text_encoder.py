"""A small transformer text encoder trained jointly with the backbone, from scratch.

Learned token and position embeddings feed a pre-norm ``nn.TransformerEncoder``
(Vaswani et al., 2017); the output states are the keys and values of the
UNet's cross-attention, as in Imagen's and Stable Diffusion's text
conditioning, but tiny and trained on the closed ``shapes`` language.

Unconditional input (classifier-free guidance, Ho & Salimans, 2022): a
*learned null sequence*, one learned vector at position 0 and every other
position masked out. It is not the encoding of any prompt, so dropping the
condition in training and the ``v_u`` branch at sampling see exactly the same
input, and no prompt can collide with it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genlab.generators.flow.tokenizer import bin_centres

FOURIER_FREQS = 8  # frequencies of the box-coordinate features: 2**k * pi, k = 0..7


class TextEncoder(nn.Module):
    """ids ``(n, L)`` + mask ``(n, L)`` -> states ``(n, L, d)`` and the same mask.

    ``box_bins = (first_id, bins)`` turns on the Fourier box-coordinate embedding
    (:attr:`FlowConfig.box_fourier`): token ids ``first_id .. first_id + bins - 1``
    are coordinate bins, always in groups of four (x0, y0, x1, y1).
    """

    box_freqs: torch.Tensor  # buffer, present when box_bins is given

    def __init__(self, vocab_size: int, max_tokens: int, dim: int, layers: int,
                 heads: int, box_bins: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.box_bins = box_bins
        if box_bins is not None:
            self.box_proj = nn.Linear(2 * FOURIER_FREQS, dim)
            self.box_role = nn.Parameter(torch.zeros(4, dim))
            nn.init.normal_(self.box_role, std=0.02)
            self.register_buffer("box_freqs", math.pi * 2.0 ** torch.arange(FOURIER_FREQS),
                                 persistent=False)
        self.token = nn.Embedding(vocab_size, dim)
        self.position = nn.Parameter(torch.zeros(max_tokens, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=4 * dim, dropout=0.0,
                                           activation="gelu", batch_first=True, norm_first=True)
        # enable_nested_tensor only helps inference with padding; off keeps train == eval.
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.null = nn.Parameter(torch.zeros(1, dim))
        nn.init.normal_(self.position, std=0.02)
        nn.init.normal_(self.token.weight, std=0.02)
        nn.init.normal_(self.null, std=0.02)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.token(ids) + self.position[: ids.shape[1]]
        if self.box_bins is not None:
            x = x + self._box_features(ids)
        x = self.encoder(x, src_key_padding_mask=~mask)
        return self.norm(x), mask

    def _box_features(self, ids: torch.Tensor) -> torch.Tensor:
        """Fourier features of each bin token's centre, projected, plus its role."""
        first, bins = self.box_bins  # type: ignore[misc]
        is_bin, centre = bin_centres(ids, first, bins)
        angle = centre[..., None] * self.box_freqs
        feats = self.box_proj(torch.cat([angle.sin(), angle.cos()], dim=-1))
        role = (is_bin.long().cumsum(1) - 1).clamp(min=0) % 4
        return torch.where(is_bin[..., None], feats + self.box_role[role], 0.0)

    def null_condition(self, n: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The learned null sequence for ``n`` samples: ``(n, length, d)`` states and mask."""
        states = torch.zeros(n, length, self.null.shape[1], dtype=self.null.dtype)
        states[:, :1] = self.null
        mask = torch.zeros(n, length, dtype=torch.bool)
        mask[:, 0] = True
        return states, mask

    def with_null(self, states: torch.Tensor, mask: torch.Tensor,
                  drop: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Replace the rows where ``drop`` ``(n,) bool`` is True by the null sequence."""
        null_s, null_m = self.null_condition(states.shape[0], states.shape[1])
        d = drop[:, None]
        return torch.where(d[..., None], null_s, states), torch.where(d, null_m, mask)
