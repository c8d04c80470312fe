"""Training, caching and the own accuracy of the ``metrics`` track's feature networks.

``ensure_features(config, cache_dir)`` returns the two networks of
:mod:`genlab.metrics.nets`, trained on fresh ``train``-split renders on first use
and cached as safetensors under ``models/features-<hash>/`` (the folder appears
by an atomic rename, so a killed training leaves nothing). Their own accuracy on
``test``-split renders is measured right after training and cached beside them
(``accuracy.json``): a feature network is a judge of sorts, and its error is a
reported figure.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from genlab.errors import CheckpointError, InputError, check_int
from genlab.generators.flow.checkpoint import write_folder
from genlab.generators.flow.objective import images_to_tensor
from genlab.metrics.nets import N_KINDS, AttributeNet, ClipNet
from genlab.progress import bars
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.arrays import SceneArrays
from genlab.worlds.shapes.render import render
from genlab.worlds.shapes.world import ShapesWorld

N_SHAPES = len(vocab.SHAPES)


@dataclass(frozen=True)
class FeatureConfig:
    """Everything that decides the two trained feature networks (its hash keys the cache)."""

    width: int = 32
    attribute_steps: int = 2000
    clip_steps: int = 2000
    batch_size: int = 128
    clip_batch_size: int = 256
    lr: float = 2e-3
    image_size: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("width", "attribute_steps", "clip_steps", "batch_size",
                     "clip_batch_size", "image_size"):
            check_int(f"FeatureConfig.{name}", getattr(self, name))
        if self.width % 8:
            raise InputError(f"FeatureConfig.width must be a multiple of 8, got {self.width}")
        if not self.lr > 0:
            raise InputError(f"FeatureConfig.lr must be > 0, got {self.lr!r}")

    @classmethod
    def smoke(cls) -> FeatureConfig:
        return cls(width=8, attribute_steps=5, clip_steps=5, batch_size=16, clip_batch_size=16)

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()
                              ).hexdigest()[:12]


@dataclass(frozen=True)
class FeatureNets:
    """The two trained networks, in eval mode, and their measured accuracy."""

    config: FeatureConfig
    attribute: AttributeNet
    clip: ClipNet
    accuracy: dict[str, float]
    folder: Path


def attribute_targets(scenes: SceneArrays) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Counts ``(n, kinds) int64``, background codes ``(n,)``, centroids ``(n, kinds, 2)``
    (the mean centre of each kind's objects; zero where a kind is absent)."""
    n, obj = len(scenes), scenes.objects
    kind = obj["colour"].astype(np.int64) * N_SHAPES + obj["shape"].astype(np.int64)
    counts = np.zeros((n, N_KINDS), np.int64)
    np.add.at(counts, (obj["scene"], kind), 1)
    sums = np.zeros((n, N_KINDS, 2))
    np.add.at(sums, (obj["scene"], kind), np.stack([obj["x"], obj["y"]], 1))
    cent = sums / np.maximum(counts, 1)[..., None]
    return (torch.from_numpy(counts), torch.from_numpy(scenes.backgrounds.astype(np.int64)),
            torch.from_numpy(cent).float())


def _attribute_loss(net: AttributeNet, images: np.ndarray, scenes: SceneArrays
                    ) -> torch.Tensor:
    counts, bg, cent = attribute_targets(scenes)
    logits, bg_logits, pred_cent = net(images_to_tensor(images))
    present = (counts > 0).float().unsqueeze(-1)
    return (F.cross_entropy(logits.reshape(-1, logits.shape[-1]), counts.reshape(-1))
            + F.cross_entropy(bg_logits, bg)
            + 10.0 * ((pred_cent - cent) ** 2 * present).sum() / present.sum().clamp_min(1))


def _same_prompt(prompts: list[str]) -> torch.Tensor:
    """``(n, n) float32``: 1 where two rows hold the same prompt (duplicates in a batch
    are all right answers: soft targets over them)."""
    ids = torch.from_numpy(np.unique(prompts, return_inverse=True)[1].reshape(-1))
    return (ids[:, None] == ids[None, :]).float()


def _clip_loss(net: ClipNet, images: np.ndarray, prompts: list[str]) -> torch.Tensor:
    img = net.embed_images(images_to_tensor(images))
    txt = net.embed_text(prompts)
    logits = net.logit_scale.exp().clamp(max=100) * img @ txt.T
    target = _same_prompt(prompts)
    target = target / target.sum(1, keepdim=True)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def warmup_cosine(steps: int) -> Any:
    """A linear warm-up over the first 5% of the steps, then a cosine decay to zero."""
    warm = max(1, steps // 20)
    return lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * s / steps))


def train_features(config: FeatureConfig, progress: bool = False
                   ) -> tuple[AttributeNet, ClipNet]:
    """Train both networks on fresh ``train``-split renders (AdamW, cosine schedule)."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    world = ShapesWorld()
    attribute, clip = AttributeNet(config.width), ClipNet(config.width)
    jobs: list[tuple[str, torch.nn.Module, int, int]] = [
        ("attribute", attribute, config.attribute_steps, config.batch_size),
        ("clip", clip, config.clip_steps, config.clip_batch_size)]
    with bars(progress) as task:
        for label, net, steps, batch in jobs:
            opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=0.01)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(steps))
            advance = task(f"features · {label}", steps)
            net.train()
            for _ in range(steps):
                b = world.training_batch(rng, batch, config.image_size)
                loss = (_attribute_loss(attribute, b.images, b.scenes) if label == "attribute"
                        else _clip_loss(clip, b.images, b.prompts))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                advance()
            net.eval()
    return attribute, clip


@torch.no_grad()
def measure_accuracy(attribute: AttributeNet, clip: ClipNet, n: int = 700, seed: int = 1,
                     size: int = 32) -> dict[str, float]:
    """Own accuracy on ``n`` ``test``-split renders (all categories, half held out):
    exact count vector, background, mean centroid error (px), and the CLIP analog's
    top-1 retrieval among 100 prompts (image -> text and text -> image)."""
    world = ShapesWorld()
    per = max(1, n // len(world.categories))
    specs = [s for c in world.categories for s in world.sample_specs(c, "test", per, seed)]
    scenes = SceneArrays.from_scenes(world.realize(specs, seed, "test"))
    images = render(scenes, size)
    counts, bg, cent = attribute_targets(scenes)
    logits, bg_logits, pred_cent = attribute(images_to_tensor(images))
    present = counts > 0
    err = ((pred_cent - cent).norm(dim=-1) * size)[present]
    out = {"attribute_count_exact": float((logits.argmax(-1) == counts).all(1).float().mean()),
           "attribute_background": float((bg_logits.argmax(-1) == bg).float().mean()),
           "attribute_centroid_px": float(err.mean()),
           "images": float(len(specs))}
    prompts = [world.prompt(s) for s in specs]
    img = clip.embed_images(images_to_tensor(images))
    txt = clip.embed_text(prompts)
    hits_it, hits_ti, blocks = 0.0, 0.0, 0
    for start in range(0, len(specs) - 99, 100):
        sl = slice(start, start + 100)
        sim = img[sl] @ txt[sl].T
        same = _same_prompt(prompts[sl])
        hits_it += float(same[torch.arange(100), sim.argmax(1)].mean())
        hits_ti += float(same[sim.argmax(0), torch.arange(100)].mean())
        blocks += 1
    out["clip_top1_image_to_text"] = hits_it / max(blocks, 1)
    out["clip_top1_text_to_image"] = hits_ti / max(blocks, 1)
    return out


def _save(folder: Path, config: FeatureConfig, attribute: AttributeNet, clip: ClipNet,
          accuracy: dict[str, float], seconds: float) -> None:
    write_folder(folder, {"attribute.safetensors": attribute.state_dict(),
                          "clip.safetensors": clip.state_dict()},
                 {"config.json": json.dumps(asdict(config), sort_keys=True),
                  "accuracy.json": json.dumps({**accuracy, "train_seconds": seconds},
                                              sort_keys=True, indent=1)})


def ensure_features(config: FeatureConfig, cache_dir: Path, progress: bool = True
                    ) -> FeatureNets:
    """The cached networks of ``config``, trained and measured first if missing."""
    folder = Path(cache_dir) / f"features-{config.key()}"
    if not (folder / "accuracy.json").is_file():
        t0 = time.perf_counter()
        attribute, clip = train_features(config, progress)
        seconds = time.perf_counter() - t0
        _save(folder, config, attribute, clip, measure_accuracy(attribute, clip), seconds)
    attribute, clip = AttributeNet(config.width), ClipNet(config.width)
    try:
        attribute.load_state_dict(load_file(str(folder / "attribute.safetensors")))
        clip.load_state_dict(load_file(str(folder / "clip.safetensors")))
        accuracy: dict[str, Any] = json.loads((folder / "accuracy.json").read_text())
    except Exception as exc:  # noqa: BLE001 - any corrupt file is one clear error
        raise CheckpointError(f"feature checkpoint {folder} is unreadable: {exc}; delete "
                              "the folder to retrain") from exc
    return FeatureNets(config, attribute.eval(), clip.eval(),
                       {k: float(v) for k, v in accuracy.items()}, folder)
