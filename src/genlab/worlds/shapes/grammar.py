"""English <-> :class:`PromptSpec` for the ``shapes`` world.

``parse(prompt(spec)) == spec`` for every valid spec (a property test checks
10,000 of them). The grammar is small and closed, in the spirit of GenEval's
templated prompts (Ghosh et al., 2023) and T2I-CompBench's categories (Huang
et al., 2023), so that every prompt has exactly one meaning:

    single    a red circle
    counting  seven blue triangles
    multi     two red squares, one green circle and three blue triangles
    binding   a red square and a blue circle
    position  a red circle to the left of a blue square
    negation  three circles and no red objects
    layout    a red circle and a blue square        (+ one box per object)

Any prompt may end with "on a black background". A word outside the
vocabulary, or a sentence outside the grammar, raises :class:`ParseError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from genlab.errors import ParseError, SpecError
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.spec import Box, Group, PromptSpec

_SINGULAR = {p: s for s, p in vocab.PLURALS.items()}
_RELATION_WORDS = {tuple(phrase.split()): name for name, phrase in vocab.RELATIONS.items()}
_VOCAB = set(vocab.vocabulary())


# ---------------------------------------------------------------- spec -> English


def _noun_phrase(g: Group, *, article: bool) -> str:
    words: list[str] = []
    if article:
        assert g.count == 1
        words.append("a")
    else:
        words.append(vocab.NUMBER_WORDS[g.count])
    if g.colour is not None:
        words.append(g.colour)
    assert g.shape is not None
    words.append(g.shape if g.count == 1 else vocab.PLURALS[g.shape])
    return " ".join(words)


def _negated_phrase(g: Group) -> str:
    words = ["no"]
    if g.colour is not None:
        words.append(g.colour)
    words.append(vocab.PLURALS[g.shape] if g.shape is not None else "objects")
    return " ".join(words)


def _join(phrases: Sequence[str]) -> str:
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def prompt(spec: PromptSpec) -> str:
    """The canonical English prompt for ``spec`` (boxes travel separately)."""
    c = spec.category
    if c == "single" or c == "binding" or c == "layout":
        text = _join([_noun_phrase(g, article=True) for g in spec.groups])
    elif c == "counting" or c == "multi":
        text = _join([_noun_phrase(g, article=False) for g in spec.groups])
    elif c == "position":
        a, b = spec.groups
        assert spec.relation is not None
        text = (f"{_noun_phrase(a, article=True)} {vocab.RELATIONS[spec.relation]} "
                f"{_noun_phrase(b, article=True)}")
    elif c == "negation":
        g = spec.groups[0]
        assert spec.negation is not None
        text = f"{_noun_phrase(g, article=g.count == 1)} and {_negated_phrase(spec.negation)}"
    else:  # pragma: no cover - PromptSpec validates the category
        raise SpecError(f"unknown category {c!r}")
    if spec.background is not None:
        text += f" on a {spec.background} background"
    return text


# ---------------------------------------------------------------- English -> spec


def tokenize(text: str) -> list[str]:
    """Lower-case words and commas; a final full stop is allowed."""
    if not isinstance(text, str):
        raise ParseError(f"a prompt must be a string, got {type(text).__name__}")
    body = text.strip().lower()
    body = body[:-1] if body.endswith(".") else body
    tokens = re.findall(r"[a-z]+|,|\S", body)
    bad = [t for t in tokens if t != "," and t not in _VOCAB]
    if bad:
        raise ParseError(
            f"unknown word {bad[0]!r} in prompt {text!r}; accepted words: "
            + ", ".join(sorted(_VOCAB))
        )
    if not tokens:
        raise ParseError("empty prompt; try e.g. 'a red circle'")
    return tokens


def _parse_np(tokens: list[str], text: str) -> tuple[Group, bool]:
    """One noun phrase -> (group, written with an article)."""
    if not tokens:
        raise ParseError(f"missing object phrase in {text!r}")
    det, rest = tokens[0], tokens[1:]
    if det in ("a", "an"):
        count, article = 1, True
    elif det in vocab.NUMBERS:
        count, article = vocab.NUMBERS[det], False
    else:
        raise ParseError(
            f"expected 'a' or a number word ({', '.join(vocab.NUMBERS)}) before {det!r} in {text!r}"
        )
    colour = None
    if rest and rest[0] in vocab.COLOURS:
        colour, rest = rest[0], rest[1:]
    if len(rest) != 1:
        raise ParseError(f"expected one shape word after {det!r} in {text!r}, got {rest}")
    noun = rest[0]
    if count == 1 and noun in vocab.SHAPES:
        shape = noun
    elif count > 1 and noun in _SINGULAR:
        shape = _SINGULAR[noun]
    else:
        want = "a singular shape (circle, square, triangle)" if count == 1 else \
            "a plural shape (circles, squares, triangles)"
        raise ParseError(f"expected {want} after {det!r}, got {noun!r} in {text!r}")
    return Group(count, shape, colour), article


def _parse_negated(tokens: list[str], text: str) -> Group:
    colour = None
    rest = tokens
    if rest and rest[0] in vocab.COLOURS:
        colour, rest = rest[0], rest[1:]
    if rest == ["objects"]:
        if colour is None:
            raise ParseError(f"'no objects' forbids everything in {text!r}; name a colour or shape")
        return Group(0, None, colour)
    if len(rest) == 1 and rest[0] in _SINGULAR:
        return Group(0, _SINGULAR[rest[0]], colour)
    raise ParseError(
        "after 'no' expected '[colour] objects' or '[colour] circles|squares|triangles' "
        f"in {text!r}"
    )


def _split_list(tokens: list[str]) -> list[list[str]]:
    """Split 'A, B and C' into [A, B, C]."""
    parts: list[list[str]] = [[]]
    for t in tokens:
        if t in (",", "and"):
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _find_relation(tokens: list[str]) -> tuple[int, int, str] | None:
    for phrase, name in _RELATION_WORDS.items():
        n = len(phrase)
        for i in range(len(tokens) - n + 1):
            if tuple(tokens[i:i + n]) == phrase:
                return i, i + n, name
    return None


def _infer_category(nps: list[tuple[Group, bool]]) -> str:
    if len(nps) == 1:
        return "single" if nps[0][1] else "counting"
    if len(nps) == 2 and all(art for _, art in nps):
        (a, _), (b, _) = nps
        if a.colour != b.colour and a.shape != b.shape:
            return "binding"
    return "multi"


def parse(text: str, boxes: Sequence[Box] | None = None) -> PromptSpec:
    """Read an English prompt (plus layout boxes, if any) into a :class:`PromptSpec`."""
    tokens = tokenize(text)
    background = None
    if len(tokens) >= 4 and tokens[-4:-2] == ["on", "a"] and tokens[-1] == "background":
        background = tokens[-2]
        if background not in vocab.BACKGROUNDS:
            raise ParseError(f"unknown background {background!r} in {text!r}; accepted: "
                             + ", ".join(vocab.BACKGROUNDS))
        tokens = tokens[:-4]
    try:
        return _parse_body(tokens, text, boxes, background)
    except SpecError as exc:
        if isinstance(exc, ParseError):
            raise
        raise ParseError(f"prompt {text!r} is not a valid request: {exc}") from exc


def _parse_body(tokens: list[str], text: str, boxes: Sequence[Box] | None,
                background: str | None) -> PromptSpec:
    if "no" in tokens:
        i = tokens.index("no")
        if i < 2 or tokens[i - 1] != "and" or boxes is not None:
            raise ParseError(f"negation is written 'X and no Y' (no boxes) in {text!r}")
        g, _ = _parse_np(tokens[: i - 1], text)
        return PromptSpec("negation", (g,), negation=_parse_negated(tokens[i + 1:], text),
                          background=background)
    rel = _find_relation(tokens)
    if rel is not None:
        start, end, name = rel
        if boxes is not None:
            raise ParseError(f"a position prompt takes no boxes: {text!r}")
        a, art_a = _parse_np(tokens[:start], text)
        b, art_b = _parse_np(tokens[end:], text)
        if not (art_a and art_b):
            raise ParseError(f"position prompts relate two single objects ('a ...'): {text!r}")
        return PromptSpec("position", (a, b), relation=name, background=background)
    nps = [_parse_np(part, text) for part in _split_list(tokens)]
    groups = tuple(g for g, _ in nps)
    if boxes is not None:
        if not all(art for _, art in nps):
            raise ParseError(f"layout prompts list single objects ('a red circle, ...'): {text!r}")
        return PromptSpec("layout", groups, boxes=tuple(boxes), background=background)
    return PromptSpec(_infer_category(nps), groups, background=background)
