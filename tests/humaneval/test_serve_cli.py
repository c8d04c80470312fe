"""``genlab serve``: tokens printed once and stored hashed; bad options fail before any
token is made (the server itself runs in test_humaneval_server.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from genlab.cli import app
from genlab.humaneval.db import connect
from genlab.humaneval.raters import NewRater, rater_for_token

runner = CliRunner()


def test_raters_option_prints_working_tokens(store: tuple[Path, list[NewRater]]) -> None:
    db = store[0]
    result = runner.invoke(app, ["serve", "--db", str(db), "--raters", "2", "--no-serve",
                                 "--port", "8123"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    con = connect(db)
    for i, line in enumerate(lines):
        name, token, link = line.split("\t")
        assert name == f"rater-{4 + i}"  # the store already holds three raters
        assert link == f"http://127.0.0.1:8123/#token={token}"
        found = rater_for_token(con, token)
        assert found is not None and found.name == name
    assert not any(token in str(row) for row in con.execute("SELECT * FROM raters")
                   for token in (ln.split("\t")[1] for ln in lines))


@pytest.mark.parametrize("args, words", [
    (["--track", "contrl", "--raters", "2"], "Did you mean 'control'"),
    (["--generator", "nope", "--raters", "2"], "accepted: fair, good, poor"),
    (["--no-serve"], "--no-serve only makes sense with --raters"),
    (["--port", "70000"], "bad --port 70000"),
    (["--raters", "-1", "--no-serve"], "--raters must be an int >= 0"),
])
def test_bad_options_fail_before_any_token(store: tuple[Path, list[NewRater]],
                                           args: list[str], words: str) -> None:
    result = runner.invoke(app, ["serve", "--db", str(store[0]), *args])
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.output.split())
    with sqlite3.connect(store[0]) as con:
        assert con.execute("SELECT COUNT(*) FROM raters").fetchone()[0] == 3


def test_missing_database_is_named(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "no results database" in result.output
    assert not (tmp_path / "none.db").exists()
