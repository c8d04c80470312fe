"""Benchmark: engineering levers on a generator's latency, one at a time (issue 4, item 3).

Each lever is applied alone to the same weights and timed against the eager fp32
baseline at the machine's default thread count, in the same process: batch-1
latency (p50 / p95 of ``--runs`` calls after warm-up) and throughput at batch
``--batch`` (``--batch-runs`` calls). The baseline is timed first and again last,
so the drift of the machine over the run is visible beside every ratio. Levers:

- ``threads1``: one torch thread instead of the default;
- ``channels_last``: the backbone's weights in NHWC memory format;
- ``bf16``: ``torch.autocast`` to bfloat16 (only where the CPU has avx512_bf16 or AMX);
- ``compile``: ``torch.compile`` of the backbone (the compile time is reported apart);
- ``compile_noguards``: ``torch.compile`` with dynamo's guards on the module skipped
  (``torch.compiler.skip_guard_on_all_nn_modules_unsafe``): how much of a compiled
  call is the guard check;
- ``aot``: the backbone exported and compiled ahead of time by AOTInductor
  (``genlab.generators.flow.aot``, packages in a temporary folder, so the compile time
  reported is a cold one for each batch shape met);
- ``onnx``: the backbone exported to ONNX and run by ONNX Runtime (needs the
  ``bench`` extra: ``pip install -e .[bench]``).

A lever that cannot run here is reported with the reason, never silently dropped.
Images are compared with the baseline's: a lever that changes what is drawn shows
its mean absolute pixel difference.

    python bench/bench_levers.py [-g flow-reflow] [--steps N] [--runs 100]
        [--batch 64] [--batch-runs 3]
        [--levers threads1 channels_last bf16 compile compile_noguards aot onnx]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

import genlab.machine
from genlab import catalog
from genlab.contracts import Generation
from genlab.generators.flow import FlowGenerator
from genlab.generators.flow.aot import AotBackbone
from genlab.tracks.latency import profile_latency
from genlab.worlds.shapes.world import ShapesWorld

LEVERS = ("threads1", "channels_last", "bf16", "compile", "compile_noguards", "aot", "onnx")


class _Autocast:
    """A generator whose every call runs under ``torch.autocast(cpu, bfloat16)``."""

    def __init__(self, inner: FlowGenerator) -> None:
        self.inner, self.name = inner, inner.name

    def generate(self, *a: Any, **kw: Any) -> Generation:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.inner.generate(*a, **kw)


class _OrtUNet(torch.nn.Module):
    """ONNX Runtime behind the UNet's call signature (returns ``.sample``)."""

    def __init__(self, path: Path, pooled: bool) -> None:
        import onnxruntime as ort

        super().__init__()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = torch.get_num_threads()
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.pooled = pooled

    def forward(self, z: torch.Tensor, t: torch.Tensor, *, encoder_hidden_states: torch.Tensor,
                encoder_attention_mask: torch.Tensor, class_labels: Any = None) -> Any:
        feeds = {"z": z.numpy(), "t": t.float().numpy(),
                 "states": encoder_hidden_states.float().numpy(),
                 "mask": encoder_attention_mask.float().numpy()}
        if self.pooled:
            feeds["pooled"] = class_labels.float().numpy()
        return SimpleNamespace(sample=torch.from_numpy(self.session.run(None, feeds)[0]))


def _export_onnx(gen: FlowGenerator, folder: Path) -> Path:
    model = gen.model
    pooled = bool(model.config.pooled_text)
    unet = model.unet

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.unet = unet

        def forward(self, z: torch.Tensor, t: torch.Tensor, states: torch.Tensor,
                    mask: torch.Tensor, pooled_: torch.Tensor | None = None) -> torch.Tensor:
            return self.unet(z, t, encoder_hidden_states=states, encoder_attention_mask=mask,
                             class_labels=pooled_).sample

    captured: dict[str, Any] = {}

    def spy(_: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        captured.update(z=args[0], t=args[1], **kwargs)

    hook = unet.register_forward_pre_hook(spy, with_kwargs=True)
    try:
        gen.generate(["a red circle"], [0])
    finally:
        hook.remove()
    args: tuple[Any, ...] = (captured["z"], captured["t"], captured["encoder_hidden_states"],
                             captured["encoder_attention_mask"].float())
    names = ["z", "t", "states", "mask"]
    if pooled:
        args += (captured["class_labels"],)
        names.append("pooled")
    path = folder / "unet.onnx"
    torch.onnx.export(Wrapped().eval(), args, str(path), input_names=names,
                      output_names=["out"], dynamo=False, opset_version=17,
                      dynamic_axes={n: {0: "batch"} for n in [*names, "out"]})
    return path


@contextlib.contextmanager
def _swapped(gen: FlowGenerator, backbone: Any, note: dict[str, str], what: str
             ) -> Iterator[None]:
    """``gen`` with ``backbone`` in place of its UNet, compiled by a first call (its
    seconds noted as ``compile_s``); the UNet is put back afterwards."""
    real = gen.model.unet
    gen.model.unet = backbone
    t0 = time.perf_counter()
    try:
        gen.generate(["a red circle"], [0])
        note["compile_s"] = f"{time.perf_counter() - t0:.0f}{what}"
        yield
    finally:
        gen.model.unet = real


@contextlib.contextmanager
def lever(name: str, gen: FlowGenerator, note: dict[str, str]) -> Iterator[Any]:
    """``gen`` (or a wrapper) with one lever applied; restores the model afterwards."""
    model = gen.model
    if name == "threads1":
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield gen
        finally:
            torch.set_num_threads(before)
    elif name == "channels_last":
        model.unet.to(memory_format=torch.channels_last)
        try:
            yield gen
        finally:
            model.unet.to(memory_format=torch.contiguous_format)
    elif name == "bf16":
        if not genlab.machine.supports_bf16():
            raise RuntimeError("this CPU has neither avx512_bf16 nor AMX")
        yield _Autocast(gen)
    elif name in ("compile", "compile_noguards"):
        real = model.unet
        options: dict[str, Any] = (
            {"guard_filter_fn": torch.compiler.skip_guard_on_all_nn_modules_unsafe}
            if name == "compile_noguards" else {})
        torch._dynamo.reset()  # no graph of another lever's compile is reused
        with _swapped(gen, torch.compile(real, options=options), note, ""):
            yield gen
    elif name == "aot":
        with tempfile.TemporaryDirectory() as tmp, \
                _swapped(gen, AotBackbone(model.unet, Path(tmp)), note, " (batch 1)"):
            yield gen
    elif name == "onnx":
        real = model.unet
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            path = _export_onnx(gen, Path(tmp))
            model.unet = _OrtUNet(path, bool(model.config.pooled_text))  # type: ignore
            note["export_s"] = f"{time.perf_counter() - t0:.0f}"
            try:
                yield gen
            finally:
                model.unet = real
    else:
        raise ValueError(f"unknown lever {name!r}; known: {', '.join(LEVERS)}")


def _measure(gen: Any, prompts: list[str], args: argparse.Namespace) -> dict[str, float]:
    one = profile_latency(gen, prompts, batch=1, runs=args.runs, warmup=args.warmup)
    many = profile_latency(gen, prompts, batch=args.batch, runs=args.batch_runs, warmup=1)
    images = gen.generate(prompts[:8], list(range(8))).images
    return {"p50": one.total.p50_ms, "p95": one.total.p95_ms,
            "img_s": many.throughput_img_s, "images": images}  # type: ignore[dict-item]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-g", "--generator", default="flow-reflow")
    ap.add_argument("--steps", type=int, default=None, help="sampling steps (default: its own)")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--batch-runs", type=int, default=3)
    ap.add_argument("--levers", nargs="+", default=list(LEVERS), choices=LEVERS)
    args = ap.parse_args()
    gen = catalog.GENERATORS.get(args.generator)
    if args.steps is not None:
        gen = gen.with_options(steps=args.steps)
    world = ShapesWorld()
    prompts = [world.prompt(s) for s in world.sample_specs("multi", "dev", 16, seed=0)]
    print(f"{args.generator}: {gen.describe()}, {torch.get_num_threads()} threads, batch-1 "
          f"{args.runs} runs after {args.warmup}; batch {args.batch} x {args.batch_runs}")
    base = _measure(gen, prompts, args)
    rows: list[tuple[str, dict[str, Any] | None, str]] = [("baseline (eager fp32)", base, "")]
    for name in args.levers:
        note: dict[str, str] = {}
        try:
            with lever(name, gen, note) as g:
                m = _measure(g, prompts, args)
        except Exception as exc:  # a lever that cannot run here is a row with its reason
            rows.append((name, None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"))
            continue
        diff = float(np.abs(m["images"].astype(int) - base["images"].astype(int)).mean())
        extra = ", ".join(f"{k} {v}" for k, v in note.items())
        rows.append((name, m, f"pixel diff {diff:.2f}" + (f", {extra}" if extra else "")))
    rows.append(("baseline again", _measure(gen, prompts, args), "drift check"))
    print(f"| lever | p50 ms | p95 ms | x baseline p50 | img/s @{args.batch} | x baseline img/s "
          "| note |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, m, note_ in rows:
        if m is None:
            print(f"| {name} | – | – | – | – | – | not run: {note_} |")
            continue
        print(f"| {name} | {m['p50']:.2f} | {m['p95']:.2f} | {base['p50'] / m['p50']:.2f}x "
              f"| {m['img_s']:.0f} | {m['img_s'] / base['img_s']:.2f}x | {note_} |")


if __name__ == "__main__":
    main()
