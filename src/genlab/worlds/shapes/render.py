"""Vectorised, anti-aliased renderer for ``shapes`` scenes (numpy only).

Each object is drawn from its signed distance function (SDF) evaluated on a
small window around it; the pixel's coverage is ``clip(0.5 - sdf, 0, 1)``, the
standard one-pixel-wide analytic anti-aliasing of SDF rendering (Green,
"Improved alpha-tested magnification for vector textures", SIGGRAPH 2007),
stored as 8-bit alpha like any rasteriser. Objects are composited with the
"over" operator (Porter & Duff, "Compositing digital images", SIGGRAPH 1984),
so a pixel an object covers fully is exactly its vocabulary colour and a pixel
no object touches is exactly the background colour.

Speed (``bench/bench_render.py``): every object of the batch is evaluated at
once, objects last so numpy's inner loops are long; windows are bucketed by
size so little is spent on empty corners; only touched pixels are written, as
one 3-byte item per pixel. When no two objects' coverage can meet (always true
of sampled scenes, whose gaps exceed the anti-aliasing fringe) each touched
pixel is one look-up in a (colour, background, alpha) table. Otherwise objects
are painted slot by slot (the k-th object of every scene at once) over the
canvas, in each scene's order.

This numpy path is the reference implementation. When numba imports,
:func:`render_arrays` uses the compiled kernel in ``render_kernel.py``
instead: same float32 steps, identical bytes, ~5-8x faster at 32-64 px.
``GENLAB_RENDER=numpy`` forces the reference; ``GENLAB_RENDER=numba``
requires the kernel (and fails loudly without numba).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterator, Sequence
from types import ModuleType

import numpy as np

from genlab.errors import InputError
from genlab.worlds.shapes import vocab
from genlab.worlds.shapes.arrays import BACKGROUND_CODE, COLOUR_CODE, SHAPE_CODE, SceneArrays
from genlab.worlds.shapes.spec import Scene

MIN_SIZE_PX = 32
MAX_SIZE_PX = 256

_COLOUR_F32 = np.array(list(vocab.COLOURS.values()), np.float32)
_BG_U8 = np.array(list(vocab.BACKGROUNDS.values()), np.uint8)
_N_SHAPES, _N_BG = len(vocab.SHAPES), len(_BG_U8)
_PIXEL = np.dtype("V3")  # one RGB pixel as an opaque 3-byte item
_CIRCLE, _SQUARE = SHAPE_CODE["circle"], SHAPE_CODE["square"]
_SQRT5 = math.sqrt(5.0)
# How far (px) beyond its box an object's coverage can reach, per side
# (left/right, top, bottom). The triangle's SDF is the max of its three
# half-planes, whose 0.5 px offsets meet beyond the corners (mitre joins).
_EXT_X = np.full(_N_SHAPES, 0.5)
_EXT_X[SHAPE_CODE["triangle"]] = (0.5 + 0.5 * _SQRT5) / 2          # 0.809
_EXT_TOP = np.full(_N_SHAPES, 0.5)
_EXT_TOP[SHAPE_CODE["triangle"]] = 0.5 * _SQRT5                     # 1.118
# (left/right, top, bottom) per shape, for the compiled kernel's per-object windows
_EXT = np.stack([_EXT_X, _EXT_TOP, np.full(_N_SHAPES, 0.5)], axis=1)
_BACKENDS = ("auto", "numba", "numpy")
_N_BUCKETS = 4
_WINDOW_BUDGET = 2**23  # window pixels per vectorised step


def check_size(size: int) -> int:
    """``size`` as an int, or :class:`InputError` unless it is an int in 32..256."""
    if (isinstance(size, bool) or not isinstance(size, (int, np.integer))
            or not MIN_SIZE_PX <= size <= MAX_SIZE_PX):
        raise InputError(f"image size {size!r} is not supported; accepted: an int "
                         f"from {MIN_SIZE_PX} to {MAX_SIZE_PX} (pixels)")
    return int(size)


@functools.lru_cache(maxsize=8)
def _background_images(size: int) -> np.ndarray:
    """``(n_backgrounds, size*size*3) uint8``: each background as a flat image."""
    img = np.broadcast_to(_BG_U8[:, None, :], (_N_BG, size * size, 3))
    out = np.ascontiguousarray(img).reshape(_N_BG, -1)
    out.setflags(write=False)
    return out


def _over(cur: np.ndarray, colour: np.ndarray, alpha8: np.ndarray) -> np.ndarray:
    """``cur`` (k, 3) float32 under ``colour`` (k, 3) at 8-bit ``alpha8`` (k,) -> (k, 3) uint8.

    alpha 255 gives ``colour`` exactly (integers are exact in float32).
    """
    a = alpha8.astype(np.float32)[:, None] / np.float32(255)
    out = cur + a * (colour - cur)
    out += 0.5  # round half up on the cast
    return out.astype(np.uint8)


def _lut() -> np.ndarray:
    """``(colour, background, alpha8)`` -> pixel, as a flat ``V3`` table."""
    bg = np.repeat(np.tile(_BG_U8.astype(np.float32), (len(_COLOUR_F32), 1)), 256, axis=0)
    col = np.repeat(_COLOUR_F32, _N_BG * 256, axis=0)
    alpha = np.tile(np.arange(256), len(_COLOUR_F32) * _N_BG)
    return np.ascontiguousarray(_over(bg, col, alpha)).view(_PIXEL).ravel()


_LUT = _lut()


def coverage_pixels(colour: str, background: str) -> np.ndarray:
    """``(256, 3) uint8``: the pixel an object of ``colour`` over ``background`` renders
    at each 8-bit coverage, alpha 0 to 255 (one row of the renderer's look-up table):
    what a pixel of one object alone says about its coverage."""
    if colour not in COLOUR_CODE:
        raise InputError(f"colour {colour!r} is not one of {', '.join(COLOUR_CODE)}")
    if background not in BACKGROUND_CODE:
        raise InputError(f"background {background!r} is not one of "
                         f"{', '.join(BACKGROUND_CODE)}")
    row = (COLOUR_CODE[colour] * _N_BG + BACKGROUND_CODE[background]) * 256  # as render_arrays
    return _LUT[row:row + 256].view(np.uint8).reshape(256, 3).copy()


def _alpha_field(shape: np.ndarray, dx: np.ndarray, dy: np.ndarray,
                 h: np.ndarray) -> np.ndarray:
    """``t = 255 * (0.5 - sdf) + 0.5`` per window pixel, ``(W, W, m) float32``.

    ``floor(clip(t, 0, 255))`` is the 8-bit coverage, ``sdf`` the signed
    distance in pixels (negative inside). shape: ``(m,)`` codes sorted
    ascending, so each shape runs on one slice; dx: ``(1, W, m)`` and dy:
    ``(W, 1, m)`` offsets of pixel centres from the object centre; h: ``(m,)``
    half-sides. Objects are the last axis so numpy's inner loops run over all
    of them, not over a short window row; constants are folded into the small
    operands so each shape costs one to three passes over the big array.
    """
    w, m = dy.shape[0], dx.shape[2]
    out = np.empty((w, w, m), np.float32)
    cuts = np.searchsorted(shape, np.arange(_N_SHAPES + 1))
    for code in range(_N_SHAPES):
        a, b = int(cuts[code]), int(cuts[code + 1])
        if a == b:
            continue
        x, y, o = dx[..., a:b] * 255, dy[..., a:b] * 255, out[..., a:b]
        c = 128 + 255 * h[a:b]                       # t where sdf = -h (the centre)
        if code == _CIRCLE:                          # sdf = |(x, y)| - h
            np.add(x * x, y * y, out=o)
            np.sqrt(o, out=o)
            np.subtract(c, o, out=o)
        elif code == _SQUARE:                        # sdf = max(|x|, |y|) - h
            np.minimum(c - np.abs(x), c - np.abs(y), out=o)
        else:  # triangle, apex (0, -h), base (+-h, +h): sdf = max(base, slant)
            np.add(np.abs(x) * np.float32(-2 / _SQRT5), (c - 128 + y) * np.float32(1 / _SQRT5)
                   + 128, out=o)
            np.minimum(o, c - y, out=o)
    return out


def _bucket(cx: np.ndarray, cy: np.ndarray, half: np.ndarray, shape: np.ndarray,
            base: np.ndarray, payload: np.ndarray, size: int,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coverage of ``m`` objects sharing one window size, sorted by shape.

    cx, cy, half: ``(m,)`` centre and half-side in pixels; base: ``(m,)`` flat
    index of each object's image; payload: ``(m,)`` any per-object value.
    Returns (flat pixel index, alpha8, payload) of every touched pixel. Windows
    are shifted (never cropped) to lie inside the image.
    """
    # pixel p is touched only if |p + 0.5 - c| < half + ext: p runs from
    # floor(c - half - ext - 0.5) + 1, over at most ceil(2 (half + ext)) + 1 pixels
    ext = _EXT_TOP[shape]
    win = min(size, int(math.ceil(2 * float((half + ext).max()))) + 1)
    x0 = np.clip(np.floor(cx - half - ext + 0.5), 0, size - win).astype(np.intp)
    y0 = np.clip(np.floor(cy - half - ext + 0.5), 0, size - win).astype(np.intp)
    r = np.arange(win)[:, None]
    dx = (x0 + (r + 0.5) - cx).astype(np.float32)            # (W, m)
    dy = (y0 + (r + 0.5) - cy).astype(np.float32)
    t = _alpha_field(shape, dx[None], dy[:, None], half.astype(np.float32))
    nz = np.flatnonzero(t >= 1.0)                            # in (row, col, object) order
    alpha8 = np.minimum(t.ravel()[nz], 255.0).astype(np.uint8)
    pos = nz // len(cx)
    j = nz - pos * len(cx)
    offset = (r * size + r.T).ravel()                        # window pixel -> image offset
    return (base + y0 * size + x0)[j] + offset[pos], alpha8, payload[j]


def _coverage(obj: np.ndarray, size: int, payload: np.ndarray,
              ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Coverage of every object: (flat pixel index, alpha8, payload) of touched pixels,
    one tuple per bucket (painting each at once saves concatenating big arrays).

    Objects are split into up to ``_N_BUCKETS`` window sizes of about equal counts
    (less padding than one window for all), each sorted by shape.
    """
    cx, cy = obj["x"] * size, obj["y"] * size
    half = obj["size"] * (size / 2)
    shape = obj["shape"]
    base = obj["scene"].astype(np.intp) * (size * size)
    n_buckets = min(_N_BUCKETS, max(1, len(obj) // 64))
    win = np.ceil(2 * (half + _EXT_TOP[shape])).astype(np.intp)
    cum = np.cumsum(np.bincount(win))
    cuts = np.searchsorted(cum, np.arange(1, n_buckets) * (len(obj) / n_buckets))
    key = np.searchsorted(cuts, win) * _N_SHAPES + shape
    order = np.argsort(key.astype(np.int16), kind="stable")  # radix sort
    ends = np.searchsorted(key[order], np.arange(1, n_buckets + 1) * _N_SHAPES)
    for a, b in zip([0, *ends[:-1].tolist()], ends.tolist(), strict=True):
        if a == b:
            continue
        # bound the temporaries (~20 bytes per window pixel) of huge batches
        step = max(1, _WINDOW_BUDGET // (int(win[order[a:b]].max()) + 1) ** 2)
        for lo in range(a, b, step):
            sel = order[lo:min(b, lo + step)]
            yield _bucket(cx[sel], cy[sel], half[sel], shape[sel], base[sel], payload[sel], size)


def _disjoint(obj: np.ndarray, size: int) -> bool:
    """Whether no two objects of one scene can touch the same pixel: their boxes,
    grown by how far each shape's anti-aliased fringe reaches, do not meet."""
    sc, shape = obj["scene"], obj["shape"]
    half = obj["size"] * (size / 2)
    cx, cy, ext_x = obj["x"] * size, obj["y"] * size, _EXT_X[shape]
    x0, x1 = cx - half - ext_x, cx + half + ext_x
    y0, y1 = cy - half - _EXT_TOP[shape], cy + half + 0.5
    for d in range(1, len(obj)):  # object k against object k + d of the same scene
        same = sc[d:] == sc[:-d]
        if not same.any():
            return True
        gx = np.maximum(x0[d:] - x1[:-d], x0[:-d] - x1[d:])
        gy = np.maximum(y0[d:] - y1[:-d], y0[:-d] - y1[d:])
        if (same & (np.maximum(gx, gy) < 1e-6)).any():
            return False
    return True


def render_arrays_numpy(batch: SceneArrays, size: int) -> np.ndarray:
    """The numpy reference of :func:`render_arrays` -> ``(n, size, size, 3) uint8``."""
    size = check_size(size)
    _check_codes(batch)
    n = len(batch)
    out = np.empty((n, size, size, 3), np.uint8)
    # a whole-image copy per background: ~10x faster than a broadcast fill of (.., 3)
    np.take(_background_images(size), batch.backgrounds, axis=0,
            out=out.reshape(n, size * size * 3))
    obj = batch.objects
    if obj.size == 0:
        return out
    pix = out.reshape(-1).view(_PIXEL)
    if _disjoint(obj, size):  # every touched pixel was background: one table look-up
        key = (obj["colour"].astype(np.intp) * _N_BG + batch.backgrounds[obj["scene"]]) * 256
        for idx, alpha8, k in _coverage(obj, size, key):
            pix[idx] = np.take(_LUT, k + alpha8)
        return out
    sc = obj["scene"]
    slot = np.arange(len(obj)) - np.searchsorted(sc, sc, side="left")
    for s in range(int(slot.max()) + 1):  # painter's order where objects meet
        rows = obj[slot == s]
        for idx, alpha8, colour in _coverage(rows, size, rows["colour"]):
            cur = pix[idx].view(np.uint8).reshape(-1, 3).astype(np.float32)
            pix[idx] = _over(cur, _COLOUR_F32[colour], alpha8).view(_PIXEL).ravel()
    return out


@functools.lru_cache(maxsize=1)
def _kernel() -> ModuleType | None:
    """The compiled kernel module, or None without numba (imported on first use:
    numba's import costs ~0.3 s that code which never renders should not pay)."""
    try:
        from genlab.worlds.shapes import render_kernel
    except ImportError:
        return None
    return render_kernel


def backend() -> str:
    """``"numba"`` or ``"numpy"``: the path :func:`render_arrays` takes now.

    Set by the ``GENLAB_RENDER`` environment variable (``auto``, the default,
    ``numba`` or ``numpy``), read at each call.
    """
    want = os.environ.get("GENLAB_RENDER", "auto").strip().lower() or "auto"
    if want not in _BACKENDS:
        raise InputError(f"GENLAB_RENDER={want!r} is not supported; accepted: "
                         f"{', '.join(_BACKENDS)}")
    if want == "numpy":
        return "numpy"
    if _kernel() is None:
        if want == "numba":
            raise InputError("GENLAB_RENDER=numba but numba does not import; "
                             "install numba or set GENLAB_RENDER=numpy")
        return "numpy"
    return "numba"


def _check_codes(batch: SceneArrays) -> None:
    """:class:`InputError` unless every code indexes the vocabulary (the kernel
    does not bounds-check) and every coordinate is finite."""
    obj = batch.objects
    for name, codes, n in (("backgrounds", batch.backgrounds, _N_BG),
                           ("objects['shape']", obj["shape"], _N_SHAPES),
                           ("objects['colour']", obj["colour"], len(_COLOUR_F32))):
        if codes.size and (codes.min() < 0 or codes.max() >= n):
            raise InputError(f"{name} holds codes {codes.min()}..{codes.max()}; "
                             f"accepted: 0..{n - 1}")
    for name in ("x", "y", "size"):
        if not np.isfinite(obj[name]).all():
            raise InputError(f"objects[{name!r}] holds a non-finite value")


def render_arrays_numba(batch: SceneArrays, size: int) -> np.ndarray:
    """:func:`render_arrays` by the compiled kernel -> ``(n, size, size, 3) uint8``.

    Identical to :func:`render_arrays_numpy` (``tests/worlds/test_render_kernel.py``).
    """
    size = check_size(size)
    kernel = _kernel()
    if kernel is None:
        raise InputError("the compiled renderer needs numba, which does not import")
    _check_codes(batch)
    n, obj = len(batch), batch.objects
    out = np.empty((n, size, size, 3), np.uint8)
    bounds = np.searchsorted(obj["scene"], np.arange(n + 1)).astype(np.int64)
    # cx, cy, half exactly as _coverage computes them, so the float32 steps agree
    kernel.render_batch(out, _background_images(size), batch.backgrounds.astype(np.int64),
                        bounds, obj["shape"].astype(np.int64), obj["colour"].astype(np.int64),
                        obj["x"] * size, obj["y"] * size, obj["size"] * (size / 2),
                        _COLOUR_F32, _EXT)
    return out


def render_arrays(batch: SceneArrays, size: int) -> np.ndarray:
    """Draw a :class:`SceneArrays` batch -> ``(n, size, size, 3) uint8``.

    The compiled kernel when numba imports, else the numpy reference; see
    :func:`backend`. Both give the same bytes.
    """
    if backend() == "numba":
        return render_arrays_numba(batch, size)
    return render_arrays_numpy(batch, size)


def render(scenes: Sequence[Scene] | SceneArrays, size: int) -> np.ndarray:
    """Draw ``scenes`` at ``size`` x ``size`` pixels -> ``(n, size, size, 3) uint8``."""
    size = check_size(size)
    if not isinstance(scenes, SceneArrays):
        scenes = SceneArrays.from_scenes(scenes)
    return render_arrays(scenes, size)
