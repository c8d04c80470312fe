"""The one exception family genlab raises for bad input and broken state.

Every error names the bad value and what would have been accepted, so a user
can fix the call without reading the source.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GenlabError(Exception):
    """Base class: a user-facing problem with a clear message."""


class ParseError(GenlabError, ValueError):
    """A prompt that the grammar cannot read."""


class SpecError(GenlabError, ValueError):
    """A spec (prompt spec, scene, box) that breaks the world's rules."""


class UnknownNameError(GenlabError, KeyError):
    """A name (generator, track, judge, ...) that no registry holds."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class CheckpointError(GenlabError):
    """A checkpoint that is missing, corrupt or does not match its config."""


class InputError(GenlabError, ValueError):
    """An array, option or file argument of the wrong kind."""


def check_int(name: str, value: object, low: int = 1) -> int:
    """``value`` if it is an int (not a bool) >= ``low``; else an InputError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InputError(f"{name} must be an int >= {low}, got {value!r}")
    return value


def suggest(name: str, choices: Iterable[str]) -> str:
    """A ' Did you mean ...?' hint for ``name`` among ``choices`` ('' if none is close)."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
