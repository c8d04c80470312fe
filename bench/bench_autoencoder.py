"""Benchmark: the latent space of ``flow-latent`` (issue 4, item 4): its ceiling and its decode.

A latent model can be no more accurate than its autoencoder lets it be. For the
realtime track's quality subset (``dev``, every category), the oracle's renders are
encoded and decoded by the VAE's decoder and by the tiny one, and the ``scene``
judge scores the reconstructions: that accuracy (with its 95% interval over prompts)
is the ceiling of any model on these latents; the oracle's own renders score 1.
Also the PSNR of each reconstruction, and the decode time per call at batch 1 and
at batch 64 for both decoders, timed interleaved in this process (blocks of 10
calls), with the tiny decoder's speedup over the VAE's. Trains the default
autoencoder into the model cache first if missing, and prints its training time.

    python bench/bench_autoencoder.py [--profile default] [--runs 100]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from genlab import catalog, paths
from genlab.contracts import Generation
from genlab.generators.flow.autoencoder import (
    DECODERS,
    AutoencoderConfig,
    LatentSpace,
    autoencoder_dir,
    ensure_autoencoder,
)
from genlab.generators.flow.objective import images_to_tensor, tensor_to_images
from genlab.stats import iid_bootstrap, ratio_of_medians_bootstrap
from genlab.store import SampleRow
from genlab.tracks import control
from genlab.tracks.realtime_settings import RealtimeConfig
from genlab.tracks.scoring import score_split


class Reconstructed:
    """The oracle's renders after a round trip through the latent space."""

    def __init__(self, space: LatentSpace, decoder: str) -> None:
        self.space, self.decoder = space, decoder
        self.name = f"oracle-through-{decoder}"
        self.oracle = catalog.GENERATORS.get("oracle")
        self.psnr: list[float] = []

    @torch.no_grad()
    def generate(self, prompts: Sequence[str], seeds: Sequence[int], **kw: Any) -> Generation:
        images = self.oracle.generate(prompts, seeds, **kw).images
        x = images_to_tensor(images)
        out = tensor_to_images(self.space.decode(self.space.encode(x), self.decoder))
        mse = ((out.astype(np.float64) - images) ** 2).mean(axis=(1, 2, 3))
        self.psnr.extend(10 * np.log10(255.0**2 / np.maximum(mse, 1e-10)))
        return Generation(out, {})


def _as_stored(row: SampleRow) -> dict[str, Any]:
    """A judged row as the store hands it back (JSON columns parsed), what scoring reads."""
    d = dataclasses.asdict(row)
    for col in ("boxes", "spec", "details"):
        d[col] = json.loads(d.pop(f"{col}_json"))
    return d


def _ceiling(space: LatentSpace, decoder: str) -> tuple[dict[str, Any], float]:
    quality = RealtimeConfig.default().quality
    todo = control.items(quality)
    judge = control.default_judge()
    gen = Reconstructed(space, decoder)
    samples = []
    for lo in range(0, len(todo), quality.batch_size):
        rows, _ = control.judge_batch(todo[lo:lo + quality.batch_size], gen, judge, quality.size)
        samples.extend(_as_stored(r) for r in rows)
    recs = score_split(samples, "dev", quality.categories, resamples=2000, seed=0,
                       heldout_breakdown=False)
    overall = next(r for r in recs if r["category"] == "dev/overall")
    return overall, float(np.median(gen.psnr))


def _decode_times(space: LatentSpace, batch: int, runs: int) -> dict[str, list[float]]:
    c = space.config
    z = torch.randn(batch, c.latent_channels, c.side, c.side, generator=torch.Generator()
                    .manual_seed(0))
    ms: dict[str, list[float]] = {d: [] for d in DECODERS}
    with torch.no_grad():
        for d in DECODERS:
            for _ in range(3):
                space.decode(z, d)
        for _ in range(0, runs, 10):
            for d in DECODERS:
                for _ in range(10):
                    t = time.perf_counter()
                    space.decode(z, d)
                    ms[d].append((time.perf_counter() - t) * 1e3)
    return ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()
    config = AutoencoderConfig.profile(args.profile)
    folder = autoencoder_dir(config, paths.models_dir())
    t0 = time.perf_counter()
    space = ensure_autoencoder(config, paths.models_dir())
    trained = time.perf_counter() - t0
    vae = json.loads((folder / "vae.json").read_text())
    tiny = json.loads((folder / f"tiny-{config.tiny_key()}.json").read_text())
    print(f"autoencoder {folder.name}: {config.image_size}x{config.image_size}x3 -> "
          f"{config.side}x{config.side}x{config.latent_channels}, latent scale "
          f"{float(space.scale):.3f}; ready in {trained:.1f} s here; training took "
          f"{vae['train_seconds']} s (VAE, {config.steps} steps) and "
          f"{tiny['train_seconds']} s (tiny decoder, {config.tiny_steps} steps)")
    print("\n| decoder | parameters | judge accuracy of reconstructions [95% CI] | "
          "median PSNR dB |")
    print("|---|---:|---|---:|")
    for d in DECODERS:
        net = space.vae.decoder if d == "vae" else space.tiny
        params = sum(p.numel() for p in net.parameters())
        overall, psnr = _ceiling(space, d)
        print(f"| {d} | {params:,} | {overall['value']:.3f} [{overall['ci_low']:.3f}, "
              f"{overall['ci_high']:.3f}] (n={overall['n']}) | {psnr:.1f} |")
    print("\n| batch | vae decode p50 ms [95% CI] | tiny decode p50 ms [95% CI] | "
          "tiny speedup [95% CI] |")
    print("|---:|---|---|---|")
    for batch in (1, 64):
        ms = _decode_times(space, batch, args.runs)
        est = {d: iid_bootstrap(ms[d], "p50", seed=1) for d in DECODERS}
        ratio = ratio_of_medians_bootstrap(ms["vae"], ms["tiny"], seed=2)
        cells = [f"{e.value:.2f} [{e.ci_low:.2f}, {e.ci_high:.2f}]" for e in est.values()]
        print(f"| {batch} | {cells[0]} | {cells[1]} | {ratio.value:.2f} "
              f"[{ratio.ci_low:.2f}, {ratio.ci_high:.2f}] |")


if __name__ == "__main__":
    main()
