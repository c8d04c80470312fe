"""``FlowGenerator``: the trained ``flow`` model behind the ``Generator`` contract.

Text (+ layout boxes) -> tokens -> text states; Gaussian noise seeded per
(prompt, seed) -> an ODE sampler (:mod:`.sampling`) integrating the
rectified-flow velocity from t=1 to t=0 with classifier-free guidance
(Ho & Salimans, 2022): ``v = v_u + w (v_c - v_u)``, both branches in one
batched call. Sampling uses the EMA weights.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import time
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.contracts import BoxList, Generation, check_request
from genlab.errors import GenlabError, InputError
from genlab.generators.flow import aot, attention, checkpoint, composition, stream
from genlab.generators.flow.attention import AttentionGuidance
from genlab.generators.flow.autoencoder import LatentSpace, check_decoder, checkpoint_latent
from genlab.generators.flow.feature_cache import FeatureCache, check_interval
from genlab.generators.flow.grounding import Grounding, from_layout
from genlab.generators.flow.guidance import (
    CFG,
    FULL_INTERVAL,
    apply_rule,
    check_guidance_interval,
    combine,
    parse_rule,
    scale_at,
)
from genlab.generators.flow.model import FlowModel
from genlab.generators.flow.objective import tensor_to_images
from genlab.generators.flow.precision import check_dtype, precision
from genlab.generators.flow.sampling import get_sampler, initial_noise, time_grid
from genlab.generators.flow.stream import StreamResult

IN_MEMORY = Path("<in-memory>")
"""The checkpoint path of a model wrapped by :meth:`FlowGenerator.from_model`."""


class FlowGenerator:
    """The ``flow`` model, loaded from a checkpoint (or run) directory.

    Options: ``steps`` (sampler steps, >= 1), ``sampler`` (a name in
    :data:`genlab.generators.flow.sampling.SAMPLERS`), ``guidance`` (CFG scale
    w; 1 disables the unconditional branch), ``batch_size`` (images per model call),
    ``compose`` (composable guidance, :mod:`.composition`: binding and multi prompts
    as one term per object group, negation as the prompt minus the forbidden kind),
    ``attention`` (training-free attention guidance, :mod:`.attention`; Euler only),
    ``cache`` (feature caching, :mod:`.feature_cache`: the whole UNet runs every
    ``cache``-th model evaluation, the shallow branch in between; 1 = off),
    ``dtype`` (``float32``, or ``bfloat16``: the backbone under ``torch.autocast``, only
    on a CPU that computes bfloat16 natively; :data:`DTYPES`), ``guidance_interval``
    (``(lo, hi)``: guidance only at times ``lo <= t <= hi``, the conditional branch alone
    elsewhere, :mod:`.guidance`; default (0, 1): every step), ``guidance_rule`` (how the
    branches combine: ``cfg``, ``apg[:eta=..,r=..]`` or ``rescale[:phi=..]``,
    :mod:`.guidance`; default ``cfg``).
    The default guidance 2.0 had the best mean dev accuracy of w in 1..5 for the
    default model (bench/bench_guidance.py, docs/results.md): stronger guidance
    sharpens single objects a little but costs counting and negation much more.
    """

    name = "flow"
    latent: LatentSpace | None
    """The frozen autoencoder of a latent model (``FlowConfig.latent``), else None."""

    def __init__(self, checkpoint_dir: str | os.PathLike[str], *, steps: int = 20,
                 sampler: str = "euler", guidance: float = 2.0, batch_size: int = 64,
                 ema: bool = True, compose: bool = False,
                 attention: AttentionGuidance | None = None, compile: bool | str = False,
                 cache: int = 1, dtype: str = "float32", decoder: str = "vae") -> None:
        path = checkpoint.resolve(checkpoint_dir)
        self._configure(checkpoint.load_model(path, ema=ema), path, steps, sampler, guidance,
                        batch_size, compose, attention)
        self.latent = checkpoint_latent(self.config, path)
        self.decoder = self._check_decoder(decoder)
        self.cache = self._check_cache(cache)
        self.dtype = check_dtype(dtype)
        if not isinstance(compile, bool) and compile != "aot":
            raise InputError(f"compile must be true, false or 'aot' (ahead of time), "
                             f"got {compile!r}")
        if compile == "aot":
            self.compile_backbone_aot()
        elif compile:
            self.compile_backbone()

    def _check_compilable(self) -> None:
        if self.attention is not None:
            raise InputError("compile: attention guidance hooks the backbone's attention "
                             "modules, which a compiled graph bypasses")
        if self.cache != 1:
            raise InputError("compile: feature caching swaps the backbone's deep blocks per "
                             "call, which a compiled graph would bake in; use cache=1")

    def compile_backbone_aot(self) -> None:
        """Compile the backbone ahead of time (AOTInductor, :mod:`.aot`): one package per
        input shape, compiled on its first call (26-35 s on 2 cores) and kept
        beside the checkpoints; float32 only. The images are the eager model's up to
        float rounding; each call skips ``torch.compile``'s guards and Python launcher."""
        self._check_compilable()
        if self.config.backbone != "unet":
            raise InputError(f"compile 'aot' takes the UNet backbone; this model's is "
                             f"{self.config.backbone!r}")
        if self.dtype != "float32":
            raise InputError(f"compile 'aot' runs float32 only; got dtype {self.dtype!r}")
        if self.compiled:
            raise InputError(f"the backbone is already compiled ({self.backend})")
        folder = None if self.checkpoint == IN_MEMORY else self.checkpoint.parent / aot.FOLDER
        self.model.unet = aot.AotBackbone(  # type: ignore[assignment]
            self.model.unet, folder)  # type: ignore[arg-type]

    def compile_backbone(self) -> None:
        """``torch.compile`` the backbone of this generator's model (and of every
        ``with_options`` copy, which share it), specialised to each batch size it meets.
        The first call at each new batch shape compiles (about a minute on 2 cores, cached
        on disk by inductor); images are those of the eager model up to float rounding
        (bench/bench_levers.py measures both)."""
        self._check_compilable()
        if self.backend == "aot":
            raise InputError("the backbone is already compiled ahead of time (aot)")
        if self.backend == "eager":
            # Static shapes: one graph per batch size met (batch 1, a stream's 1..k rows,
            # 64), rather than dynamo's recompilation with a dynamic batch dimension at the
            # second size; no difference in batch-1 latency was measured (session 11).
            self.model.unet = torch.compile(  # type: ignore[assignment,call-overload]
                self.model.unet, dynamic=False)

    @property
    def backend(self) -> str:
        """How the backbone runs: ``eager``, ``inductor`` (``torch.compile``) or ``aot``."""
        if isinstance(self.model.unet, aot.AotBackbone):
            return "aot"
        if isinstance(self.model.unet, torch._dynamo.eval_frame.OptimizedModule):
            return "inductor"
        return "eager"

    @property
    def compiled(self) -> bool:
        return self.backend != "eager"

    @classmethod
    def from_model(cls, model: FlowModel, *, steps: int = 20, sampler: str = "euler",
                   guidance: float = 2.0, batch_size: int = 64, compose: bool = False,
                   attention: AttentionGuidance | None = None) -> FlowGenerator:
        """Wrap an in-memory model (tests, benchmarks) without a checkpoint."""
        self = cls.__new__(cls)
        self._configure(model, IN_MEMORY, steps, sampler, guidance, batch_size,
                        compose, attention)
        return self

    def _configure(self, model: FlowModel, path: Path, steps: int, sampler: str,
                   guidance: float, batch_size: int, compose: bool,
                   attention_: AttentionGuidance | None = None) -> None:
        time_grid(steps)  # validates
        get_sampler(sampler)  # validates, with close-match suggestions
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if not isinstance(compose, bool):
            raise InputError(f"compose must be true or false, got {compose!r}")
        if compose and model.config.grounding:
            raise InputError("compose: a grounded model draws a plan, which already names "
                             "every object; composable guidance is for text-only models")
        if attention_ is not None:
            if not isinstance(attention_, AttentionGuidance):
                raise InputError(f"attention must be an AttentionGuidance, got {attention_!r}")
            if sampler != "euler" or compose or model.config.grounding \
                    or (model.config.backbone == "unet"
                        and not any(model.config.cross_attention_levels)):
                raise InputError("attention guidance needs the euler sampler, no compose, and "
                                 "a text-only flow model with cross-attention")
            self._store = attention.install(model.unet)
        self.attention = attention_
        self.compose = compose
        self.checkpoint, self.model, self.config = path, model.eval(), model.config
        self.steps, self.sampler, self.guidance = steps, sampler, float(guidance)
        self.guidance_interval = FULL_INTERVAL
        self.guidance_rule = CFG
        self.batch_size = batch_size
        self.cache = 1
        self.dtype = "float32"
        self.latent = None
        self.decoder = "vae"
        self.origin: dict[str, object] | None = None
        """How weights that ``config`` does not determine were made (``reflow``)."""
        self.reference: FlowGenerator | None = None
        """The model a few-step student was distilled from (realtime's baseline)."""

    def describe(self) -> dict[str, object]:
        """The sampling options that, with ``config``, decide the images (a track's
        run hash includes them, so runs at another guidance are never mixed)."""
        d: dict[str, object] = {"steps": self.steps, "sampler": self.sampler,
                                "guidance": self.guidance}
        if self.compose:  # only when on, so that existing runs keep their hash
            d["compose"] = True
        if self.attention is not None:
            d["attention"] = dataclasses.asdict(self.attention)
        if self.compiled:  # only when on, so that existing runs keep their hash
            d["compile"] = True if self.backend == "inductor" else self.backend
        if self.cache != 1:  # likewise
            d["cache"] = self.cache
        if self.guidance_interval != FULL_INTERVAL:  # likewise
            d["guidance_interval"] = list(self.guidance_interval)
        if self.guidance_rule != CFG:  # likewise
            d["guidance_rule"] = self.guidance_rule.spec()
        if self.dtype != "float32":  # likewise
            d["dtype"] = self.dtype
        if self.latent is not None:  # which autoencoder's weights decode, and by which path
            ae = self.latent.config
            d["decoder"] = self.decoder
            d["autoencoder"] = {"vae": ae.key(), "tiny": ae.tiny_key()}
        if self.origin is not None:  # weights not named by the config (a distilled student)
            d["origin"] = dict(self.origin)
        return d

    OPTIONS: tuple[str, ...] = ("steps", "sampler", "guidance", "cache", "dtype", "decoder",
                                "guidance_interval", "guidance_rule")

    def _check_decoder(self, decoder: object) -> str:
        name = check_decoder(decoder)
        if self.latent is None and name != "vae":
            raise InputError(f"decoder {name!r} decodes latents; this flow model "
                             f"({self.checkpoint}) works on pixels (FlowConfig.latent '')")
        return name

    def _check_cache(self, cache: object) -> int:
        interval = check_interval(cache)
        if interval != 1 and (self.config.backbone != "unet" or self.attention is not None
                              or self.compiled):
            raise InputError(f"feature caching (cache={interval}) needs the UNet backbone, no "
                             f"attention guidance and an uncompiled model; this one has "
                             f"backbone={self.config.backbone!r}, attention="
                             f"{self.attention is not None}, compiled={self.compiled}")
        return interval

    def with_options(self, **options: object) -> FlowGenerator:
        """The same weights sampling with other ``steps``, ``sampler``, ``guidance``,
        ``cache``, ``dtype`` or ``decoder`` (a new generator; this one is unchanged).
        The ``realtime`` track sweeps these."""
        bad = sorted(set(options) - set(self.OPTIONS))
        if bad:
            raise InputError(f"unknown flow sampling option(s) {bad}; accepted: "
                             f"{', '.join(self.OPTIONS)}")
        steps: Any = options.get("steps", self.steps)
        sampler: Any = options.get("sampler", self.sampler)
        guidance: Any = options.get("guidance", self.guidance)
        time_grid(steps)  # validates
        get_sampler(sampler)
        if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) \
                or not np.isfinite(guidance):
            raise InputError(f"guidance must be a finite number, got {guidance!r}")
        if self.attention is not None and sampler != "euler":
            raise InputError(f"attention guidance needs the euler sampler, got {sampler!r}")
        cache = self._check_cache(options.get("cache", self.cache))
        dtype = check_dtype(options.get("dtype", self.dtype))
        if dtype != "float32" and self.backend == "aot":
            raise InputError(f"this backbone is compiled ahead of time for float32; "
                             f"dtype {dtype!r} is not accepted")
        decoder = self._check_decoder(options.get("decoder", self.decoder))
        interval = check_guidance_interval(options.get("guidance_interval",
                                                       self.guidance_interval))
        rule = parse_rule(options.get("guidance_rule", self.guidance_rule))
        if (interval != FULL_INTERVAL or rule != CFG) and (self.compose
                                                           or self.attention is not None):
            raise InputError("guidance_interval and guidance_rule apply to plain classifier-"
                             "free guidance; this generator uses composable or attention "
                             "guidance")
        new = copy.copy(self)
        new.guidance_interval, new.guidance_rule = interval, rule
        new.steps, new.sampler, new.guidance = steps, sampler, float(guidance)
        new.cache, new.dtype, new.decoder = cache, dtype, decoder
        return new

    def stream(self, prompts: Sequence[str], seeds: Sequence[int], *,
               boxes: Sequence[BoxList | None] | None = None, size: int = 32,
               grounding: Sequence[Grounding | None] | None = None) -> StreamResult:
        """The same images as :meth:`generate`, made as a stream: one prompt enters per
        batched backbone call, up to ``steps`` in flight at staggered steps (stream
        batching, :mod:`.stream`); also each image's seconds in the pipeline."""
        return stream.stream(self, prompts, seeds, boxes, size, grounding)

    # ------------------------------------------------------------ contract

    @torch.no_grad()
    def generate(self, prompts: Sequence[str], seeds: Sequence[int], *,
                 boxes: Sequence[BoxList | None] | None = None, size: int = 32,
                 grounding: Sequence[Grounding | None] | None = None) -> Generation:
        """One ``(size, size, 3) uint8`` image per (prompt, seed) -> Generation.

        ``grounding`` (grounded models only, beyond the Generator contract): the plan
        of each prompt (:mod:`.grounding`); a row without one takes its layout
        boxes' grounding, and a grounded model asked for a prompt with neither is an
        InputError (the ``flow-grounded`` generator's planner makes the plans)."""
        boxes_ = self._check(prompts, seeds, boxes, size)
        plans = self._plans(prompts, boxes_, grounding)
        torch.set_flush_denormal(True)  # denormals slow x86 CPUs several-fold (see train.py)
        timings = {"text_encoding": 0.0, "backbone": 0.0, "sampler": 0.0}
        if self.compose:
            return self._composed(prompts, seeds, boxes_, size, timings)
        ids, mask = self.model.tokenizer.encode(list(prompts), boxes_)  # ParseError on bad words
        targets = None
        if self.attention is not None:
            t0 = time.perf_counter()
            targets = [attention.target(p, int(s), b, self.attention.mode, self.attention_side())
                       for p, s, b in zip(prompts, seeds, boxes_, strict=True)]
            timings["planning"] = time.perf_counter() - t0
        out = []
        for lo in range(0, len(prompts), self.batch_size):
            sl = slice(lo, lo + self.batch_size)
            out.append(self._batch(ids[sl], mask[sl], list(seeds[sl]), timings,
                                   None if plans is None else plans[sl],
                                   targets=None if targets is None else targets[sl]))
        images = np.concatenate(out) if out else np.zeros((0, size, size, 3), np.uint8)
        return Generation(images, timings)

    def _composed(self, prompts: Sequence[str], seeds: Sequence[int],
                  boxes: list[BoxList | None], size: int,
                  timings: dict[str, float]) -> Generation:
        """Composable guidance (:mod:`.composition`): every prompt's terms, batched by
        image, one backbone row per term plus the shared unconditional row."""
        per_prompt = [composition.terms(p, b, self.guidance)
                      for p, b in zip(prompts, boxes, strict=True)]
        out = []
        for lo in range(0, len(prompts), self.batch_size):
            chosen = per_prompt[lo:lo + self.batch_size]
            flat = [(i, t) for i, ts in enumerate(chosen) for t in ts]
            ids, mask = self.model.tokenizer.encode([t.prompt for _, t in flat],
                                                    [t.boxes for _, t in flat])
            rows = (torch.tensor([i for i, _ in flat]),
                    torch.tensor([t.weight for _, t in flat], dtype=torch.float32))
            out.append(self._batch(ids, mask, list(seeds[lo:lo + self.batch_size]), timings,
                                   None, rows))
        images = np.concatenate(out) if out else np.zeros((0, size, size, 3), np.uint8)
        return Generation(images, timings)

    def _check(self, prompts: Sequence[str], seeds: Sequence[int],
               boxes: Sequence[BoxList | None] | None, size: int) -> list[BoxList | None]:
        checked = check_request(prompts, seeds, boxes)
        if size != self.config.image_size:
            raise InputError(f"flow was trained at {self.config.image_size}x"
                             f"{self.config.image_size}; asked for size {size!r}. Use size="
                             f"{self.config.image_size} or train a config with image_size={size}")
        return checked

    def _plans(self, prompts: Sequence[str], boxes: list[BoxList | None],
               grounding: Sequence[Grounding | None] | None) -> list[Grounding] | None:
        """One grounding per prompt for a grounded model, None for any other."""
        if not self.config.grounding:
            if grounding is not None:
                raise InputError(f"this flow model ({self.checkpoint}) takes no grounding; "
                                 "train a config with grounding=True (FlowConfig.grounded)")
            return None
        given = [None] * len(prompts) if grounding is None else list(grounding)
        if len(given) != len(prompts):
            raise InputError(f"{len(prompts)} prompts but {len(given)} groundings")
        plans = []
        for p, b, g in zip(prompts, boxes, given, strict=True):
            if g is None and b is None:
                raise InputError(f"prompt {p!r} comes with no plan: a grounded flow model "
                                 "draws a plan (grounding) or layout boxes; the flow-grounded "
                                 "generator's planner makes one for any prompt")
            plans.append(tuple(g) if g is not None else from_layout(p, b or ()))
        return plans

    def attention_side(self) -> int:
        """Side of the finest cross-attention grid of the backbone."""
        c = self.config
        if c.backbone == "dit":
            return c.grid // c.dit_patch
        return c.grid // 2 ** c.cross_attention_levels.index(True)

    def attention_maps(self, x: torch.Tensor, t: float,
                       cond: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]
                       ) -> torch.Tensor:
        """The mean cross-attention map ``(n, tokens, h, w)`` of the conditional branch
        at ``x``, ``t`` (``cond``: text states, mask, box maps), differentiable where
        grad is on; only a generator with ``attention`` set records maps."""
        if self.attention is None:
            raise InputError("attention_maps needs a FlowGenerator built with attention=")
        states, smask, boxes = cond
        store = self._store
        store.maps.clear()
        store.recording = True
        try:
            self.model.velocity(x, torch.full((x.shape[0],), t), states, smask, boxes=boxes)
        finally:
            store.recording = False
        maps, store.maps = store.maps, []
        return attention.mean_map(maps)

    def _guide(self, x: torch.Tensor, t: float,
               cond: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None],
               targets: list[attention.Target]) -> torch.Tensor:
        """One normalised gradient step of the attention loss on ``x`` (:mod:`.attention`)."""
        assert self.attention is not None
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            loss = attention.LOSSES[self.attention.mode](self.attention_maps(xg, t, cond),
                                                         targets)
            (g,) = torch.autograd.grad(loss.sum(), xg)
        rms = g.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp(min=1e-12)
        return x - self.attention.strength * t * g / rms

    def _noise(self, seeds: list[int]) -> torch.Tensor:
        return initial_noise(seeds, self.config.side, self.config.channels)

    def to_images(self, x: torch.Tensor, timings: dict[str, float]) -> np.ndarray:
        """The sampler's end point -> uint8 images: a latent model decodes it first with
        its ``decoder``, timed as the ``decode`` stage."""
        if self.latent is not None:
            t0 = time.perf_counter()
            x = self.latent.decode(x, self.decoder)
            timings["decode"] = timings.get("decode", 0.0) + time.perf_counter() - t0
        return tensor_to_images(x)

    def _batch(self, ids: torch.Tensor, mask: torch.Tensor, seeds: list[int],
               timings: dict[str, float], plans: list[Grounding] | None,
               rows: tuple[torch.Tensor, torch.Tensor] | None = None,
               targets: list[attention.Target] | None = None) -> np.ndarray:
        """Sample one batch. ``ids``/``mask`` hold one row per image, or with ``rows``
        (composable guidance: each row's image index in the batch and its weight)
        one row per term; ``targets``: attention guidance's, one per image."""
        t0 = time.perf_counter()
        states, smask = self.model.encode(ids, mask)
        boxes = self.model.box_maps(ids)
        maps = None if plans is None else self.model.grounding_maps(plans)
        w = self.guidance
        uncond = w != 1.0 or rows is not None
        if uncond:  # one call for every branch: [cond rows; uncond]
            null_s, null_m = self.model.text.null_condition(len(seeds), states.shape[1])
            states, smask = torch.cat([states, null_s]), torch.cat([smask, null_m])
            if boxes is not None:  # the null condition has no boxes
                boxes = torch.cat([boxes, torch.zeros(len(seeds), *boxes.shape[1:])])
            if maps is not None:  # nor a plan
                maps = torch.cat([maps, torch.zeros_like(maps)])
        timings["text_encoding"] += time.perf_counter() - t0

        n = len(seeds)
        cond = (states[:n], smask[:n], None if boxes is None else boxes[:n])
        guided_until = 0.0 if self.attention is None else self.attention.until
        features = FeatureCache(self.model.unet, self.cache) if self.cache != 1 else None
        calls = 0

        def velocity(x: torch.Tensor, t: float) -> torch.Tensor:
            nonlocal calls
            shift = None
            if targets is not None and t > 1.0 - guided_until + 1e-9:
                tg = time.perf_counter()
                guided = self._guide(x, t, cond, targets)
                shift, x = guided - x, guided
                timings["attention_guidance"] = (timings.get("attention_guidance", 0.0)
                                                 + time.perf_counter() - tg)
            tb = time.perf_counter()
            w_t = w if rows is not None else scale_at(w, self.guidance_interval, t)
            # At weight 1 (outside the guidance interval) the conditional branch alone
            # (feature caching keeps both branches: its cached features are per batch).
            cond_only = uncond and rows is None and features is None and w_t == 1.0
            s_, m_, b_, g_ = states, smask, boxes, maps
            if cond_only:
                xx, s_, m_, b_ = x, cond[0], cond[1], cond[2]
                g_ = None if maps is None else maps[:n]
            elif rows is None:
                xx = torch.cat([x, x]) if uncond else x
            else:
                xx = torch.cat([x[rows[0]], x])
            with features(calls) if features is not None else nullcontext(), \
                    precision(self.dtype):
                v = self.model.velocity(xx, torch.full((xx.shape[0],), t), s_, m_,
                                        boxes=b_, grounding=g_).float()
            calls += 1
            if uncond and not cond_only:
                v = combine(v, w_t, rows) if rows is not None \
                    else apply_rule(v, w_t, self.guidance_rule, x, t)
            timings["backbone"] += time.perf_counter() - tb
            if shift is not None:  # Euler from the guided x: x' + h v(x') = x + h (v + shift / h)
                v = v - shift * self.steps
            return v

        t1 = time.perf_counter()
        backbone_before = timings["backbone"]
        x = get_sampler(self.sampler)(velocity, self._noise(seeds), time_grid(self.steps))
        timings["sampler"] += time.perf_counter() - t1 - (timings["backbone"] - backbone_before)
        if not torch.isfinite(x).all():
            bad = sorted({int(i) for i in torch.nonzero(~torch.isfinite(x))[:, 0]})
            raise GenlabError(f"generator produced NaN or inf for seeds "
                              f"{[seeds[i] for i in bad]} (checkpoint {self.checkpoint}); "
                              f"the weights or the guidance {w} are broken")
        return self.to_images(x, timings)
