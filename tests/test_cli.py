"""The command line, through typer's CliRunner (controls only, tmp databases)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from genlab import catalog
from genlab.cli import app
from genlab.contracts import Verdict
from genlab.store import Store
from genlab.tracks.control import ControlConfig, ControlTrack

runner = CliRunner()
TINY = ControlConfig(prompts_per_category=2, images_per_prompt=2, batch_size=64,
                     resamples=1000, categories=("single", "counting"))
SCORE_KEYS = {"track", "generator", "category", "value", "ci_low", "ci_high", "n"}


class StubJudge:
    name = "stub"
    version = "0"

    def judge(self, images: np.ndarray, specs: Any) -> list[Verdict]:
        return [Verdict(True, "stub") for _ in images]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "c.db"
    with Store(path) as store:
        for name in catalog.CONTROLS:
            ControlTrack().run(name, catalog.GENERATORS.get(name), store, "smoke", config=TINY,
                               judge=StubJudge())
    return path


def test_scores_json_schema(db: Path) -> None:
    result = runner.invoke(app, ["scores", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert records and all(set(r) == SCORE_KEYS for r in records)
    assert {r["generator"] for r in records} == set(catalog.CONTROLS)
    assert all(r["ci_low"] <= r["value"] <= r["ci_high"] for r in records)
    only = json.loads(runner.invoke(app, ["scores", "--db", str(db), "--track", "x",
                                          "--json"]).stdout)
    assert only == []
    table = runner.invoke(app, ["scores", "--db", str(db)])
    assert table.exit_code == 0 and "test/overall" in table.stdout


def test_report_command(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "--db", str(db), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "<table>" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("args, bad, close", [
    (["run", "contrl"], "contrl", "control"),
    (["run", "control", "--generator", "orcale"], "orcale", "oracle"),
    (["run", "--profile", "smok"], "smok", "smoke"),
    (["generate", "a red circle", "-o", "x.png", "-g", "random-scen"], "random-scen",
     "random-scene"),
])
def test_unknown_names_suggest_and_exit_2(args: list[str], bad: str, close: str,
                                          tmp_path: Path) -> None:
    result = runner.invoke(app, [*args, "--db", str(tmp_path / "n.db")] if args[0] == "run"
                           else args)
    assert result.exit_code == 2
    assert f"{bad!r}" in result.stderr and f"Did you mean {close!r}" in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "n.db").exists()  # checked before anything is opened


def test_bad_input_is_one_red_line(tmp_path: Path) -> None:
    cases = [["scores", "--db", str(tmp_path / "missing.db")],
             ["generate", "a red circle", "-o", str(tmp_path / "x.png"), "-g", "oracle",
              "--box", "1,2,3"],
             ["generate", "a blue elephant", "-o", str(tmp_path / "x.png"), "-g", "oracle"],
             ["judge", str(tmp_path / "nope.png"), "--prompt", "a red circle"]]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("error:") and "Traceback" not in result.output


def test_generate_then_judge(tmp_path: Path) -> None:
    png = tmp_path / "o.png"
    result = runner.invoke(app, ["generate", "two red squares and a blue circle", "-o", str(png),
                                 "-g", "oracle", "--seed", "3"])
    assert result.exit_code == 0, result.output
    image = np.asarray(Image.open(png))
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    pytest.importorskip("genlab.judges.scene")
    Image.open(png).convert("RGBA").save(tmp_path / "o4.png")  # any PNG mode is accepted
    for path in (png, tmp_path / "o4.png"):
        result = runner.invoke(app, ["judge", str(path), "--prompt",
                                     "two red squares and a blue circle"])
        assert result.exit_code == 0, result.output
        verdict = json.loads(result.stdout)
        assert set(verdict) == {"passed", "reason", "details"} and verdict["passed"] is True
    wrong = runner.invoke(app, ["judge", str(png), "--prompt", "three red squares"])
    assert json.loads(wrong.stdout)["passed"] is False


def test_layout_boxes(tmp_path: Path) -> None:
    png = tmp_path / "l.png"
    args = ["a red circle and a blue square", "--box", "0.1,0.1,0.4,0.4",
            "--box", "0.55,0.55,0.9,0.9"]
    result = runner.invoke(app, ["generate", args[0], "-o", str(png), "-g", "oracle", *args[1:]])
    assert result.exit_code == 0, result.output
    pytest.importorskip("genlab.judges.scene")
    verdict = json.loads(runner.invoke(app, ["judge", str(png), "--prompt", *args]).stdout)
    assert verdict["passed"] is True


def test_list_and_module_entry_point() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0 and "oracle (control)" in result.stdout
    assert "control" in result.stdout
    proc = subprocess.run([sys.executable, "-m", "genlab.cli", "list"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and "random-scene" in proc.stdout


def test_run_smoke_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("genlab.judges.scene")
    db = tmp_path / "e.db"
    result = runner.invoke(app, ["run", "control", "-g", "oracle", "--profile", "smoke",
                                 "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").is_file() and "report:" in result.stdout
    records = json.loads(runner.invoke(app, ["scores", "--db", str(db), "--json"]).stdout)
    oracle = [r for r in records if r["generator"] == "oracle"]
    assert oracle and all(r["value"] == 1.0 for r in oracle)
    assert {r["generator"] for r in records} == {"oracle", "random-scene"}


def test_run_realtime_prints_one_row_per_setting(tmp_path: Path) -> None:
    db = tmp_path / "rt.db"
    result = runner.invoke(app, ["run", "realtime", "-g", "oracle", "--profile", "smoke",
                                 "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "p50 ms" in result.stdout and "random-scene" in result.stdout
    records = json.loads(runner.invoke(app, ["scores", "--db", str(db), "--track", "realtime",
                                             "--json"]).stdout)
    assert records and all(set(r) == SCORE_KEYS for r in records)
    assert {r["category"] for r in records} >= {"latency_p50_ms", "latency_p95_ms",
                                                "throughput_img_s", "control_accuracy"}


def test_judge_check_json() -> None:
    pytest.importorskip("genlab.judges.validate")
    result = runner.invoke(app, ["judge-check", "--n", "4", "--sizes", "32", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert records and all({"size", "condition", "n", "scene_exact"} <= set(r)
                           for r in records)
