"""Tracing: a glyph bitmap to smooth vector outlines (closed cubic Bézier contours) in em units.

The tracer is potrace (Selinger, "Potrace: a polygon-based tracing algorithm", 2003,
https://potrace.sourceforge.net/potrace.pdf): it finds the boundaries of the ink, fits an optimal
polygon to each and smooths the polygon into Bézier curves, keeping sharp corners where the
polygon turns sharply (``alphamax``) and joining curves within ``opttolerance`` pixels.

Which potrace: measured on 128 x 128 px Gaegu syllables (ink 116 px, 2x enlarged as below,
one core of two):

==========================  ==========  ==================================================
implementation              glyphs/s    notes
==========================  ==========  ==================================================
``potracer`` (PyPI)         ~44         pure Python (NumPy), a wheel; the same curves as the
                                        C library (equal areas to 1e-9)
``potracecffi`` (PyPI)      ~900        the C ``libpotrace`` through cffi; sdist only: it
                                        builds only where ``libpotrace-dev`` is installed
``potrace`` program         ~500        Debian package; a process per glyph, SVG to parse
==========================  ==========  ==================================================

``potracer`` is the dependency: it needs no system package and traces a whole font (11,172
syllables) in about 4 minutes on one core, small next to generating the glyphs. Where
``potracecffi`` is importable it is used instead (``backend="auto"``), 20 times faster with the
same curves. Both are GPL-2.0-or-later (as potrace is); they are used, not copied.

Quality: a glyph whose ink is under 200 px is first enlarged with bicubic interpolation and then
thresholded (potrace's own ``mkbitmap`` does this, https://potrace.sourceforge.net/mkbitmap.html):
the grey fringe of an anti-aliased image places the edge to a fraction of a pixel, which a plain
threshold throws away. Traced from those 128 px images into a font and rendered by FreeType at
512 px, the syllables' ink IoU against the source font's rendering rises from 0.950 (worst 0.941)
without enlarging to 0.967 (worst 0.961) at 2x and 0.972 at 3x (at 60% of the 2x speed).

Coordinates: potrace works in pixel-edge coordinates (pixel ``(col, row)`` covers
``[col, col + 1] x [row, row + 1]``, rows down). :func:`trace_glyph` maps a pixel rectangle
``px_box`` (by default the ink box of the traced bitmap) onto an em rectangle ``box`` (y up
from the baseline, x from the pen), stretching x and y independently, the way
:func:`korean_gan.data.layout.paste_ink` fits a glyph's ink into a box of
:class:`korean_gan.data.metrics.FontMetrics`. Outer contours come out counter-clockwise and
holes clockwise (y up: positive area for outer contours), the PostScript/CFF convention;
:mod:`korean_gan.data.fontfile` reverses them for TrueType.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["BACKENDS", "Contour", "Point", "TraceError", "trace_glyph"]

Point = tuple[float, float]
#: Tracer implementations :func:`trace_glyph` accepts; ``auto`` is potracecffi if importable.
BACKENDS = ("auto", "potracer", "potracecffi")
# Below this size (the larger side, px), the image is enlarged before thresholding.
_TRACE_SIZE = 200
_MAX_UPSCALE = 4


class TraceError(ValueError):
    """An image or a parameter that cannot be traced, with the reason."""


@dataclass(frozen=True)
class Contour:
    """One closed outline.

    Attributes:
        start: The first on-curve point.
        segments: The segments in order, each a tuple of points: ``(p,)`` a line to ``p``,
            ``(c1, c2, p)`` a cubic Bézier to ``p`` with control points ``c1`` and ``c2``. The last
            segment ends at ``start``.
    """

    start: Point
    segments: tuple[tuple[Point, ...], ...]

    def draw(self, pen) -> None:
        """Draws the contour into a fontTools-style pen (``moveTo``, ``lineTo``, ``curveTo``)."""
        pen.moveTo(self.start)
        for segment in self.segments:
            if len(segment) == 1:
                pen.lineTo(segment[0])
            else:
                pen.curveTo(*segment)
        pen.closePath()

    def area(self) -> float:
        """The signed area enclosed (exact for cubics): positive if counter-clockwise, y up."""
        from fontTools.pens.areaPen import AreaPen

        pen = AreaPen()
        self.draw(pen)
        return float(pen.value)

    def reversed(self) -> Contour:
        """The same outline traced the other way round, from the same start point."""
        ends = [self.start] + [segment[-1] for segment in self.segments]
        out = []
        for i in range(len(self.segments), 0, -1):
            segment = self.segments[i - 1]
            # The segment ran ends[i-1] -> ends[i]; backwards its control points swap.
            out.append((ends[i - 1],) if len(segment) == 1
                       else (segment[1], segment[0], ends[i - 1]))
        return Contour(self.start, tuple(out))

    def map(self, func) -> Contour:
        """The contour with every point ``p`` replaced by ``func(p)``."""
        return Contour(func(self.start),
                       tuple(tuple(func(p) for p in segment) for segment in self.segments))


def trace_glyph(image: np.ndarray, box: Sequence[float], *,
                px_box: Sequence[float] | None = None, level: int = 128,
                upscale: int | None = None, turdsize: float = 4, alphamax: float = 1.0,
                opttolerance: float = 0.2, backend: str = "auto") -> list[Contour]:
    """Traces a glyph bitmap into closed contours in em units.

    Args:
        image: ``(H, W)`` uint8 glyph, 255 = paper; best at 128 px or more.
        box: ``(x0, y0, x1, y1)``, the em rectangle (y up from the baseline, x from the pen)
            that ``px_box`` maps onto, e.g. the syllable's ink box from
            :meth:`korean_gan.data.metrics.FontMetrics.box`.
        px_box: ``(x0, y0, x1, y1)`` in pixel-edge coordinates of ``image`` (rows down; the
            pixel at column ``c`` spans ``c`` to ``c + 1``). Default: the ink box of the
            traced bitmap, so the outline fills ``box``. Give ``(0, 0, W, H)`` and the em
            rectangle of the whole image for a plain pixel-to-em mapping.
        level: Pixels darker than this are ink.
        upscale: Enlarge the image this many times (bicubic) before thresholding, which
            places edges to a fraction of a pixel; default: enough for the ink's larger side
            to reach 200 px (2 for a glyph 128 px tall), at most 4.
        turdsize: Ink or holes of at most this area (in pixels of ``image``) are dropped as
            specks.
        alphamax: potrace's corner threshold: 0 gives polygons, 1.0 (potrace's default) keeps
            the corners of strokes, 1.334 makes everything round.
        opttolerance: How far (pixels of the traced bitmap) joined curves may stray; potrace's
            default 0.2 joins curves without visible change.
        backend: One of :data:`BACKENDS`.

    Returns:
        The contours, outer ones counter-clockwise and holes clockwise; empty for a blank
        image.

    Raises:
        TraceError: the image is not a 2-D uint8 array, a box is empty, a parameter is out of
            range or the backend is unknown or not installed.
    """
    image = np.asarray(image)
    if image.ndim != 2 or image.dtype != np.uint8 or 0 in image.shape:
        raise TraceError(f"a glyph to trace must be a non-empty (H, W) uint8 image; got "
                         f"{image.dtype} {image.shape}")
    bx0, by0, bx1, by1 = (float(v) for v in box)
    if not (bx1 > bx0 and by1 > by0):
        raise TraceError(f"em box {tuple(box)} is empty (need x1 > x0 and y1 > y0)")
    if backend not in BACKENDS:
        raise TraceError(f"unknown trace backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if turdsize < 0 or not 0 <= alphamax <= 4 / 3 or opttolerance < 0:
        raise TraceError("need turdsize >= 0, 0 <= alphamax <= 1.334 and opttolerance >= 0")
    if upscale is None:
        # Sized by the ink, not the canvas: a glyph drawn small on a large canvas needs it too.
        ink = image < level
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 if rows.size else _TRACE_SIZE
        upscale = int(np.clip(np.ceil(_TRACE_SIZE / extent), 1, _MAX_UPSCALE))
    elif upscale < 1:
        raise TraceError(f"upscale must be at least 1; got {upscale}")

    bitmap = _threshold(image, level, upscale)
    if not bitmap.any():
        return []
    if px_box is None:
        rows = np.flatnonzero(bitmap.any(axis=1))
        cols = np.flatnonzero(bitmap.any(axis=0))
        px0, py0, px1, py1 = (cols[0] / upscale, rows[0] / upscale, (cols[-1] + 1) / upscale,
                              (rows[-1] + 1) / upscale)
    else:
        px0, py0, px1, py1 = (float(v) for v in px_box)
        if not (px1 > px0 and py1 > py0):
            raise TraceError(f"pixel box {tuple(px_box)} is empty (need x1 > x0 and y1 > y0)")
    # Tracer pixels -> em: scale by the upscale, then map px_box onto box with y flipped.
    sx = (bx1 - bx0) / (px1 - px0) / upscale
    sy = (by1 - by0) / (py1 - py0) / upscale
    ox, oy = bx0 - px0 * upscale * sx, by1 + py0 * upscale * sy

    def to_em(p: Point) -> Point:
        return (ox + float(p[0]) * sx, oy - float(p[1]) * sy)

    tracer = _potracecffi if backend == "potracecffi" or (
        backend == "auto" and _has_potracecffi()) else _potracer
    paths = tracer(bitmap, turdsize=max(0, round(turdsize * upscale * upscale)),
                   alphamax=alphamax, opttolerance=opttolerance)
    contours = []
    for outer, contour in paths:
        contour = contour.map(to_em)
        # Direction from potrace's sign (ink outline or hole), not from the flipped y axis.
        if (contour.area() > 0) != outer:
            contour = contour.reversed()
        contours.append(contour)
    return contours


def _threshold(image: np.ndarray, level: int, upscale: int) -> np.ndarray:
    """``image < level`` after a bicubic enlargement by ``upscale``."""
    if upscale > 1:
        from PIL import Image

        height, width = image.shape
        image = np.asarray(Image.fromarray(image).resize((width * upscale, height * upscale),
                                                         Image.Resampling.BICUBIC))
    return image < level


def _has_potracecffi() -> bool:
    try:
        import potracecffi  # noqa: F401
    except (ImportError, OSError):  # OSError: the module is there but libpotrace.so is not
        return False
    return True


def _potracer(bitmap: np.ndarray, **params) -> list[tuple[bool, Contour]]:
    """Traces with ``potracer`` (https://github.com/tatarize/potrace), pure Python."""
    try:
        import potrace
    except ImportError:
        raise TraceError("tracing needs the potracer package: pip install potracer") from None
    if not hasattr(potrace, "Bitmap") or not hasattr(potrace.Bitmap, "trace"):
        raise TraceError("the installed 'potrace' module is not potracer's (pypotrace also "
                         "installs one); pip uninstall it and pip install potracer")
    # potracer's Bitmap takes True = paper (it inverts); our bitmap is True = ink.
    path = potrace.Bitmap(~bitmap).trace(**params)
    out = []
    for curve in path:
        segments: list[tuple[Point, ...]] = []
        for seg in curve:
            if seg.is_corner:  # two straight lines through the corner
                segments += [((seg.c.x, seg.c.y),), ((seg.end_point.x, seg.end_point.y),)]
            else:
                segments.append(((seg.c1.x, seg.c1.y), (seg.c2.x, seg.c2.y),
                                 (seg.end_point.x, seg.end_point.y)))
        start = (curve.start_point.x, curve.start_point.y)
        # potracer keeps potrace's path sign (True: outline of ink, False: hole) on the private
        # _path; it offers no public accessor.
        out.append((bool(curve._path.sign), Contour(start, tuple(segments))))
    return out


def _potracecffi(bitmap: np.ndarray, **params) -> list[tuple[bool, Contour]]:
    """Traces with ``potracecffi`` (https://github.com/wntrblm/potracecffi), libpotrace."""
    try:
        import potracecffi as pc
    except (ImportError, OSError):
        raise TraceError("backend 'potracecffi' is not installed (it builds against "
                         "libpotrace-dev); use backend='potracer'") from None
    state = pc.trace(np.ascontiguousarray(bitmap, dtype=np.uint8), **params)
    out = []
    for path in pc.iter_paths(state):
        segments: list[tuple[Point, ...]] = []
        for seg in pc.iter_curve(path.curve):
            if seg.tag == pc.CORNER:
                segments += [(seg.c1,), (seg.c2,)]
            else:
                segments.append((seg.c0, seg.c1, seg.c2))
        start = pc.curve_start_point(path.curve)
        out.append((path.sign == ord("+"), Contour(start, tuple(segments))))
    return out
