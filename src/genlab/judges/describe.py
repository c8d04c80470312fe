"""English for verdicts: noun phrases for counted kinds of detected objects.

Kept apart from the grammar (:mod:`genlab.worlds.shapes.grammar`), which only
speaks the prompt language: verdicts also talk about blobs, unknown colours
and digits ("found 4 red squares and 1 red blob").
"""

from __future__ import annotations

from collections import Counter

from genlab.worlds.shapes.spec import Group

MAX_KINDS = 4  # kinds listed in one phrase before "and N other objects"


def name(colour: str | None, shape: str | None) -> str:
    """'red square', 'unknown-colour blob', 'circle', 'red object'."""
    return noun(1, colour, shape).split(" ", 1)[1]


def noun(count: int, colour: str | None, shape: str | None) -> str:
    """'1 red square', '3 circles', '2 unknown-colour blobs', '1 object'."""
    words = [str(count)]
    if colour is not None:
        words.append("unknown-colour" if colour == "unknown" else colour)
    base = shape if shape is not None else "object"
    words.append(base if count == 1 else base + "s")
    return " ".join(words)


def join(phrases: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def kinds_phrase(kinds: Counter[tuple[str, str]]) -> str:
    """Counted (colour, shape) kinds, most frequent first: '4 red squares and 1 red blob'."""
    if not kinds:
        return "nothing"
    items = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    phrases = [noun(n, c, s) for (c, s), n in items[:MAX_KINDS]]
    rest = sum(n for _, n in items[MAX_KINDS:])
    if rest:
        phrases.append(noun(rest, "other", None))
    return join(phrases)


def negated_phrase(g: Group) -> str:
    """The prompt's words for a negated group: 'no red objects', 'no blue circles'."""
    words = ["no"]
    if g.colour is not None:
        words.append(g.colour)
    words.append(g.shape + "s" if g.shape is not None else "objects")
    return " ".join(words)
