"""A ``flow`` config's training fingerprint: what its first training steps compute.

A cache key (:meth:`FlowConfig.key`) hashes the config, not the code that trains it. A
change to the code that draws the training data, builds the model or steps the
optimiser changes the model a key names without changing the key, and every figure
measured on the cached model silently stops describing what ``genlab run`` trains.
The fingerprint catches that: checksums of the initial weights and of the first batch
(its prompts exactly, its images' pixel sum), and the loss of each of the first steps,
as one rank of a run computes them. ``tests/generators/flow_fingerprint.json`` holds
the main job's config's, and a test recomputes it (a few seconds).

It is compared with a tolerance (:data:`RTOL`), not bit for bit: the same code on
another CPU instruction set trains another trajectory. With the AVX2 kernels instead of
AVX512 (``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2``) the first losses agree to
1e-6 and the weights after 120 steps already differ in their bytes, and a whole training
ends as a different draw, as far from the AVX512 one as another seed: sessions 5 and 9
trained on AVX2 kernels, and their models come back figure for figure only there
(docs/results.md, session 21). A full model is reproducible only on the same
instruction set (``FlowConfig.kernels`` pins one); what the tolerance rules out is a
change of the computation itself.

When a change is meant to alter training, bump :data:`TRAINING_REVISION` in
:mod:`.config` (every cache key changes, so cached models retrain) and rewrite the
file: ``python -m genlab.generators.flow.fingerprint --write
tests/generators/flow_fingerprint.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import json
import math
from pathlib import Path
from typing import Any

import torch

from genlab.generators.flow.config import TRAINING_REVISION, FlowConfig

# The module (the package exports its ``train`` function under the same name).
train = importlib.import_module("genlab.generators.flow.train")

RTOL = 1e-4
"""Relative tolerance of the float fields (the losses agree to ~1e-6 across instruction
sets after 3 steps; a changed data draw or model moves them by percent)."""

STEPS = 3


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """What rank 0 of a training of ``config`` computes first (module docstring)."""

    revision: int
    init_sum: float
    """Sum of the freshly initialised weights."""
    prompts_sha256: str
    """Of the first batch's prompts, joined (exact: pure integer draws)."""
    pixel_sum: int
    """Of the first batch's uint8 images."""
    losses: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fingerprint:
        return cls(int(d["revision"]), float(d["init_sum"]), str(d["prompts_sha256"]),
                   int(d["pixel_sum"]), tuple(float(x) for x in d["losses"]))


def one_rank(config: FlowConfig) -> FlowConfig:
    """``config`` as one worker of its data-parallel run: rank 0's data and noise streams
    are those of a one-worker run with that worker's share of the batch."""
    return dataclasses.replace(config, workers=1, batch_size=config.batch_size // config.workers)


def fingerprint(config: FlowConfig, steps: int = STEPS) -> Fingerprint:
    """The fingerprint of ``config``'s training (a text-only, pixel-space config: no
    counter or autoencoder to train first), on one thread as a rank trains. Leaves the
    caller's RNGs and thread count untouched."""
    c = one_rank(config)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with torch.random.fork_rng():
            run = train._new_run(c)
            init = train._checksum(run.model)
            probe = train._streams(c, 0)[0]  # the run's data stream, from its start
            batch = train._batch(c, probe)
            losses = tuple(train._train_step(run) for _ in range(steps))
    finally:
        torch.set_num_threads(threads)
    return Fingerprint(TRAINING_REVISION, init,
                       hashlib.sha256("|".join(batch.prompts).encode()).hexdigest(),
                       int(batch.images.astype("int64").sum()), losses)


def differences(stored: Fingerprint, now: Fingerprint, rtol: float = RTOL) -> list[str]:
    """Each field where ``now`` is not ``stored`` (floats within ``rtol``), in words."""
    out = []
    if now.revision != stored.revision:
        out.append(f"TRAINING_REVISION is {now.revision}, the stored fingerprint's "
                   f"{stored.revision}")
    if now.prompts_sha256 != stored.prompts_sha256:
        out.append("the first batch's prompts differ (the data draw changed)")
    if not math.isclose(now.pixel_sum, stored.pixel_sum, rel_tol=1e-6):
        out.append(f"the first batch's pixel sum is {now.pixel_sum}, stored "
                   f"{stored.pixel_sum} (the renderer or the draw changed)")
    if not math.isclose(now.init_sum, stored.init_sum, rel_tol=rtol):
        out.append(f"the initial weights sum to {now.init_sum:.6f}, stored "
                   f"{stored.init_sum:.6f} (the model or its initialisation changed)")
    if len(now.losses) != len(stored.losses) or not all(
            math.isclose(a, b, rel_tol=rtol)
            for a, b in zip(now.losses, stored.losses, strict=True)):
        out.append(f"the first losses are {[round(x, 6) for x in now.losses]}, stored "
                   f"{[round(x, 6) for x in stored.losses]} (the objective, optimiser or "
                   f"data changed)")
    return out


CONFIGS = {"default": FlowConfig.default, "session5": FlowConfig.session5}
"""The configs whose fingerprints are stored: the main job's model, and the default of
sessions 5-22 (the base of issue 3's and 4's measured figures)."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", type=Path, default=None,
                    help="write the fingerprints to this JSON file (else print them)")
    args = ap.parse_args(argv)
    found = {name: fingerprint(make()).to_dict() for name, make in CONFIGS.items()}
    text = json.dumps(found, indent=2, sort_keys=True) + "\n"
    if args.write is None:
        print(text, end="")
    else:
        args.write.write_text(text)
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
