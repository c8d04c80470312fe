"""Fixtures of the human-evaluation tests: a small synthetic store, its raters, and a
real server over it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from genlab.humaneval.db import connect
from genlab.humaneval.raters import NewRater, add_raters
from genlab.humaneval.synthetic import synthetic_store

# three fake generators far apart, so that the ranking has a known order
PASS_RATES = {"good": 0.9, "fair": 0.5, "poor": 0.1}


def make_store(folder: Path, raters: int = 3) -> tuple[Path, list[NewRater]]:
    """A store of the three PASS_RATES generators (6 prompts x 2 images of 32x32) and
    ``raters`` raters with their tokens."""
    db = synthetic_store(folder / "genlab.db", PASS_RATES, prompts=6, images_per_prompt=2)
    con = connect(db)
    try:
        made = add_raters(con, [f"tester-{i}" for i in range(raters)])
    finally:
        con.close()
    return db, made


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, list[NewRater]]:
    """A fresh store and three raters, for tests that write."""
    return make_store(tmp_path)


@pytest.fixture
def store_factory() -> Callable[..., tuple[Path, list[NewRater]]]:
    """:func:`make_store`, for tests that need more than one store."""
    return make_store


@dataclass(frozen=True)
class Served:
    """A real ``genlab serve`` process on a loopback port."""

    url: str
    db: Path
    raters: list[NewRater]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``genlab serve`` in its own process over a synthetic store with 60 raters."""
    folder = tmp_path_factory.mktemp("served")
    db, raters = make_store(folder, raters=60)
    port = _free_port()
    log = folder / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "genlab.cli", "serve", "--db", str(db), "--port", str(port),
             "--no-access-log"], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"genlab serve exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"genlab serve did not answer within 60 s:\n{log.read_text()}")
            time.sleep(0.1)
        yield Served(url, db, raters)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
