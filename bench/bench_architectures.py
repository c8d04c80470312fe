"""Benchmark: real text-to-image architectures timed per stage on this machine (issue 4, item 5).

SD-1.5, SD-Turbo (the SD-2.1 architecture) and SDXL, each built from its
published configuration written out below (diffusers' ``UNet2DConditionModel`` and
``AutoencoderKL``, transformers' CLIP text encoders) with random weights: nothing
is downloaded, and the time of a forward pass does not depend on the weights'
values. Per stage, at ``--size`` pixels (512 by default, all three): text encoding
(77 tokens, the prompt and the empty prompt of CFG), one backbone call (the CFG
batch of 2; SD-Turbo samples without CFG, batch 1), one scheduler step (diffusers'
``EulerDiscreteScheduler``), and the VAE decode of one latent; each the median of
``--runs`` timed calls after one untimed call, with its FLOPs from torch's
``FlopCounterMode`` (counted on the untimed call). genlab's default ``flow`` model
is timed the same way in the same process, so the rows compare.

Per-image latency at each model's usual step count is then text + steps x
(backbone + scheduler) + decode. The seed document's table (A100, fp16) is printed
beside it: text 5-10 ms, backbone 50-200 ms a step, VAE decode 20-50 ms,
scheduling 1-2 ms.

Needs the ``bench`` extra (``pip install -e .[bench]``: transformers). SDXL's UNet
holds 2.6 B parameters, ~10 GB in fp32.

    python bench/bench_architectures.py [--models sd15 sd-turbo sdxl] [--size 512] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

SEED_TABLE = {"text": "5-10", "backbone": "50-200", "scheduler": "1-2", "decode": "20-50"}


@dataclass(frozen=True)
class Arch:
    """A published architecture: its UNet, VAE and text-encoder configurations."""

    name: str
    unet: dict[str, Any]
    text: tuple[dict[str, Any], ...]  # one CLIP config per text encoder
    steps: int
    cfg: bool
    sdxl: bool = False


_CROSS = ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D")
_UP = ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D")
_CLIP_L = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
           "num_attention_heads": 12, "projection_dim": 768, "hidden_act": "quick_gelu"}
_OPENCLIP_H = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 23,
               "num_attention_heads": 16, "projection_dim": 1024, "hidden_act": "gelu"}
_OPENCLIP_BIGG = {"hidden_size": 1280, "intermediate_size": 5120, "num_hidden_layers": 32,
                  "num_attention_heads": 20, "projection_dim": 1280, "hidden_act": "gelu"}

ARCHS = {
    "sd15": Arch("SD-1.5", {
        "block_out_channels": (320, 640, 1280, 1280), "layers_per_block": 2,
        "cross_attention_dim": 768, "attention_head_dim": 8,
        "down_block_types": _CROSS, "up_block_types": _UP}, (_CLIP_L,), steps=50, cfg=True),
    "sd-turbo": Arch("SD-Turbo (SD-2.1)", {
        "block_out_channels": (320, 640, 1280, 1280), "layers_per_block": 2,
        "cross_attention_dim": 1024, "attention_head_dim": (5, 10, 20, 20),
        "use_linear_projection": True,
        "down_block_types": _CROSS, "up_block_types": _UP}, (_OPENCLIP_H,), steps=1, cfg=False),
    "sdxl": Arch("SDXL", {
        "block_out_channels": (320, 640, 1280), "layers_per_block": 2,
        "transformer_layers_per_block": (1, 2, 10), "cross_attention_dim": 2048,
        "attention_head_dim": (5, 10, 20), "use_linear_projection": True,
        "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
        "projection_class_embeddings_input_dim": 2816,
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D")},
        (_CLIP_L, _OPENCLIP_BIGG), steps=50, cfg=True, sdxl=True),
}
VAE = {"block_out_channels": (128, 256, 512, 512), "layers_per_block": 2, "latent_channels": 4,
       "down_block_types": ("DownEncoderBlock2D",) * 4,
       "up_block_types": ("UpDecoderBlock2D",) * 4}


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """(median ms over ``runs`` calls after one untimed call, GFLOP of one call)."""
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e3, counter.get_total_flops() / 1e9


def _text(arch: Arch, batch: int, runs: int) -> tuple[float, float]:
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    encoders = []
    for i, cfg in enumerate(arch.text):
        config = CLIPTextConfig(vocab_size=49408, max_position_embeddings=77, **cfg)
        last = arch.sdxl and i == len(arch.text) - 1  # SDXL's second encoder is projected
        encoders.append((CLIPTextModelWithProjection if last else CLIPTextModel)(config).eval())
    ids = torch.randint(0, 49408, (batch, 77))
    return timed(lambda: [e(ids, output_hidden_states=True) for e in encoders], runs)


def _backbone(arch: Arch, size: int, batch: int, runs: int) -> tuple[float, float]:
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel(sample_size=size // 8, in_channels=4, out_channels=4,
                                **arch.unet).eval()
    latent = torch.randn(batch, 4, size // 8, size // 8)
    states = torch.randn(batch, 77, arch.unet["cross_attention_dim"])
    extra: dict[str, Any] = {}
    if arch.sdxl:
        extra["added_cond_kwargs"] = {"text_embeds": torch.randn(batch, 1280),
                                      "time_ids": torch.randn(batch, 6)}
    t = torch.full((batch,), 500.0)
    return timed(lambda: unet(latent, t, encoder_hidden_states=states, **extra), runs)


def _scheduler(arch: Arch, size: int, runs: int) -> tuple[float, float]:
    from diffusers import EulerDiscreteScheduler

    sched = EulerDiscreteScheduler(num_train_timesteps=1000)
    sched.set_timesteps(arch.steps)
    x = torch.randn(1, 4, size // 8, size // 8)

    def step() -> Any:
        sched._step_index = None  # every call is the first step of the grid
        return sched.step(x, sched.timesteps[0], x).prev_sample

    return timed(step, max(runs, 20))


def _decode(size: int, runs: int) -> tuple[float, float]:
    from diffusers import AutoencoderKL

    vae = AutoencoderKL(**VAE).eval()
    z = torch.randn(1, 4, size // 8, size // 8)
    return timed(lambda: vae.decode(z).sample, runs)


@torch.no_grad()
def profile(arch: Arch, size: int, runs: int) -> dict[str, tuple[float, float]]:
    """Each stage built, timed and freed in turn (SDXL's UNet alone is ~10 GB)."""
    torch.manual_seed(0)
    batch = 2 if arch.cfg else 1
    out = {"text": _text(arch, batch, runs)}
    gc.collect()
    out["backbone"] = _backbone(arch, size, batch, runs)
    gc.collect()
    out["scheduler"] = _scheduler(arch, size, runs)
    out["decode"] = _decode(size, runs)
    gc.collect()
    return out


@torch.no_grad()
def profile_flow(runs: int) -> dict[str, tuple[float, float]]:
    from genlab.generators.flow.entry import load_flow

    gen = load_flow()
    model = gen.model
    ids, mask = model.tokenizer.encode(["two red squares and a green circle"], [None])
    out = {"text": timed(lambda: model.encode(ids, mask), max(runs, 20))}
    states, smask = model.encode(ids, mask)
    null_s, null_m = model.text.null_condition(1, states.shape[1])
    states, smask = torch.cat([states, null_s]), torch.cat([smask, null_m])
    boxes = model.box_maps(ids)
    if boxes is not None:
        boxes = torch.cat([boxes, torch.zeros_like(boxes)])
    x = torch.randn(2, 3, 32, 32)
    out["backbone"] = timed(lambda: model.velocity(x, torch.full((2,), 0.5), states, smask,
                                                   boxes=boxes), max(runs, 20))
    out["scheduler"] = (float("nan"), 0.0)
    out["decode"] = (0.0, 0.0)  # pixel space: no decoder
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=list(ARCHS), choices=list(ARCHS))
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"{torch.get_num_threads()} threads, {args.size} px, median of {args.runs} runs "
          "(ms) and GFLOP per call; latency = text + steps x (backbone + scheduler) + decode")
    print("| model | steps | CFG | text ms (GFLOP) | backbone ms / call (GFLOP) | scheduler ms "
          "| decode ms (GFLOP) | latency s / image | backbone GFLOP/s |")
    print("|---|---:|---|---|---|---:|---|---:|---:|")
    print(f"| seed's table (A100, fp16) | – | – | {SEED_TABLE['text']} | "
          f"{SEED_TABLE['backbone']} | {SEED_TABLE['scheduler']} | {SEED_TABLE['decode']} "
          "| – | – |", flush=True)
    _row("genlab flow (default, 32 px)", 32, True, profile_flow(args.runs))
    for key in args.models:
        arch = ARCHS[key]
        _row(arch.name, arch.steps, arch.cfg, profile(arch, args.size, args.runs))


def _row(name: str, steps: int, cfg: bool, r: dict[str, tuple[float, float]]) -> None:
    sched = r["scheduler"][0]
    latency = (r["text"][0] + steps * (r["backbone"][0] + np.nan_to_num(sched))
               + r["decode"][0]) / 1e3
    print(f"| {name} | {steps} | {'yes' if cfg else 'no'} | {r['text'][0]:.1f} "
          f"({r['text'][1]:.1f}) | {r['backbone'][0]:.1f} ({r['backbone'][1]:.1f}) | "
          f"{sched:.2f} | {r['decode'][0]:.1f} ({r['decode'][1]:.1f}) | {latency:.2f} | "
          f"{r['backbone'][1] / r['backbone'][0] * 1e3:.1f} |", flush=True)


if __name__ == "__main__":
    main()
