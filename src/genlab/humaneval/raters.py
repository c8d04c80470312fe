"""Rater tokens: random, shown once, stored only as their SHA-256.

A token is 32 random bytes from :func:`secrets.token_urlsafe` (256 bits), so a
plain unsalted SHA-256 suffices to store it: no dictionary can hold such a
token, and the lookup by hash (an index probe) leaks nothing usable by timing.
Raters send it as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from genlab.errors import InputError
from genlab.humaneval.db import now, transaction

TOKEN_BYTES = 32
# token_urlsafe(32) gives 43 characters; anything outside this shape is refused
# before it reaches the database.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")
_NAME = re.compile(r"[\w .@+-]{1,64}")


@dataclass(frozen=True)
class Rater:
    """A rater as the server knows them: an id and a display name."""

    id: int
    name: str


@dataclass(frozen=True)
class NewRater:
    """A rater just created, with the token to hand them (not stored anywhere)."""

    id: int
    name: str
    token: str


def hash_token(token: str) -> str:
    """The hex SHA-256 of ``token``, as stored in ``raters.token_hash``."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_raters(con: sqlite3.Connection, names: Sequence[str]) -> list[NewRater]:
    """Create one rater per name, in one transaction; returns their fresh tokens."""
    for name in names:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InputError(f"bad rater name {name!r}: accepted are 1 to 64 letters, digits, "
                             "spaces and . @ + - _")
    made = []
    with transaction(con):
        for name in names:
            token = secrets.token_urlsafe(TOKEN_BYTES)
            cur = con.execute("INSERT INTO raters (name, token_hash, created) VALUES (?,?,?)",
                              (name, hash_token(token), now()))
            made.append(NewRater(int(cur.lastrowid or 0), name, token))
    return made


def count_raters(con: sqlite3.Connection) -> int:
    return int(con.execute("SELECT COUNT(*) FROM raters").fetchone()[0])


def rater_for_token(con: sqlite3.Connection, token: str) -> Rater | None:
    """The rater holding ``token``, or None for a malformed or unknown token."""
    if not _TOKEN.fullmatch(token):
        return None
    row = con.execute("SELECT id, name FROM raters WHERE token_hash=?",
                      (hash_token(token),)).fetchone()
    return None if row is None else Rater(int(row["id"]), str(row["name"]))
