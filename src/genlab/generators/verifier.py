"""A learned verifier for best-of-N sampling: a small counting network, trained here.

Verifier-guided search spends sampling compute instead of training compute:
draw N candidates and keep the one a verifier likes best (Cobbe et al., 2021,
"Training Verifiers to Solve Math Word Problems"; for diffusion models, the
search over initial noise of Ma et al., 2025, "Inference-Time Scaling for
Diffusion Models beyond Scaling Denoising Steps"). The verifier must not be
the scorer: this one is a *learned* network trained on ``train``-split renders
only, and it never imports the ``scene`` judge (a test enforces both).

The network predicts a density map per object kind (6 colours x 3 shapes),
whose sum is the count of that kind (density counting, Lempitsky & Zisserman,
2010), trained on the squared error of the map (each object's unit mass spread
over its box) and of the counts. From the maps, a
prompt's score is how far the predicted counts are from what the prompt asks
(every kind it does not name counts as zero, as the judge's exact-scene rule
does), plus, for ``position``, how far the two kinds' density centroids are
from the asked relation, and for ``layout``, how much of each object's density
lies outside its box.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from genlab.contracts import BoxList
from genlab.errors import CheckpointError, InputError
from genlab.generators.flow.checkpoint import write_folder
from genlab.generators.flow.grounding import coverage, object_boxes
from genlab.worlds.shapes import grammar, vocab
from genlab.worlds.shapes.arrays import SHAPE_NAMES, SceneArrays
from genlab.worlds.shapes.spec import PromptSpec

KINDS: tuple[tuple[str, str], ...] = tuple((c, s) for c in vocab.COLOURS for s in SHAPE_NAMES)
KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
MIN_OFFSET = 0.05  # the relation margin the prompt's words mean (image fraction)


@dataclass(frozen=True)
class VerifierConfig:
    """Everything that determines a trained verifier (its hash keys the cache)."""

    width: int = 32
    steps: int = 2000
    batch_size: int = 64
    lr: float = 3e-3
    noise: float = 8 / 255  # the largest Gaussian noise sigma of the augmentation
    image_size: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("width", "steps", "batch_size", "image_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"VerifierConfig.{name} must be an int >= 1, got {v!r}")
        if not (self.lr > 0 and self.noise >= 0):
            raise InputError(f"VerifierConfig needs lr > 0 and noise >= 0, got {self.lr!r}, "
                             f"{self.noise!r}")

    @classmethod
    def smoke(cls) -> VerifierConfig:
        return cls(width=8, steps=10, batch_size=8)

    @classmethod
    def profile(cls, name: str) -> VerifierConfig:
        """The config of a profile name: ``default`` or ``smoke``."""
        if name not in ("default", "smoke"):
            raise InputError(f"unknown verifier profile {name!r}; accepted: default, smoke")
        return cls.smoke() if name == "smoke" else cls()

    def key(self) -> str:
        """A short hash of the config (the cache key)."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class CountNet(nn.Module):
    """Image ``(n, 3, H, W)`` in [-1, 1] -> densities ``(n, len(KINDS), H/2, W/2)`` >= 0."""

    def __init__(self, width: int) -> None:
        super().__init__()
        w = width
        groups = min(8, w)
        self.body = nn.Sequential(
            nn.Conv2d(3, w, 3, padding=1), nn.GroupNorm(groups, w), nn.SiLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.GroupNorm(groups, w), nn.SiLU(),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.GroupNorm(groups, 2 * w), nn.SiLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.GroupNorm(groups, 2 * w), nn.SiLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=2, dilation=2), nn.GroupNorm(groups, 2 * w),
            nn.SiLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=2, dilation=2), nn.GroupNorm(groups, 2 * w),
            nn.SiLU(),
            nn.Conv2d(2 * w, len(KINDS), 1),
        )
        # Start near zero density everywhere (softplus(-6) * 256 cells ~ 0.6 objects),
        # so training begins by finding objects, not by emptying the background.
        head = self.body[-1]
        assert isinstance(head, nn.Conv2d) and head.bias is not None
        nn.init.constant_(head.bias, -6.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.softplus(self.body(x))


def density_targets(scenes: SceneArrays, size: int) -> torch.Tensor:
    """``(n, len(KINDS), size, size)``: each object's unit mass spread evenly over the
    cells of its box, in its kind's channel (the density map whose sums are counts)."""
    obj = scenes.objects
    box = object_boxes(obj)
    cov_x = coverage(box[:, 0], box[:, 2], size)
    cov_y = coverage(box[:, 1], box[:, 3], size)
    cover = cov_y[:, :, None] * cov_x[:, None, :]
    cover /= np.maximum(cover.sum(axis=(1, 2), keepdims=True), 1e-9)
    kind = obj["colour"].astype(np.int64) * len(SHAPE_NAMES) + obj["shape"].astype(np.int64)
    out = np.zeros((len(scenes), len(KINDS), size, size), np.float32)
    np.add.at(out, (obj["scene"], kind), cover)
    return torch.from_numpy(out)


def train_verifier(config: VerifierConfig, progress: bool = False) -> CountNet:
    """Train a CountNet on fresh ``train``-split renders (noise-augmented)."""
    from rich.progress import Progress

    from genlab.generators.flow.objective import images_to_tensor
    from genlab.worlds.shapes.world import ShapesWorld

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    net = CountNet(config.width)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.steps)
    world = ShapesWorld()
    with Progress(disable=not progress) as bar:
        task = bar.add_task("verifier", total=config.steps)
        for _ in range(config.steps):
            b = world.training_batch(rng, config.batch_size, config.image_size)
            target = density_targets(b.scenes, config.image_size // 2)
            x = images_to_tensor(b.images)
            sigma = torch.rand(x.shape[0], 1, 1, 1) * config.noise * 2
            x = x + sigma * torch.randn_like(x)
            density = net(x)
            # the map, cell by cell (scaled to count units), and the counts it sums to
            loss = (F.mse_loss(density, target) * target[0, 0].numel()
                    + F.mse_loss(density.sum(dim=(2, 3)), target.sum(dim=(2, 3))))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            bar.update(task, advance=1, description=f"verifier loss {loss.item():.4f}")
    return net.eval()


def ensure_verifier(config: VerifierConfig, cache_dir: Path, progress: bool = True) -> CountNet:
    """The cached verifier of ``config`` (trained first if missing: 534 s for the
    default on 2 cores, docs/results.md).
    The folder appears by an atomic rename, so a killed training leaves nothing."""
    folder = Path(cache_dir) / f"verifier-{config.key()}"
    if not (folder / "model.safetensors").is_file():
        net = train_verifier(config, progress)
        write_folder(folder, {"model.safetensors": net.state_dict()},
                     {"config.json": json.dumps(asdict(config), sort_keys=True)})
    net = CountNet(config.width)
    try:
        net.load_state_dict(load_file(str(folder / "model.safetensors")))
    except Exception as exc:  # noqa: BLE001 - any corrupt file is one clear error
        raise CheckpointError(f"verifier checkpoint {folder} is unreadable: {exc}") from exc
    return net.eval()


def _expected(spec: PromptSpec) -> list[tuple[list[int], float]]:
    """Count constraints ``(kind indices, count)``: the sum of those kinds' counts
    must equal count. Every kind no constraint names must be absent."""
    cons: list[tuple[list[int], float]] = []
    for g in spec.groups:
        kinds = [i for i, (c, s) in enumerate(KINDS) if g.matches(s, c)
                 and not (spec.negation is not None and spec.negation.matches(s, c))]
        cons.append((kinds, float(g.count)))
    return cons


def score(density: torch.Tensor, prompt: str, boxes: BoxList | None) -> float:
    """Higher is better: minus the squared count errors against the prompt, minus
    the relation and box penalties. ``density``: one image's ``(len(KINDS), h, w)``."""
    spec = grammar.parse(prompt, boxes)
    counts = density.sum(dim=(1, 2))
    named: set[int] = set()
    total = 0.0
    for kinds, want in _expected(spec):
        named.update(kinds)
        total += float((counts[kinds].sum() - want) ** 2)
    others = [i for i in range(len(KINDS)) if i not in named]
    total += float((counts[others] ** 2).sum())
    h, w = density.shape[1:]
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w

    def centroid(k: int) -> tuple[float, float]:
        d = density[k]
        m = float(d.sum()) + 1e-6
        return float((d.sum(0) * xs).sum()) / m, float((d.sum(1) * ys).sum()) / m

    if spec.category == "position" and spec.relation is not None:
        a = KIND_INDEX[(spec.groups[0].colour, spec.groups[0].shape)]  # type: ignore[index]
        b = KIND_INDEX[(spec.groups[1].colour, spec.groups[1].shape)]  # type: ignore[index]
        (ax, ay), (bx, by) = centroid(a), centroid(b)
        offset = {"left": bx - ax, "right": ax - bx, "above": by - ay,
                  "below": ay - by}[spec.relation]
        total += 10.0 * max(0.0, MIN_OFFSET - offset)
    if spec.category == "layout" and spec.boxes is not None:
        for g, box in zip(spec.groups, spec.boxes, strict=True):
            k = KIND_INDEX[(g.colour, g.shape)]  # type: ignore[index]
            inside = density[k][(ys >= box.y0) & (ys <= box.y1)][:, (xs >= box.x0)
                                                                 & (xs <= box.x1)]
            total += float(density[k].sum() - inside.sum()) ** 2
    return -total


@torch.no_grad()
def scores(net: CountNet, images: np.ndarray, prompts: Sequence[str],
           boxes: Sequence[BoxList | None]) -> list[float]:
    """One verifier score per ``(n, H, W, 3) uint8`` image and its prompt."""
    from genlab.generators.flow.objective import images_to_tensor

    density = net(images_to_tensor(images))
    return [score(d, p, b) for d, p, b in zip(density, prompts, boxes, strict=True)]


@torch.no_grad()
def count_accuracy(net: CountNet, n: int, seed: int = 1, noise: float = 0.0) -> float:
    """Fraction of ``n`` dev-split renders (all categories) whose every kind count,
    rounded, is exact: the verifier's own accuracy against ground truth."""
    from genlab.generators.flow.objective import images_to_tensor
    from genlab.worlds.shapes.world import ShapesWorld

    world = ShapesWorld()
    per = max(1, n // len(world.categories))
    specs = [s for c in world.categories for s in world.sample_specs(c, "dev", per, seed)]
    scenes = world.realize(specs, seed)
    images = world.render(scenes, 32)
    x = images_to_tensor(images)
    x = x + noise * 2 * torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    pred = net(x).sum(dim=(2, 3)).round()
    want = torch.zeros_like(pred)
    for i, sc in enumerate(scenes):
        for o in sc.objects:
            want[i, KIND_INDEX[(o.colour, o.shape)]] += 1
    return float((pred == want).all(dim=1).float().mean())
