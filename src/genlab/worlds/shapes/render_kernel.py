"""Compiled (numba) kernel of the ``shapes`` renderer: the fast path of ``render.py``.

It draws the same pictures as the numpy reference in
:mod:`genlab.worlds.shapes.render`, pixel for pixel. Each object's signed
distance function (SDF) is evaluated on the object's own bounding window.
Coverage is ``clip(0.5 - sdf, 0, 1)``, stored as 8-bit alpha; this is the
one-pixel analytic anti-aliasing of SDF rendering (Green, "Improved
alpha-tested magnification for vector textures", SIGGRAPH 2007). Objects are
composited in order with "over" (Porter & Duff, "Compositing digital images",
SIGGRAPH 1984).

Why a kernel: at 32 px a scene has ~3 objects of ~90 window pixels each, so
the numpy path spends most of its time on per-call overhead, not arithmetic.
Here a whole batch is one call: one pass per object window, written straight
into the output.

Why it is identical, not just close: every step repeats the numpy path's
float32 operations in the same order. There is no fast-math, so no fused
multiply-adds. Alpha ``a = alpha8 / 255`` is computed by the same float32
division that ``render._over`` uses. Compositing is branch-free: alpha 0
leaves a pixel exactly as it was, and alpha 255 gives the colour exactly
(integers are exact in float32). So every window pixel can go through one
vectorised loop. Numpy instead writes only the touched pixels, but the bytes
come out the same.

It runs serially on purpose. The benchmark and training measure CPU time on
shared cores, where threads add overhead and no throughput. ``nogil=True``
lets a caller's own threads render batches side by side.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_F0 = np.float32(0.0)
_F128 = np.float32(128.0)
_F255 = np.float32(255.0)
_FHALF = np.float32(0.5)
_TRI_X = np.float32(-2 / math.sqrt(5.0))   # slant normal, x part (as render.py)
_TRI_Y = np.float32(1 / math.sqrt(5.0))    # slant normal, y part
_CIRCLE, _SQUARE = 0, 1                     # arrays.SHAPE_CODE; 2 is the triangle


@numba.njit(cache=True, nogil=True, inline="always")
def _alpha(t: np.float32) -> np.float32:
    """alpha8 / 255 for ``t = 255 (0.5 - sdf) + 0.5``, where alpha8 = floor(clip(t, 0, 255))."""
    return np.float32(np.int32(min(max(t, _F0), _F255))) / _F255


@numba.njit(cache=True, nogil=True, inline="always")
def _column_terms(code: int, u: np.ndarray, x_first: int, cx: float, c: np.float32) -> None:
    """The part of ``t`` that depends only on the column, computed once per object.

    u: ``(w,) float32``, filled in for pixels ``x_first .. x_first + w - 1``.
    ``x`` is 255 times the offset from the centre, as in ``render._bucket``:
    the offset is taken in float64 and then cast to float32.
    """
    for k in range(u.size):
        x = np.float32(x_first + k + 0.5 - cx) * _F255
        if code == _CIRCLE:
            u[k] = x * x
        elif code == _SQUARE:
            u[k] = c - abs(x)
        else:
            u[k] = abs(x) * _TRI_X


@numba.njit(cache=True, nogil=True, inline="always")
def _row_alpha(code: int, a3: np.ndarray, u: np.ndarray, y: np.float32,
               c: np.float32, c_base: np.float32) -> None:
    """Alpha along one window row, written 3 times per pixel (once per channel).

    This is ``render._alpha_field``: ``t = 255 (0.5 - sdf) + 0.5`` from the
    same float32 steps. c: ``128 + 255 h`` (t at the centre); c_base:
    ``c - 128``. There is one loop per shape, so each loop vectorises.
    """
    if code == _CIRCLE:    # sdf = |(x, y)| - h
        yy = y * y
        for k in range(u.size):
            a = _alpha(c - np.sqrt(u[k] + yy))
            a3[3 * k] = a
            a3[3 * k + 1] = a
            a3[3 * k + 2] = a
    elif code == _SQUARE:  # sdf = max(|x|, |y|) - h
        c_y = c - abs(y)
        for k in range(u.size):
            a = _alpha(min(u[k], c_y))
            a3[3 * k] = a
            a3[3 * k + 1] = a
            a3[3 * k + 2] = a
    else:  # triangle, apex (0, -h), base (+-h, +h): sdf = max(base, slant)
        base, slant_y = c - y, (c_base + y) * _TRI_Y + _F128
        for k in range(u.size):
            a = _alpha(min(u[k] + slant_y, base))
            a3[3 * k] = a
            a3[3 * k + 1] = a
            a3[3 * k + 2] = a


@numba.njit(cache=True, nogil=True, inline="always")
def _over_row(row: np.ndarray, a3: np.ndarray, rgb3: np.ndarray) -> None:
    """``render._over`` on one window row of bytes: cur + a (colour - cur), rounded half up.

    The row is sliced, never offset, so the loop has no index wrap-around and
    vectorises.
    """
    for j in range(row.size):
        cur = np.float32(row[j])
        row[j] = np.uint8((cur + a3[j] * (rgb3[j] - cur)) + _FHALF)


@numba.njit(cache=True, nogil=True, inline="always")
def _paint(img: np.ndarray, size: int, code: int, rgb3: np.ndarray, cx: float, cy: float,
           half: float, ext: np.ndarray, u_buf: np.ndarray, a3: np.ndarray) -> None:
    """Composite one object "over" ``img``, a ``(size * size * 3,) uint8`` image, in place.

    cx, cy, half: the centre and half-side in pixels (float64, computed as numpy
    computes them). rgb3: the colour repeated per pixel, ``(3 size,) float32``.
    ext: ``(n_shapes, 3)``, how far coverage reaches beyond the box (left/right,
    top, bottom). u_buf: ``(size,)`` and a3: ``(3 size,) float32`` scratch.
    """
    ex, et, eb = ext[code, 0], ext[code, 1], ext[code, 2]
    # pixel p is touched only if |p + 0.5 - c| < half + ext (see render._bucket)
    x0 = max(0, int(math.floor(cx - half - ex + 0.5)))
    x1 = min(size, int(math.ceil(cx + half + ex - 0.5)))
    y0 = max(0, int(math.floor(cy - half - et + 0.5)))
    y1 = min(size, int(math.ceil(cy + half + eb - 0.5)))
    if x1 <= x0:
        return
    u, w3 = u_buf[:x1 - x0], 3 * (x1 - x0)
    c = _F128 + _F255 * np.float32(half)
    _column_terms(code, u, x0, cx, c)
    for py in range(y0, y1):
        _row_alpha(code, a3, u, np.float32(py + 0.5 - cy) * _F255, c, c - _F128)
        start = (py * size + x0) * 3
        _over_row(img[start:start + w3], a3[:w3], rgb3[:w3])


@numba.njit(cache=True, nogil=True)
def render_batch(out: np.ndarray, bg_images: np.ndarray, backgrounds: np.ndarray,
                 bounds: np.ndarray, shape: np.ndarray, colour: np.ndarray,
                 cx: np.ndarray, cy: np.ndarray, half: np.ndarray, colours: np.ndarray,
                 ext: np.ndarray) -> None:
    """Draw a batch into ``out``, a C-contiguous ``(n, size, size, 3) uint8`` array, in place.

    bg_images: ``(n_backgrounds, size*size*3) uint8``, each background as an
    image. backgrounds: ``(n,) int64`` codes. bounds: ``(n + 1,) int64``; scene
    i's objects are rows ``bounds[i]:bounds[i+1]``, in painting order. shape,
    colour: ``(m,) int64`` codes. cx, cy, half: ``(m,) float64``, in pixels.
    colours: ``(n_colours, 3) float32``. ext: ``(n_shapes, 3) float64``. The
    caller checks that every code and bound is in range; the kernel does not.
    """
    n, size = out.shape[0], out.shape[1]
    u_buf = np.empty(size, np.float32)
    a3 = np.empty(3 * size, np.float32)
    rgb3 = np.empty((colours.shape[0], 3 * size), np.float32)
    for q in range(colours.shape[0]):
        for j in range(3 * size):
            rgb3[q, j] = colours[q, j % 3]
    flat = out.reshape(n, size * size * 3)
    for i in range(n):
        img, bg = flat[i], bg_images[backgrounds[i]]
        for k in range(img.size):  # an explicit loop: ~15x faster than img[:] = bg
            img[k] = bg[k]
        for j in range(bounds[i], bounds[i + 1]):
            _paint(img, size, shape[j], rgb3[colour[j]], cx[j], cy[j], half[j], ext,
                   u_buf, a3)
