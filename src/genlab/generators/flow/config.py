"""The frozen configuration of the ``flow`` generator, stored beside every checkpoint.

One dataclass holds everything that determines a trained model: image and
backbone shape, text encoder, objective, optimiser and data mix. Its JSON is
written next to the weights (so a checkpoint always says what it is) and its
hash keys the training cache of :func:`genlab.generators.flow.train.ensure_trained`.

Profiles: :meth:`FlowConfig.smoke` trains in seconds (tests), and
:meth:`FlowConfig.default` is the profile the tracks use, sized to train in
about 15 minutes on 2 CPU cores (measured in docs/results.md); :meth:`FlowConfig.session5`
is the default of sessions 5-22.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from genlab.errors import InputError, check_int, suggest
from genlab.machine import kernel_set
from genlab.worlds.shapes import vocab

if TYPE_CHECKING:
    from genlab.generators.flow.autoencoder import AutoencoderConfig

# Bump when the meaning of a stored config or the weight layout changes, so that
# the training cache never hands back a checkpoint built by older code.
FORMAT_VERSION = 1

# Bump when a code change alters what a config trains (the data draw, the model's
# construction, the objective, the optimiser): tests/generators/test_fingerprint.py fails
# until it is bumped and the stored fingerprint rewritten (.fingerprint). Above 0 it
# enters every cache key, so no cached model made by the older code is handed back.
TRAINING_REVISION = 0

# Fields added after format 1 with a default that keeps the old behaviour. At that
# default they are left out of the JSON (and so of the cache key), so adding a
# field never invalidates models that were trained without it; from_json fills
# the default back in.
ADDED_FIELDS: dict[str, Any] = {"box_fourier": False, "pooled_dropout": 0.0,
                               "exact_head_dim": False, "box_channels": 0, "pooled_slots": 0,
                               "coord_channels": False, "grounding": False,
                               "count_loss": 0.0, "counter": "", "backbone": "unet",
                               "dit_width": 128, "dit_depth": 6, "dit_patch": 2,
                               "latent": "", "extra_ema_decays": (), "kernels": ""}

BACKBONES = ("unet", "dit")

# The profiles :meth:`FlowConfig.named` knows (what benches take as a base).
PROFILES = ("default", "session5", "smoke")


# Weight of the counting-aware loss in FlowConfig.counting. At weight 1 the counting
# term's gradient is a median 30x the flow loss's (10-626x per batch,
# bench/bench_counting.py), and weights 0.005-0.5 left a dev mean of 0.01-0.02;
# 0.001 puts the median at 3%. Even so it lowered the dev mean at equal steps
# (0.062 against 0.124; docs/results.md, session 8): the profile measures the
# method, it does not recommend it.
COUNT_LOSS = 0.001

# Box-mask channels of the profiles: the ``shapes`` world's layouts hold 1-4 boxes.
LAYOUT_BOX_CHANNELS = 4


@dataclass(frozen=True)
class FlowConfig:
    """Everything that determines a trained ``flow`` model.

    Attributes:
        image_size: side of the square RGB images the model is trained on (pixels).
        patch: pixel-unshuffle factor: the backbone sees ``(3 * patch**2,
            size / patch, size / patch)`` arrays, a lossless space-to-depth
            "latent" (Shi et al., 2016) that cuts the backbone's cost ~patch**2 times.
        backbone: ``"unet"`` (diffusers' UNet2DConditionModel) or ``"dit"`` (diffusers'
            PixArtTransformer2DModel: a diffusion transformer, Peebles & Xie, 2023, with
            cross-attention to the text in every block and adaLN-single timestep
            conditioning, Chen et al., 2024, "PixArt-alpha"; with ``pooled_text`` the
            pooled text joins the timestep embedding, as in SD3). The ``block_out_channels``,
            ``cross_attention_levels``, ``layers_per_block``, ``norm_num_groups``,
            ``scale_shift`` and ``exact_head_dim`` fields describe the UNet only; the
            ``dit_*`` fields describe the transformer only.
        dit_width: the transformer's width (heads = width / ``attention_head_dim``).
        dit_depth: the transformer's blocks.
        dit_patch: the transformer's patch side on the pixel-unshuffled image, so a
            token covers ``patch * dit_patch`` pixels a side.
        block_out_channels: UNet channels per resolution level.
        cross_attention_levels: per level, whether it has (self + cross) attention.
        layers_per_block: ResNet blocks per UNet level.
        attention_head_dim: handed to diffusers' ``attention_head_dim``, which
            ``UNet2DConditionModel`` reads as the number of heads per attention
            block (a naming quirk diffusers keeps for old checkpoints): at 32, the
            64-wide level has 32 heads of 2 channels. See ``exact_head_dim``.
        exact_head_dim: read ``attention_head_dim`` as channels per head instead
            (heads = level width / it). Two heads of 32 instead of 32 of 2 train
            ~12% faster, and with attention at 8x8 too they let the words localise,
            but three full runs of that spread by more than its gain (sessions 8-9,
            docs/results.md), so the default keeps diffusers' reading for now.
        norm_num_groups: GroupNorm groups in the UNet (must divide every width).
        scale_shift: condition every ResNet block by FiLM (a per-channel scale and
            shift from the time + pooled-text embedding, Perez et al., 2018; the
            "scale_shift" norm of Dhariwal & Nichol, 2021) instead of adding it.
        text_dim: width of the text encoder = the UNet's cross_attention_dim.
        pooled_text: also add the masked mean of the text states to the UNet's
            timestep embedding (Imagen's pooled conditioning).
        pooled_dropout: probability of zeroing a training sample's pooled text
            vector (the text states stay), so that the prompt must also reach the
            UNet through cross-attention, the only path that can say which object
            is where. Sampling always uses the pooled vector.
        pooled_slots: also pool the text states by this many learned attention
            queries and append them to the pooled vector, so the conditioning of
            every ResNet block can hold one vector per object instead of one bag
            (0 = off; needs ``pooled_text``).
        text_layers: transformer layers in the text encoder.
        text_heads: attention heads in the text encoder.
        box_fourier: also embed each layout-box coordinate token by fixed Fourier
            features of its bin centre plus a learned x0/y0/x1/y1 role vector (the
            box encoding of GLIGEN, Li et al., 2023), so that neighbouring bins
            start out alike instead of as unrelated learned tokens.
        max_tokens: fixed token length (prompt words + layout-box groups).
        box_bins: quantisation bins per box coordinate (ReCo position tokens).
        box_channels: also give the UNet each layout box as a binary mask channel
            beside the image, in prompt order (:mod:`.box_maps`); the most boxes a
            prompt may have (0 = off; the ``shapes`` layouts hold up to 4).
        grounding: also give the UNet a grounding map beside the image: every
            planned object's box painted with its colour and shape
            (:mod:`.grounding`; GLIGEN's grounding input as a spatial map). The
            model is trained on each image's true scene and sampled behind a
            planner (``flow-grounded``, :mod:`genlab.generators.planned`).
        count_loss: weight of the counting-aware auxiliary loss (:mod:`.counting`):
            a frozen learned counter compares its per-kind counts of the predicted
            clean image with those of the true image (0 = off).
        counter: the verifier profile (``default`` or ``smoke``,
            :class:`genlab.generators.verifier.VerifierConfig`) whose trained
            CountNet is the counter of ``count_loss``; it is trained into the same
            cache first if missing ("" when ``count_loss`` is 0).
        coord_channels: also give the UNet two fixed channels holding each cell's
            x and y coordinate in [-1, 1] (CoordConv, Liu et al., 2018), so that its
            convolutions know where in the image they are: "left of" and "above"
            need a position code that zero padding gives only near the border.
            Over two seeds it cost ``single`` 0.13-0.24 and left ``position`` at
            0.00-0.01 (session 6, docs/results.md), so it is off.
        latent: the autoencoder profile (``default`` or ``smoke``,
            :class:`genlab.generators.flow.autoencoder.AutoencoderConfig`) whose latents
            the backbone works on instead of pixels (latent diffusion, Rombach et al.,
            2022); trained into the same cache first if missing ("" = pixels). The
            generator decodes them with the VAE's decoder or the tiny one, timed as its
            ``decode`` stage.
        categories: prompt categories of the training mix; each image's category
            is uniform over this tuple, so repeating a name weights it.
        train_steps: optimiser steps of a full training run.
        batch_size: images per training step.
        lr: peak AdamW learning rate (after linear warmup, then cosine to 10%).
        warmup_steps: linear learning-rate warmup steps.
        weight_decay: AdamW weight decay.
        grad_clip: gradient-norm clip (0 disables).
        ema_decay: maximum EMA decay (diffusers' EMAModel warms it up from 0).
        extra_ema_decays: more EMAs of the same weights, kept beside the main one and
            checkpointed with it. The EMA never feeds back into training, so a run with
            extras holds, for each decay d, exactly the EMA a run with ``ema_decay=d``
            would end with; :func:`genlab.generators.flow.train.split_emas` writes each
            into the cache under that config (one training, several EMA lengths:
            the question EDM2's post-hoc EMA asks, Karras et al., 2024). The warm-up
            caps every decay at ``(1 + k) / (10 + k)`` at step ``k``, so within
            ``train_steps`` decays above ``1 - 9 / (9 + train_steps)`` are one EMA.
        cfg_dropout: probability of training a sample on the null condition (CFG).
        prediction: what the UNet outputs: ``"velocity"`` (v = eps - x0 directly)
            or ``"x0"`` (the clean image, converted to v = (x_t - x0) / t); the
            loss is the velocity MSE either way.
        t_mean: mean of the logit-normal timestep density (SD3).
        t_std: standard deviation of the logit-normal timestep density.
        loss_t_floor: weights each sample's velocity loss by ``(t / max(t, floor))^2``.
            Under x0-prediction the velocity error is the x0 error over ``t``, so
            nearly clean inputs dominate the gradient; a floor caps that emphasis
            (0 = plain velocity loss).
        seed: seed of every random stream of training (data, noise, init).
        kernels: the instruction set of torch's CPU kernels the training runs on: ""
            (this machine's own) or ``"avx2"`` (:data:`genlab.machine.KERNEL_SETS`: the
            training runs in worker processes started with torch's AVX2 kernels, also
            with ``workers`` 1). A training is deterministic for one instruction set and
            another set trains a model as far from it as another seed (session 21,
            docs/results.md), so only a pinned config names one model on every x86
            machine. Sampling does not depend on it.
        workers: data-parallel training processes (PyTorch ``torch.distributed``
            with the gloo backend), each drawing ``batch_size / workers`` images
            from its own random stream and averaging gradients every step. On
            this machine's 2 cores, two 1-thread processes train more images per
            second than one 2-thread process (docs/results.md).
        checkpoint_every: steps between periodic checkpoints.
        log_every: steps between rows of ``curve.csv``.
    """

    image_size: int = 32
    patch: int = 2
    block_out_channels: tuple[int, ...] = (16, 32, 64)
    cross_attention_levels: tuple[bool, ...] = (False, False, True)
    layers_per_block: int = 1
    attention_head_dim: int = 32
    norm_num_groups: int = 8
    text_dim: int = 64
    pooled_text: bool = True
    pooled_dropout: float = 0.0
    pooled_slots: int = 0
    scale_shift: bool = False
    text_layers: int = 2
    text_heads: int = 4
    max_tokens: int = 40
    box_fourier: bool = False
    exact_head_dim: bool = False
    box_bins: int = 16
    box_channels: int = 0
    coord_channels: bool = False
    grounding: bool = False
    count_loss: float = 0.0
    counter: str = ""
    backbone: str = "unet"
    dit_width: int = 128
    dit_depth: int = 6
    dit_patch: int = 2
    latent: str = ""
    categories: tuple[str, ...] = vocab.CATEGORIES
    train_steps: int = 5400
    batch_size: int = 32
    lr: float = 2e-3
    warmup_steps: int = 50
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.995
    extra_ema_decays: tuple[float, ...] = ()
    cfg_dropout: float = 0.1
    prediction: str = "x0"
    t_mean: float = 0.0
    t_std: float = 1.0
    loss_t_floor: float = 0.6
    seed: int = 0
    kernels: str = ""
    workers: int = 2
    checkpoint_every: int = 200
    log_every: int = 10

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def channels(self) -> int:
        """Channels of what the flow moves: 3 (RGB) or the autoencoder's latent channels."""
        return autoencoder_config(self.latent).latent_channels if self.latent else 3

    @property
    def side(self) -> int:
        """Side of what the flow moves: the image's, or its latent's."""
        return autoencoder_config(self.latent).side if self.latent else self.image_size

    @property
    def grid(self) -> int:
        """Side of the backbone's input after the pixel unshuffle (``side / patch``)."""
        return self.side // self.patch

    # ------------------------------------------------------------ profiles

    @classmethod
    def default(cls) -> FlowConfig:
        """The profile the tracks use (since session 23): :meth:`session5`'s small UNet
        (16, 32, 64) with its 4x4 attention read as 2 heads of 32 (``exact_head_dim``),
        trained 3,000 steps of 128 images at learning rate 4e-3 (warm-up 100) in 2
        data-parallel workers: about 15 minutes on 2 idle cores (the budget is 20).

        Why batch 128: the small UNet is bound by per-operator overhead at batch 32
        (training GFLOP/s 0.24-0.29 of a matmul's); at 128 it reaches 0.41-0.45 (issue 2's
        target: 0.4) and sees 2.2x :meth:`session5`'s images in 1.3x its time (with
        attention at 8x8 too, session 9's candidate reaches only 0.39). Over three seeds it
        scored test overall 0.311 / 0.355 / 0.354 against session5's 0.295-0.324, the
        quality bar met by two (docs/results.md, session 23).
        Why seed 1: of the three seeds trained, the best ``dev`` overall (the rule
        named in session 23, applied on this machine's AVX512 kernels).
        Why small, why box channels, why not the wider backbones: :meth:`session5`.
        Why not pinned (``kernels="avx2"``): a pinned training is one model on every x86
        machine but another draw than the one measured here; the team's decision."""
        return cls(box_channels=LAYOUT_BOX_CHANNELS, exact_head_dim=True, batch_size=128,
                   train_steps=3000, lr=4e-3, warmup_steps=100, seed=1)

    @classmethod
    def session5(cls) -> FlowConfig:
        """The default of sessions 5-22 (the base model of issue 3's method table and
        issue 4's students as measured then): 5,400 steps of 32 images at 2e-3.

        Why small: at equal training time, a smaller, faster net that sees more images
        learned far more than the (48, 96, 96) net of session 2 (dev ``single`` 0.86 vs
        0.42). Why box channels: layout boxes as masks beside the image lifted dev
        ``layout`` from 0.01 to 0.16 / 0.21 in two seeds, and no category lost (session 5).
        Why not fewer, wider levels (a 4x unshuffle with a (48, 96) UNet, (32, 64, 64), a
        DiT), which reach the GFLOP/s target at batch 32: at this budget they scored
        0.168 and 0.267 on ``test`` (sessions 4, 6, 9 and 22, docs/results.md)."""
        return cls(box_channels=LAYOUT_BOX_CHANNELS)

    @classmethod
    def named(cls, name: str) -> FlowConfig:
        """The profile called ``name`` (:data:`PROFILES`): what a bench varies."""
        if name not in PROFILES:
            raise InputError(f"unknown flow profile {name!r}; accepted: "
                             f"{', '.join(PROFILES)}." + suggest(name, PROFILES))
        return getattr(cls, name)()

    @classmethod
    def grounded(cls) -> FlowConfig:
        """:meth:`session5` with a grounding map instead of box masks: the model of
        ``flow-grounded`` (issue 3's layout planning + grounded generation): the same
        backbone and batch as :meth:`session5`, a quarter of its steps (1,400: about 5
        minutes). Snapshots of a 5,400-step run (the baseline's compute) scored 1.000
        in every dev category at 1,400, 2,800 and 5,400 steps (128 prompts each;
        bench/bench_guidance.py, docs/results.md), so more steps buy nothing."""
        return cls(grounding=True, train_steps=1400)

    @classmethod
    def counting(cls) -> FlowConfig:
        """:meth:`default` trained with the counting-aware auxiliary loss (:mod:`.counting`,
        issue 3's counting-aware training) at the default's training compute: counting a
        quarter of each batch raises a step's FLOPs 1.318x (26.3 -> 34.7 G at batch 128,
        FlopCounterMode), so 2,275 steps instead of 3,000. (Sessions 8-25: :meth:`session5`
        with the loss, 4,100 steps; session 26 moved it to the default's recipe.)"""
        return dataclasses.replace(cls.default(), count_loss=COUNT_LOSS, counter="default",
                                   train_steps=2275)

    @classmethod
    def counting_smoke(cls) -> FlowConfig:
        """:meth:`smoke` with the counting-aware loss and the smoke counter (tests)."""
        return dataclasses.replace(cls.smoke(), count_loss=COUNT_LOSS, counter="smoke")

    @classmethod
    def latent_default(cls) -> FlowConfig:
        """:meth:`session5` on the default autoencoder's 8x8x8 latents (``flow-latent``,
        issue 4's latent variant): the backbone on an 8x8 grid instead of 16x16, so a
        step costs about a quarter, and a decode stage at the end. Its cross-attention
        is at the 4x4 level, as the pixel model's (whose 4x4 is its third level)."""
        return cls(box_channels=LAYOUT_BOX_CHANNELS, latent="default", patch=1,
                   cross_attention_levels=(False, True, False))

    @classmethod
    def latent_smoke(cls) -> FlowConfig:
        """:meth:`smoke` on the smoke autoencoder's latents (tests)."""
        return dataclasses.replace(cls.smoke(), latent="smoke", patch=1)

    @classmethod
    def grounded_smoke(cls) -> FlowConfig:
        """:meth:`smoke` with a grounding map (tests)."""
        return dataclasses.replace(cls.smoke(), box_channels=0, grounding=True)

    @classmethod
    def smoke(cls) -> FlowConfig:
        """A tiny model that trains in a few seconds: for tests, not for quality."""
        return cls(block_out_channels=(16, 32), cross_attention_levels=(False, True),
                   layers_per_block=1, attention_head_dim=16, norm_num_groups=8,
                   text_dim=32, text_layers=1, text_heads=2, train_steps=20,
                   batch_size=8, warmup_steps=5, checkpoint_every=10, log_every=5,
                   workers=1, box_channels=LAYOUT_BOX_CHANNELS)

    # ------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        return {k: v for k, v in d.items() if k not in ADDED_FIELDS or v != ADDED_FIELDS[k]}

    def to_json(self) -> str:
        return json.dumps({"format_version": FORMAT_VERSION, **self.to_dict()},
                          indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FlowConfig:
        """Inverse of :meth:`to_json`; an unknown field raises InputError, a missing one
        takes its default (how a JSON written before an ``ADDED_FIELDS`` entry reads)."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise InputError(f"a FlowConfig JSON must be an object, got {type(data).__name__}")
        version = data.pop("format_version", None)
        if version != FORMAT_VERSION:
            raise InputError(f"FlowConfig format_version {version!r}; this code reads "
                             f"{FORMAT_VERSION}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InputError(f"unknown FlowConfig fields {unknown}; known: {sorted(known)}")
        kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                  for k, v in data.items()}
        return cls(**kwargs)

    def key(self) -> str:
        """A short hash of everything that determines the trained weights (cache key);
        a latent model's includes its VAE's key, so a changed VAE profile never hands
        back a model trained on other latents."""
        text = self.to_json()
        if TRAINING_REVISION:
            text += f"|training_revision={TRAINING_REVISION}"
        if self.latent:
            text += f"|vae={autoencoder_config(self.latent).key()}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def autoencoder_config(profile: str) -> AutoencoderConfig:
    """The autoencoder of a ``latent`` profile name."""
    from genlab.generators.flow.autoencoder import AutoencoderConfig

    return AutoencoderConfig.profile(profile)


def _validate(c: FlowConfig) -> None:
    if c.backbone not in BACKBONES:
        raise InputError(f"backbone {c.backbone!r}; accepted: {', '.join(BACKBONES)}")
    if c.latent:
        _validate_latent(c)
    if c.backbone == "dit":
        _validate_dit(c)
    elif c.side % (c.patch * 2 ** (len(c.block_out_channels) - 1)):
        raise InputError(f"the flow's side {c.side} (image_size {c.image_size}, latent "
                         f"{c.latent!r}) must be divisible by patch {c.patch} "
                         f"times 2**(levels-1) = {2 ** (len(c.block_out_channels) - 1)}")
    if len(c.cross_attention_levels) != len(c.block_out_channels):
        raise InputError(f"cross_attention_levels {c.cross_attention_levels} needs one flag "
                         f"per level of block_out_channels {c.block_out_channels}")
    if any(w % c.norm_num_groups for w in c.block_out_channels):
        raise InputError(f"norm_num_groups {c.norm_num_groups} must divide every width "
                         f"in {c.block_out_channels}")
    if c.kernels:
        kernel_set(c.kernels)  # the name only: a pinned model samples on any CPU
    if c.workers >= 1 and c.batch_size % c.workers:
        raise InputError(f"batch_size {c.batch_size} must be divisible by workers {c.workers}")
    if isinstance(c.pooled_slots, bool) or not isinstance(c.pooled_slots, int) \
            or c.pooled_slots < 0 or (c.pooled_slots and not c.pooled_text):
        raise InputError(f"pooled_slots must be an int >= 0 (> 0 needs pooled_text), "
                         f"got {c.pooled_slots!r}")
    if isinstance(c.box_channels, bool) or not isinstance(c.box_channels, int) \
            or c.box_channels < 0:
        raise InputError(f"box_channels must be an int >= 0, got {c.box_channels!r}")
    if not isinstance(c.grounding, bool):
        raise InputError(f"grounding must be true or false, got {c.grounding!r}")
    if not (isinstance(c.count_loss, (int, float)) and not isinstance(c.count_loss, bool)
            and c.count_loss >= 0):
        raise InputError(f"count_loss must be a number >= 0, got {c.count_loss!r}")
    if not ((c.count_loss == 0 and c.counter == "")
            or (c.count_loss > 0 and c.counter in ("default", "smoke"))):
        raise InputError(f"count_loss > 0 needs counter 'default' or 'smoke' (and count_loss "
                         f"0 needs counter ''); got count_loss={c.count_loss!r}, "
                         f"counter={c.counter!r}")
    if not isinstance(c.coord_channels, bool):
        raise InputError(f"coord_channels must be true or false, got {c.coord_channels!r}")
    if c.exact_head_dim and c.backbone == "unet":
        # the middle block always has attention, at the last level's width
        widths = {w for w, a in zip(c.block_out_channels, c.cross_attention_levels, strict=True)
                  if a} | {c.block_out_channels[-1]}
        uneven = sorted(w for w in widths if w % c.attention_head_dim)
        if uneven:
            raise InputError(f"exact_head_dim: attention_head_dim {c.attention_head_dim} must "
                             f"divide the width of every attention level, not {uneven}")
    if c.text_dim % c.text_heads:
        raise InputError(f"text_dim {c.text_dim} must be divisible by text_heads {c.text_heads}")
    bad = [x for x in c.categories if x not in vocab.CATEGORIES]
    if bad or not c.categories:
        raise InputError(f"categories {c.categories} must be a non-empty subset of "
                         f"{vocab.CATEGORIES}")
    if c.prediction not in ("velocity", "x0"):
        raise InputError(f"prediction {c.prediction!r}; accepted: 'velocity', 'x0'")
    if not 0.0 <= c.loss_t_floor < 1.0:
        raise InputError(f"loss_t_floor {c.loss_t_floor} must be in [0, 1)")
    if not 0.0 <= c.pooled_dropout < 1.0:
        raise InputError(f"pooled_dropout {c.pooled_dropout} must be in [0, 1)")
    if not 0.0 <= c.cfg_dropout < 1.0:
        raise InputError(f"cfg_dropout {c.cfg_dropout} must be in [0, 1)")
    if not 0.0 <= c.ema_decay < 1.0:
        raise InputError(f"ema_decay {c.ema_decay} must be in [0, 1)")
    extra = c.extra_ema_decays
    if (any(not 0.0 <= d < 1.0 for d in extra) or len(set(extra)) != len(extra)
            or c.ema_decay in extra):
        raise InputError(f"extra_ema_decays {extra} must be distinct decays in [0, 1), "
                         f"none equal to ema_decay {c.ema_decay}")
    for name in ("train_steps", "batch_size", "checkpoint_every", "log_every", "max_tokens",
                 "box_bins", "workers"):
        if getattr(c, name) < 1:
            raise InputError(f"{name} must be >= 1, got {getattr(c, name)}")


def _validate_latent(c: FlowConfig) -> None:
    ae = autoencoder_config(c.latent)  # InputError on an unknown profile
    if ae.image_size != c.image_size:
        raise InputError(f"latent {c.latent!r} encodes {ae.image_size}x{ae.image_size} "
                         f"images; the config's image_size is {c.image_size}")
    if c.count_loss:
        raise InputError("count_loss counts objects in the predicted clean image, which a "
                         "latent model does not predict in pixels; use latent=''")


def _validate_dit(c: FlowConfig) -> None:
    for name in ("dit_width", "dit_depth", "dit_patch"):
        check_int(name, getattr(c, name))
    if c.side % (c.patch * c.dit_patch):
        raise InputError(f"the flow's side {c.side} must be divisible by patch {c.patch} "
                         f"times dit_patch {c.dit_patch}")
    if c.dit_width % c.attention_head_dim:
        raise InputError(f"attention_head_dim {c.attention_head_dim} must divide dit_width "
                         f"{c.dit_width}")
