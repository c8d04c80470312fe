"""The latent space of ``flow-latent``: a small VAE and a tiny decoder, both trained here.

Latent diffusion (Rombach et al., 2022, "High-Resolution Image Synthesis with Latent
Diffusion Models") runs the backbone on an autoencoder's latents and pays for it
with a decode at the end: the seed's "VAE decode, 20-50 ms" stage. TAESD (Bohan,
2023, github.com/madebyollin/taesd) trades that stage down with a tiny convolutional
decoder of the same latents. Both exist here, built from diffusers' own classes:

- the VAE is diffusers' ``AutoencoderKL`` (Stable Diffusion's architecture, small:
  ``widths`` per level, one ResNet per level, attention in the mid block), trained on
  ``train``-split renders with an L1 reconstruction loss and LDM's small KL weight;
  latents are the posterior means times ``scale`` (1 / their standard deviation over
  renders, Stable Diffusion's ``scaling_factor``), so the flow sees unit variance;
- the tiny decoder is diffusers' ``DecoderTiny`` (TAESD's decoder: plain conv blocks,
  nearest upsampling, no normalisation or attention), trained afterwards to decode
  the frozen VAE's latents to the same renders.

``ensure_autoencoder`` trains a profile once into the model cache and loads it: the
VAE in its folder (keyed by the VAE's fields only, so that a flow model trained on its
latents never meets another VAE), the tiny decoder in a file beside it keyed by its
own fields (it can be retrained or resized without touching the VAE or the flow
models on its latents); both appear by atomic renames. The generator decodes with
either decoder (``decoder="vae"`` or ``"tiny"``), timed as its ``decode`` stage.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL
from diffusers.models.autoencoders.vae import DecoderTiny
from safetensors.torch import load_file, save_file
from torch import nn

from genlab.errors import CheckpointError, InputError, check_int
from genlab.generators.flow.checkpoint import cache_lock
from genlab.generators.flow.config import FlowConfig, autoencoder_config

DECODERS = ("vae", "tiny")
PROFILES = ("default", "smoke")
VAE_WEIGHTS = "vae.safetensors"


@dataclass(frozen=True)
class AutoencoderConfig:
    """Everything that determines a trained latent space (its hash keys the cache).

    Attributes:
        widths: the VAE's channels per level; ``len(widths) - 1`` halvings, so the
            latent side is ``image_size / 2 ** (len(widths) - 1)``.
        latent_channels: channels of a latent.
        tiny_width: the tiny decoder's channels (one width for every level: diffusers'
            ``DecoderTiny`` keeps it across its upsamplings, as TAESD's 64 does).
        tiny_blocks: the tiny decoder's conv blocks per level (as many as ``widths``),
            from the latent's resolution up; most at the coarse levels, as TAESD's.
        steps: VAE training steps; tiny_steps: the tiny decoder's, on the frozen VAE.
        kl_weight: weight of the KL term (LDM's KL-regularised autoencoders: 1e-6).
        scale_batches: batches of renders over which ``scale`` is measured.
    """

    widths: tuple[int, ...] = (16, 32, 32)
    latent_channels: int = 8
    tiny_width: int = 24
    tiny_blocks: tuple[int, ...] = (3, 2, 0)
    steps: int = 2500
    tiny_steps: int = 3000
    batch_size: int = 32
    lr: float = 1e-3
    kl_weight: float = 1e-6
    scale_batches: int = 16
    image_size: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("latent_channels", "tiny_width", "steps", "tiny_steps", "batch_size",
                     "scale_batches", "image_size"):
            check_int(f"AutoencoderConfig.{name}", getattr(self, name))
        if not self.widths or len(self.tiny_blocks) != len(self.widths):
            raise InputError(f"AutoencoderConfig: widths {self.widths} and tiny_blocks "
                             f"{self.tiny_blocks} need one entry per level each")
        if any(isinstance(b, bool) or not isinstance(b, int) or b < 0
               for b in self.tiny_blocks) or not any(self.tiny_blocks):
            raise InputError(f"AutoencoderConfig.tiny_blocks {self.tiny_blocks} must be ints "
                             ">= 0, at least one of them > 0")
        if self.image_size % self.factor:
            raise InputError(f"image_size {self.image_size} must be divisible by the "
                             f"downsampling factor {self.factor}")
        if not (self.lr > 0 and self.kl_weight >= 0):
            raise InputError(f"AutoencoderConfig needs lr > 0 and kl_weight >= 0, got "
                             f"{self.lr!r}, {self.kl_weight!r}")

    @property
    def factor(self) -> int:
        """Image pixels per latent cell, a side."""
        return int(2 ** (len(self.widths) - 1))

    @property
    def side(self) -> int:
        """The latent's side."""
        return self.image_size // self.factor

    @classmethod
    def profile(cls, name: str) -> AutoencoderConfig:
        """The config of a profile name: ``default`` (32x32 renders -> 8x8x8 latents) or
        ``smoke`` (tests: trains in seconds)."""
        if name not in PROFILES:
            raise InputError(f"unknown autoencoder profile {name!r}; accepted: "
                             f"{', '.join(PROFILES)}")
        if name == "smoke":
            return cls(widths=(8, 16), latent_channels=4, tiny_width=8, tiny_blocks=(1, 1),
                       steps=10, tiny_steps=10, batch_size=8, scale_batches=2)
        return cls()

    def vae_fields(self) -> dict[str, object]:
        """The fields that determine the VAE (and so the latents)."""
        return {k: v for k, v in asdict(self).items() if k not in TINY_FIELDS}

    def key(self) -> str:
        """A short hash of the VAE's fields (the cache key of the VAE and its latents)."""
        return _hash(self.vae_fields())

    def tiny_key(self) -> str:
        """A short hash of every field (the tiny decoder depends on the VAE too)."""
        return _hash(asdict(self))


TINY_FIELDS = ("tiny_width", "tiny_blocks", "tiny_steps")


def _hash(fields: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def check_decoder(decoder: object) -> str:
    """``decoder`` if it names one of :data:`DECODERS`, else an InputError listing them."""
    if decoder not in DECODERS:
        raise InputError(f"decoder {decoder!r}; accepted: {', '.join(DECODERS)}")
    return str(decoder)


class LatentSpace(nn.Module):
    """The VAE, the tiny decoder and the latent scale of one :class:`AutoencoderConfig`.

    Images are ``(n, 3, H, W)`` in [-1, 1]; latents ``(n, latent_channels, H / f, W / f)``
    with unit variance over renders."""

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        levels = len(config.widths)
        # diffusers' ModelMixin hides nn.Module's methods from mypy
        self.vae: Any = AutoencoderKL(
            in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * levels,
            up_block_types=("UpDecoderBlock2D",) * levels, block_out_channels=config.widths,
            layers_per_block=1, latent_channels=config.latent_channels,
            norm_num_groups=min(8, *config.widths), sample_size=config.image_size)
        self.tiny: Any = DecoderTiny(
            in_channels=config.latent_channels, out_channels=3, num_blocks=config.tiny_blocks,
            block_out_channels=(config.tiny_width,) * len(config.widths),
            upsampling_scaling_factor=2, act_fn="relu",
            upsample_fn="nearest")
        self.scale: torch.Tensor
        self.register_buffer("scale", torch.ones(()))

    def vae_state(self) -> dict[str, torch.Tensor]:
        """The VAE's weights and the scale (what ``vae.safetensors`` holds)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("tiny.")}

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images -> scaled latents (the posterior's mean: deterministic)."""
        return self.vae.encode(images).latent_dist.mean * self.scale

    def decode(self, latents: torch.Tensor, decoder: str = "vae") -> torch.Tensor:
        """Scaled latents -> images, by the VAE's decoder or the tiny one."""
        z = latents / self.scale
        if check_decoder(decoder) == "tiny":
            return self.tiny(z)
        return self.vae.decode(z).sample


def _renders(rng: np.random.Generator, config: AutoencoderConfig) -> torch.Tensor:
    from genlab.generators.flow.objective import images_to_tensor
    from genlab.worlds.shapes.world import ShapesWorld

    batch = ShapesWorld().training_batch(rng, config.batch_size, config.image_size)
    return images_to_tensor(batch.images)


def _fit(module: nn.Module, steps: int, lr: float, label: str, progress: bool,
         loss_of: Callable[[], torch.Tensor]) -> None:
    """``steps`` AdamW steps on ``module``'s parameters (cosine learning rate from ``lr``),
    each minimising ``loss_of()`` (which draws its own batch), under a progress bar."""
    from rich.progress import Progress

    opt = torch.optim.AdamW(module.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    with Progress(disable=not progress) as bar:
        task = bar.add_task(label, total=steps)
        for _ in range(steps):
            loss = loss_of()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            bar.update(task, advance=1, description=f"{label} L1 {loss.item():.4f}")


def train_vae(config: AutoencoderConfig, progress: bool = False) -> LatentSpace:
    """Train the VAE on fresh ``train``-split renders, then measure the latent scale; the
    tiny decoder is left untrained (:func:`train_tiny`)."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    space = LatentSpace(config)

    def loss() -> torch.Tensor:
        x = _renders(rng, config)
        posterior = space.vae.encode(x).latent_dist
        recon = space.vae.decode(posterior.sample()).sample
        return F.l1_loss(recon, x) + config.kl_weight * posterior.kl().mean()

    _fit(space.vae, config.steps, config.lr, "autoencoder", progress, loss)
    space.vae.requires_grad_(False).eval()
    with torch.no_grad():
        means = torch.cat([space.vae.encode(_renders(rng, config)).latent_dist.mean
                           for _ in range(config.scale_batches)])
    space.scale.fill_(1.0 / float(means.std()))
    return space


def train_tiny(space: LatentSpace, progress: bool = False) -> nn.Module:
    """Train ``space``'s tiny decoder to decode its frozen VAE's latents of fresh
    ``train``-split renders back to the renders (L1)."""
    config = space.config
    torch.manual_seed(config.seed + 1)
    rng = np.random.default_rng(config.seed + 1)
    space.tiny.requires_grad_(True).train()

    def loss() -> torch.Tensor:
        x = _renders(rng, config)
        with torch.no_grad():
            z = space.encode(x)
        return F.l1_loss(space.decode(z, "tiny"), x)

    _fit(space.tiny, config.tiny_steps, config.lr, "tiny decoder", progress, loss)
    return space.tiny.requires_grad_(False).eval()


def autoencoder_dir(config: AutoencoderConfig, cache_dir: Path) -> Path:
    """The folder of ``config``'s trained latent space in the cache."""
    return Path(cache_dir) / f"autoencoder-{config.key()}"


def _write(path: Path, tensors: dict[str, torch.Tensor], meta: dict[str, object]) -> None:
    """``path`` (safetensors) and its ``.json`` (``meta``), the weights last and by an
    atomic rename: a killed write leaves no weights behind, so it is redone."""
    path.with_suffix(".json").write_text(json.dumps(meta, sort_keys=True))
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))
    os.replace(tmp, path)


def _load(space: LatentSpace, path: Path, prefix: str, what: str) -> None:
    """Fill the part of ``space`` whose keys start with ``prefix`` ("" = all but the tiny
    decoder) from ``path``."""
    try:
        state = load_file(str(path))
        if prefix:
            state = {f"{prefix}{k}": v for k, v in state.items()}
        missing, unexpected = space.load_state_dict(state, strict=False)
        missing = [k for k in missing if k.startswith(prefix or "")
                   and (prefix or not k.startswith("tiny."))]
        if missing or unexpected:
            raise ValueError(f"missing {missing[:3]}, unexpected {unexpected[:3]}")
    except Exception as exc:  # noqa: BLE001 - any corrupt file is one clear error
        raise CheckpointError(f"{what} checkpoint {path} is unreadable: {exc}") from exc


def ensure_autoencoder(config: AutoencoderConfig, cache_dir: Path,
                       progress: bool = True) -> LatentSpace:
    """The cached latent space of ``config``, each part trained first where missing: the
    VAE and its scale (``vae.safetensors``; ``vae.json`` holds its config and training
    seconds) and the tiny decoder (``tiny-<tiny key>.safetensors`` and ``.json``). A
    file lock makes concurrent callers wait for one training. The default profile's
    times are in docs/results.md."""
    folder = autoencoder_dir(config, cache_dir)
    vae = folder / VAE_WEIGHTS
    tiny = folder / f"tiny-{config.tiny_key()}.safetensors"
    space = LatentSpace(config)
    with cache_lock(folder):
        if vae.is_file():
            _load(space, vae, "", "autoencoder")
        else:
            t0 = time.perf_counter()
            space = train_vae(config, progress)
            _write(vae, space.vae_state(),
                   {"config": config.vae_fields(),
                    "train_seconds": round(time.perf_counter() - t0, 1)})
        if tiny.is_file():
            _load(space, tiny, "tiny.", "tiny decoder")
        else:
            t0 = time.perf_counter()
            train_tiny(space, progress)
            _write(tiny, space.tiny.state_dict(),
                   {"config": {k: getattr(config, k) for k in TINY_FIELDS},
                    "train_seconds": round(time.perf_counter() - t0, 1)})
    return space.requires_grad_(False).eval()


def checkpoint_latent(config: FlowConfig, path: Path) -> LatentSpace | None:
    """The autoencoder the flow checkpoint ``path`` (of ``config``) was trained on: in the
    model cache that holds its run (``<cache>/flow-<key>/<checkpoint>``); None for a pixel
    model. A missing VAE is an error (its latents are the model's); a missing tiny
    decoder is trained."""
    if not config.latent:
        return None
    ae = autoencoder_config(config.latent)
    cache = path.parent.parent
    if not (autoencoder_dir(ae, cache) / VAE_WEIGHTS).is_file():
        raise CheckpointError(f"the latent model {path} needs its autoencoder "
                              f"{autoencoder_dir(ae, cache)}, which is missing; train it with "
                              f"genlab train (or ensure_autoencoder) into {cache}")
    return ensure_autoencoder(ae, cache, progress=False)
