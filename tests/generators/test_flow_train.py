"""Training of ``flow``: curve, atomic checkpoints, exact resume, loud checkpoint errors."""

from __future__ import annotations

import csv
import dataclasses
import importlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from genlab.errors import CheckpointError, InputError
from genlab.generators.flow import FlowConfig, FlowGenerator, checkpoint, ensure_trained

train_mod = importlib.import_module("genlab.generators.flow.train")
torch.set_num_threads(2)

TINY = dataclasses.replace(FlowConfig.smoke(), train_steps=10, checkpoint_every=5, log_every=5)


def _curve_steps(run_dir: Path) -> list[int]:
    with (run_dir / "curve.csv").open() as f:
        return [int(r["step"]) for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("flow-run")
    train_mod.train(TINY, run, progress=False)
    return run


def test_train_writes_curve_and_checkpoint(trained: Path) -> None:
    ckpt = checkpoint.resolve(trained)
    assert ckpt.name == "step-0000010"
    assert all((ckpt / f).is_file() for f in checkpoint.FILES)
    assert checkpoint.checkpoints(trained) == [ckpt]  # older ones pruned
    assert _curve_steps(trained) == [5, 10]
    assert checkpoint.load_config(ckpt) == TINY
    assert checkpoint.load_meta(ckpt) == {"step": 10, "train_steps": 10}
    made_with = json.loads((ckpt / checkpoint.META).read_text())["made_with"]
    assert made_with["torch"] == torch.__version__
    assert made_with["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert {"diffusers", "numpy", "numba", "cpu"} <= set(made_with)


def test_resume_after_interruption_matches_uninterrupted(
        trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_step, calls = train_mod._train_step, []

    def crashing_step(run: object) -> float:
        if len(calls) == 7:
            raise KeyboardInterrupt  # as if killed after step 7; step 5 is checkpointed
        calls.append(1)
        return real_step(run)

    monkeypatch.setattr(train_mod, "_train_step", crashing_step)
    with pytest.raises(KeyboardInterrupt):
        train_mod.train(TINY, tmp_path, progress=False)
    assert [p.name for p in checkpoint.checkpoints(tmp_path)] == ["step-0000005"]
    monkeypatch.setattr(train_mod, "_train_step", real_step)
    final = train_mod.train(TINY, tmp_path, progress=False)
    assert final.name == "step-0000010"
    assert _curve_steps(tmp_path) == [5, 10]  # no duplicated rows
    for f in (checkpoint.WEIGHTS, checkpoint.EMA_WEIGHTS):
        a = load_file(str(final / f))
        b = load_file(str(checkpoint.resolve(trained) / f))
        assert all(torch.equal(a[k], b[k]) for k in a), f"{f} differs after resume"


def test_half_written_curve_row_is_dropped(trained: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    with (run / "curve.csv").open("a") as f:
        f.write("15,0.5")  # a row cut by a kill, past the checkpoint
    train_mod.train(TINY, run, progress=False)
    assert _curve_steps(run) == [5, 10]


def test_resume_refuses_another_config(trained: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    with pytest.raises(CheckpointError, match="different config"):
        train_mod.train(dataclasses.replace(TINY, lr=5e-4), run, progress=False)


def test_corrupt_and_missing_files(trained: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / checkpoint.resolve(trained).name
    shutil.copytree(checkpoint.resolve(trained), ckpt)
    ema = ckpt / checkpoint.EMA_WEIGHTS
    ema.write_bytes(ema.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt") as e:
        FlowGenerator(ckpt)
    assert str(ema) in str(e.value)
    ema.unlink()
    with pytest.raises(CheckpointError, match="missing"):
        FlowGenerator(ckpt)
    with pytest.raises(CheckpointError, match="does not exist"):
        FlowGenerator(tmp_path / "nowhere")


def test_config_that_does_not_match_the_weights(trained: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / checkpoint.resolve(trained).name
    shutil.copytree(checkpoint.resolve(trained), ckpt)
    other = dataclasses.replace(TINY, block_out_channels=(16, 48))
    (ckpt / checkpoint.CONFIG).write_text(other.to_json())
    with pytest.raises(CheckpointError, match="do not match") as e:
        FlowGenerator(ckpt)
    assert str(ckpt) in str(e.value)
    (ckpt / checkpoint.CONFIG).write_text("{not json")
    with pytest.raises(CheckpointError, match="unreadable"):
        FlowGenerator(ckpt)


def test_ensure_trained_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = ensure_trained(TINY, tmp_path, progress=False)
    assert first.parent.name == f"flow-{TINY.key()}"

    def no_training(*a: object, **k: object) -> Path:
        raise AssertionError("ensure_trained retrained a cached model")

    monkeypatch.setattr(train_mod, "train", no_training)
    assert ensure_trained(TINY, tmp_path, progress=False) == first


def test_config_json_round_trip_and_errors() -> None:
    for c in (FlowConfig.default(), FlowConfig.smoke(), TINY):
        assert FlowConfig.from_json(c.to_json()) == c
    assert FlowConfig.smoke().key() != FlowConfig.default().key()
    with pytest.raises(InputError, match="unknown FlowConfig fields"):
        FlowConfig.from_json(FlowConfig().to_json().replace('"lr"', '"lr_typo"'))
    with pytest.raises(InputError, match="categories"):
        FlowConfig(categories=("shapes",))
    with pytest.raises(InputError, match="divisible"):
        FlowConfig(image_size=30)


def test_loss_options_change_the_loss_and_validate() -> None:
    """scale_shift builds a FiLM UNet; loss_t_floor reweights (and only when > 0)."""
    from genlab.generators.flow.model import FlowModel
    from genlab.generators.flow.objective import flow_loss

    film = FlowModel(dataclasses.replace(FlowConfig.smoke(), scale_shift=True))
    assert film.unet.config.resnet_time_scale_shift == "scale_shift"
    model = FlowModel(FlowConfig.smoke())
    x0 = torch.zeros(4, 3, 32, 32)
    ids, mask = model.tokenizer.encode(["a red circle"] * 4, [None] * 4)

    def loss(floor: float) -> float:
        g = torch.Generator().manual_seed(0)
        return float(flow_loss(model, x0, ids, mask, t_mean=-2.0, t_std=0.5, cfg_dropout=0.0,
                               generator=g, t_floor=floor).detach())

    # t ~ sigmoid(N(-2, 0.5)) is mostly below 0.3: a 0.3 floor must shrink the loss.
    assert loss(0.3) < loss(0.0)
    assert loss(1e-6) == pytest.approx(loss(0.0), rel=1e-5)
    with pytest.raises(InputError, match="loss_t_floor"):
        FlowConfig(loss_t_floor=1.5)


def test_stop_at_pauses_and_resumes_exactly(trained: Path, tmp_path: Path) -> None:
    paused = train_mod.train(TINY, tmp_path, progress=False, stop_at=5)
    assert paused.name == "step-0000005"
    final = train_mod.train(TINY, tmp_path, progress=False)
    assert _curve_steps(tmp_path) == [5, 10]
    a, b = load_file(str(final / checkpoint.WEIGHTS)), load_file(
        str(checkpoint.resolve(trained) / checkpoint.WEIGHTS))
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(InputError, match="stop_at 11"):
        train_mod.train(TINY, tmp_path, progress=False, stop_at=11)


def test_two_data_parallel_workers_resume_exactly(tmp_path: Path) -> None:
    """Two gloo workers: a paused and resumed run ends with the weights of an unpaused one,
    and its config says so (the worker count is part of the cache key)."""
    two = dataclasses.replace(TINY, workers=2)
    assert two.key() != TINY.key()
    whole = train_mod.train(two, tmp_path / "whole", progress=False)
    train_mod.train(two, tmp_path / "paused", progress=False, stop_at=5)
    resumed = train_mod.train(two, tmp_path / "paused", progress=False)
    assert whole.name == resumed.name == "step-0000010"
    assert _curve_steps(tmp_path / "paused") == [5, 10]
    for f in (checkpoint.WEIGHTS, checkpoint.EMA_WEIGHTS):
        a, b = load_file(str(whole / f)), load_file(str(resumed / f))
        assert all(torch.equal(a[k], b[k]) for k in a), f"{f} differs after resume"
    one = load_file(str(train_mod.train(TINY, tmp_path / "one", progress=False)
                        / checkpoint.WEIGHTS))
    w = load_file(str(whole / checkpoint.WEIGHTS))
    assert not all(torch.equal(w[k], one[k]) for k in w)  # other data streams, other weights
    assert not list((tmp_path / "whole").glob(".dist-store-*"))


def test_workers_must_divide_the_batch() -> None:
    with pytest.raises(InputError, match="batch_size 8 must be divisible by workers 3"):
        dataclasses.replace(TINY, workers=3)


def test_an_added_field_at_its_default_keeps_old_keys() -> None:
    """A field added later (config.ADDED_FIELDS) is left out of the JSON at its default,
    so models trained before it existed keep their cache key; set, it is stored."""
    from genlab.generators.flow.config import ADDED_FIELDS

    base = FlowConfig()  # every field at its dataclass default
    for name, default in ADDED_FIELDS.items():
        assert getattr(base, name) == default
        assert f'"{name}"' not in base.to_json()
    fourier = dataclasses.replace(base, box_fourier=True)
    assert '"box_fourier": true' in fourier.to_json()
    assert FlowConfig.from_json(fourier.to_json()) == fourier
    assert fourier.key() != base.key()
    assert '"box_channels": 4' in FlowConfig.default().to_json()  # the profile sets it


def test_a_training_revision_enters_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 0 (the code every cached model was trained by) the revision stays out of the
    key; a bump changes every key, so models of the older code are never handed back."""
    from genlab.generators.flow import config as config_module

    before = FlowConfig.default().key()
    assert before == "3a7d51049ed92799"  # the main job's model since session 23
    assert FlowConfig.session5().key() == "eb338484cc58b7b1"  # sessions 5-22's
    monkeypatch.setattr(config_module, "TRAINING_REVISION", 1)
    assert FlowConfig.default().key() != before
    assert FlowConfig.session5().key() != "eb338484cc58b7b1"


def test_box_fourier_features_only_on_coordinate_tokens() -> None:
    """Each bin token gets Fourier features of its centre plus its x0/y0/x1/y1 role;
    every other token gets nothing, and the same bin in two roles differs."""
    from genlab.generators.flow.model import FlowModel
    from genlab.worlds.shapes.spec import Box

    model = FlowModel(dataclasses.replace(FlowConfig.smoke(), box_fourier=True))
    tok = model.tokenizer
    ids, _ = tok.encode(["a red circle and a blue square"],
                        [[Box(0.1, 0.1, 0.4, 0.4), Box(0.5, 0.5, 0.9, 0.9)]])
    feats = model.text._box_features(ids)[0]
    is_bin = (ids[0] >= tok.first_bin) & (ids[0] < tok.first_bin + tok.bins)
    assert int(is_bin.sum()) == 8
    assert torch.all(feats[~is_bin] == 0) and torch.all(feats[is_bin].abs().sum(-1) > 0)
    rows = feats[is_bin]  # x0 = y0 = 0.1 share a bin but not a role
    assert not torch.allclose(rows[0], rows[1])
    assert torch.allclose(rows[0] - model.text.box_role[0], rows[1] - model.text.box_role[1])


def test_pooled_dropout_zeroes_the_pooled_text_only_in_training() -> None:
    """pooled_dropout changes the training loss (some samples lose the pooled vector);
    a dropped pooled vector changes the velocity; a kept one is the plain forward."""
    from genlab.generators.flow.model import FlowModel
    from genlab.generators.flow.objective import flow_loss

    model = FlowModel(dataclasses.replace(FlowConfig.smoke(), box_channels=0))
    ids, mask = model.tokenizer.encode(["a red circle", "two blue squares"], [None, None])
    states, smask = model.encode(ids, mask)
    x, t = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)), torch.rand(2)
    plain = model.velocity(x, t, states, smask)
    kept = model.velocity(x, t, states, smask, pooled_keep=torch.tensor([True, True]))
    dropped = model.velocity(x, t, states, smask, pooled_keep=torch.tensor([False, True]))
    assert torch.equal(plain, kept)
    assert not torch.allclose(plain[0], dropped[0]) and torch.allclose(plain[1], dropped[1])

    def loss(p: float) -> float:
        g = torch.Generator().manual_seed(0)
        return float(flow_loss(model, torch.zeros(2, 3, 32, 32), ids, mask, t_mean=0.0,
                               t_std=1.0, cfg_dropout=0.0, generator=g,
                               pooled_dropout=p).detach())

    assert loss(0.9) != loss(0.0)
    with pytest.raises(InputError, match="pooled_dropout"):
        FlowConfig(pooled_dropout=1.0)


def test_exact_head_dim_sets_channels_per_head() -> None:
    """diffusers reads attention_head_dim as a head count; exact_head_dim makes it
    channels per head, and a width it does not divide is a clear error."""
    import dataclasses

    from genlab.errors import InputError
    from genlab.generators.flow.config import FlowConfig
    from genlab.generators.flow.model import build_unet

    base = FlowConfig.session5()

    def heads(c: FlowConfig) -> set[tuple[int, int]]:
        return {(m.heads, m.to_q.weight.shape[0] // m.heads)
                for n, m in build_unet(c).named_modules() if n.endswith("attn2")}

    assert heads(base) == {(32, 2)}  # diffusers' reading: 32 heads of 2 channels
    assert heads(dataclasses.replace(base, exact_head_dim=True)) == {(2, 32)}
    # with attention at 8x8 too: heads of 32 at the 32-wide and the 64-wide level
    assert heads(dataclasses.replace(base, exact_head_dim=True, cross_attention_levels=(
        False, True, True))) == {(1, 32), (2, 32)}
    with pytest.raises(InputError, match="attention_head_dim 24"):
        dataclasses.replace(base, exact_head_dim=True, attention_head_dim=24)


def test_box_maps_mark_each_box_in_prompt_order() -> None:
    """box_channels: channel k is the k-th layout box's mask (to within one bin), rows
    without boxes are empty, and more boxes than channels or a broken group is an error."""
    import dataclasses

    from genlab.errors import InputError
    from genlab.generators.flow.box_maps import box_maps
    from genlab.generators.flow.model import FlowModel
    from genlab.worlds.shapes.spec import Box

    model = FlowModel(dataclasses.replace(FlowConfig.smoke(), box_channels=2))
    boxes = (Box(0.1, 0.2, 0.4, 0.5), Box(0.55, 0.6, 0.9, 0.95))
    ids, _ = model.tokenizer.encode(["a red circle and a blue square", "a red circle"],
                                    [boxes, None])
    maps = model.box_maps(ids)
    assert maps is not None and maps.shape == (2, 2, 16, 16)
    assert maps[1].sum() == 0
    centre = (torch.arange(16) + 0.5) / 16
    for k, b in enumerate(boxes):
        inside = ((centre[:, None] > b.y0 + 1 / 16) & (centre[:, None] < b.y1 - 1 / 16)
                  & (centre[None, :] > b.x0 + 1 / 16) & (centre[None, :] < b.x1 - 1 / 16))
        outside = ((centre[:, None] < b.y0 - 1 / 16) | (centre[:, None] > b.y1 + 1 / 16)
                   | (centre[None, :] < b.x0 - 1 / 16) | (centre[None, :] > b.x1 + 1 / 16))
        assert bool(maps[0, k][inside].all()) and not bool(maps[0, k][outside].any())
    first, bins = model.tokenizer.first_bin, model.config.box_bins
    with pytest.raises(InputError, match="box_channels=1"):
        box_maps(ids, first, bins, 1, 16)
    with pytest.raises(InputError, match="in fours"):
        box_maps(torch.tensor([[first, first + 1, first + 2]]), first, bins, 2, 16)
    # the maps reach the UNet: changing a box changes the velocity
    states, smask = model.encode(ids, _)
    x, t = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)), torch.rand(2)
    v = model.velocity(x, t, states, smask, boxes=maps)
    assert not torch.allclose(v, model.velocity(x, t, states, smask, boxes=maps.flip(-1)))
    with pytest.raises(InputError, match="box_channels=2"):
        model.velocity(x, t, states, smask)
    with pytest.raises(InputError, match="box_channels"):
        FlowConfig(box_channels=-1)


def test_pooled_slots_attend_over_the_prompt_only() -> None:
    """pooled_slots appends one attention-pooled vector per learned query: padding never
    moves it, the prompt does, and it needs pooled_text."""
    from genlab.errors import InputError
    from genlab.generators.flow.model import FlowModel

    model = FlowModel(dataclasses.replace(FlowConfig.smoke(), pooled_slots=3))
    ids, mask = model.tokenizer.encode(["a red circle", "a blue square"], [None, None])
    states, smask = model.encode(ids, mask)
    slots = model._slots(states, smask)
    assert slots.shape == (2, 3 * model.config.text_dim)
    padded = states.clone()
    padded[~smask] = 99.0  # padding positions are masked out of the attention
    assert torch.allclose(model._slots(padded, smask), slots)
    assert not torch.allclose(slots[0], slots[1])
    with pytest.raises(InputError, match="pooled_slots"):
        FlowConfig(pooled_slots=2, pooled_text=False)


def test_coord_channels_give_the_unet_each_cells_position() -> None:
    """coord_channels: two fixed maps, x left to right and y top to bottom in [-1, 1],
    widen the UNet's input by two; a non-bool is a clear error."""
    from genlab.errors import InputError
    from genlab.generators.flow.model import FlowModel, coord_maps

    maps = coord_maps(3, 4)
    assert maps.shape == (3, 2, 4, 4)
    assert torch.allclose(maps[0, 0, 0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))
    assert torch.allclose(maps[0, 1, :, 0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))
    assert torch.equal(maps[0, 0], maps[0, 1].T)
    plain = FlowModel(dataclasses.replace(FlowConfig.smoke(), box_channels=0))
    model = FlowModel(dataclasses.replace(FlowConfig.smoke(), box_channels=0,
                                          coord_channels=True))
    assert model.unet.conv_in.in_channels == plain.unet.conv_in.in_channels + 2
    ids, mask = model.tokenizer.encode(["a red circle"], [None])
    states, smask = model.encode(ids, mask)
    v = model.velocity(torch.zeros(1, 3, 32, 32), torch.tensor([0.5]), states, smask)
    assert v.shape == (1, 3, 32, 32) and torch.isfinite(v).all()
    with pytest.raises(InputError, match="coord_channels"):
        FlowConfig(coord_channels=1)  # type: ignore[arg-type]


DIT_SMOKE = dataclasses.replace(FlowConfig.smoke(), backbone="dit",
                                dit_width=32, dit_depth=2, attention_head_dim=16)


def test_dit_backbone_builds_trains_resumes_and_samples(tmp_path: Path) -> None:
    """backbone='dit': a PixArt transformer with cross-attention in every block, one
    token per dit_patch x dit_patch latent cells, and the pooled text in its adaLN
    embedding; it trains, resumes to the same weights, and samples images."""
    from diffusers import PixArtTransformer2DModel

    from genlab.generators.flow.model import FlowModel, PooledTimestepEmbedding

    model = FlowModel(DIT_SMOKE)
    assert isinstance(model.unet, PixArtTransformer2DModel)
    blocks = model.unet.transformer_blocks
    assert len(blocks) == 2 and {b.attn2.heads for b in blocks} == {2}
    assert model.unet.pos_embed.height == 32 // 2 // 2  # tokens a side
    assert isinstance(model.unet.adaln_single.emb, PooledTimestepEmbedding)
    ids, mask = model.tokenizer.encode(["a red circle"] * 2, [None] * 2)
    states, smask = model.encode(ids, mask)
    x, t = torch.randn(2, 3, 32, 32), torch.tensor([0.5, 0.5])
    v = model.velocity(x, t, states, smask, torch.tensor([True, False]), boxes=model.box_maps(ids))
    assert not torch.allclose(v[0], v[1])  # the pooled text reaches the output
    plain = FlowModel(dataclasses.replace(DIT_SMOKE, pooled_text=False))
    assert not isinstance(plain.unet.adaln_single.emb, PooledTimestepEmbedding)
    c = dataclasses.replace(DIT_SMOKE, train_steps=6, checkpoint_every=3, log_every=3)
    whole = tmp_path / "whole"
    final = train_mod.train(c, whole, progress=False)
    part = tmp_path / "part"
    train_mod.train(c, part, progress=False, stop_at=3)
    resumed = train_mod.train(c, part, progress=False)
    a, b = (load_file(str(p / checkpoint.WEIGHTS)) for p in (final, resumed))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    gen = FlowGenerator(final, steps=2)
    images = gen.generate(["a red circle", "two blue squares"], [0, 1]).images
    assert images.shape == (2, 32, 32, 3)
    assert gen.attention_side() == 8
    from genlab.generators.flow.attention import AttentionGuidance

    guided = FlowGenerator(final, steps=2, attention=AttentionGuidance("box", strength=0.5))
    prompt = ["a red circle to the left of a blue square"]
    out = guided.generate(prompt, [0]).images
    # the transformer's cross-attention is guidable too: the push changes the image
    assert out.shape == (1, 32, 32, 3) and (out != gen.generate(prompt, [0]).images).any()


def test_dit_config_errors_name_the_bad_value() -> None:
    with pytest.raises(InputError, match="backbone 'vit'.*unet, dit"):
        FlowConfig(backbone="vit")
    with pytest.raises(InputError, match="dit_patch 3"):
        FlowConfig(backbone="dit", pooled_text=False, dit_patch=3)
    with pytest.raises(InputError, match="dit_width 100"):
        FlowConfig(backbone="dit", pooled_text=False, dit_width=100)
    with pytest.raises(InputError, match="dit_depth must be an int >= 1"):
        FlowConfig(backbone="dit", pooled_text=False, dit_depth=0)


def test_extra_emas_are_the_emas_of_their_own_runs(trained: Path, tmp_path: Path) -> None:
    """A run with extra EMA decays, paused and resumed, holds for each decay exactly the
    EMA a run with that ``ema_decay`` ends with (the EMA never feeds back), and
    ``split_emas`` writes each into the cache as that config's finished run."""
    extra = dataclasses.replace(TINY, extra_ema_decays=(0.9, 0.5))
    assert extra.key() != TINY.key()
    train_mod.train(extra, tmp_path / "extra", progress=False, stop_at=5)
    final = train_mod.train(extra, tmp_path / "extra", progress=False)
    assert (final / checkpoint.extra_ema_file(0.9)).is_file()
    cache = tmp_path / "cache"
    split = train_mod.split_emas(final, cache)
    assert sorted(split) == [0.5, 0.9, TINY.ema_decay]
    direct = train_mod.train(dataclasses.replace(TINY, ema_decay=0.9), tmp_path / "direct",
                             progress=False)
    for decay, reference in ((0.9, direct), (TINY.ema_decay, checkpoint.resolve(trained))):
        got = split[decay]
        assert checkpoint.load_config(got) == dataclasses.replace(TINY, ema_decay=decay)
        assert got == ensure_trained(checkpoint.load_config(got), cache, progress=False)
        assert (got / checkpoint.META).read_text() == (final / checkpoint.META).read_text()
        for f in (checkpoint.WEIGHTS, checkpoint.EMA_WEIGHTS):
            a, b = load_file(str(got / f)), load_file(str(reference / f))
            assert all(torch.equal(a[k], b[k]) for k in a), f"{decay}: {f} differs"
    a = load_file(str(split[0.5] / checkpoint.EMA_WEIGHTS))
    b = load_file(str(split[0.9] / checkpoint.EMA_WEIGHTS))
    assert not all(torch.equal(a[k], b[k]) for k in a)  # two decays, two averages
    assert train_mod.split_emas(final, cache) == split  # kept, not rewritten
    with pytest.raises(InputError, match=r"extra_ema_decays \(0\.9, 0\.9\)"):
        dataclasses.replace(TINY, extra_ema_decays=(0.9, 0.9))
    with pytest.raises(InputError, match="none equal to ema_decay"):
        dataclasses.replace(TINY, extra_ema_decays=(TINY.ema_decay,))
    train_mod.train(extra, tmp_path / "half", progress=False, stop_at=5)
    with pytest.raises(InputError, match=r"at step 5 of 10"):
        train_mod.split_emas(tmp_path / "half", cache)


def test_named_profiles_and_a_clear_error_for_an_unknown_one() -> None:
    """``FlowConfig.named`` is what the benches' ``--config`` reads; a typo names the
    accepted profiles and the closest one."""
    from genlab.errors import InputError

    assert FlowConfig.named("session5") == FlowConfig.session5()
    assert FlowConfig.named("default").batch_size == 128
    with pytest.raises(InputError, match=r"'sesion5'.*default, session5, smoke.*session5"):
        FlowConfig.named("sesion5")
