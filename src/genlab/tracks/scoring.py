"""Score a track's stored samples: per category, overall and breakdowns, each with a 95% CI.

Names are ``<split>/<category>`` (``test/counting``), ``<split>/overall`` (the
mean of the category means, so every category weighs the same),
``<split>/counting/n=<k>`` (counting by the number of objects asked for) and,
on splits with held-out compositions, ``<split>/heldout`` and ``<split>/seen``
(each again a mean over categories). Intervals come from :mod:`genlab.stats`,
resampling distinct generator inputs (prompt text and boxes, see
:func:`generator_input`), never single images.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from genlab.stats import Estimate, cluster_bootstrap, mean_of_means_bootstrap

Sample = dict[str, Any]  # a row of Store.samples: passed, prompt_id, split, category, ...


def derive_seed(*parts: object) -> int:
    """A 31-bit seed from any printable parts; stable across runs, machines and Python
    versions (unlike ``hash``)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFF_FFFF


def generator_input(sample: Sample) -> str:
    """The cluster a sample's image belongs to: what its generator saw besides the seed.

    Prompt sets are drawn with replacement from small languages (the test split
    has 18 distinct ``single`` prompts), so two prompt ids can hold the same prompt
    text and boxes; their images are then draws of one conditional distribution,
    not independent prompts, and the bootstrap must resample them together."""
    return f"{sample['prompt']}|{json.dumps(sample['boxes'])}"


def _arrays(samples: Sequence[Sample]) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([float(s["passed"]) for s in samples]),
            np.array([generator_input(s) for s in samples]))


def _record(name: str, est: Estimate) -> dict[str, Any]:
    return {"category": name, "value": est.value, "ci_low": est.ci_low,
            "ci_high": est.ci_high, "n": est.n}


def _by_category(samples: Sequence[Sample], categories: Sequence[str],
                 keep: Callable[[Sample], bool] = lambda s: True) -> dict[str, list[Sample]]:
    groups: dict[str, list[Sample]] = {c: [] for c in categories}
    for s in samples:
        if s["category"] in groups and keep(s):
            groups[s["category"]].append(s)
    return {c: g for c, g in groups.items() if g}


def category_parts(samples: Sequence[Sample], categories: Sequence[str]
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """One ``(passed, cluster)`` pair per category that has samples, in ``categories``'
    order: the input of :func:`genlab.stats.mean_of_means_bootstrap` and its kin."""
    return [_arrays(g) for g in _by_category(samples, categories).values()]


def _mean_over_categories(name: str, groups: dict[str, list[Sample]], resamples: int,
                          seed: int) -> dict[str, Any]:
    parts = [_arrays(g) for g in groups.values()]
    return _record(name, mean_of_means_bootstrap(parts, resamples=resamples,
                                                 seed=derive_seed(seed, name)))


def _heldout_is(flag: bool, sample: Sample) -> bool:
    return bool(sample["heldout"]) == flag


def score_split(samples: Sequence[Sample], split: str, categories: Sequence[str], *,
                resamples: int, seed: int, heldout_breakdown: bool) -> list[dict[str, Any]]:
    """Score records ``{category, value, ci_low, ci_high, n}`` for one split's samples."""
    rows = [s for s in samples if s["split"] == split]
    groups = _by_category(rows, categories)
    out = []
    for category, group in groups.items():
        name = f"{split}/{category}"
        out.append(_record(name, cluster_bootstrap(*_arrays(group), resamples=resamples,
                                                   seed=derive_seed(seed, name))))
    if not groups:
        return out
    out.append(_mean_over_categories(f"{split}/overall", groups, resamples, seed))
    counting = groups.get("counting", [])
    for k in sorted({int(s["n_objects"]) for s in counting}):
        name = f"{split}/counting/n={k}"
        sub = [s for s in counting if int(s["n_objects"]) == k]
        out.append(_record(name, cluster_bootstrap(*_arrays(sub), resamples=resamples,
                                                   seed=derive_seed(seed, name))))
    if heldout_breakdown:
        for label, flag in (("heldout", True), ("seen", False)):
            sub_groups = _by_category(rows, categories, functools.partial(_heldout_is, flag))
            if sub_groups:
                out.append(_mean_over_categories(f"{split}/{label}", sub_groups, resamples,
                                                 seed))
    return out
