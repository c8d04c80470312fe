"""The ahead-of-time compiled backbone (``flow/aot.py``): its refusals, its package
cache, and (slow: one AOTInductor compile) the eager model's images."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

import genlab.machine
from genlab.errors import InputError
from genlab.generators.flow import FlowConfig, FlowGenerator, ensure_trained
from genlab.generators.flow.aot import AotBackbone, fingerprint
from genlab.generators.flow.attention import AttentionGuidance
from genlab.generators.flow.model import FlowModel

PROMPTS = ["a red circle", "two blue squares", "a green triangle to the left of a red square"]


@pytest.fixture(scope="module")
def ckpt(model_cache: Path) -> Path:
    return ensure_trained(FlowConfig.smoke(), model_cache, progress=False)


def test_the_options_a_fixed_graph_would_bake_in_are_refused(
        ckpt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # bfloat16 as if this CPU had it: on one without, its own refusal would come first
    monkeypatch.setattr(genlab.machine, "supports_bf16", lambda: True)
    with pytest.raises(InputError, match="true, false or 'aot'"):
        FlowGenerator(ckpt, compile="ahead")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="attention guidance"):
        FlowGenerator(ckpt, steps=2, compile="aot",
                      attention=AttentionGuidance("excite", 0.01, 0.5))
    with pytest.raises(InputError, match="feature caching"):
        FlowGenerator(ckpt, cache=2, compile="aot")
    with pytest.raises(InputError, match="float32 only"):
        FlowGenerator(ckpt, compile="aot", dtype="bfloat16")
    gen = FlowGenerator(ckpt, steps=2, compile="aot")  # compiles on first call only
    assert gen.backend == "aot" and gen.compiled and gen.describe()["compile"] == "aot"
    assert (gen.model.unet.folder == ckpt.parent / "aot")  # beside the checkpoints
    with pytest.raises(InputError, match="dtype 'bfloat16' is not accepted"):
        gen.with_options(dtype="bfloat16")
    with pytest.raises(InputError, match="already compiled"):
        gen.compile_backbone()
    with pytest.raises(InputError, match="already compiled"):
        gen.compile_backbone_aot()
    dit = FlowGenerator.from_model(FlowModel(replace(FlowConfig.smoke(), backbone="dit")))
    with pytest.raises(InputError, match="UNet backbone"):
        dit.compile_backbone_aot()


def test_inference_only_and_float32_only(ckpt: Path) -> None:
    gen = FlowGenerator(ckpt, steps=2, compile="aot")
    unet = gen.model.unet
    z, t = torch.zeros(1, 16, 16, 16), torch.zeros(1)
    with pytest.raises(InputError, match="inference only"):
        unet(z, t)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16), \
            pytest.raises(InputError, match="float32 only"):
        unet(z, t)


def test_packages_are_named_by_signature_and_weights(ckpt: Path, tmp_path: Path) -> None:
    model = FlowGenerator(ckpt).model.unet
    a = AotBackbone(model, tmp_path)
    one = (((1, 16, 16, 16), "torch.float32"), ((1,), "torch.float32"), None, None, None)
    two = (((2, 16, 16, 16), "torch.float32"), ((2,), "torch.float32"), None, None, None)
    assert a.package(one) != a.package(two) and a.package(one).parent == tmp_path
    assert torch.__version__ in a.package(one).name
    other = FlowGenerator(ckpt).model.unet
    assert fingerprint(other) == fingerprint(model)
    with torch.no_grad():
        next(other.parameters()).add_(1.0)
    assert AotBackbone(other, tmp_path).package(one) != a.package(one)
    assert AotBackbone(model, None).folder.is_dir()  # in-memory models: a temporary folder


@pytest.mark.slow
def test_aot_draws_the_eager_images_and_reuses_its_package(ckpt: Path, tmp_path: Path,
                                                           same_up_to_rounding: Any) -> None:
    eager = FlowGenerator(ckpt, steps=2)
    fast = FlowGenerator(ckpt, steps=2)
    fast.model.unet = AotBackbone(fast.model.unet, tmp_path)
    same_up_to_rounding(fast.generate(PROMPTS, [0, 1, 2]).images,
                        eager.generate(PROMPTS, [0, 1, 2]).images)
    (package,) = tmp_path.glob("*.pt2")
    again = FlowGenerator(ckpt, steps=2)
    again.model.unet = AotBackbone(again.model.unet, tmp_path)
    start = time.perf_counter()
    same_up_to_rounding(again.generate(PROMPTS, [0, 1, 2]).images,
                        eager.generate(PROMPTS, [0, 1, 2]).images)
    assert time.perf_counter() - start < 10  # loaded, not compiled again
    package.write_bytes(b"not a package")  # a damaged package is compiled again
    third = FlowGenerator(ckpt, steps=2)
    third.model.unet = AotBackbone(third.model.unet, tmp_path)
    same_up_to_rounding(third.generate(PROMPTS, [0, 1, 2]).images,
                        eager.generate(PROMPTS, [0, 1, 2]).images)
    assert [p.name for p in tmp_path.iterdir()] == [package.name]  # no temporary left
