"""Word-level tokenizer for ``shapes`` prompts, with ReCo-style layout-box tokens.

The vocabulary is closed (:func:`genlab.worlds.shapes.vocab.vocabulary`), so a
word-level tokenizer is exact and tiny. Layout boxes become position tokens as
in ReCo (Yang et al., 2023, "ReCo: Region-Controlled Text-to-Image
Generation"): each box coordinate is quantised into ``bins`` bins and the
prompt is followed by one ``<box> x0 y0 x1 y1`` group per box, so the text
encoder reads words and regions in one sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from genlab.errors import InputError, ParseError
from genlab.worlds.shapes import grammar, vocab
from genlab.worlds.shapes.spec import Box

PAD = "<pad>"
BOX = "<box>"
SPECIALS: tuple[str, ...] = (PAD, BOX)


def bin_token(i: int) -> str:
    return f"<pos{i}>"


def bin_centres(ids: torch.Tensor, first_bin: int, bins: int
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Which ids are box-coordinate bins, and each bin's centre in [0, 1] (``(n, L)``
    bool and float; the centre of a non-bin id is meaningless)."""
    is_bin = (ids >= first_bin) & (ids < first_bin + bins)
    return is_bin, ((ids - first_bin).clamp(0, bins - 1).float() + 0.5) / bins


@dataclass(frozen=True)
class Decoded:
    """What a token row says: the prompt's words and each box's bin centres
    ``(x0, y0, x1, y1)`` (not a :class:`Box`: a tiny box may quantise to zero width)."""

    words: tuple[str, ...]
    boxes: tuple[tuple[float, float, float, float], ...]


class Tokenizer:
    """Prompt (+ boxes) -> fixed-length ids; ``decode`` inverts it up to box quantisation."""

    def __init__(self, max_tokens: int = 40, bins: int = 16) -> None:
        if max_tokens < 1 or bins < 2:
            raise InputError(f"need max_tokens >= 1 and bins >= 2, got {max_tokens}, {bins}")
        self.max_tokens = max_tokens
        self.bins = bins
        words = [*vocab.vocabulary(), ","]
        self.tokens: tuple[str, ...] = (*SPECIALS, *words,
                                        *(bin_token(i) for i in range(bins)))
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.pad_id = self.index[PAD]
        self.first_bin = self.index[bin_token(0)]

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    # ------------------------------------------------------------ encode

    def quantise(self, v: float) -> int:
        """Bin of one coordinate in [0, 1]; 1.0 falls in the last bin."""
        return min(int(v * self.bins), self.bins - 1)

    def tokens_for(self, prompt: str, boxes: Sequence[Box] | None = None) -> list[str]:
        """The token strings of one prompt; unknown words raise ParseError."""
        words = grammar.tokenize(prompt)  # ParseError lists the vocabulary
        out = list(words)
        for b in boxes or ():
            if not isinstance(b, Box):
                raise InputError(f"layout boxes must be genlab Box objects, got {b!r}")
            out += [BOX, *(bin_token(self.quantise(v)) for v in (b.x0, b.y0, b.x1, b.y1))]
        if len(out) > self.max_tokens:
            raise ParseError(f"prompt {prompt!r} with {len(boxes or ())} boxes needs "
                             f"{len(out)} tokens; this model reads at most {self.max_tokens}")
        return out

    def encode(self, prompts: Sequence[str],
               boxes: Sequence[Sequence[Box] | None] | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """-> ids ``(n, L) int64`` (``<pad>``-padded), mask ``(n, L) bool`` (True = token)."""
        if isinstance(prompts, str):
            raise InputError("encode takes a list of prompts, got one string")
        if boxes is not None and len(boxes) != len(prompts):
            raise InputError(f"{len(prompts)} prompts but {len(boxes)} box lists")
        ids = torch.full((len(prompts), self.max_tokens), self.pad_id, dtype=torch.long)
        for i, p in enumerate(prompts):
            toks = self.tokens_for(p, boxes[i] if boxes is not None else None)
            ids[i, : len(toks)] = torch.tensor([self.index[t] for t in toks])
        return ids, ids != self.pad_id

    # ------------------------------------------------------------ decode

    def decode(self, ids: torch.Tensor) -> Decoded:
        """One row of ids -> words and boxes (each coordinate at its bin centre)."""
        toks = [self.tokens[int(i)] for i in ids if int(i) != self.pad_id]
        words = tuple(t for t in toks if t not in SPECIALS and not t.startswith("<pos"))
        c = [(self.index[t] - self.first_bin + 0.5) / self.bins
             for t in toks if t.startswith("<pos")]
        boxes = tuple((c[k], c[k + 1], c[k + 2], c[k + 3]) for k in range(0, len(c) - 3, 4))
        return Decoded(words, boxes)
