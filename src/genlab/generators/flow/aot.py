"""The backbone compiled ahead of time (AOTInductor): issue 4's export lever.

``torch.compile`` leaves two costs on every call of a small model: dynamo's guard
checks (about 0.8 ms per call of the 32-px UNet here, a quarter of the call) and the
Python wrapper that launches each generated kernel. ``torch.export`` captures the
backbone once as a graph of aten operators, and AOTInductor (PyTorch 2.6+,
``torch._inductor.aoti_compile_and_package``) compiles that graph and its weights into a
shared library with a C++ runner: no guards, no Python between the kernels. It is the
same compiler as ``torch.compile`` (the images agree up to float rounding); what is
removed is the per-call overhead, which is what dominates a batch-1 call at this size
(``bench/bench_levers.py`` times both; docs/results.md).

The graph is exported with static shapes: each new input signature (batch size, text
length) is exported and compiled on its first call (about 35 s for the default
student on 2 cores) and kept as a ``.pt2`` package beside the model's checkpoints,
named by the torch version, the signature and a fingerprint of the weights, so that a
later process loads it in well under a second. Only the UNet backbone in float32 is
supported; the generator refuses the options a fixed graph would bake in.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

from genlab.errors import InputError

FOLDER = "aot"
"""The package folder, a sibling of the checkpoints of the model it compiles."""

Signature = tuple[tuple[tuple[int, ...], str] | None, ...]
"""Per backbone input (sample, timestep, text states, text mask, pooled text): shape and
dtype, or None for an input the model does not use."""


def fingerprint(module: torch.nn.Module) -> str:
    """A hash of the state dict (names, shapes, values): a package is only ever loaded
    for the weights it was compiled from."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().to(torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


class _Call(torch.nn.Module):
    """The backbone as a function of its present inputs only (export takes tensors)."""

    def __init__(self, unet: torch.nn.Module, present: tuple[bool, ...]) -> None:
        super().__init__()
        self.unet = unet
        self.present = present

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        it = iter(tensors)
        sample, timestep, states, mask, pooled = (next(it) if p else None for p in self.present)
        out: torch.Tensor = self.unet(sample, timestep, encoder_hidden_states=states,
                                      encoder_attention_mask=mask,
                                      class_labels=pooled).sample
        return out


class AotBackbone(torch.nn.Module):
    """Drop-in for a diffusers ``UNet2DConditionModel`` at inference: the same call,
    answered by an AOTInductor package per input signature (compiled on first use and
    cached in ``folder``; a temporary folder when None)."""

    def __init__(self, unet: torch.nn.Module, folder: Path | None) -> None:
        super().__init__()
        self.eager = unet.eval()
        self.folder = Path(folder) if folder is not None else Path(
            tempfile.mkdtemp(prefix="genlab-aot-"))
        self.weights = fingerprint(unet)
        self._runners: dict[Signature, Any] = {}

    def package(self, signature: Signature) -> Path:
        """Where the package of ``signature`` lives (whether or not it exists yet)."""
        key = hashlib.sha256(repr((signature, self.weights)).encode()).hexdigest()[:16]
        return self.folder / f"unet-torch{torch.__version__}-{key}.pt2"

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, *,
                encoder_hidden_states: torch.Tensor | None = None,
                encoder_attention_mask: torch.Tensor | None = None,
                class_labels: torch.Tensor | None = None) -> SimpleNamespace:
        if torch.is_grad_enabled():
            raise InputError("the ahead-of-time compiled backbone is for inference only "
                             "(call it under torch.no_grad())")
        if torch.is_autocast_enabled("cpu"):
            raise InputError("the ahead-of-time compiled backbone runs float32 only; "
                             "autocast (dtype bfloat16) is not accepted")
        inputs = (sample, timestep, encoder_hidden_states, encoder_attention_mask, class_labels)
        signature: Signature = tuple(None if x is None else (tuple(x.shape), str(x.dtype))
                                     for x in inputs)
        runner = self._runners.get(signature)
        if runner is None:
            runner = self._runners[signature] = self._load(signature, inputs)
        present = [x.contiguous() for x in inputs if x is not None]
        return SimpleNamespace(sample=runner(*present))

    def _load(self, signature: Signature, inputs: tuple[torch.Tensor | None, ...]) -> Any:
        path = self.package(signature)
        if path.is_file():
            try:
                return torch._inductor.aoti_load_package(str(path))
            except Exception as e:  # a truncated or foreign file: compile it again
                print(f"genlab: recompiling the unreadable AOT package {path} ({e})",
                      file=sys.stderr)
        self._compile(path, inputs)
        return torch._inductor.aoti_load_package(str(path))

    def _compile(self, path: Path, inputs: tuple[torch.Tensor | None, ...]) -> None:
        """Export and compile for these inputs' signature into ``path``, atomically (a
        killed compile leaves no package behind, only a temporary file)."""
        present = tuple(x is not None for x in inputs)
        tensors = tuple(x.contiguous() for x in inputs if x is not None)
        shapes = ", ".join(str(tuple(x.shape)) for x in tensors)
        print(f"genlab: compiling the backbone ahead of time for inputs {shapes} "
              f"(once per input shape, about 30 s on 2 cores)", file=sys.stderr, flush=True)
        start = time.perf_counter()
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=path.stem + ".", suffix=".tmp.pt2")
        os.close(fd)
        try:
            with torch.no_grad():
                program = torch.export.export(_Call(self.eager, present), tensors)
                torch._inductor.aoti_compile_and_package(program, package_path=tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        print(f"genlab: compiled in {time.perf_counter() - start:.0f} s: {path}",
              file=sys.stderr, flush=True)
