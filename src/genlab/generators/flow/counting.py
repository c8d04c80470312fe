"""The counting-aware auxiliary loss of ``flow`` training (issue 3, method 5).

The seed document asks for "counting-aware losses". Here a frozen,
differentiable counter, the density-counting :class:`CountNet` of the
verifier (Lempitsky & Zisserman, 2010; trained on ``train``-split renders
only, never the judge), reads the model's *predicted clean image*
``x0_hat = x_t - t v`` at every training step, as counting guidance reads it
at sampling time (Kang et al., 2023, "Counting Guidance for High Fidelity
Text-to-Image Synthesis"). The loss is the squared difference of the
counter's per-kind counts (6 colours x 3 shapes) on ``x0_hat`` and on the true
image ``x0``: a perceptual loss in the counter's feature space (Johnson et
al., 2016), matched to the counter's reading of the truth rather than to the
true counts, so the counter's own bias cancels instead of being trained into
the generator.

Only the quarter of each batch nearest the image (the lowest ``t``) is
counted, each term weighted by ``1 - t``: near pure noise ``x0_hat`` is a
blurred mean that no counter can read, and the counter costs more FLOPs per
image than the backbone: counting the quarter raises a training step of the
default config from 6.58 to 8.67 GFLOP (``bench/bench_train.py``).

Measured (issue 3, docs/results.md): at the baseline's training compute this
loss lowers every category, counting included; its gradient, heavy-tailed and
some 30 times the flow loss's at weight 1 (``bench/bench_counting.py``), pulls
the shared weights away from learning the prompt.
"""

from __future__ import annotations

import torch
from torch import nn


def frozen(counter: nn.Module) -> nn.Module:
    """``counter`` in eval mode with every parameter frozen (gradients flow to its
    input only)."""
    counter.eval()
    for p in counter.parameters():
        p.requires_grad_(False)
    return counter


def counts(counter: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Per-kind counts ``(n, kinds)`` of images ``(n, 3, H, W)`` in [-1, 1]: the sums
    of the counter's density maps."""
    return counter(x).sum(dim=(2, 3))


COUNTED_FRACTION = 0.25  # of each batch: the samples with the lowest t


def count_loss(counter: nn.Module, x0_hat: torch.Tensor, x0: torch.Tensor,
               t: torch.Tensor) -> torch.Tensor:
    """Mean of ``(1 - t) * sum_k (count_k(x0_hat) - count_k(x0))^2`` over the
    :data:`COUNTED_FRACTION` of the batch with the lowest ``t``."""
    keep = t.argsort()[:max(1, round(len(t) * COUNTED_FRACTION))]
    x0_hat, x0, t = x0_hat[keep], x0[keep], t[keep]
    with torch.no_grad():
        target = counts(counter, x0)
    err = ((counts(counter, x0_hat) - target) ** 2).sum(dim=1)
    return (err * (1.0 - t)).mean()
