"""The latent variant: the autoencoder (VAE + tiny decoder), a flow model on its latents,
the timed ``decode`` stage and the decoder option, loud errors."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab import catalog
from genlab.errors import CheckpointError, InputError
from genlab.generators.flow import FlowConfig, FlowGenerator, ensure_trained
from genlab.generators.flow.autoencoder import (
    AutoencoderConfig,
    autoencoder_dir,
    ensure_autoencoder,
)
from genlab.generators.flow.objective import images_to_tensor
from genlab.worlds.shapes.world import ShapesWorld

torch.set_num_threads(2)
PROMPTS = ["a red circle", "two blue squares", "three yellow circles"]


@pytest.fixture(scope="module")
def ckpt(model_cache: Path) -> Path:
    return ensure_trained(FlowConfig.latent_smoke(), model_cache, progress=False)


def test_the_latent_space_encodes_and_decodes_both_ways(model_cache: Path) -> None:
    config = AutoencoderConfig.profile("smoke")
    space = ensure_autoencoder(config, model_cache, progress=False)
    assert (config.factor, config.side) == (2, 16)
    rng = np.random.default_rng(3)
    x = images_to_tensor(ShapesWorld().training_batch(rng, 6, 32).images)
    with torch.no_grad():
        z = space.encode(x)
        assert z.shape == (6, config.latent_channels, 16, 16)
        # the scale was measured on renders: their latents have about unit spread
        assert 0.3 < float(z.std()) < 3.0 and float(space.scale) != 1.0
        for decoder in ("vae", "tiny"):
            assert space.decode(z, decoder).shape == x.shape
    with pytest.raises(InputError, match="decoder 'big'; accepted: vae, tiny"):
        space.decode(z, "big")
    # cached: the second call loads the same weights instead of training again
    again = ensure_autoencoder(config, model_cache, progress=False)
    assert torch.equal(again.scale, space.scale)
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(),
                                                 space.state_dict().values(), strict=True))


def test_a_new_tiny_decoder_keeps_the_vae(model_cache: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    config = AutoencoderConfig.profile("smoke")
    folder = autoencoder_dir(config, model_cache)
    ensure_autoencoder(config, model_cache, progress=False)
    vae = (folder / "vae.safetensors").stat().st_mtime_ns
    other = dataclasses.replace(config, tiny_width=4, tiny_steps=3)
    assert other.key() == config.key() and other.tiny_key() != config.tiny_key()
    space = ensure_autoencoder(other, model_cache, progress=False)
    assert (folder / "vae.safetensors").stat().st_mtime_ns == vae  # not retrained
    assert (folder / f"tiny-{other.tiny_key()}.safetensors").is_file()
    assert space.tiny.layers[0].out_channels == 4
    # a latent flow model's cache key follows its VAE, not its tiny decoder
    from genlab.generators.flow import config as flow_config

    key = FlowConfig.latent_smoke().key()
    monkeypatch.setattr(flow_config, "autoencoder_config", lambda _: other)
    assert FlowConfig.latent_smoke().key() == key
    monkeypatch.setattr(flow_config, "autoencoder_config",
                        lambda _: dataclasses.replace(config, steps=11))
    assert FlowConfig.latent_smoke().key() != key


def test_autoencoder_configs_refuse_bad_values() -> None:
    with pytest.raises(InputError, match="unknown autoencoder profile 'huge'; accepted"):
        AutoencoderConfig.profile("huge")
    with pytest.raises(InputError, match="one entry per level"):
        AutoencoderConfig(widths=(8, 16), tiny_blocks=(1,))
    with pytest.raises(InputError, match="tiny_blocks .* must be ints >= 0"):
        AutoencoderConfig(tiny_blocks=(0, 0, 0))
    with pytest.raises(InputError, match="latent_channels must be an int >= 1"):
        AutoencoderConfig(latent_channels=0)
    with pytest.raises(InputError, match="divisible by the downsampling factor 8"):
        AutoencoderConfig(widths=(8, 8, 8, 8), tiny_blocks=(1,) * 4, image_size=36)


def test_flow_configs_on_latents() -> None:
    c = FlowConfig.latent_default()
    assert (c.channels, c.side, c.grid) == (8, 8, 8)
    assert (FlowConfig.default().channels, FlowConfig.default().grid) == (3, 16)
    with pytest.raises(InputError, match="unknown autoencoder profile 'tiny'"):
        dataclasses.replace(c, latent="tiny")
    with pytest.raises(InputError, match="count_loss.*latent=''"):
        dataclasses.replace(c, count_loss=0.001, counter="default")
    with pytest.raises(InputError, match="side 8 .* divisible by patch 2"):
        dataclasses.replace(c, patch=2, block_out_channels=(16, 32, 64, 64),
                            cross_attention_levels=(False,) * 3 + (True,))
    # the pixel models' stored JSON (and so their cache keys) do not change
    assert "latent" not in FlowConfig.default().to_dict()
    assert FlowConfig.from_json(c.to_json()) == c


def test_a_latent_model_decodes_in_a_timed_stage(ckpt: Path, same_up_to_rounding) -> None:  # type: ignore[no-untyped-def]
    gen = FlowGenerator(ckpt, steps=2)
    assert gen.latent is not None and gen.describe()["decoder"] == "vae"
    smoke = AutoencoderConfig.profile("smoke")  # a run's identity names the weights
    assert gen.describe()["autoencoder"] == {"vae": smoke.key(), "tiny": smoke.tiny_key()}
    seeds = [1, 2, 3]
    out = gen.generate(PROMPTS, seeds)
    assert out.images.shape == (3, 32, 32, 3) and out.images.dtype == np.uint8
    assert set(out.timings) == {"text_encoding", "backbone", "sampler", "decode"}
    assert out.timings["decode"] > 0
    tiny = gen.with_options(decoder="tiny")
    assert tiny.describe()["decoder"] == "tiny" and gen.decoder == "vae"
    assert not np.array_equal(tiny.generate(PROMPTS, seeds).images, out.images)
    # streamed, the images are generate's, decoded one by one
    streamed = gen.stream(PROMPTS, seeds)
    same_up_to_rounding(streamed.generation.images, out.images)
    assert streamed.generation.timings["decode"] > 0
    with pytest.raises(InputError, match="decoder 'big'; accepted"):
        gen.with_options(decoder="big")


def test_decoder_options_need_a_latent_model(model_cache: Path, ckpt: Path,
                                             tmp_path: Path) -> None:
    pixel = ensure_trained(FlowConfig.smoke(), model_cache, progress=False)
    with pytest.raises(InputError, match="decoder 'tiny' decodes latents; this flow model"):
        FlowGenerator(pixel, decoder="tiny")
    assert "decoder" not in FlowGenerator(pixel).describe()  # pixel runs keep their hash
    # a latent checkpoint whose autoencoder is missing: a clear error, not a retraining
    lonely = tmp_path / "cache" / ckpt.parent.name / ckpt.name
    shutil.copytree(ckpt, lonely)
    with pytest.raises(CheckpointError, match="needs its autoencoder"):
        FlowGenerator(lonely)
    ae = autoencoder_dir(AutoencoderConfig.profile("smoke"), tmp_path / "cache")
    assert not ae.exists()


def test_flow_latent_is_in_the_catalog(model_cache: Path) -> None:
    gen = catalog.GENERATORS.get("flow-latent", profile="smoke", cache_dir=model_cache,
                                 progress=False)
    assert gen.name == "flow-latent" and gen.latent is not None


def test_students_refuse_a_latent_teacher(ckpt: Path, tmp_path: Path) -> None:
    from genlab.generators.flow import student

    def never() -> tuple[Path, dict[str, float]]:
        raise AssertionError("nothing is made for a latent teacher")

    with pytest.raises(InputError, match="pixel flow model; this teacher .* latents"):
        student.ensure(FlowGenerator(ckpt), tmp_path / "student", 1, "{}", None, never)
    assert not (tmp_path / "student").exists()
