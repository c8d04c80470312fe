"""Checkpoints of ``flow``: safetensors weights, the config JSON and the training state.

A checkpoint is one directory ``<run>/step-0001200/`` holding

    model.safetensors   raw weights (text encoder ``text.*`` + UNet ``unet.*``)
    ema.safetensors     the EMA weights, same keys (what sampling uses)
    ema-<d>.safetensors the EMA of decay d, one per ``FlowConfig.extra_ema_decays``
    config.json         the FlowConfig that built them
    meta.json           {"step": ..., "train_steps": ..., "made_with": package versions
                        and the CPU instruction set, genlab.machine.provenance}
    state.pt            optimiser + LR schedule + EMA counter + RNG states (resume only)

It is written into a temporary directory and renamed into place, and a
directory named ``step-*`` only ever appears by that rename, so a kill -9 at
any moment leaves either the old checkpoint or the new one, never half of
one. Weights use safetensors (no code execution on load); the training state
is loaded with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from genlab import machine
from genlab.errors import CheckpointError, InputError
from genlab.generators.flow.config import FlowConfig
from genlab.generators.flow.model import FlowModel

WEIGHTS = "model.safetensors"
EMA_WEIGHTS = "ema.safetensors"
CONFIG = "config.json"
META = "meta.json"
STATE = "state.pt"
FILES = (WEIGHTS, EMA_WEIGHTS, CONFIG, META, STATE)
PREFIX = "step-"


def extra_ema_file(decay: float) -> str:
    """The file of the extra EMA of ``decay`` in a checkpoint."""
    return f"ema-{decay!r}.safetensors"


def step_dir(run_dir: Path, step: int) -> Path:
    return run_dir / f"{PREFIX}{step:07d}"


def checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints in ``run_dir``, oldest first."""
    if not run_dir.is_dir():
        return []
    return sorted(p for p in run_dir.iterdir() if p.is_dir() and p.name.startswith(PREFIX))


def resolve(path: str | os.PathLike[str]) -> Path:
    """A checkpoint directory, or a run directory -> its newest checkpoint."""
    p = Path(path)
    if (p / CONFIG).is_file():
        return p
    found = checkpoints(p)
    if found:
        return found[-1]
    if not p.exists():
        raise CheckpointError(f"checkpoint {p} does not exist")
    raise CheckpointError(f"{p} is neither a flow checkpoint (no {CONFIG}) nor a run "
                          f"directory with {PREFIX}* checkpoints")


# ---------------------------------------------------------------- save


def save(run_dir: Path, step: int, model: FlowModel, ema_state: dict[str, torch.Tensor],
         train_state: dict[str, Any],
         extra_emas: dict[float, dict[str, torch.Tensor]] | None = None) -> Path:
    """Write checkpoint ``step`` atomically; return its directory. ``extra_emas`` maps
    each of the config's ``extra_ema_decays`` to its EMA weights (a fine-tune of such a
    model, which keeps none, passes None)."""
    if extra_emas is None:
        extra_emas = {}
    elif sorted(extra_emas) != sorted(model.config.extra_ema_decays):
        raise InputError(f"extra EMAs {sorted(extra_emas)} do not match the config's "
                         f"extra_ema_decays {model.config.extra_ema_decays}")
    run_dir.mkdir(parents=True, exist_ok=True)
    final = step_dir(run_dir, step)
    tmp = run_dir / f".tmp-{final.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file(_contiguous(model.state_dict()), str(tmp / WEIGHTS))
    save_file(_contiguous(ema_state), str(tmp / EMA_WEIGHTS))
    (tmp / CONFIG).write_text(model.config.to_json())
    meta = {"step": step, "train_steps": model.config.train_steps,
            "made_with": machine.provenance()}  # what else the weights depend on
    (tmp / META).write_text(json.dumps(meta))
    torch.save(train_state, tmp / STATE)
    for decay, state in extra_emas.items():
        save_file(_contiguous(state), str(tmp / extra_ema_file(decay)))
    for f in (*FILES, *map(extra_ema_file, extra_emas)):
        _fsync(tmp / f)
    if final.exists():  # a re-run of a step whose checkpoint survived a crash
        trash = run_dir / f".old-{final.name}-{os.getpid()}"
        os.replace(final, trash)
        shutil.rmtree(trash, ignore_errors=True)
    os.replace(tmp, final)
    _fsync(run_dir)
    return final


def prune(run_dir: Path, keep: Path) -> None:
    """Delete every checkpoint but ``keep`` and any temporary leftovers of killed writes."""
    for p in run_dir.iterdir():
        if p.is_dir() and p != keep and (p.name.startswith(PREFIX) or p.name.startswith(".")):
            shutil.rmtree(p, ignore_errors=True)


def write_folder(final: Path, weights: dict[str, dict[str, torch.Tensor]],
                 texts: dict[str, str], *, replace: bool = False,
                 copies: dict[str, Path] | None = None) -> Path:
    """Write a model folder atomically: ``weights[file]`` (a state dict) as safetensors,
    ``texts[file]`` as text and a copy of each ``copies[file]`` go into a temporary
    sibling, are fsynced, and the folder is renamed into place, so a kill at any moment
    leaves no half-written model. An existing ``final`` is kept (another process finished
    first) unless ``replace``."""
    copies = copies or {}
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".tmp-{final.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for name, state in weights.items():
        save_file(_contiguous(state), str(tmp / name))
    for name, text in texts.items():
        (tmp / name).write_text(text)
    for name, source in copies.items():
        shutil.copyfile(source, tmp / name)
    for name in (*weights, *texts, *copies):
        _fsync(tmp / name)
    if final.exists():
        if not replace:
            shutil.rmtree(tmp, ignore_errors=True)
            return final
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def _contiguous(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous() for k, v in sd.items()}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- load


def load_config(path: str | os.PathLike[str]) -> FlowConfig:
    """The FlowConfig stored in checkpoint (or run) ``path``."""
    d = resolve(path)
    f = d / CONFIG
    try:
        return FlowConfig.from_json(f.read_text())
    except FileNotFoundError as exc:
        raise CheckpointError(f"checkpoint {d} has no {CONFIG}") from exc
    except (ValueError, TypeError, InputError) as exc:
        raise CheckpointError(f"checkpoint config {f} is unreadable: {exc}") from exc


def load_meta(path: str | os.PathLike[str]) -> dict[str, int]:
    d = resolve(path)
    try:
        meta = json.loads((d / META).read_text())
        return {"step": int(meta["step"]), "train_steps": int(meta["train_steps"])}
    except FileNotFoundError as exc:
        raise CheckpointError(f"checkpoint {d} has no {META}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint metadata {d / META} is unreadable: {exc}") from exc


def read_weights(file: Path) -> dict[str, torch.Tensor]:
    """A safetensors file -> tensors; missing or corrupt -> CheckpointError naming it."""
    if not file.is_file():
        raise CheckpointError(f"checkpoint file {file} is missing")
    try:
        return load_file(str(file))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint file {file} is corrupt: {exc}") from exc


def fill(model: FlowModel, weights: dict[str, torch.Tensor], file: Path) -> None:
    """Load ``weights`` into ``model`` strictly; a mismatch names the file and the config."""
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        msg = str(exc).split("\n\t")[:4]
        raise CheckpointError(f"weights {file} do not match the config stored beside them: "
                              + " ".join(msg)) from exc


def load_model(path: str | os.PathLike[str], *, ema: bool = True) -> FlowModel:
    """The model of checkpoint ``path`` (EMA weights by default), in eval mode."""
    d = resolve(path)
    model = FlowModel(load_config(d))
    file = d / (EMA_WEIGHTS if ema else WEIGHTS)
    fill(model, read_weights(file), file)
    return model.eval()


def load_state(path: Path) -> dict[str, Any]:
    """The training-state dict of checkpoint directory ``path``."""
    f = path / STATE
    if not f.is_file():
        raise CheckpointError(f"checkpoint file {f} is missing")
    try:
        return torch.load(f, weights_only=True)
    except Exception as exc:  # torch raises many kinds for a damaged pickle/zip
        raise CheckpointError(f"training state {f} is corrupt: {exc}") from exc


# ---------------------------------------------------------------- EMA and the cache lock


def ema_state(model: FlowModel, shadow: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
    """``model``'s state dict with its parameters replaced by the EMA ``shadow`` ones (in
    ``named_parameters`` order): what :func:`save` writes as the EMA weights."""
    sd = model.state_dict()
    for (name, _), p in zip(model.named_parameters(), shadow, strict=True):
        sd[name] = p
    return sd


def load_ema(model: FlowModel, ckpt: Path, file: str = EMA_WEIGHTS) -> list[torch.Tensor]:
    """The EMA shadow parameters stored in checkpoint ``ckpt`` (``file``: the main EMA or
    an :func:`extra_ema_file`), in ``model``'s ``named_parameters`` order; a mismatch is a
    CheckpointError naming the file."""
    ema = read_weights(ckpt / file)
    names = [n for n, _ in model.named_parameters()]
    if set(names) - set(ema):
        raise CheckpointError(f"EMA weights {ckpt / file} do not match the config")
    return [ema[n].clone() for n in names]


@contextlib.contextmanager
def cache_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s file lock (made if missing), so that concurrent callers wait for
    one process to fill a cache entry instead of racing."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
