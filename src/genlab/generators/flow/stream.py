"""Stream batching: StreamDiffusion's staggered denoising for a stream of prompts (issue 4).

StreamDiffusion (Kodaira et al., 2023, "StreamDiffusion: A Pipeline-level
Solution for Real-time Interactive Generation", sec. 3.2 "Stream Batch") serves a
stream of inputs that arrive one at a time with a ``k``-step denoiser: instead of
running an image's ``k`` steps back to back at batch 1, it keeps up to ``k``
images in flight at staggered steps and advances all of them with *one* batched
backbone call. Each call admits the next prompt at the first step and releases
the image that took its last step, so once the pipeline is full one image leaves
per call: throughput is one image per batch-``k`` call instead of one per ``k``
batch-1 calls, and each image's latency is ``k`` batch-``k`` calls.

Here every in-flight row carries its own time (the backbone takes a time per row),
and each row takes exactly the Euler steps of :func:`.sampling.euler` on the
generator's grid, from the same seeded noise, so a streamed image equals the one
``generate`` makes (up to the float rounding of another batch composition; the
tests check it). Classifier-free guidance is kept whole (both branches in the one
call); StreamDiffusion's residual CFG, an approximation, is not used.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from genlab.contracts import BoxList, Generation
from genlab.errors import GenlabError, InputError
from genlab.generators.flow.grounding import Grounding
from genlab.generators.flow.guidance import CFG, FULL_INTERVAL, combine
from genlab.generators.flow.precision import precision
from genlab.generators.flow.sampling import time_grid

if TYPE_CHECKING:
    from genlab.generators.flow.generator import FlowGenerator



@dataclass(frozen=True)
class StreamResult:
    """A streamed call: the images in arrival order, the stage timings of a
    :class:`Generation`, and each image's seconds from admission to release."""

    generation: Generation
    latency_s: tuple[float, ...] = field(repr=False)
    calls: int
    """Batched backbone calls the stream took (prompts + steps - 1 when full)."""


@dataclass
class _Row:
    index: int
    x: torch.Tensor
    step: int
    admitted: float


def stream(gen: FlowGenerator, prompts: Sequence[str], seeds: Sequence[int],
           boxes: Sequence[BoxList | None] | None = None, size: int = 32,
           grounding: Sequence[Grounding | None] | None = None) -> StreamResult:
    """Generate ``prompts`` as a stream: one enters per backbone call (stream batch).
    ``grounding``: a grounded model's plans, as for :meth:`FlowGenerator.generate`."""
    if gen.sampler != "euler" or gen.compose or gen.attention is not None or gen.cache != 1 \
            or gen.guidance_interval != FULL_INTERVAL or gen.guidance_rule != CFG:
        raise InputError(f"stream batching needs the euler sampler, without compose, attention "
                         f"guidance, feature caching, a guidance interval or rule; got sampler="
                         f"{gen.sampler!r}, compose={gen.compose}, attention="
                         f"{gen.attention is not None}, cache={gen.cache}, guidance_interval="
                         f"{gen.guidance_interval}, guidance_rule={gen.guidance_rule.spec()!r}")
    boxes_ = gen._check(prompts, seeds, boxes, size)
    plans = gen._plans(prompts, boxes_, grounding)
    torch.set_flush_denormal(True)
    model, ts, w = gen.model, time_grid(gen.steps), gen.guidance
    timings = {"text_encoding": 0.0, "backbone": 0.0, "sampler": 0.0}
    images: list[np.ndarray | None] = [None] * len(prompts)
    latency = [0.0] * len(prompts)
    flight: list[_Row] = []
    cond: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]] = []
    calls, nxt = 0, 0
    with torch.no_grad():
        while nxt < len(prompts) or flight:
            if nxt < len(prompts):  # admit one prompt per call
                t0 = time.perf_counter()
                ids, mask = model.tokenizer.encode([prompts[nxt]], [boxes_[nxt]])
                states, smask = model.encode(ids, mask)
                cond.append((states, smask, model.box_maps(ids),
                             None if plans is None else model.grounding_maps([plans[nxt]])))
                flight.append(_Row(nxt, gen._noise([int(seeds[nxt])]), 0, t0))
                nxt += 1
                timings["text_encoding"] += time.perf_counter() - t0
            t1 = time.perf_counter()
            x = torch.cat([r.x for r in flight])
            t = torch.tensor([ts[r.step] for r in flight], dtype=torch.float32)
            h = torch.tensor([ts[r.step + 1] - ts[r.step] for r in flight])[:, None, None, None]
            states = torch.cat([c[0] for c in cond])
            smask = torch.cat([c[1] for c in cond])
            maps = None if cond[0][2] is None else torch.cat([c[2] for c in cond])  # type: ignore[misc]
            grounded = None if cond[0][3] is None else torch.cat([c[3] for c in cond])  # type: ignore[misc]
            tb = time.perf_counter()
            with precision(gen.dtype):
                v = _velocity(gen, x, t, states, smask, maps, grounded, w).float()
            backbone = time.perf_counter() - tb
            timings["backbone"] += backbone
            other_stages = backbone  # time of this call that is not the sampler's
            calls += 1
            x = x + h * v
            keep, keep_cond = [], []
            for i, (row, c) in enumerate(zip(flight, cond, strict=True)):
                row.x, row.step = x[i:i + 1], row.step + 1
                if row.step == gen.steps:
                    if not torch.isfinite(row.x).all():
                        raise GenlabError(f"stream produced NaN or inf for seed "
                                          f"{seeds[row.index]} (checkpoint {gen.checkpoint})")
                    decode_before = timings.get("decode", 0.0)
                    images[row.index] = gen.to_images(row.x, timings)[0]
                    other_stages += timings.get("decode", 0.0) - decode_before
                    latency[row.index] = time.perf_counter() - row.admitted
                else:
                    keep.append(row)
                    keep_cond.append(c)
            flight, cond = keep, keep_cond
            timings["sampler"] += time.perf_counter() - t1 - other_stages
    out = np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8)  # type: ignore[arg-type]
    return StreamResult(Generation(out, timings), tuple(latency), calls)


def _velocity(gen: FlowGenerator, x: torch.Tensor, t: torch.Tensor, states: torch.Tensor,
              smask: torch.Tensor, maps: torch.Tensor | None, grounded: torch.Tensor | None,
              w: float) -> torch.Tensor:
    """The guided velocity of every in-flight row in one backbone call (the null
    condition has no boxes and no plan, as in ``generate``)."""
    model = gen.model
    if w == 1.0:
        return model.velocity(x, t, states, smask, boxes=maps, grounding=grounded)
    n = x.shape[0]
    null_s, null_m = model.text.null_condition(n, states.shape[1])
    boxes = None if maps is None else torch.cat([maps, torch.zeros_like(maps)])
    both = None if grounded is None else torch.cat([grounded, torch.zeros_like(grounded)])
    v = model.velocity(torch.cat([x, x]), torch.cat([t, t]), torch.cat([states, null_s]),
                       torch.cat([smask, null_m]), boxes=boxes, grounding=both)
    return combine(v, w)
