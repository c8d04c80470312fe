"""Tokenizer of ``flow``: round trip, box tokens, loud errors."""

from __future__ import annotations

import pytest

from genlab.errors import InputError, ParseError
from genlab.generators.flow.tokenizer import Tokenizer
from genlab.worlds.shapes import grammar, vocab
from genlab.worlds.shapes.spec import Box


def test_round_trip_words_and_boxes() -> None:
    tok = Tokenizer(max_tokens=40, bins=16)
    prompts = ["a red circle", "two red squares, one green circle and three blue triangles",
               "a red circle and a blue square on a black background"]
    boxes = [None, None, (Box(0.1, 0.2, 0.4, 0.5), Box(0.6, 0.6, 0.9, 0.95))]
    ids, mask = tok.encode(prompts, boxes)
    assert ids.shape == mask.shape == (3, 40)
    for i, p in enumerate(prompts):
        d = tok.decode(ids[i])
        assert list(d.words) == grammar.tokenize(p)
        want = boxes[i] or ()
        assert len(d.boxes) == len(want)
        for got, b in zip(d.boxes, want, strict=True):
            for g, v in zip(got, (b.x0, b.y0, b.x1, b.y1), strict=True):
                assert abs(g - v) <= 0.5 / 16 + 1e-9  # within half a bin
    assert int(mask[0].sum()) == 3 and int(mask[2].sum()) == 11 + 10


def test_vocabulary_covers_the_grammar() -> None:
    tok = Tokenizer()
    assert set(vocab.vocabulary()) <= set(tok.tokens)
    assert tok.quantise(1.0) == tok.bins - 1 and tok.quantise(0.0) == 0


def test_unknown_word_lists_vocabulary() -> None:
    with pytest.raises(ParseError, match="accepted words") as e:
        Tokenizer().encode(["a red hexagon"])
    assert "hexagon" in str(e.value) and "circle" in str(e.value)


def test_too_long_and_bad_calls() -> None:
    tok = Tokenizer(max_tokens=7)
    with pytest.raises(ParseError, match="at most 7"):
        tok.encode(["a red circle"], [(Box(0.1, 0.1, 0.2, 0.2),)])
    with pytest.raises(InputError):
        tok.encode("a red circle")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        tok.encode(["a red circle"], [None, None])
    with pytest.raises(ParseError):
        tok.encode([""])
