"""Track ``realtime``: latency per stage, throughput and quality at every step count.

The seed's problem 1: real time is under 33 ms an image, and the cost splits into
text encoding, the backbone's calls, decoding and scheduling. This track measures
that split for any generator (stages come from the generator's own timings,
:mod:`genlab.tracks.latency`) and puts the speed beside the quality it buys: each
*setting* of a generator (sampler x steps x guidance, through the generator's
optional ``with_options``) is scored as its own generator, ``<name>@<setting>``
(``flow@euler-8``), on

- ``latency_p50_ms`` / ``latency_p95_ms``: one image per call (batch 1), over
  ``latency_runs`` (>= 100 by default) timed calls after warm-up;
- ``stage_<name>_ms``: each stage's median time per batch-1 call;
- ``backbone_call_ms``: the backbone's median time per model evaluation (steps x
  calls per step of the sampler; with classifier-free guidance one evaluation is
  one batched call on the conditional and unconditional rows);
- ``throughput_img_s``: images per second at ``throughput_batch`` images a call;
- ``peak_rss_mb``: the process's peak resident memory during the batch-1 calls;
- ``control_accuracy``: the mean over categories of the ``control`` track's exact
  judge on a fixed subset of its ``dev`` prompts (and ``control_accuracy/<category>``);
- ``relative_accuracy``: that accuracy divided by the baseline setting's (the
  first, 32 Euler steps by default), measured in the same run on the same prompts
  and seeds, with a paired interval;
- ``speedup_p50``: the baseline's batch-1 p50 over the setting's, both timed in the
  same process;
- ``fid``: the Fréchet distance of the setting's quality images to the ``oracle``'s
  renders of the same prompts, in the metrics track's Inception analog (lower is
  better; :mod:`genlab.tracks.realtime_fid`; only where the quality subset has more than
  twice the feature dimension in images: not in the smoke profile);
- for a ``stream`` setting (stream batching), ``stream_latency_p50_ms`` (each image's
  time in the pipeline) and ``stream_gain`` (the stream's images/s over serving it one
  image at a time); its ``throughput_img_s`` is the stream's, one prompt entering per
  call.

Settings are samplers (Euler, Heun, AB2, diffusers' DPM-Solver++ and UniPC), step
counts, guidance, feature caching (``cache``), the backbone's ``dtype``, a latent
model's ``decoder`` (the VAE's or the tiny one: its ``decode`` stage) and streaming;
distilled students sweep ``student_settings`` against their teacher.

The batch-1 calls of a sweep's unfinished settings (and of its baseline) are timed
in blocks of ``latency_block`` consecutive calls, round robin over the settings
(:func:`genlab.tracks.latency.profile_interleaved`): this machine's speed drifts by
tens of percent over minutes, and timed one after another the settings' ratios
carried that drift; alternating every call instead measured each model with cold
caches (docs/results.md, session 11).
Latency intervals resample the timed runs (:func:`genlab.stats.iid_bootstrap`);
accuracy intervals resample prompts as in ``control``. A generator without
``with_options`` (a control, a renderer) is one setting under its own name, with
no ``relative_accuracy``. Timings depend on the machine, so the thread count and
CPU are part of every run's identity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import genlab.machine
from genlab import paths
from genlab.contracts import BoxList, Generation, Generator, Judge, identity, with_options
from genlab.errors import InputError
from genlab.progress import Task, bars
from genlab.stats import (
    Estimate,
    iid_bootstrap,
    ratio_of_means_bootstrap,
    ratio_of_medians_bootstrap,
)
from genlab.store import Store
from genlab.tracks import control, realtime_fid
from genlab.tracks.latency import LatencyProfile, profile_interleaved, profile_latency
from genlab.tracks.realtime_settings import QUALITY_SPLIT, RealtimeConfig, Setting, config_for
from genlab.tracks.scorecard import Scorecard, ScoreRecord
from genlab.tracks.scoring import category_parts, derive_seed, score_split

NAME = "realtime"
VERSION = "1.4"
"""1.2: batch-1 latency timed in blocks of 10 calls, round robin over a sweep; 1.3: peak
memory from the kernel's high-water mark, no sampling thread beside the timed calls;
1.4: each setting's ``fid`` (the metrics track's distribution metric)."""


def machine() -> dict[str, Any]:
    """What the timings depend on besides the generator: part of every run's identity."""
    return genlab.machine.describe()


@dataclass(frozen=True)
class Variant:
    """A generator at one setting, scored under ``label``."""

    label: str
    setting: Setting | None
    generator: Generator = field(repr=False)


class Streamed:
    """A generator whose ``generate`` streams the prompts through its ``stream`` method
    (one entering per batched call), keeping each image's seconds in the pipeline."""

    def __init__(self, inner: Generator) -> None:
        if not callable(getattr(inner, "stream", None)):
            raise InputError(f"generator {getattr(inner, 'name', inner)!r} has no stream "
                             "method; stream settings need one (FlowGenerator.stream)")
        self.inner, self.name = inner, inner.name
        self.latency_s: list[float] = []

    def describe(self) -> dict[str, Any]:
        return {"stream": True, "inner": identity(self.inner)}

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *,
                 boxes: Sequence[BoxList | None] | None = None, size: int = 32) -> Generation:
        result = self.inner.stream(prompts, seeds, boxes=boxes, size=size)  # type: ignore[attr-defined]
        self.latency_s.extend(result.latency_s)
        return result.generation  # type: ignore[no-any-return]


def _at(generator: Generator, setting: Setting) -> Generator:
    g = with_options(generator, **setting.options())
    return Streamed(g) if setting.stream else g


def variants(name: str, generator: Generator, config: RealtimeConfig) -> list[Variant]:
    """Every setting of ``generator`` (baseline first), or the generator alone when it
    has no ``with_options``. A few-step student (a generator whose ``reference`` is the
    model it was distilled from) sweeps ``student_settings`` after its reference at the
    baseline setting, stored under the reference's own name (``flow@euler-32``, the same
    run as the reference's sweep), so its relative accuracy is against its teacher.
    A generator without a ``stream`` method skips the ``stream`` settings (a wrapper
    such as ``flow-verified`` has no stream of its own), and one without a latent space
    (a ``latent`` attribute that is not None) the settings of another ``decoder``."""
    if not callable(getattr(generator, "with_options", None)):
        return [Variant(name, None, generator)]
    streams = callable(getattr(generator, "stream", None))
    latent = getattr(generator, "latent", None) is not None

    def applies(s: Setting) -> bool:
        return (streams or not s.stream) and (latent or s.decoder == "vae")

    reference = getattr(generator, "reference", None)
    if reference is None:
        return [Variant(f"{name}@{s.label}", s, _at(generator, s)) for s in config.settings
                if applies(s)]
    base = config.baseline
    return [Variant(f"{reference.name}@{base.label}", base, _at(reference, base)),
            *(Variant(f"{name}@{s.label}", s, _at(generator, s))
              for s in config.student_settings if applies(s))]


# ---------------------------------------------------------------- records


def _record(label: str, category: str, est: Estimate) -> ScoreRecord:
    return ScoreRecord(NAME, label, category, est.value, est.ci_low, est.ci_high, est.n)


def latency_records(label: str, single: LatencyProfile, batched: LatencyProfile,
                    setting: Setting | None, *, resamples: int, seed: int) -> list[ScoreRecord]:
    """Batch-1 percentiles, stages, per-call backbone time, throughput and memory."""
    def boot(ms: Sequence[float], stat: str, what: str) -> Estimate:
        return iid_bootstrap(ms, stat, resamples=resamples, seed=derive_seed(seed, label, what))

    out = [_record(label, "latency_p50_ms", boot(single.total.ms, "p50", "p50")),
           _record(label, "latency_p95_ms", boot(single.total.ms, "p95", "p95"))]
    for stage in single.stages:
        out.append(_record(label, f"stage_{stage.name}_ms",
                           boot(stage.ms, "p50", stage.name)))
        if stage.name == "backbone" and setting is not None:
            per_call = [ms / setting.nfe for ms in stage.ms]
            out.append(_record(label, "backbone_call_ms", boot(per_call, "p50", "call")))
    rate = boot([ms / 1e3 for ms in batched.total.ms], "rate", "throughput")
    b = batched.batch
    out.append(ScoreRecord(NAME, label, "throughput_img_s", rate.value * b, rate.ci_low * b,
                           rate.ci_high * b, batched.runs * b))
    out.append(ScoreRecord(NAME, label, "peak_rss_mb", single.peak_rss_mb, single.peak_rss_mb,
                           single.peak_rss_mb, single.runs))
    return out


def stream_records(label: str, single: LatencyProfile, batched: LatencyProfile,
                   latency_s: Sequence[float], *, resamples: int, seed: int
                   ) -> list[ScoreRecord]:
    """A stream setting's ``stream_latency_p50_ms`` (each image's time from entering the
    pipeline to leaving it, over the throughput calls' images) and ``stream_gain``: its
    throughput (``throughput_img_s``: a stream of ``batch`` prompts, one entering per
    call) over the rate of serving the same stream one image at a time (1 / the batch-1
    p50), both timed in this process."""
    ms = [s * 1e3 for s in latency_s]
    lat = iid_bootstrap(ms, "p50", resamples=resamples, seed=derive_seed(seed, label, "stream"))
    ratio = ratio_of_medians_bootstrap(single.total.ms, batched.total.ms, resamples=resamples,
                                       seed=derive_seed(seed, label, "stream_gain"))
    b = batched.batch
    return [_record(label, "stream_latency_p50_ms", lat),
            ScoreRecord(NAME, label, "stream_gain", ratio.value * b, ratio.ci_low * b,
                        ratio.ci_high * b, ratio.n)]


def speedup_record(label: str, baseline_ms: Sequence[float], ms: Sequence[float], *,
                   resamples: int, seed: int) -> ScoreRecord:
    """``speedup_p50``: the baseline's batch-1 p50 over this setting's, timed in the same
    process; its interval resamples both sets of runs."""
    est = ratio_of_medians_bootstrap(baseline_ms, ms, resamples=resamples,
                                     seed=derive_seed(seed, label, "speedup"))
    return _record(label, "speedup_p50", est)


def accuracy_records(label: str, samples: Sequence[dict[str, Any]],
                     baseline: Sequence[dict[str, Any]] | None, quality: control.ControlConfig,
                     *, resamples: int, seed: int) -> list[ScoreRecord]:
    """``control_accuracy`` (+ per category) and, given the baseline's samples on the same
    prompts, ``relative_accuracy`` with a paired interval (omitted when the baseline
    scores 0, where a ratio means nothing)."""
    out = []
    for rec in score_split(samples, QUALITY_SPLIT, quality.categories, resamples=resamples,
                           seed=seed, heldout_breakdown=False):
        cat = rec["category"].removeprefix(f"{QUALITY_SPLIT}/")
        if "/n=" in cat:
            continue
        name = "control_accuracy" if cat == "overall" else f"control_accuracy/{cat}"
        out.append(ScoreRecord(NAME, label, name, rec["value"], rec["ci_low"], rec["ci_high"],
                               rec["n"]))
    if baseline is not None and any(s["passed"] for s in baseline):
        est = ratio_of_means_bootstrap(category_parts(samples, quality.categories),
                                       category_parts(baseline, quality.categories),
                                       resamples=resamples,
                                       seed=derive_seed(seed, label, "relative"))
        out.append(_record(label, "relative_accuracy", est))
    return out


# ---------------------------------------------------------------- the run


class _Counted:
    """A generator whose calls advance a progress bar (timings are taken inside the
    call, so the bar's own cost is outside every timed stage but inside ``total``:
    a few microseconds)."""

    def __init__(self, inner: Generator, advance: Callable[[], None]) -> None:
        self.inner, self.advance, self.name = inner, advance, inner.name

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner.generate(*args, **kwargs)
        self.advance()
        return out


def _throughput(variant: Variant, prompts: Sequence[str], config: RealtimeConfig,
                task: Task) -> LatencyProfile:
    """``throughput_runs`` timed calls of ``throughput_batch`` images (after one)."""
    runs = config.throughput_runs
    timed = _Counted(variant.generator, task(f"{NAME} · {variant.label} · throughput",
                                             1 + runs))
    return profile_latency(timed, prompts, batch=config.throughput_batch, runs=runs, warmup=1,
                           size=config.quality.size)


@dataclass
class _Baseline:
    """The baseline setting of one sweep: its samples (for relative accuracy) and its
    batch-1 call times, timed in this process beside the settings they divide (for
    speedups): when its run was complete before, it is timed again with them."""

    variant: Variant
    samples: list[dict[str, Any]] | None = None
    ms: tuple[float, ...] | None = None


class RealtimeTrack:
    """The ``realtime`` track. ``run`` sweeps one generator's settings, one stored run each."""

    name = NAME
    version = VERSION
    headline = "control_accuracy"
    uses_cache = True
    """``run`` takes the model cache: the ``fid`` reads the metrics track's networks."""
    extra_defaults: tuple[str, ...] = ("flow-guidance-distilled-aot",)
    """Run beside the image defaults when no generator is named: the fastest setting
    family that keeps the 32-step accuracy (issue 4's headline), the guidance-distilled
    student compiled ahead of time (docs/results.md, session 15)."""
    summary: tuple[tuple[str, str], ...] = (
        ("latency_p50_ms", "p50 ms"), ("latency_p95_ms", "p95 ms"),
        ("throughput_img_s", "img/s batched"), ("control_accuracy", "accuracy"),
        ("relative_accuracy", "vs baseline"))
    """The command line's summary table: (category, column header), one row per setting."""

    def run(self, generator_name: str, generator: Generator, store: Store, profile: str,
            fresh: bool = False, *, config: RealtimeConfig | None = None,
            judge: Judge | None = None, cache_dir: Path | None = None,
            progress: bool = False) -> Scorecard:
        """Measure every setting of ``generator`` (resuming unfinished identical runs).

        Args:
            generator_name: settings are stored as ``<generator_name>@<setting>``.
            profile: ``smoke`` or ``default``; picks the config unless ``config`` is given.
            fresh: start new runs even if identical ones exist.
            config: overrides the profile's config.
            judge: overrides the scene judge (tests).
            cache_dir: the model cache (default ``genlab.paths.models_dir()``), where the
                ``fid``'s feature networks are trained on first use.
            progress: show progress bars.

        Returns: one scorecard holding every setting's records (its ``run_id`` is the
        baseline's run).
        """
        config = config or config_for(profile)
        judge = judge or control.default_judge()
        todo = control.items(config.quality)
        prompts = list(dict.fromkeys(it.prompt for it in todo if it.spec.boxes is None))
        if not prompts:
            raise InputError("realtime's latency prompts come from non-layout categories; "
                             f"the quality config has only {config.quality.categories!r}")
        all_variants = variants(generator_name, generator, config)
        base = _Baseline(all_variants[0])
        # 1. quality of every unfinished setting (stored per batch: resumable)
        run_ids, pending = [], []
        for variant in all_variants:
            run_id, done = self._quality(variant, todo, config, judge, store, profile, fresh,
                                         base, progress)
            run_ids.append(run_id)
            if not done:
                pending.append((variant, run_id))
        # 2. batch-1 latency of the unfinished settings, and of the baseline when they need
        # its times, interleaved: round robin, so that drift falls on all of them alike
        if pending:
            timed = [v for v, _ in pending]
            if base.variant not in timed:
                timed.append(base.variant)
            with bars(progress) as task:
                advance = task(f"{NAME} · latency, {len(timed)} settings interleaved",
                               (config.warmup + config.latency_runs) * len(timed))
                singles = profile_interleaved(
                    [_Counted(v.generator, advance) for v in timed], prompts, batch=1,
                    runs=config.latency_runs, warmup=config.warmup, size=config.quality.size,
                    block=config.latency_block)
            single_of = {id(v): p for v, p in zip(timed, singles, strict=True)}
            base.ms = single_of[id(base.variant)].total.ms
            # 3. the reference of the fid, then throughput and the records of each
            ref = realtime_fid.reference(
                todo, config.quality.size, config.features,
                Path(cache_dir) if cache_dir is not None else paths.models_dir(),
                seed=config.seed, progress=progress)
            for variant, run_id in pending:
                self._finish(variant, run_id, single_of[id(variant)], prompts, config, store,
                             base, ref, progress)
        records: list[ScoreRecord] = []
        for run_id in run_ids:
            records.extend(Scorecard.from_store(store, run_id).records)
        return Scorecard(NAME, generator_name, run_ids[0], tuple(records))

    def _quality(self, variant: Variant, todo: Sequence[control.Item], config: RealtimeConfig,
                 judge: Judge, store: Store, profile: str, fresh: bool, base: _Baseline,
                 progress: bool) -> tuple[int, bool]:
        """The setting's run and whether it was complete; judges its missing images."""
        resolved = self.resolved_config(config, variant, todo, judge)
        run = store.start_run(track=NAME, track_version=VERSION, generator=variant.label,
                              profile=profile, config=resolved, judge=judge.name,
                              judge_version=judge.version, fresh=fresh)
        if run.status == "complete":
            if variant is base.variant:
                base.samples = store.samples(run.id)
            return run.id, True
        q = config.quality
        done = store.done_keys(run.id)
        missing = [it for it in todo if it.key not in done]
        batches = [missing[lo:lo + q.batch_size] for lo in range(0, len(missing), q.batch_size)]
        with bars(progress) as task:
            advance = task(f"{NAME} · {variant.label} · quality", len(batches))
            for batch in batches:
                rows, images = control.judge_batch(batch, variant.generator, judge, q.size)
                store.add_samples(run.id, rows, images)
                advance()
        if variant is base.variant:
            base.samples = store.samples(run.id)
        return run.id, False

    def _finish(self, variant: Variant, run_id: int, single: LatencyProfile,
                prompts: Sequence[str], config: RealtimeConfig, store: Store, base: _Baseline,
                ref: realtime_fid.FidReference | None, progress: bool) -> None:
        """Throughput, then every record of the setting, written with its completion."""
        q = config.quality
        with bars(progress) as task:
            batched = _throughput(variant, prompts, config, task)
        # the baseline's samples were read by _quality already
        samples = (base.samples if variant is base.variant and base.samples is not None
                   else store.samples(run_id))
        recs = [*latency_records(variant.label, single, batched, variant.setting,
                                 resamples=config.resamples, seed=config.seed)]
        fid = realtime_fid.fid_record(NAME, variant.label, samples, ref, seed=config.seed)
        recs += [] if fid is None else [fid]
        if isinstance(variant.generator, Streamed):  # the timed calls' images (no warm-up)
            timed = variant.generator.latency_s[-batched.runs * batched.batch:]
            recs += stream_records(variant.label, single, batched, timed,
                                   resamples=config.resamples, seed=config.seed)
        if variant.setting is not None:
            # the baseline against itself: 1 exactly, a check of the pairing
            assert base.ms is not None, "run() times the baseline with every pending setting"
            recs += [*accuracy_records(variant.label, samples, base.samples, q,
                                       resamples=config.resamples, seed=config.seed),
                     speedup_record(variant.label, base.ms, single.total.ms,
                                    resamples=config.resamples, seed=config.seed)]
        else:
            recs += accuracy_records(variant.label, samples, None, q,
                                     resamples=config.resamples, seed=config.seed)
        store.finish_run(run_id, [{k: v for k, v in r.as_dict().items()
                                   if k not in ("track", "generator")} for r in recs])

    @staticmethod
    def resolved_config(config: RealtimeConfig, variant: Variant, todo: Sequence[control.Item],
                        judge: Judge) -> dict[str, Any]:
        """Everything that decides the results; its hash identifies the run."""
        base = control.ControlTrack.resolved_config(config.quality, todo, variant.generator,
                                                    judge)
        # the other settings do not change this one's figures; the baseline does
        protocol = {k: v for k, v in asdict(config).items()
                    if k not in ("settings", "student_settings")}
        return control.jsonable({
            **base,
            "track": {"name": NAME, "version": VERSION,
                      "config": {**protocol, "baseline": config.baseline.as_dict()}},
            "setting": None if variant.setting is None else variant.setting.as_dict(),
            "machine": machine(),
        })
