"""The conditional backbone of ``flow``: diffusers' UNet2DConditionModel on pixels
(or, with ``FlowConfig.backbone = "dit"``, diffusers' PixArtTransformer2DModel).

The UNet (Ronneberger et al., 2015; the conditional form of Rombach et al.,
2022) predicts the rectified-flow velocity of an RGB image. It runs on a
pixel-unshuffled image (space-to-depth, Shi et al., 2016): a 32x32x3 image is
a lossless 16x16x12 "latent", which cuts the cost ~4x, the same trade as the
patching of simple diffusion (Hoogeboom et al., 2023). Text states from
:class:`TextEncoder` enter by cross-attention with ``encoder_attention_mask``;
layout boxes also enter as mask channels beside the image (:mod:`.box_maps`),
a grounded model's plan as a grounding map (:mod:`.grounding`), and optionally
two coordinate channels (CoordConv).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import PixArtTransformer2DModel, UNet2DConditionModel
from diffusers.models.attention_processor import AttnProcessor
from diffusers.models.embeddings import TimestepEmbedding
from torch import nn

from genlab.errors import InputError
from genlab.generators.flow.box_maps import box_maps
from genlab.generators.flow.config import FlowConfig
from genlab.generators.flow.grounding import GROUNDING_CHANNELS, Grounding, grounding_maps
from genlab.generators.flow.text_encoder import TextEncoder
from genlab.generators.flow.tokenizer import Tokenizer

X0_T_MIN = 0.05  # the smallest t the x0 -> velocity conversion divides by


def _in_channels(c: FlowConfig) -> int:
    """The backbone's input channels: the pixel-unshuffled image, then what
    :meth:`FlowModel.velocity` concatenates beside it (box masks, grounding map,
    coordinates)."""
    return (c.channels * c.patch**2 + c.box_channels + GROUNDING_CHANNELS * c.grounding
            + 2 * c.coord_channels)


def build_unet(c: FlowConfig) -> UNet2DConditionModel:
    """The UNet that ``c`` describes (random init)."""
    down = tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in c.cross_attention_levels)
    up = tuple("CrossAttnUpBlock2D" if a else "UpBlock2D"
               for a in reversed(c.cross_attention_levels))
    return UNet2DConditionModel(
        sample_size=c.grid,
        in_channels=_in_channels(c), out_channels=c.channels * c.patch**2,
        block_out_channels=c.block_out_channels, layers_per_block=c.layers_per_block,
        down_block_types=down, up_block_types=up, cross_attention_dim=c.text_dim,
        attention_head_dim=_heads(c), norm_num_groups=c.norm_num_groups,
        # The pooled text state joins the timestep embedding, as in Imagen (Saharia et
        # al., 2022): every ResNet block sees the prompt, not only the attention levels.
        class_embed_type="projection" if c.pooled_text else None,
        projection_class_embeddings_input_dim=(c.text_dim * (1 + c.pooled_slots)
                                               if c.pooled_text else None),
        resnet_time_scale_shift="scale_shift" if c.scale_shift else "default",
    )


def build_dit(c: FlowConfig) -> PixArtTransformer2DModel:
    """The diffusion transformer that ``c`` describes (random init): PixArt-alpha's
    blocks (Chen et al., 2024; DiT, Peebles & Xie, 2023) with self-attention over
    the patches, cross-attention to the text states, and one shared adaLN-single
    timestep modulation; fixed 2-D sine-cosine position embeddings of the patches."""
    dit = PixArtTransformer2DModel(
        num_attention_heads=c.dit_width // c.attention_head_dim,
        attention_head_dim=c.attention_head_dim,
        in_channels=_in_channels(c), out_channels=c.channels * c.patch**2,
        num_layers=c.dit_depth, cross_attention_dim=c.text_dim,
        sample_size=c.grid, patch_size=c.dit_patch,
        use_additional_conditions=False, caption_channels=None,
        # diffusers' default scales the position grid to a 64-patch base (PixArt's
        # 512 px); 1 keeps one unit per patch.
        interpolation_scale=1,
    )
    if c.pooled_text:
        ada = dit.adaln_single  # type: ignore[attr-defined]
        ada.emb = PooledTimestepEmbedding(ada.emb, c.text_dim * (1 + c.pooled_slots), c.dit_width)
    return dit


class PooledTimestepEmbedding(nn.Module):
    """PixArt's timestep embedding plus an MLP of the pooled text state, so that the
    prompt also reaches every block through the adaLN modulation: the pooled
    conditioning of SD3 (Esser et al., 2024) and Imagen, which carries most of the
    UNet's conditioning here (docs/results.md, session 4). It takes the pooled
    vector as PixArt's ``added_cond_kwargs["pooled"]``."""

    def __init__(self, emb: nn.Module, pooled_dim: int, width: int) -> None:
        super().__init__()
        self.emb = emb
        self.pooled = TimestepEmbedding(pooled_dim, width)

    def forward(self, timestep: torch.Tensor, resolution: torch.Tensor | None,
                aspect_ratio: torch.Tensor | None, pooled: torch.Tensor, batch_size: int,
                hidden_dtype: torch.dtype) -> torch.Tensor:
        t = self.emb(timestep, resolution, aspect_ratio, batch_size, hidden_dtype)
        return t + self.pooled(pooled.to(t.dtype))


def _dit_kwargs(pooled: torch.Tensor | None) -> dict[str, torch.Tensor | None]:
    kwargs: dict[str, torch.Tensor | None] = {"resolution": None, "aspect_ratio": None}
    if pooled is not None:
        kwargs["pooled"] = pooled
    return kwargs


def _heads(c: FlowConfig) -> int | tuple[int, ...]:
    """What diffusers' ``attention_head_dim`` must be: it holds heads per block."""
    if not c.exact_head_dim:
        return c.attention_head_dim
    # Levels without attention ignore their entry; 1 keeps it a valid count.
    return tuple(max(1, w // c.attention_head_dim) for w in c.block_out_channels)


def coord_maps(n: int, size: int) -> torch.Tensor:
    """``(n, 2, size, size)``: each cell's centre x (channel 0) and y (channel 1) in
    [-1, 1], the input channels of CoordConv (Liu et al., 2018)."""
    c = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([xx, yy])[None].expand(n, 2, size, size)


class FlowModel(nn.Module):
    """Text encoder + UNet: ``velocity(x_t, t, states, mask)`` on ``(n, 3, H, W)`` in [-1, 1]
    (or, with ``FlowConfig.latent``, on the autoencoder's ``(n, channels, side, side)``
    latents)."""

    def __init__(self, config: FlowConfig) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = Tokenizer(config.max_tokens, config.box_bins)
        bins = (self.tokenizer.first_bin, config.box_bins) if config.box_fourier else None
        self.text = TextEncoder(self.tokenizer.vocab_size, config.max_tokens, config.text_dim,
                                config.text_layers, config.text_heads, box_bins=bins)
        # The backbone keeps the attribute name ``unet`` whatever its kind, so that
        # checkpoints keep their ``unet.*`` keys.
        self.unet = build_unet(config) if config.backbone == "unet" else build_dit(config)
        if config.pooled_slots:
            self.slot_queries = nn.Parameter(torch.randn(config.pooled_slots, config.text_dim)
                                             * config.text_dim ** -0.5)
        # CPU speed levers (47 vs 40 img/s together in a same-process A/B of one
        # training step, 2 cores; docs/results.md): explicit-matmul attention beats
        # torch's CPU flash kernel on these short sequences, and oneDNN convolutions
        # prefer NHWC.
        # diffusers' ModelMixin hides nn.Module's methods from mypy.
        self.unet.set_attn_processor(AttnProcessor())  # type: ignore[union-attr]
        if config.backbone == "unet":
            self.unet.to(memory_format=torch.channels_last)  # type: ignore[union-attr]

    def _slots(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``pooled_slots`` learned queries attend over the text states (attention
        pooling, as in CLIP's and Perceiver's poolers): ``(n, slots * d)``."""
        q = self.slot_queries
        scores = torch.einsum("nld,kd->nkl", states, q) / q.shape[1] ** 0.5
        scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        return torch.einsum("nkl,nld->nkd", scores.softmax(-1), states).flatten(1)

    def encode(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.text(ids, mask)

    def box_maps(self, ids: torch.Tensor) -> torch.Tensor | None:
        """The layout-box masks the UNet takes beside the image (``FlowConfig.box_channels``),
        ``(n, box_channels, H / patch, W / patch)``; None when the model takes none."""
        c = self.config
        if not c.box_channels:
            return None
        return box_maps(ids, self.tokenizer.first_bin, c.box_bins, c.box_channels, c.grid)

    def grounding_maps(self, groundings: list[Grounding]) -> torch.Tensor:
        """The grounding maps of ``groundings`` at the UNet's resolution
        ``(n, GROUNDING_CHANNELS, H / patch, W / patch)`` (:mod:`.grounding`)."""
        return grounding_maps(groundings, self.config.grid)

    def velocity(self, x: torch.Tensor, t: torch.Tensor, states: torch.Tensor,
                 mask: torch.Tensor, pooled_keep: torch.Tensor | None = None,
                 boxes: torch.Tensor | None = None,
                 grounding: torch.Tensor | None = None) -> torch.Tensor:
        """x ``(n, 3, H, W)``, t ``(n,)`` in [0, 1] (1 = noise) -> v ``(n, 3, H, W)``;
        ``pooled_keep`` ``(n,) bool`` (training only) zeroes the pooled text where False;
        ``boxes``: :meth:`box_maps` (zeros for the null condition), required exactly
        when the config has ``box_channels``; ``grounding``: :meth:`grounding_maps`
        (zeros for the null condition), required exactly when it has ``grounding``."""
        p = self.config.patch
        z = F.pixel_unshuffle(x, p) if p > 1 else x
        if (boxes is None) != (self.config.box_channels == 0):
            raise InputError(f"this model takes box_channels={self.config.box_channels} "
                             f"box maps; got {None if boxes is None else tuple(boxes.shape)}")
        if (grounding is None) == self.config.grounding:
            raise InputError(f"this model takes grounding={self.config.grounding} maps; got "
                             f"{None if grounding is None else tuple(grounding.shape)}")
        if boxes is not None:
            z = torch.cat([z, boxes.to(z.dtype)], dim=1)
        if grounding is not None:
            z = torch.cat([z, grounding.to(z.dtype)], dim=1)
        if self.config.coord_channels:
            z = torch.cat([z, coord_maps(z.shape[0], z.shape[-1]).to(z)], dim=1)
        # The UNet's sinusoidal timestep embedding is tuned for 0..1000.
        pooled = None
        if self.config.pooled_text:
            m = mask[..., None].to(states.dtype)
            pooled = (states * m).sum(1) / m.sum(1).clamp(min=1.0)
            if self.config.pooled_slots:
                pooled = torch.cat([pooled, self._slots(states, mask)], dim=1)
            if pooled_keep is not None:
                pooled = pooled * pooled_keep[:, None].to(pooled.dtype)
        if self.config.backbone == "dit":
            out = self.unet(z, encoder_hidden_states=states,  # type: ignore[operator]
                            timestep=t * 1000.0, encoder_attention_mask=mask,
                            added_cond_kwargs=_dit_kwargs(pooled)).sample
        else:
            out = self.unet(z, t * 1000.0, encoder_hidden_states=states,  # type: ignore[operator]
                            encoder_attention_mask=mask, class_labels=pooled).sample
        out = F.pixel_shuffle(out, p) if p > 1 else out
        if self.config.prediction == "velocity":
            return out
        # x0-prediction (Li & He, 2025, "Back to Basics: Let Denoising Generative Models
        # Denoise"): the net outputs the clean image, turned into the velocity the
        # flow needs; the clamp keeps the division finite near t = 0.
        tt = t.clamp(min=X0_T_MIN)[:, None, None, None]
        return (x - out) / tt
