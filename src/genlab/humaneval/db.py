"""The human-evaluation tables, in the same SQLite file as the results store.

Beside :mod:`genlab.store`'s ``runs``, ``samples`` and ``scores``:

* ``raters``: a name and the SHA-256 of the rater's token (never the token);
* ``pairs``: every pair the server showed a rater. Each row copies what it
  needs from the store at issue time (prompt, the two generators, the judge's two
  verdicts), so a vote keeps its meaning when newer runs replace the shown ones;
* ``votes``: at most one per pair (``UNIQUE (pair_id)``), so a vote submitted twice
  is counted once.

A *sample id* is the ``rowid`` of a ``samples`` row. The store never runs
``VACUUM`` (which could renumber rowids); the ranking reads only the copies in
``pairs`` and so does not depend on them staying put.

Concurrency: every request opens its own connection; a write takes the write
lock at its start (``BEGIN IMMEDIATE``) and waits up to :data:`BUSY_TIMEOUT_S`
for it, and WAL lets readers go on meanwhile, so concurrent raters queue rather
than fail. ``synchronous=FULL``, as in the store: a committed vote survives a crash.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from genlab.errors import InputError

BUSY_TIMEOUT_S = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS raters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pairs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rater_id INTEGER NOT NULL REFERENCES raters (id),
    track TEXT NOT NULL,
    split TEXT NOT NULL,
    prompt_id TEXT NOT NULL,
    prompt TEXT NOT NULL,
    left_sample INTEGER NOT NULL,
    right_sample INTEGER NOT NULL,
    left_generator TEXT NOT NULL,
    right_generator TEXT NOT NULL,
    left_passed INTEGER NOT NULL,
    right_passed INTEGER NOT NULL,
    issued TEXT NOT NULL,
    CHECK (left_sample <> right_sample AND left_generator <> right_generator)
);
CREATE INDEX IF NOT EXISTS pairs_rater ON pairs (rater_id);
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pair_id INTEGER NOT NULL UNIQUE REFERENCES pairs (id),
    rater_id INTEGER NOT NULL REFERENCES raters (id),
    prompt_id TEXT NOT NULL,
    left_sample INTEGER NOT NULL,
    right_sample INTEGER NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie')),
    winner_sample INTEGER,
    created TEXT NOT NULL,
    CHECK ((choice = 'tie') = (winner_sample IS NULL))
);
"""


def connect(db_path: Path | str, *, init: bool = True) -> sqlite3.Connection:
    """A connection to the existing results database at ``db_path``; with ``init``, the
    human-evaluation tables are created if missing (the app does it once at start, so
    its per-request connections skip it).

    ``check_same_thread=False``: a web request may open it in one worker thread and
    use it in another; each connection still serves one request at a time.
    """
    path = Path(db_path)
    if not path.is_file():
        raise InputError(f"no results database at {str(path)!r}; run `genlab run` first or "
                         "pass the --db of an existing one")
    con = sqlite3.connect(f"file:{path.resolve()}?mode=rw", uri=True, isolation_level=None,
                          timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA synchronous=FULL")
    if init:
        con.execute("PRAGMA journal_mode=WAL")  # persistent: stored in the file
        con.executescript(SCHEMA)
    return con


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: all of it is committed, or (on any exception) none."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def now() -> str:
    """The time of a write, UTC, ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")
