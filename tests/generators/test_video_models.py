"""The learned video generators (``video-ar``, ``diffusion-forcing``, ``fifo``) on their
smoke models: the VideoGenerator contract, bit-identical resume, loud errors, seeds and
the training cache."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab.contracts import VideoGenerator, VideoRequest, check_frames
from genlab.errors import CheckpointError, InputError, UnknownNameError
from genlab.generators.video import checkpoint
from genlab.generators.video import train as video_train
from genlab.generators.video.config import VideoConfig
from genlab.generators.video.entry import KINDS, load_video_generator, video_config
from genlab.generators.video.model import WindowNet, to_tensor
from genlab.worlds.motion import splits
from genlab.worlds.motion.frames import render_frames
from genlab.worlds.motion.physics import simulate


@pytest.fixture(scope="module")
def video_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("video-models")


@pytest.fixture(scope="module")
def request_() -> VideoRequest:
    item = splits.sample("parabola", "test", 1)[0]
    return VideoRequest(item.prompt, 7, 30, render_frames(simulate(item.scene, 5, 30)))


def _load(kind: str, cache: Path) -> VideoGenerator:
    return load_video_generator(kind, profile="smoke", cache_dir=cache, progress=False)


@pytest.mark.parametrize("kind", list(KINDS))
def test_contract_shapes(kind: str, video_cache: Path, request_: VideoRequest) -> None:
    gen = _load(kind, video_cache)
    assert isinstance(gen, VideoGenerator) and gen.name == kind and not gen.privileged
    rollout = gen.start(request_)
    for n in (1, 3, 6):  # across chunk boundaries
        check_frames(rollout.next(n), n, 32, what=kind)
    json.dumps(gen.describe())  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("before", [0, 3, 4])
def test_resume_is_bit_identical(kind: str, before: int, video_cache: Path,
                                 request_: VideoRequest) -> None:
    gen = _load(kind, video_cache)
    rollout = gen.start(request_)
    if before:
        rollout.next(before)
    state = rollout.state()
    expected = rollout.next(9)
    resumed = gen.start(request_, resume=state).next(9)
    np.testing.assert_array_equal(resumed, expected)


@pytest.mark.parametrize("kind", list(KINDS))
def test_state_stays_small(kind: str, video_cache: Path, request_: VideoRequest) -> None:
    rollout = _load(kind, video_cache).start(request_)
    rollout.next(5)
    size = sum(a.nbytes for a in rollout.state().values())
    rollout.next(40)
    assert sum(a.nbytes for a in rollout.state().values()) <= size + 4 * 32 * 32 * 3


@pytest.mark.parametrize("kind", list(KINDS))
def test_deterministic_in_seed(kind: str, video_cache: Path, request_: VideoRequest) -> None:
    gen = _load(kind, video_cache)
    a = gen.start(request_).next(5)
    np.testing.assert_array_equal(gen.start(request_).next(5), a)
    other = VideoRequest(request_.prompt, 8, 30, request_.context)
    assert not np.array_equal(gen.start(other).next(5), a)


def test_bad_inputs(video_cache: Path, request_: VideoRequest) -> None:
    gen = _load("fifo", video_cache)
    rollout = gen.start(request_)
    for n in (0, -1, 2.0, True):
        with pytest.raises(InputError, match="frames"):
            rollout.next(n)  # type: ignore[arg-type]
    short = VideoRequest("x", 0, 30, request_.context[:2])
    with pytest.raises(InputError, match="last 4 frames"):
        gen.start(short)
    with pytest.raises(InputError, match="fps"):
        gen.start(VideoRequest("x", 0, 24, request_.context))
    with pytest.raises(CheckpointError, match="queue"):
        gen.start(request_, resume={k: v for k, v in rollout.state().items() if k != "queue"})
    state = rollout.state()
    state["context"] = state["context"][:2]
    with pytest.raises(CheckpointError, match="context"):
        gen.start(request_, resume=state)
    with pytest.raises(InputError, match="context_noise"):
        load_video_generator("fifo", profile="smoke", cache_dir=video_cache, progress=False,
                             context_noise=1.5)


def test_unknown_names(video_cache: Path) -> None:
    with pytest.raises(UnknownNameError, match="video-ar, diffusion-forcing, fifo"):
        load_video_generator("fifo-diffusion", profile="smoke", cache_dir=video_cache)
    with pytest.raises(UnknownNameError, match="smoke, default"):
        load_video_generator("fifo", profile="tiny", cache_dir=video_cache)


def test_training_caches_and_reloads(video_cache: Path, request_: VideoRequest,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = _load("video-ar", video_cache).start(request_).next(4)
    folder = video_cache / f"video-{video_config('video-ar', 'smoke').key()}"
    assert (folder / "model" / "model.safetensors").is_file()

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached model was trained again")

    monkeypatch.setattr(video_train, "train", no_training)
    np.testing.assert_array_equal(_load("video-ar", video_cache).start(request_).next(4), first)
    # the two Diffusion Forcing samplers share one trained model
    assert video_config("fifo", "smoke") == video_config("diffusion-forcing", "smoke")


def test_foreground_marks_the_bodies_and_weights_their_error() -> None:
    item = splits.sample("collision", "train", 1)[0]
    clips = to_tensor(torch.from_numpy(render_frames(simulate(item.scene, 4, 30))))[None]
    fg = video_train.foreground(clips)
    assert fg.shape == (1, 4, 1, 32, 32)
    assert 0.02 < float(fg.mean()) < 0.2          # two bodies on a flat background
    corner = clips[0, :, :, 0, 0]                  # the background's colour
    far = (clips[0] - corner[:, :, None, None]).abs().amax(1) > 0.1
    assert torch.equal(fg[0, :, 0].bool(), far)
    # an error on the bodies weighs 1 + fg_weight, one on the background 1
    net = lambda x, lv: clips + 0.5 * (1 - fg)      # noqa: E731  (wrong off the bodies only)
    levels = torch.full((1, 4), 0.5)
    gen = torch.Generator().manual_seed(0)
    plain = video_train.loss_fn(net, clips, levels, gen)   # type: ignore[arg-type]
    gen = torch.Generator().manual_seed(0)
    assert float(video_train.loss_fn(net, clips, levels, gen, 9.0)) == pytest.approx(float(plain))
    net = lambda x, lv: clips + 0.5 * fg            # noqa: E731  (wrong on the bodies only)
    gen = torch.Generator().manual_seed(0)
    plain = video_train.loss_fn(net, clips, levels, gen)   # type: ignore[arg-type]
    gen = torch.Generator().manual_seed(0)
    weighted = video_train.loss_fn(net, clips, levels, gen, 9.0)   # type: ignore[arg-type]
    assert float(weighted) == pytest.approx(10 * float(plain))
    # an unweighted config keeps the key it had before the option existed
    assert "fg_weight" not in VideoConfig.default().to_dict()
    weighted_cfg = dataclasses.replace(VideoConfig.default(), fg_weight=10.0)
    assert weighted_cfg.key() != VideoConfig.default().key()
    assert VideoConfig.from_json(weighted_cfg.to_json()) == weighted_cfg
    assert VideoConfig(fg_weight=10).key() == VideoConfig(fg_weight=10.0).key()
    for bad in (-1.0, True, "10"):
        with pytest.raises(InputError, match="fg_weight"):
            VideoConfig(fg_weight=bad)  # type: ignore[arg-type]


def test_an_anchored_net_answers_the_last_context_frame_when_its_output_is_zero() -> None:
    config = dataclasses.replace(VideoConfig.smoke(), anchor=True)
    assert config.key() != VideoConfig.smoke().key()
    assert "anchor" not in VideoConfig.smoke().to_dict()
    net = WindowNet(config)
    last = net.unet.conv_out
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.zeros_(last.bias)
    frames = torch.rand(2, config.window, 3, config.size, config.size) * 2 - 1
    out = net(frames, torch.rand(2, config.window))
    k = config.context
    torch.testing.assert_close(out, frames[:, k - 1:k].expand_as(out))
    with pytest.raises(InputError, match="anchor"):
        VideoConfig(anchor=1)  # type: ignore[arg-type]


def test_a_named_device_trains_the_same_model_and_is_recorded(tmp_path: Path) -> None:
    config = video_config("video-ar", "smoke")
    plain = video_train.train(config, tmp_path / "plain", progress=False)
    named = video_train.train(config, tmp_path / "named", progress=False,
                              device="cpu")
    metas = [json.loads((f / "model" / "meta.json").read_text()) for f in (plain, named)]
    assert [m["device"] for m in metas] == ["cpu", "cpu"]
    assert metas[0]["loss_curve"] == metas[1]["loss_curve"]
    a, b = (checkpoint.load(f)[0].state_dict() for f in (plain, named))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_self_made_context_windows() -> None:
    config = video_config("video-ar", "smoke")
    k, q = config.context, config.chunk
    net = WindowNet(config)
    item = splits.sample("uniform", "train", 1)[0]
    clips = to_tensor(torch.from_numpy(render_frames(simulate(item.scene, k + 2 * q, 30))))
    clips = clips[None].expand(2, -1, -1, -1, -1)
    windows = video_train.self_made_windows(net, clips, torch.Generator().manual_seed(0))
    assert windows.shape == (2, config.window, *clips.shape[2:])
    torch.testing.assert_close(windows[:, k:], clips[:, -q:])         # the true chunk after
    made = windows[:, :k]                                             # the net's own frames,
    assert not torch.equal(made, clips[:, q:q + k])                  # not the true ones,
    levels = ((made + 1) * 127.5).numpy()                             # through uint8
    np.testing.assert_allclose(levels, levels.round(), atol=1e-3)


def test_self_context_changes_only_the_last_steps(tmp_path: Path) -> None:
    base = video_config("video-ar", "smoke")
    own = dataclasses.replace(base, self_context_steps=2)
    curves = [json.loads((video_train.train(c, tmp_path / c.key(), progress=False)
                          / "model" / "meta.json").read_text())["loss_curve"]
              for c in (base, own)]
    n = base.train_steps - 2
    assert curves[0][:n] == curves[1][:n] and curves[0][n:] != curves[1][n:]
    assert own.key() != base.key()
    with pytest.raises(InputError, match="self_context_steps .* at most train_steps"):
        dataclasses.replace(base, self_context_steps=base.train_steps + 1)
    with pytest.raises(InputError, match="needs forcing 'teacher'"):
        dataclasses.replace(video_config("fifo", "smoke"), self_context_steps=1)
    with pytest.raises(InputError, match="self_context_steps"):
        dataclasses.replace(base, self_context_steps=-1)
