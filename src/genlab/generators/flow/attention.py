"""Training-free attention guidance on the ``flow`` baseline's cross-attention maps.

Two losses on the cross-attention probabilities of the prompt's object words
(each positive group's colour word and noun), both minimised by a gradient
step on the noisy image ``x_t`` before the sampler's step, during the first
``until`` of the sampling path (issue 3, method 4):

- ``excite``: Attend-and-Excite (Chefer et al., 2023). Every object word must
  hold a strong attention peak somewhere: the loss is the largest
  ``1 - max_cell A_s`` over the words ``s``, so the most neglected word is
  excited. It needs nothing beyond the prompt.
- ``box``: layout control by backward guidance (BoxDiff, Xie et al., 2023;
  Chen et al., 2024, "Training-Free Layout Control with Cross-Attention
  Guidance"): each word's attention, normalised over the cells, should lie
  inside the boxes of its group's objects: the loss is
  ``sum_s (1 - mass of A_s inside its region)^2``. The boxes come from the
  grammar's whole-scene planner (:func:`genlab.generators.planned.plan_scene`,
  the LMD planner of ``flow-grounded``), or from a ``layout`` prompt's own
  boxes, so the guided model is the *baseline*: no retraining.

The step is normalised, ``x <- x - strength * t * g / rms(g)`` (one step per
guided sampling step), so ``strength`` reads in units of the noise's standard
deviation and shrinks with ``t`` as the image settles. The maps are collected
by an attention processor that stores every cross-attention layer's
probabilities (:class:`AttentionStore`; all of the default model's
cross-attention sits at the 4x4 level of its 16x16 latent).

Measured (issue 3, docs/results.md, ``bench/bench_attention.py``): the default
model's cross-attention is blind to position (a word's attention inside its
objects' boxes is 1.00-1.03 times their share of the grid; its 32 heads have 2
channels each), so neither loss has a handle: no strength lifted the dev mean,
and ``flow-attend`` equals the baseline on ``test``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import PixArtTransformer2DModel, UNet2DConditionModel
from diffusers.models.attention_processor import Attention, AttnProcessor

from genlab.contracts import BoxList
from genlab.errors import InputError
from genlab.generators.flow.grounding import Grounding, grounding_maps
from genlab.worlds.shapes import grammar, vocab

MODES = ("excite", "box")
_NOUNS = frozenset({*vocab.SHAPES, *vocab.PLURALS.values(), "object", "objects"})


@dataclass(frozen=True)
class AttentionGuidance:
    """Which loss (``excite`` or ``box``), the normalised step ``strength`` and the
    fraction ``until`` of the sampling path (from the noise end) that is guided."""

    mode: str = "excite"
    strength: float = 0.003
    until: float = 0.5

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"attention guidance mode {self.mode!r}; accepted: "
                             f"{', '.join(MODES)}")
        if not (isinstance(self.strength, (int, float)) and self.strength > 0):
            raise InputError(f"attention guidance strength must be > 0, got {self.strength!r}")
        if not (isinstance(self.until, (int, float)) and 0 < self.until <= 1):
            raise InputError(f"attention guidance until must be in (0, 1], got {self.until!r}")


@dataclass(frozen=True)
class Target:
    """One prompt's guidance target: the token positions of each positive group's
    words, and each group's region ``(h, w)`` on the attention grid (box mode)."""

    tokens: tuple[tuple[int, ...], ...]
    regions: tuple[np.ndarray, ...] | None = None


class AttentionStore:
    """Holds the cross-attention probabilities of one forward pass while recording:
    a list of ``(batch, heads, cells, tokens)`` tensors, one per layer."""

    def __init__(self) -> None:
        self.recording = False
        self.maps: list[torch.Tensor] = []


class StoringProcessor(AttnProcessor):
    """diffusers' plain attention, also handing the probabilities of cross-attention
    layers to an :class:`AttentionStore` while it records (with their gradients)."""

    def __init__(self, store: AttentionStore) -> None:
        super().__init__()
        self.store = store

    def __call__(self, attn: Attention, hidden_states: torch.Tensor,  # type: ignore[override]
                 encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None,
                 temb: torch.Tensor | None = None) -> torch.Tensor:
        if encoder_hidden_states is None or not self.store.recording:
            return super().__call__(attn, hidden_states, encoder_hidden_states,
                                    attention_mask, temb)
        if hidden_states.ndim != 3 or attn.spatial_norm is not None \
                or attn.group_norm is not None or attn.norm_cross:
            raise InputError("attention guidance supports the plain transformer "
                             "cross-attention of UNet2DConditionModel and "
                             "PixArtTransformer2DModel only")
        n, cells, _ = hidden_states.shape
        mask = attn.prepare_attention_mask(attention_mask, encoder_hidden_states.shape[1], n)
        q = attn.head_to_batch_dim(attn.to_q(hidden_states))
        k = attn.head_to_batch_dim(attn.to_k(encoder_hidden_states))
        v = attn.head_to_batch_dim(attn.to_v(encoder_hidden_states))
        probs = attn.get_attention_scores(q, k, mask)
        self.store.maps.append(probs.view(n, attn.heads, cells, -1))
        out = attn.batch_to_head_dim(torch.bmm(probs, v))
        out = attn.to_out[1](attn.to_out[0](out))
        if attn.residual_connection:
            out = out + hidden_states
        return out / attn.rescale_output_factor


def install(unet: UNet2DConditionModel | PixArtTransformer2DModel) -> AttentionStore:
    """Give every cross-attention layer of ``unet`` (the backbone) a storing processor (the other
    layers keep theirs); the store."""
    store = AttentionStore()
    # diffusers' ModelMixin hides these from mypy (as in model.py)
    procs = unet.attn_processors  # type: ignore[union-attr]
    unet.set_attn_processor(  # type: ignore[union-attr]
        {name: StoringProcessor(store) if name.endswith("attn2.processor") else proc
         for name, proc in procs.items()})
    return store


def mean_map(maps: Sequence[torch.Tensor]) -> torch.Tensor:
    """``(n, tokens, h, w)``: the heads' and layers' mean cross-attention, every layer
    resized to the finest grid among them."""
    if not maps:
        raise InputError("no cross-attention was recorded: this model has no "
                         "cross-attention levels")
    side = max(round(m.shape[2] ** 0.5) for m in maps)
    out = []
    for m in maps:
        s = round(m.shape[2] ** 0.5)
        a = m.mean(1).transpose(1, 2).reshape(m.shape[0], -1, s, s)
        out.append(a if s == side else F.interpolate(a, size=(side, side), mode="bilinear"))
    return torch.stack(out).mean(0)


def group_tokens(prompt: str, boxes: BoxList | None = None) -> tuple[tuple[int, ...], ...]:
    """Token positions of each positive group's words (its colour word, if any, and
    its noun), in the order of ``grammar.parse(prompt).groups``; the negated part
    after "no" and the layout-box tokens are not object words."""
    words = grammar.tokenize(prompt)
    spec = grammar.parse(prompt, boxes)
    stop = words.index("no") if "no" in words else len(words)
    groups: list[tuple[int, ...]] = []
    start = 0
    for i, w in enumerate(words[:stop]):
        if w in _NOUNS:
            groups.append(tuple(j for j in range(start, i)
                                if words[j] in vocab.COLOURS) + (i,))
            start = i + 1
    if len(groups) != len(spec.groups):
        raise InputError(f"prompt {prompt!r}: found {len(groups)} object nouns for "
                         f"{len(spec.groups)} groups")
    return tuple(groups)


def target(prompt: str, seed: int, boxes: BoxList | None, mode: str, side: int) -> Target:
    """The guidance target of one prompt (``side``: the attention grid's side)."""
    tokens = group_tokens(prompt, boxes)
    if mode == "excite":
        return Target(tokens)
    from genlab.generators.planned import plan_scene

    plan: Grounding = plan_scene(prompt, seed, boxes).grounding
    return Target(tokens, regions(prompt, boxes, plan, side))


def regions(prompt: str, boxes: BoxList | None, plan: Grounding,
            side: int) -> tuple[np.ndarray, ...]:
    """Per positive group of ``prompt``, the ``(side, side)`` fraction of each grid cell
    covered by the boxes of the ``plan``'s objects of that group."""
    out = []
    for g in grammar.parse(prompt, boxes).groups:
        mine = tuple(o for o in plan if o.shape is not None and o.colour is not None
                     and g.matches(o.shape, o.colour))
        out.append(grounding_maps([mine], side)[0, 0].numpy())
    return tuple(out)


def excite_loss(a: torch.Tensor, targets: Sequence[Target]) -> torch.Tensor:
    """Attend-and-Excite per image ``(n,)``: max over object words of 1 - peak."""
    out = []
    for i, tg in enumerate(targets):
        peaks = torch.stack([a[i, s].amax() for words in tg.tokens for s in words])
        out.append((1.0 - peaks).amax())
    return torch.stack(out)


def box_loss(a: torch.Tensor, targets: Sequence[Target]) -> torch.Tensor:
    """Backward layout guidance per image ``(n,)``: sum over object words of
    (1 - their attention mass inside their group's region)^2."""
    out = []
    for i, tg in enumerate(targets):
        assert tg.regions is not None
        terms = []
        for words, region in zip(tg.tokens, tg.regions, strict=True):
            r = torch.from_numpy(region).to(a.dtype)
            for s in words:
                m = a[i, s]
                terms.append((1.0 - (m * r).sum() / m.sum().clamp(min=1e-8)) ** 2)
        out.append(torch.stack(terms).sum())
    return torch.stack(out)


LOSSES = {"excite": excite_loss, "box": box_loss}
