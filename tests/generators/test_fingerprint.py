"""The main job's ``flow`` config still trains what its cache key names
(:mod:`genlab.generators.flow.fingerprint`)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from genlab.generators.flow import FlowConfig
from genlab.generators.flow.fingerprint import CONFIGS, Fingerprint, differences, fingerprint

STORED = Path(__file__).with_name("flow_fingerprint.json")
FIX = ("If the change is meant to alter training, bump TRAINING_REVISION in "
       "genlab/generators/flow/config.py (cached models then retrain) and run `python -m "
       "genlab.generators.flow.fingerprint --write tests/generators/flow_fingerprint.json`")


@pytest.fixture(scope="module")
def stored() -> dict[str, Fingerprint]:
    return {k: Fingerprint.from_dict(v) for k, v in json.loads(STORED.read_text()).items()}


def test_the_default_config_trains_what_its_key_names(stored: dict[str, Fingerprint]
                                                       ) -> None:
    assert set(stored) == set(CONFIGS)
    for name, make in CONFIGS.items():
        rng = torch.get_rng_state()
        found = differences(stored[name], fingerprint(make()))
        assert torch.equal(rng, torch.get_rng_state())  # the caller's RNG is untouched
        assert not found, (f"the {name!r} flow config no longer trains the model its cache "
                           f"key names: {'; '.join(found)}. {FIX}")


def test_the_fingerprint_sees_another_training(stored: dict[str, Fingerprint]) -> None:
    """Another seed (another data draw and initialisation) and a revision bump are both
    reported, each by name."""
    base = FlowConfig.default()
    other = fingerprint(dataclasses.replace(base, seed=base.seed + 1), steps=1)
    found = differences(stored["default"], dataclasses.replace(other, revision=1))
    assert [f.split(" ")[0:3] for f in found] == [
        ["TRAINING_REVISION", "is", "1,"], ["the", "first", "batch's"],
        ["the", "first", "batch's"], ["the", "initial", "weights"], ["the", "first", "losses"]]
