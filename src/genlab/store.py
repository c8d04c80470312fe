"""The results store: one SQLite file of runs, per-sample rows and scores (DESIGN.md, "Store").

A *run* is one (track, generator, profile, resolved config) evaluation. Starting
the same run again resumes it: samples already stored are skipped, and a
complete run is reported as such unless a fresh one is asked for.

Crash safety, so that ``kill -9`` at any moment loses no finished row and
duplicates none:

* each image is written to a temporary file and moved into place with
  ``os.replace`` (atomic on POSIX) *before* its row is inserted, so every row
  points to a whole PNG;
* each batch of rows is inserted in one transaction, with ``INSERT OR IGNORE``
  on the unique ``(run_id, key)``, so a batch is stored entirely or not at all
  and a re-run of a stored sample is a no-op;
* the database runs in WAL mode with ``synchronous=FULL``: a committed batch
  survives the process dying (and the machine losing power).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import genlab
from genlab.contracts import check_images
from genlab.errors import GenlabError, InputError
from genlab.paths import images_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    track TEXT NOT NULL,
    track_version TEXT NOT NULL,
    generator TEXT NOT NULL,
    profile TEXT NOT NULL,
    config_json TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    git_commit TEXT NOT NULL,
    package_version TEXT NOT NULL,
    judge TEXT NOT NULL,
    judge_version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete'))
);
CREATE INDEX IF NOT EXISTS runs_identity ON runs (track, generator, profile, config_hash);
CREATE TABLE IF NOT EXISTS samples (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    key TEXT NOT NULL,
    split TEXT NOT NULL,
    category TEXT NOT NULL,
    prompt_id TEXT NOT NULL,
    prompt TEXT NOT NULL,
    boxes_json TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    seed INTEGER NOT NULL,
    image_path TEXT NOT NULL,
    passed INTEGER NOT NULL,
    reason TEXT NOT NULL,
    details_json TEXT NOT NULL,
    heldout INTEGER NOT NULL,
    n_objects INTEGER NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (run_id, key)
);
CREATE TABLE IF NOT EXISTS scores (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    category TEXT NOT NULL,
    value REAL NOT NULL,
    ci_low REAL NOT NULL,
    ci_high REAL NOT NULL,
    n INTEGER NOT NULL,
    UNIQUE (run_id, category)
);
"""

_SAMPLE_COLUMNS = ("run_id", "key", "split", "category", "prompt_id", "prompt", "boxes_json",
                   "spec_json", "seed", "image_path", "passed", "reason", "details_json",
                   "heldout", "n_objects", "created")


@dataclass(frozen=True)
class SampleRow:
    """One judged image, as the track hands it to :meth:`Store.add_samples`.

    Attributes:
        key: unique within the run, e.g. ``"test/counting/p007/i2"``.
        prompt_id: the prompt the image belongs to (the bootstrap's cluster).
        boxes_json, spec_json, details_json: JSON text (``"null"`` when absent).
    """

    key: str
    split: str
    category: str
    prompt_id: str
    prompt: str
    boxes_json: str
    spec_json: str
    seed: int
    passed: bool
    reason: str
    details_json: str
    heldout: bool
    n_objects: int


@dataclass(frozen=True)
class RunInfo:
    """A row of the ``runs`` table."""

    id: int
    created: str
    track: str
    track_version: str
    generator: str
    profile: str
    config_json: str
    config_hash: str
    git_commit: str
    package_version: str
    judge: str
    judge_version: str
    status: str


def config_hash(config: Mapping[str, Any]) -> str:
    """A short, stable hash of a JSON-serialisable config (keys sorted)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def git_commit() -> str:
    """``git rev-parse HEAD`` of the source tree genlab runs from, or ``'unknown'``."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, cwd=Path(genlab.__file__).parent, check=True)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _file_name(key: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-=." else "_" for ch in key)
    return f"{safe}.png"


def write_png_atomic(image: np.ndarray, path: Path) -> None:
    """Write ``(H, W, 3) uint8`` to ``path`` so that readers see a whole file or none.

    No fsync: a kill of the process cannot lose a replaced file; only a power
    cut could, and then the row that points to it was not committed either.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    Image.fromarray(image, mode="RGB").save(tmp, format="PNG")
    os.replace(tmp, path)


class Store:
    """The SQLite results store at ``path`` (created with its folder if missing)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (see _tx), nothing implicit.
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ------------------------------------------------------------ runs

    def start_run(self, *, track: str, track_version: str, generator: str, profile: str,
                  config: Mapping[str, Any], judge: str, judge_version: str,
                  fresh: bool = False) -> RunInfo:
        """The run with this identity: the latest one if any (running: resume it;
        complete: report it), else, or with ``fresh``, a new one.

        Identity is (track, generator, profile, hash of ``config``); put every
        version and setting that changes results into ``config``.
        """
        digest = config_hash(config)
        if not fresh:
            row = self._db.execute(
                "SELECT * FROM runs WHERE track=? AND generator=? AND profile=? AND "
                "config_hash=? ORDER BY id DESC LIMIT 1",
                (track, generator, profile, digest)).fetchone()
            if row is not None:
                return RunInfo(**dict(row))
        values = (_now(), track, track_version, generator, profile,
                  json.dumps(config, sort_keys=True), digest, git_commit(),
                  genlab.__version__, judge, judge_version, "running")
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO runs (created, track, track_version, generator, profile, "
                "config_json, config_hash, git_commit, package_version, judge, judge_version, "
                "status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", values)
            run_id = cur.lastrowid
        return self.run(int(run_id or 0))

    def run(self, run_id: int) -> RunInfo:
        row = self._db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise GenlabError(f"no run {run_id} in {self.path}")
        return RunInfo(**dict(row))

    def finish_run(self, run_id: int, scores: Sequence[Mapping[str, Any]]) -> None:
        """Store the run's scores (``category, value, ci_low, ci_high, n``) and mark it
        complete, in one transaction."""
        with self._tx() as db:
            db.execute("DELETE FROM scores WHERE run_id=?", (run_id,))
            db.executemany(
                "INSERT INTO scores (run_id, category, value, ci_low, ci_high, n) "
                "VALUES (?,?,?,?,?,?)",
                [(run_id, s["category"], float(s["value"]), float(s["ci_low"]),
                  float(s["ci_high"]), int(s["n"])) for s in scores])
            db.execute("UPDATE runs SET status='complete' WHERE id=?", (run_id,))

    def latest_runs(self, track: str | None = None) -> list[RunInfo]:
        """The latest complete run of every (track, generator), ordered by track, generator."""
        rows = self._db.execute(
            "SELECT * FROM runs r WHERE status='complete' AND (? IS NULL OR track=?) AND id = "
            "(SELECT MAX(id) FROM runs q WHERE q.track=r.track AND q.generator=r.generator "
            "AND q.status='complete') ORDER BY track, generator", (track, track)).fetchall()
        return [RunInfo(**dict(r)) for r in rows]

    # ------------------------------------------------------------ samples

    def image_dir(self, run_id: int) -> Path:
        return images_dir(self.path, run_id)

    def add_samples(self, run_id: int, rows: Sequence[SampleRow], images: np.ndarray) -> int:
        """Save ``images`` ``(n, H, W, 3) uint8`` as PNGs, then insert ``rows`` in one
        transaction; returns how many rows were new."""
        check_images(images, what="sample images")
        if len(rows) != images.shape[0]:
            raise InputError(f"{len(rows)} sample rows but {images.shape[0]} images")
        folder = self.image_dir(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        records = []
        for row, image in zip(rows, images, strict=True):
            path = folder / _file_name(row.key)
            write_png_atomic(image, path)
            rel = path.relative_to(self.path.parent).as_posix()
            records.append((run_id, row.key, row.split, row.category, row.prompt_id, row.prompt,
                            row.boxes_json, row.spec_json, int(row.seed), rel, int(row.passed),
                            row.reason, row.details_json, int(row.heldout), int(row.n_objects),
                            _now()))
        marks = ",".join("?" * len(_SAMPLE_COLUMNS))
        with self._tx() as db:
            before = db.total_changes
            db.executemany(f"INSERT OR IGNORE INTO samples ({','.join(_SAMPLE_COLUMNS)}) "
                           f"VALUES ({marks})", records)
            return db.total_changes - before

    def done_keys(self, run_id: int) -> set[str]:
        rows = self._db.execute("SELECT key FROM samples WHERE run_id=?", (run_id,))
        return {r[0] for r in rows}

    def samples(self, run_id: int, *, split: str | None = None, category: str | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
        """The run's samples in key order, as dicts (JSON columns parsed, flags as bool,
        ``image_file`` the absolute PNG path)."""
        rows = self._db.execute(
            "SELECT * FROM samples WHERE run_id=? AND (? IS NULL OR split=?) AND "
            "(? IS NULL OR category=?) ORDER BY key LIMIT ?",
            (run_id, split, split, category, category, -1 if limit is None else limit))
        out = []
        for r in rows:
            d = dict(r)
            for col in ("boxes", "spec", "details"):
                d[col] = json.loads(d.pop(f"{col}_json"))
            d["passed"], d["heldout"] = bool(d["passed"]), bool(d["heldout"])
            d["image_file"] = self.path.parent / d["image_path"]
            out.append(d)
        return out

    # ------------------------------------------------------------ scores

    def run_scores(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT category, value, ci_low, ci_high, n FROM scores WHERE run_id=? "
            "ORDER BY rowid", (run_id,))
        return [dict(r) for r in rows]

    def scores(self, track: str | None = None) -> list[dict[str, Any]]:
        """Scores of the latest complete runs as records
        ``{track, generator, category, value, ci_low, ci_high, n}``."""
        return [{"track": run.track, "generator": run.generator, **s}
                for run in self.latest_runs(track) for s in self.run_scores(run.id)]
