"""Layout boxes as spatial input channels: one binary mask per box, in prompt order.

The tokenizer already writes each layout box as four coordinate-bin tokens
(ReCo's position tokens, Yang et al., 2023); a convolutional UNet has no
position code of its own, so it can hardly tell where a bin token's place
is. Rasterising the same boxes into masks beside the image (the spatial
conditioning of layout-to-image models, e.g. LayoutDiffusion, Zheng et al., 2023,
and of ControlNet's input maps, Zhang et al., 2023) gives every pixel its box
membership directly. Channel ``k`` is the ``k``-th box, which belongs to the
``k``-th object of the prompt; the text still says what that object is.
"""

from __future__ import annotations

import torch

from genlab.errors import InputError
from genlab.generators.flow.tokenizer import bin_centres


def box_maps(ids: torch.Tensor, first_bin: int, bins: int, channels: int,
             size: int) -> torch.Tensor:
    """ids ``(n, L)`` -> ``(n, channels, size, size)`` float masks in {0, 1}.

    Bin tokens are ids ``first_bin .. first_bin + bins - 1`` in groups of four
    (x0, y0, x1, y1); a box covers the cells whose centres lie between its
    coordinates' bin centres. Rows with fewer boxes than ``channels`` leave the
    rest zero; more boxes than ``channels`` is an InputError.
    """
    n = ids.shape[0]
    out = torch.zeros(n, channels, size, size)
    is_bin, centres = bin_centres(ids, first_bin, bins)
    centre = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    for row in range(n):
        vals = centres[row][is_bin[row]]
        if vals.numel() == 0:
            continue
        if vals.numel() % 4:
            raise InputError(f"a token row holds {vals.numel()} box coordinates; boxes come "
                             "in fours (x0, y0, x1, y1)")
        coords = vals.reshape(-1, 4)
        if coords.shape[0] > channels:
            raise InputError(f"{coords.shape[0]} layout boxes, but this model has "
                             f"box_channels={channels}")
        for k, (x0, y0, x1, y1) in enumerate(coords.tolist()):
            inside_x = (centre >= x0) & (centre <= x1)
            inside_y = (centre >= y0) & (centre <= y1)
            out[row, k] = (inside_y[:, None] & inside_x[None, :]).float()
    return out
