"""The rectified-flow training objective with classifier-free-guidance dropout.

Rectified flow (Liu et al., 2022, "Flow Straight and Fast"; flow matching,
Lipman et al., 2022): ``x_t = (1 - t) x0 + t eps`` joins an image ``x0`` (t=0)
to Gaussian noise ``eps`` (t=1) by a straight line, and the model regresses the
constant velocity ``v = eps - x0`` with a plain MSE. Timesteps are drawn from
the logit-normal density of Esser et al., 2024 (SD3), which puts more training
on the middle of the path, where the velocity is hardest to predict. With
probability ``cfg_dropout`` a sample is trained on the null condition, so
one network gives both branches of classifier-free guidance (Ho & Salimans, 2022).

The loss is always the velocity MSE; what the UNet outputs is a config choice
(:attr:`FlowConfig.prediction`, applied in :meth:`FlowModel.velocity`). The
default is the clean image ("x0", Li & He, 2025, "Back to Basics"), turned into
``v = (x_t - x0_hat) / t``: at equal CPU time it reached a lower velocity loss
(0.157 vs 0.217 after 300 steps of the same net) and clean backgrounds, where
direct velocity prediction left visible noise in every image.

Under x0-prediction the velocity error is the x0 error divided by ``t``, so the
plain velocity loss weights nearly clean inputs by ``1/t^2`` and they dominate
the gradient, while the noisy inputs where the prompt decides colour, shape and
count get little. ``t_floor`` (:attr:`FlowConfig.loss_t_floor`) caps the weight
at ``1/floor^2``, a min-SNR-style truncation (Hang et al., 2023, "Efficient
Diffusion Training via Min-SNR Weighting Strategy"). At 1,000 steps it lifted dev
``single`` from 0.14 to 0.42 (floor 0.6; bench/bench_flow_variants.py, see
docs/results.md).

A config with ``count_loss > 0`` adds the counting-aware loss of
:mod:`.counting` on the predicted clean image.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from genlab.generators.flow.counting import count_loss
from genlab.generators.flow.model import FlowModel


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """``(n, H, W, 3) uint8`` -> ``(n, 3, H, W) float32`` in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


def tensor_to_images(x: torch.Tensor) -> np.ndarray:
    """``(n, 3, H, W)`` in [-1, 1] -> ``(n, H, W, 3) uint8`` (values outside are clipped)."""
    u8 = ((x.detach().float() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return u8.permute(0, 2, 3, 1).contiguous().numpy()


def logit_normal(n: int, mean: float, std: float, generator: torch.Generator) -> torch.Tensor:
    """``(n,)`` timesteps in (0, 1) with ``logit(t) ~ N(mean, std^2)``."""
    return torch.sigmoid(mean + std * torch.randn(n, generator=generator))


def flow_loss(model: FlowModel, x0: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, *,
              t_mean: float, t_std: float, cfg_dropout: float,
              generator: torch.Generator, t_floor: float = 0.0,
              pooled_dropout: float = 0.0,
              grounding: torch.Tensor | None = None,
              counter: nn.Module | None = None, count_weight: float = 0.0) -> torch.Tensor:
    """Rectified-flow MSE for one batch: x0 ``(n, 3, H, W)`` in [-1, 1], tokens ``(n, L)``,
    ``grounding`` the images' grounding maps when the model takes them; with a
    ``counter``, plus ``count_weight`` times the counting loss of the predicted clean
    image (:mod:`.counting`)."""
    n = x0.shape[0]
    t = logit_normal(n, t_mean, t_std, generator)
    eps = torch.randn(x0.shape, generator=generator)
    drop = torch.rand(n, generator=generator) < cfg_dropout
    states, smask = model.encode(ids, mask)
    states, smask = model.text.with_null(states, smask, drop)
    tt = t[:, None, None, None]
    x_t = (1.0 - tt) * x0 + tt * eps
    # Drawn only when used, so runs without it keep their exact random streams.
    keep = torch.rand(n, generator=generator) >= pooled_dropout if pooled_dropout > 0 else None
    boxes = model.box_maps(ids)
    if boxes is not None:  # the null condition has no boxes either
        boxes = boxes * (~drop).to(boxes.dtype)[:, None, None, None]
    if grounding is not None:  # nor a plan
        grounding = grounding * (~drop).to(grounding.dtype)[:, None, None, None]
    v = model.velocity(x_t, t, states, smask, pooled_keep=keep, boxes=boxes,
                       grounding=grounding)
    err = ((v - (eps - x0)) ** 2).mean(dim=(1, 2, 3))
    if t_floor > 0.0:
        err = err * (t / t.clamp(min=t_floor)) ** 2
    if counter is None:
        return err.mean()
    x0_hat = x_t - tt * v  # the clean image the model predicts (exact for any t)
    return err.mean() + count_weight * count_loss(counter, x0_hat, x0, t)
