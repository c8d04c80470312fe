"""genlab's own metric: a judge-anchored score, learned from ``train``-split verdicts.

The exact judge needs the spec; a metric for real pipelines sees only pixels and
the prompt. The anchored metric learns the judge: a small network reads an image
and its prompt and predicts whether the exact ``scene`` judge would pass it,
trained on the defect zoo of the ``train`` split (every family and severity,
labelled by the judge), so it has seen every way an image goes wrong there. A
generator's score is the mean predicted pass probability of its images: an
estimate of its exact correctness. In the spirit of learned evaluation metrics
trained on judgements (BLEURT, Sellam et al., 2020; ImageReward, Xu et al.,
2023), with the judgements exact instead of human. It never sees ``dev`` or
``test`` prompts; its own per-image accuracy against the judge on a ``dev`` zoo
is measured after training and reported.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from genlab.errors import CheckpointError, InputError, check_int
from genlab.generators.flow.checkpoint import write_folder
from genlab.generators.flow.objective import images_to_tensor
from genlab.generators.flow.tokenizer import Tokenizer
from genlab.metrics.feature_train import FeatureConfig, FeatureNets, warmup_cosine
from genlab.metrics.nets import FEATURE_DIM, TextTower, _tower
from genlab.metrics.zoo import Zoo, members, zoo_items
from genlab.progress import bars

BATCH = 512


@dataclass(frozen=True)
class AnchoredConfig:
    """Everything that decides the trained anchored metric (its hash keys the cache)."""

    width: int = 32
    steps: int = 4000
    batch_size: int = 128
    lr: float = 2e-3
    prompts_per_category: int = 150
    images_per_prompt: int = 2
    seed: int = 0
    pretrained: bool = True
    """Start the image tower from the attribute classifier's body and the text tower
    from the CLIP analog's (both trained on clean ``train`` renders only): they
    already count every kind and read the prompt, so the verdict is learnt on top."""

    def __post_init__(self) -> None:
        for name in ("width", "steps", "batch_size", "prompts_per_category",
                     "images_per_prompt"):
            check_int(f"AnchoredConfig.{name}", getattr(self, name))
        if self.width % 8 or not self.lr > 0:
            raise InputError(f"AnchoredConfig needs width a multiple of 8 and lr > 0, got "
                             f"{self.width!r}, {self.lr!r}")

    @classmethod
    def smoke(cls) -> AnchoredConfig:
        return cls(width=8, steps=5, batch_size=16, prompts_per_category=2,
                   images_per_prompt=1)

    def key(self, features: FeatureConfig | None = None) -> str:
        """The cache key: this config, and the feature networks it starts from."""
        blob = {**asdict(self), "features": asdict(features) if self.pretrained and
                features is not None else None}
        return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:12]


class JudgeNet(nn.Module):
    """(image ``(n, 3, 32, 32)``, prompt) -> the logit that the exact judge passes it."""

    def __init__(self, width: int = 32, max_tokens: int = 40) -> None:
        super().__init__()
        self.tokenizer = Tokenizer(max_tokens=max_tokens)
        self.image = _tower(width, FEATURE_DIM)
        self.text = TextTower(self.tokenizer.vocab_size, max_tokens)
        d = FEATURE_DIM
        self.head = nn.Sequential(nn.Linear(3 * d, d), nn.SiLU(), nn.Linear(d, 1))

    def forward(self, x: torch.Tensor, prompts: Sequence[str]) -> torch.Tensor:
        ids, mask = self.tokenizer.encode(list(prompts))
        i, t = self.image(x), self.text(ids, mask)
        return self.head(torch.cat([i, t, i * t], dim=-1)).squeeze(-1)


def labelled_zoo(split: str, prompts_per_category: int, images_per_prompt: int, seed: int,
                 progress: bool = False) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Every zoo member's images of ``split`` with their prompts and the exact judge's
    verdicts: ``(N, S, S, 3) uint8``, N prompts, ``(N,) bool``."""
    items = zoo_items(split, prompts_per_category, images_per_prompt, seed)
    zoo = Zoo(items, split, seed)
    images, labels = [], []
    with bars(progress) as task:
        advance = task(f"anchored metric · {split} zoo", len(members()))
        for m in members():
            images.append(zoo.images(m))
            labels.append(zoo.verdicts(images[-1]))
            advance()
    prompts = [it.prompt for it in items] * len(images)
    return np.concatenate(images), prompts, np.concatenate(labels)


def train_anchored(config: AnchoredConfig, features: FeatureNets | None = None,
                   progress: bool = False) -> JudgeNet:
    """BCE on the ``train`` zoo's verdicts (AdamW, linear warm-up then cosine), from the
    feature networks' towers when ``config.pretrained``."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    images, prompts, labels = labelled_zoo("train", config.prompts_per_category,
                                           config.images_per_prompt, config.seed, progress)
    net = JudgeNet(config.width)
    if config.pretrained:
        if features is None or features.config.width != config.width:
            raise InputError("a pretrained anchored metric needs the feature networks of "
                             f"its width ({config.width}); got "
                             f"{None if features is None else features.config.width}")
        net.image.load_state_dict(features.attribute.body.state_dict())
        net.text.load_state_dict(features.clip.text.state_dict())
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(config.steps))
    y = torch.from_numpy(labels.astype(np.float32))
    with bars(progress) as task:
        advance = task("anchored metric · training", config.steps)
        for _ in range(config.steps):
            idx = rng.integers(len(labels), size=config.batch_size)
            logit = net(images_to_tensor(images[idx]), [prompts[i] for i in idx])
            loss = F.binary_cross_entropy_with_logits(logit, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            advance()
    return net.eval()


@torch.no_grad()
def pass_probability(net: JudgeNet, images: np.ndarray, prompts: Sequence[str]) -> np.ndarray:
    """``(n,) float64``: the predicted probability that the judge passes each image."""
    if len(images) != len(prompts):
        raise InputError(f"{len(images)} images but {len(prompts)} prompts")
    out = [torch.sigmoid(net(images_to_tensor(images[s:s + BATCH]), prompts[s:s + BATCH]))
           for s in range(0, len(images), BATCH)]
    return torch.cat(out).double().numpy() if out else np.zeros(0)


def measure(net: JudgeNet, config: AnchoredConfig) -> dict[str, float]:
    """Per-image agreement with the exact judge on a ``dev`` zoo (every member)."""
    images, prompts, labels = labelled_zoo("dev", max(1, config.prompts_per_category // 3),
                                           config.images_per_prompt, config.seed + 1)
    p = pass_probability(net, images, prompts)
    return {"anchored_accuracy": float(((p > 0.5) == labels).mean()),
            "anchored_brier": float(((p - labels) ** 2).mean()),
            "anchored_dev_images": float(len(labels)),
            "anchored_dev_pass_rate": float(labels.mean())}


def ensure_anchored(config: AnchoredConfig, cache_dir: Path,
                    features: FeatureNets | None = None, progress: bool = True
                    ) -> tuple[JudgeNet, dict[str, float]]:
    """The cached anchored metric of ``config`` (trained and measured first if missing),
    started from ``features`` when ``config.pretrained``."""
    folder = Path(cache_dir) / f"anchored-{config.key(features.config if features else None)}"
    if not (folder / "accuracy.json").is_file():
        t0 = time.perf_counter()
        net = train_anchored(config, features, progress)
        seconds = time.perf_counter() - t0
        acc = measure(net, config)
        write_folder(folder, {"model.safetensors": net.state_dict()},
                     {"config.json": json.dumps(asdict(config), sort_keys=True),
                      "accuracy.json": json.dumps({**acc, "train_seconds": seconds},
                                                  sort_keys=True, indent=1)})
    net = JudgeNet(config.width)
    try:
        net.load_state_dict(load_file(str(folder / "model.safetensors")))
        acc = json.loads((folder / "accuracy.json").read_text())
    except Exception as exc:  # noqa: BLE001 - any corrupt file is one clear error
        raise CheckpointError(f"anchored-metric checkpoint {folder} is unreadable: {exc}; "
                              "delete the folder to retrain") from exc
    return net.eval(), {k: float(v) for k, v in acc.items()}
