"""Track ``metrics``: which automatic metric agrees with the exact truth?

The seed's problem 6: FID can prefer blurry images, ignores the text and misses
mode collapse; CLIP score prefers semantics over counts. Because the ``shapes``
world gives exact correctness, this track measures how well each metric tracks
it, over a zoo of generators whose defects are known and graded (blur, noise,
colour shift, count off by k, attribute swap, position flip, merged objects,
prompt ignored, memorisation, mode collapse, low diversity; four severities each;
:mod:`genlab.metrics.zoo`). The protocol follows metric meta-evaluation (the
WMT metrics task; for images, HEIM, Lee et al., 2023, and Jayasumana et al.,
2024, who also grade distortions): every metric scores every zoo member against
one reference set (the oracle with other seeds), and its ranking of the members
is correlated with their exact pass rates (:mod:`genlab.tracks.metaeval_scores`).

The "generators" of this track are metrics (``genlab run metrics -g fid``),
with the controls every track has: ``truth`` (the exact judge itself) and
``random``. The features they read come from networks trained here
(:mod:`genlab.metrics.feature_train`); genlab's own ``anchored`` metric is learned
from ``train``-split verdicts only and scored on ``test``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from genlab import paths
from genlab.errors import GenlabError, InputError
from genlab.judges.scene import SceneJudge
from genlab.metrics.under_test import MetricUnderTest, SampleView
from genlab.metrics.zoo import Member
from genlab.progress import bars
from genlab.store import SampleRow, Store
from genlab.tracks import metaeval_scores as ms
from genlab.tracks.control import jsonable
from genlab.tracks.metaeval_data import (
    SPLITS,
    MetricsConfig,
    SplitData,
    config_for,
    load_split,
    load_stability,
)
from genlab.tracks.scorecard import Scorecard
from genlab.tracks.scoring import derive_seed

NAME = "metrics"
VERSION = "1.0"


def _stability(metric: MetricUnderTest, data: SplitData, config: MetricsConfig
               ) -> list[dict[str, Any]]:
    """The metric on ``n`` images of the study's member, for every configured ``n`` it
    can score (FID needs n > d), with a bootstrap interval over those images."""
    full = data.samples[config.stability_member]
    need = metric.min_samples(full.classifier.shape[1])
    out = []
    for n in (n for n in config.stability_sizes if n >= need):
        rng = np.random.default_rng(derive_seed(config.seed, "stability", n))
        sub = full.take(rng.choice(len(full), size=n, replace=False))
        value = metric.value(sub, data.reference, seed=config.seed)
        boot = [metric.value(sub.take(rng.integers(n, size=n)), data.reference,
                             seed=config.seed) for _ in range(config.stability_resamples)]
        lo, hi = np.quantile(boot, [0.025, 0.975])
        out.append({"n": n, "value": value, "lo": float(lo), "hi": float(hi)})
    return out


def _member_row(split: str, name: str, metric: MetricUnderTest, sample: SampleView,
                value: float, seed: int) -> SampleRow:
    m = Member.parse(name)
    correctness = float(np.mean(sample.passed))
    details = {"value": value, "correctness": correctness, "family": m.family,
               "severity": m.severity, "level": m.level, "n": len(sample)}
    reason = f"{metric.name} = {value:.4g}; exact correctness {correctness:.3f}"
    return SampleRow(f"{split}/{name}", split, m.family, name, name, "null", "{}", seed,
                     math.isfinite(value), reason, json.dumps(details), False, 0)


class MetricsTrack:
    """The ``metrics`` track. ``run`` evaluates one metric over the zoo and stores it."""

    name = NAME
    version = VERSION
    inputs = "metric"
    headline = "spearman_truth"
    uses_cache = True

    @staticmethod
    def summary(records: Sequence[dict[str, Any]], full: bool = False
                ) -> tuple[tuple[str, str], ...]:
        cols = [("spearman_truth", "rho vs truth"), ("kendall_truth", "tau vs truth"),
                ("spearman_severity", "rho vs severity")]
        if full:
            cols += [("dev/spearman_truth", "rho vs truth (dev)")]
            widths = {r["category"] for r in records if r["category"].startswith("ci_width_n")}
            cols += [(c, c.replace("_", " ")) for c in
                     sorted(widths, key=lambda c: int(c.rsplit("n", 1)[1]))]
        return tuple(cols)

    def run(self, generator_name: str, generator: MetricUnderTest, store: Store,
            profile: str, fresh: bool = False, *, config: MetricsConfig | None = None,
            cache_dir: Path | None = None, progress: bool = False) -> Scorecard:
        """Score ``generator`` (a metric) on every zoo member of both splits, run the
        sample-size study, and store rows and scores (resuming an identical run)."""
        config = config or config_for(profile)
        metric = generator
        if not callable(getattr(metric, "value", None)):
            raise InputError(f"track {NAME!r} evaluates metrics; {generator_name!r} is not "
                             "one (it has no value())")
        cache = Path(cache_dir) if cache_dir is not None else paths.models_dir()
        resolved = jsonable({
            "track": {"name": NAME, "version": VERSION, "config": asdict(config)},
            "metric": {"class": f"{type(metric).__module__}.{type(metric).__name__}",
                       "name": metric.name, "direction": metric.direction,
                       "reads": metric.reads},
            "data_key": config.key()})
        run = store.start_run(track=NAME, track_version=VERSION, generator=generator_name,
                              profile=profile, config=resolved, judge=SceneJudge.name,
                              judge_version=SceneJudge.version, fresh=fresh)
        if run.status == "complete":
            return Scorecard.from_store(store, run.id)
        done = store.done_keys(run.id)
        fit = getattr(metric, "fit", None)
        if callable(fit):  # a learned metric: fitted on the dev zoo only, never on test
            dev = load_split(config, "dev", cache, progress)
            fit(dev.samples, dev.reference, seed=config.seed)
        for split in SPLITS:
            data = load_split(config, split, cache, progress)
            todo = [n for n in data.samples if f"{split}/{n}" not in done]
            with bars(progress) as task:
                advance = task(f"{NAME} · {generator_name} · {split}", len(todo))
                for name in todo:
                    sample = data.samples[name]
                    value = float(metric.value(sample, data.reference, seed=config.seed))
                    row = _member_row(split, name, metric, sample, value, config.seed)
                    store.add_samples(run.id, [row], data.thumbnails[name][None])
                    advance()
        if "stability" not in done:
            stab = load_stability(config, cache, progress)
            points = _stability(metric, stab, config)
            row = SampleRow("stability", "stability", "stability", config.stability_member,
                            config.stability_member, "null", "{}", config.seed, True,
                            f"{metric.name} over n = {list(config.stability_sizes)}",
                            json.dumps({"points": points}), False, 0)
            store.add_samples(run.id, [row], stab.thumbnails[config.stability_member][None])
        store.finish_run(run.id, scores(store.samples(run.id), metric.direction, config))
        return Scorecard.from_store(store, run.id)


def member_rows(samples: Sequence[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    """The stored member rows of one split as ``{name, family, severity, value,
    correctness}``, finite values only."""
    out = []
    for s in samples:
        if s["split"] != split:
            continue
        d = s["details"]
        if math.isfinite(d["value"]):
            out.append({"name": s["prompt_id"], **d})
    return out


def scores(samples: Sequence[dict[str, Any]], direction: str, config: MetricsConfig
           ) -> list[dict[str, Any]]:
    """Every category of the track from its stored rows."""
    if direction not in ("lower", "higher"):
        raise GenlabError(f"metric direction {direction!r}; expected 'lower' or 'higher'")
    opts = {"resamples": config.resamples, "seed": config.seed}
    test, dev = member_rows(samples, "test"), member_rows(samples, "dev")
    out = ms.truth_scores(test, direction, "", **opts)
    out.append(ms.severity_score(test, direction, **opts))
    out += ms.truth_scores(dev, direction, "dev/", **opts)
    for s in samples:
        if s["key"] == "stability":
            out += ms.stability_scores(s["details"]["points"])
    return [r for r in out if all(math.isfinite(r[k]) for k in ("value", "ci_low", "ci_high"))]

