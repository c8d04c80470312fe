"""Grounding maps: every planned object painted into its box as attribute channels.

GLIGEN (Li et al., 2023) grounds a text-to-image model by giving it one token
per object: the object's box (Fourier features) joined to an embedding of what
the object is, so that *which* object goes *where* is no longer left to the
prompt's word order. A convolutional UNet has no position code for a token to
point at, so genlab gives the same information in the form a convolution reads
directly: a spatial map, as the semantic layouts of SPADE (Park et al., 2019)
and Make-A-Scene (Gafni et al., 2022) and ControlNet's input maps (Zhang et
al., 2023). For each latent cell, channel 0 holds the fraction of the cell that
lies inside some object's box, and the next channels hold that fraction times
the one-hot colour and one-hot shape of the object (zero where the plan leaves
an attribute open). Boxes never overlap in the ``shapes`` world, so the map
holds any number of objects, unlike one mask channel per box (:mod:`.box_maps`).

Coverage is fractional (area of cell ∩ box over cell area), so a box that
covers no cell centre still shows, and its edges are sub-cell exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from genlab.errors import InputError
from genlab.worlds.shapes import grammar, vocab
from genlab.worlds.shapes.arrays import (
    COLOUR_CODE,
    COLOUR_NAMES,
    SHAPE_CODE,
    SHAPE_NAMES,
    SceneArrays,
)
from genlab.worlds.shapes.spec import Box, Scene

GROUNDING_CHANNELS = 1 + len(COLOUR_NAMES) + len(SHAPE_NAMES)


@dataclass(frozen=True)
class GroundedObject:
    """One planned object: its box and what it is (``None``: left to the model)."""

    box: Box
    colour: str | None = None
    shape: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.box, Box):
            raise InputError(f"box must be a Box, got {self.box!r}")
        if self.colour is not None and self.colour not in vocab.COLOURS:
            raise InputError(f"unknown colour {self.colour!r}; accepted: "
                             f"{', '.join(vocab.COLOURS)} or None")
        if self.shape is not None and self.shape not in vocab.SHAPES:
            raise InputError(f"unknown shape {self.shape!r}; accepted: "
                             f"{', '.join(vocab.SHAPES)} or None")


Grounding = tuple[GroundedObject, ...]


def from_scene(scene: Scene) -> Grounding:
    """The grounding of a concrete scene: each object's square box (clipped to the
    image, as :func:`object_boxes` gives the training maps) and kind."""
    boxes = object_boxes(SceneArrays.from_scenes([scene]).objects).tolist()
    return tuple(GroundedObject(Box(*b), o.colour, o.shape)
                 for b, o in zip(boxes, scene.objects, strict=True))


def from_layout(prompt: str, boxes: Sequence[Box]) -> Grounding:
    """The grounding a ``layout`` prompt and its boxes state: box ``k`` holds the
    prompt's ``k``-th object (ParseError on a bad prompt or box count)."""
    spec = grammar.parse(prompt, boxes)
    kinds = [(g.colour, g.shape) for g in spec.groups for _ in range(g.count)]
    return tuple(GroundedObject(b, c, s) for b, (c, s) in zip(boxes, kinds, strict=True))


def coverage(lo: np.ndarray, hi: np.ndarray, size: int) -> np.ndarray:
    """``(..., size)``: the fraction of each of ``size`` equal cells of [0, 1] inside
    [lo, hi] (one axis)."""
    edges = np.arange(size + 1, dtype=np.float64) / size
    inter = (np.minimum(hi[..., None], edges[1:]) - np.maximum(lo[..., None], edges[:-1]))
    return np.clip(inter * size, 0.0, 1.0)


def paint(boxes: np.ndarray, colours: np.ndarray, shapes: np.ndarray, size: int) -> torch.Tensor:
    """Padded arrays -> ``(n, GROUNDING_CHANNELS, size, size)`` float32 maps.

    ``boxes`` ``(n, k, 4)`` (x0, y0, x1, y1) in image fractions, rows of padding
    all zero (an empty box paints nothing); ``colours``, ``shapes`` ``(n, k)`` codes
    into :data:`COLOUR_NAMES` / :data:`SHAPE_NAMES`, ``-1`` for open.
    """
    n, k = boxes.shape[:2]
    cov_x = coverage(boxes[..., 0], boxes[..., 2], size)  # (n, k, size)
    cov_y = coverage(boxes[..., 1], boxes[..., 3], size)
    cover = cov_y[..., :, None] * cov_x[..., None, :]  # (n, k, size, size)
    attrs = np.zeros((n, k, GROUNDING_CHANNELS))
    attrs[..., 0] = 1.0
    rows, cols = np.nonzero(colours >= 0)
    attrs[rows, cols, 1 + colours[rows, cols]] = 1.0
    rows, cols = np.nonzero(shapes >= 0)
    attrs[rows, cols, 1 + len(COLOUR_NAMES) + shapes[rows, cols]] = 1.0
    maps = np.einsum("nkyx,nkc->ncyx", cover, attrs)
    return torch.from_numpy(maps.astype(np.float32))


def grounding_maps(groundings: Sequence[Grounding], size: int) -> torch.Tensor:
    """One grounding per image -> ``(n, GROUNDING_CHANNELS, size, size)`` maps (an
    empty grounding is an all-zero map: the null condition)."""
    n, k = len(groundings), max((len(g) for g in groundings), default=0)
    boxes = np.zeros((n, k, 4))
    colours = np.full((n, k), -1, np.int64)
    shapes = np.full((n, k), -1, np.int64)
    for i, g in enumerate(groundings):
        for j, o in enumerate(g):
            boxes[i, j] = (o.box.x0, o.box.y0, o.box.x1, o.box.y1)
            colours[i, j] = COLOUR_CODE[o.colour] if o.colour is not None else -1
            shapes[i, j] = SHAPE_CODE[o.shape] if o.shape is not None else -1
    return paint(boxes, colours, shapes, size)


def object_boxes(objects: np.ndarray) -> np.ndarray:
    """``(m, 4)`` (x0, y0, x1, y1) square boxes of object rows
    (:data:`genlab.worlds.shapes.arrays.OBJECT_DTYPE`), clipped to the image."""
    half = objects["size"] / 2
    return np.clip(np.stack([objects["x"] - half, objects["y"] - half,
                             objects["x"] + half, objects["y"] + half], -1), 0.0, 1.0)


def scene_maps(scenes: SceneArrays, size: int) -> torch.Tensor:
    """The maps of rendered training scenes, straight from their arrays (the fast
    path of training; equal to ``grounding_maps`` of ``from_scene`` of each)."""
    obj = scenes.objects
    n = len(scenes)
    counts = np.bincount(obj["scene"], minlength=n)
    k = int(counts.max(initial=0))
    slot = np.arange(len(obj)) - np.repeat(np.cumsum(counts) - counts, counts)
    boxes = np.zeros((n, k, 4))
    colours = np.full((n, k), -1, np.int64)
    shapes = np.full((n, k), -1, np.int64)
    boxes[obj["scene"], slot] = object_boxes(obj)
    colours[obj["scene"], slot] = obj["colour"]
    shapes[obj["scene"], slot] = obj["shape"]
    return paint(boxes, colours, shapes, size)
