"""``FlowGenerator``: the Generator contract, seed determinism, loud errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from genlab.contracts import Generation, Generator
from genlab.errors import GenlabError, InputError, ParseError, UnknownNameError
from genlab.generators.flow import FlowConfig, FlowGenerator, ensure_trained
from genlab.generators.flow.model import FlowModel
from genlab.worlds.shapes.spec import Box

torch.set_num_threads(2)
PROMPTS = ["a red circle", "two blue squares", "a green triangle to the left of a red square"]


@pytest.fixture(scope="module")
def ckpt(model_cache: Path) -> Path:
    return ensure_trained(FlowConfig.smoke(), model_cache, progress=False)


@pytest.fixture(scope="module")
def gen(ckpt: Path) -> FlowGenerator:
    return FlowGenerator(ckpt, steps=3, sampler="heun", guidance=2.0)


def test_contract_shapes_and_timings(gen: FlowGenerator) -> None:
    assert isinstance(gen, Generator) and gen.name == "flow"
    boxes = [None, None, (Box(0.1, 0.1, 0.4, 0.4), Box(0.55, 0.55, 0.85, 0.85))]
    out = gen.generate(PROMPTS, [0, 1, 2], boxes=boxes, size=32)
    assert isinstance(out, Generation)
    assert out.images.shape == (3, 32, 32, 3) and out.images.dtype == np.uint8
    assert set(out.timings) == {"text_encoding", "backbone", "sampler"}
    assert all(v >= 0 for v in out.timings.values()) and out.timings["backbone"] > 0
    assert gen.generate([], []).images.shape == (0, 32, 32, 3)


def test_same_seed_same_image_whatever_the_batch(ckpt: Path, same_up_to_rounding) -> None:
    big = FlowGenerator(ckpt, steps=2, batch_size=64)
    small = FlowGenerator(ckpt, steps=2, batch_size=2)
    a = big.generate(PROMPTS, [5, 6, 7]).images
    same_up_to_rounding(a[1], big.generate([PROMPTS[1]], [6]).images[0])
    same_up_to_rounding(a, small.generate(PROMPTS, [5, 6, 7]).images)
    assert not np.array_equal(a[0], big.generate([PROMPTS[0]], [8]).images[0])


def test_bad_input(gen: FlowGenerator, ckpt: Path) -> None:
    with pytest.raises(InputError, match="64.*32|32.*64"):
        gen.generate(["a red circle"], [1], size=64)
    with pytest.raises(InputError, match="seeds"):
        gen.generate(["a red circle"], [1, 2])
    with pytest.raises(ParseError, match="hexagon"):
        gen.generate(["a red hexagon"], [1])
    with pytest.raises(InputError, match="box lists"):
        gen.generate(["a red circle"], [1], boxes=[None, None])
    with pytest.raises(UnknownNameError, match="euler"):
        FlowGenerator(ckpt, sampler="eulr")
    with pytest.raises(InputError, match="steps"):
        FlowGenerator(ckpt, steps=0)


def test_nan_is_an_error_not_an_image(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    g = FlowGenerator.from_model(FlowModel(FlowConfig.smoke()), steps=2, guidance=1.0)
    monkeypatch.setattr(g.model, "velocity", lambda x, *a, **k: torch.full_like(x, float("nan")))
    with pytest.raises(GenlabError, match="NaN"):
        g.generate(["a red circle"], [0])


def test_catalog_entry(model_cache: Path) -> None:
    from genlab.generators.flow.entry import load_flow

    gen = load_flow(profile="smoke", cache_dir=model_cache, progress=False, steps=2)
    assert gen.steps == 2 and gen.config == FlowConfig.smoke()
    with pytest.raises(InputError, match="smoke"):
        load_flow(profile="smoek", cache_dir=model_cache)


def test_box_channel_model_generates_with_and_without_boxes() -> None:
    """A model with box_channels takes the masks in both CFG branches (zeros in the
    unconditional one), and prompts without boxes still work."""
    import dataclasses

    model = FlowModel(dataclasses.replace(FlowConfig.smoke(), box_channels=4))
    gen = FlowGenerator.from_model(model, steps=2, guidance=2.0)
    boxes = [None, (Box(0.1, 0.1, 0.4, 0.4), Box(0.55, 0.55, 0.85, 0.85))]
    out = gen.generate(["a red circle", "a red circle and a blue square"], [0, 1],
                       boxes=boxes, size=32)
    assert out.images.shape == (2, 32, 32, 3)


def test_with_options_copies_the_sampling_and_shares_the_weights(gen: FlowGenerator) -> None:
    fast = gen.with_options(steps=1, sampler="euler", guidance=1.0)
    assert (fast.steps, fast.sampler, fast.guidance) == (1, "euler", 1.0)
    assert (gen.steps, gen.sampler, gen.guidance) == (3, "heun", 2.0)  # unchanged
    assert fast.model is gen.model and fast.describe() != gen.describe()
    a = fast.generate(PROMPTS[:1], [5]).images
    b = FlowGenerator.from_model(gen.model, steps=1, guidance=1.0).generate(PROMPTS[:1],
                                                                           [5]).images
    assert np.array_equal(a, b)
    with pytest.raises(InputError, match="unknown flow sampling option"):
        gen.with_options(stepz=2)
    with pytest.raises(InputError, match="steps"):
        gen.with_options(steps=0)
    with pytest.raises(UnknownNameError, match="hune"):
        gen.with_options(sampler="hune")
    with pytest.raises(InputError, match="guidance"):
        gen.with_options(guidance="2")


def test_compile_option_is_checked(ckpt: Path) -> None:
    with pytest.raises(InputError, match="compile must be"):
        FlowGenerator(ckpt, compile="yes")  # type: ignore[arg-type]
    from genlab.generators.flow.attention import AttentionGuidance

    attend = FlowGenerator(ckpt, steps=2, attention=AttentionGuidance("excite", 0.01, 0.5))
    with pytest.raises(InputError, match="attention guidance"):
        attend.compile_backbone()


@pytest.mark.slow
def test_compiled_backbone_draws_the_eager_images(ckpt: Path, same_up_to_rounding: Any
                                                  ) -> None:
    eager = FlowGenerator(ckpt, steps=2)
    fast = FlowGenerator(ckpt, steps=2, compile=True)
    assert fast.compiled and fast.describe()["compile"] is True and "compile" not in \
        eager.describe()
    same_up_to_rounding(fast.generate(PROMPTS, [0, 1, 2]).images,
                        eager.generate(PROMPTS, [0, 1, 2]).images)


def test_dtype_option_is_checked_against_the_cpu(ckpt: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import genlab.machine

    gen = FlowGenerator(ckpt, steps=2, sampler="euler")
    with pytest.raises(InputError, match="float16.*accepted: float32, bfloat16"):
        gen.with_options(dtype="float16")
    monkeypatch.setattr(genlab.machine, "supports_bf16", lambda: False)
    with pytest.raises(InputError, match="natively.*Accepted here: float32"):
        gen.with_options(dtype="bfloat16")
    monkeypatch.setattr(genlab.machine, "supports_bf16", lambda: True)
    half = gen.with_options(dtype="bfloat16")
    assert half.describe()["dtype"] == "bfloat16" and "dtype" not in gen.describe()
    a = gen.generate(PROMPTS, [1, 2, 3]).images.astype(float)
    b = half.generate(PROMPTS, [1, 2, 3]).images.astype(float)
    assert b.shape == a.shape and np.abs(a - b).mean() < 8  # bfloat16 rounding, not noise


def test_guidance_interval_guides_only_inside_it(gen: FlowGenerator,
                                                 same_up_to_rounding: Any) -> None:
    """Outside the interval only the conditional branch runs: an interval that holds no
    sampling time draws the unguided (w = 1) images; the full interval is the default
    and keeps the run hash; a part of it draws other images than either."""
    euler = gen.with_options(sampler="euler", steps=4)
    seeds = [3, 4]
    full = euler.generate(PROMPTS[:2], seeds).images
    assert euler.with_options(guidance_interval=(0, 1)).describe() == euler.describe()
    none = euler.with_options(guidance_interval=(0.0, 0.1)).generate(PROMPTS[:2], seeds)
    unguided = euler.with_options(guidance=1.0).generate(PROMPTS[:2], seeds).images
    same_up_to_rounding(none.images, unguided)
    part = euler.with_options(guidance_interval=(0.2, 0.6))
    assert part.describe()["guidance_interval"] == [0.2, 0.6]
    mid = part.generate(PROMPTS[:2], seeds).images
    assert not np.array_equal(mid, full) and not np.array_equal(mid, unguided)
    for bad in ((0.5, 0.2), (0.0, 1.5), "01", (0.1,), None):
        with pytest.raises(InputError, match="guidance_interval must be two times"):
            gen.with_options(guidance_interval=bad)
    with pytest.raises(InputError, match="guidance_interval"):
        part.stream(PROMPTS[:1], [0])


def test_guidance_rule_changes_only_how_branches_combine(gen: FlowGenerator,
                                                         same_up_to_rounding: Any) -> None:
    """APG with eta = 1 and no cap is plain guidance (the same images); CFG-rescale draws
    others; a rule enters the run hash only when set, and what cannot use it says so."""
    euler = gen.with_options(sampler="euler", steps=4)
    seeds = [3, 4]
    plain = euler.generate(PROMPTS[:2], seeds).images
    assert euler.with_options(guidance_rule="cfg").describe() == euler.describe()
    same = euler.with_options(guidance_rule="apg:eta=1")
    assert same.describe()["guidance_rule"] == "apg:eta=1,r=0"
    same_up_to_rounding(same.generate(PROMPTS[:2], seeds).images, plain)
    rescaled = euler.with_options(guidance_rule="rescale:phi=1").generate(PROMPTS[:2], seeds)
    assert not np.array_equal(rescaled.images, plain)
    with pytest.raises(InputError, match="unknown guidance rule 'cfg2'"):
        gen.with_options(guidance_rule="cfg2")
    with pytest.raises(InputError, match="guidance_rule='rescale:phi=0.7'"):
        euler.with_options(guidance_rule="rescale").stream(PROMPTS[:1], [0])
