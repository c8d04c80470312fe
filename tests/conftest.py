"""Shared fixtures: a session-wide cache for the smoke `flow` model, few torch threads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the smoke `flow` model is trained once per test session."""
    return tmp_path_factory.mktemp("models")
