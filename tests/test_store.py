"""The store: run identity and resume, INSERT OR IGNORE, atomic images, and kill -9 safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from genlab import catalog
from genlab.contracts import Verdict
from genlab.store import SampleRow, Store, config_hash
from genlab.tracks.control import ControlConfig, ControlTrack, items

RUN = {"track": "t", "track_version": "1", "generator": "g", "profile": "smoke",
       "judge": "j", "judge_version": "2"}
TINY = ControlConfig(prompts_per_category=2, images_per_prompt=2, batch_size=4,
                     resamples=1000, categories=("single", "counting"))


class StubJudge:
    """Deterministic verdicts without the scene judge: the track and store are under test."""

    name = "stub"
    version = "0"

    def judge(self, images: np.ndarray, specs: Any) -> list[Verdict]:
        return [Verdict(int(im.sum()) % 3 != 0, "stub", {"sum": int(im.sum())}) for im in images]


def _row(key: str, passed: bool = True) -> SampleRow:
    return SampleRow(key, "dev", "single", key.rsplit("/", 1)[0], "a red circle", "null", "{}",
                     7, passed, "ok", "{}", False, 1)


def _images(n: int, value: int = 0) -> np.ndarray:
    img = np.full((n, 32, 32, 3), value, np.uint8)
    img[:, 3, 5] = (10, 200, 30)
    return img


def _count(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT COUNT(*), COUNT(DISTINCT run_id || key) FROM samples"
                           ).fetchone()


def test_same_identity_resumes_fresh_starts_anew(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    a = store.start_run(config={"x": 1}, **RUN)
    assert a.status == "running" and a.config_hash == config_hash({"x": 1})
    assert store.start_run(config={"x": 1}, **RUN).id == a.id
    assert store.start_run(config={"x": 2}, **RUN).id != a.id
    store.finish_run(a.id, [{"category": "c", "value": 1, "ci_low": 1, "ci_high": 1, "n": 4}])
    again = store.start_run(config={"x": 1}, **RUN)
    assert again.id == a.id and again.status == "complete"
    fresh = store.start_run(config={"x": 1}, fresh=True, **RUN)
    assert fresh.id != a.id and fresh.status == "running"
    assert again.git_commit and again.package_version


def test_insert_or_ignore_never_duplicates(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    run = store.start_run(config={}, **RUN)
    assert store.add_samples(run.id, [_row("p0/i0"), _row("p0/i1")], _images(2)) == 2
    assert store.add_samples(run.id, [_row("p0/i1"), _row("p1/i0")], _images(2, 9)) == 1
    assert store.done_keys(run.id) == {"p0/i0", "p0/i1", "p1/i0"}
    assert _count(store.path) == (3, 3)
    rows = store.samples(run.id)
    assert [r["key"] for r in rows] == ["p0/i0", "p0/i1", "p1/i0"]
    back = np.asarray(Image.open(rows[0]["image_file"]))
    np.testing.assert_array_equal(back, _images(1)[0])
    assert not list(store.image_dir(run.id).glob(".*tmp"))  # no temporary files left


def test_latest_complete_run_and_scores(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    for value in (0.2, 0.4):
        run = store.start_run(config={}, fresh=True, **RUN)
        store.finish_run(run.id, [{"category": "dev/x", "value": value, "ci_low": 0.0,
                                   "ci_high": 1.0, "n": 8}])
    store.start_run(config={}, fresh=True, **RUN)  # running: never reported
    assert store.scores() == [{"track": "t", "generator": "g", "category": "dev/x",
                               "value": 0.4, "ci_low": 0.0, "ci_high": 1.0, "n": 8}]
    assert store.scores("other") == []


class FailingGenerator:
    """random-scene, but raises after ``ok`` calls (a crash mid-run); records its calls."""

    name = "random-scene"

    def __init__(self, ok: int) -> None:
        self.inner = catalog.GENERATORS.get("random-scene")
        self.ok = ok
        self.seen: list[str] = []

    def generate(self, prompts: Any, seeds: Any, **kw: Any) -> Any:
        if self.ok <= 0:
            raise RuntimeError("crash")
        self.ok -= 1
        self.seen += [f"{p}|{s}" for p, s in zip(prompts, seeds, strict=True)]
        return self.inner.generate(prompts, seeds, **kw)


def test_track_resumes_and_skips_stored_samples(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    track = ControlTrack()
    first = FailingGenerator(ok=2)
    with pytest.raises(RuntimeError):
        track.run("random-scene", first, store, "smoke", config=TINY, judge=StubJudge())
    second = FailingGenerator(ok=100)
    card = track.run("random-scene", second, store, "smoke", config=TINY, judge=StubJudge())
    expected = {it.key for it in items(TINY)}
    assert len(first.seen) == 8 and len(second.seen) == len(expected) - 8
    assert not set(first.seen) & set(second.seen)
    assert store.done_keys(card.run_id) == expected
    assert _count(store.path) == (len(expected), len(expected))
    assert store.run(card.run_id).status == "complete"


KILL_SCRIPT = """
import sys, time
from genlab import catalog
from genlab.contracts import Verdict
from genlab.store import Store
from genlab.tracks.control import ControlConfig, ControlTrack

class SlowJudge:
    name, version = "stub", "0"
    def judge(self, images, specs):
        time.sleep(0.04)
        return [Verdict(int(im.sum()) % 3 != 0, "stub") for im in images]

cfg = ControlConfig(prompts_per_category=4, images_per_prompt=2, batch_size=4, resamples=1000)
ControlTrack().run("random-scene", catalog.GENERATORS.get("random-scene"), Store(sys.argv[1]),
                   "smoke", config=cfg, judge=SlowJudge())
"""


def _wait_for_rows(db: Path, proc: subprocess.Popen[bytes], at_least: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                if _count(db)[0] >= at_least:
                    return
            except sqlite3.OperationalError:
                pass  # schema not created yet
        time.sleep(0.01)


def _check_complete(db: Path, expected: set[str]) -> None:
    store = Store(db)
    runs = store.latest_runs()
    assert len(runs) == 1 and runs[0].status == "complete"
    rows = store.samples(runs[0].id)
    assert {r["key"] for r in rows} == expected
    assert _count(db) == (len(expected), len(expected))
    assert all(np.asarray(Image.open(r["image_file"])).shape == (32, 32, 3) for r in rows)


def test_sigkill_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    script, db = tmp_path / "run.py", tmp_path / "k.db"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(db)])
    _wait_for_rows(db, proc, at_least=12)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = _count(db)[0]
    subprocess.run([sys.executable, str(script), str(db)], check=True, timeout=120)
    cfg = ControlConfig(prompts_per_category=4, images_per_prompt=2, batch_size=4,
                        resamples=1000)
    expected = {it.key for it in items(cfg)}
    assert 12 <= killed_at < len(expected)
    _check_complete(db, expected)


def test_sigkill_of_the_cli(tmp_path: Path) -> None:
    pytest.importorskip("genlab.judges.scene")
    db = tmp_path / "cli.db"
    cmd = [sys.executable, "-m", "genlab.cli", "run", "control", "--generator", "random-scene",
           "--profile", "smoke", "--db", str(db)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, cwd=tmp_path)
    _wait_for_rows(db, proc, at_least=1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL  # killed mid-run, not finished
    subprocess.run(cmd, check=True, timeout=120, stdout=subprocess.DEVNULL, cwd=tmp_path)
    expected = {it.key for it in items(ControlConfig.smoke())}
    with sqlite3.connect(db) as con:
        runs = con.execute("SELECT id, generator, status FROM runs").fetchall()
        assert sorted(g for _, g, _ in runs) == ["oracle", "random-scene"]
        assert all(status == "complete" for *_, status in runs)
        for run_id, *_ in runs:
            keys = [k for (k,) in con.execute("SELECT key FROM samples WHERE run_id=?",
                                              (run_id,))]
            assert len(keys) == len(set(keys)) and set(keys) == expected
    assert db.with_name("report.html").is_file()
