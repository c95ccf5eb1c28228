"""Tracing: a glyph bitmap to smooth vector outlines (closed cubic Bézier contours) in em units.

The tracer is potrace (Selinger, "Potrace: a polygon-based tracing algorithm", 2003,
https://potrace.sourceforge.net/potrace.pdf): it finds the boundaries of the ink, fits an optimal
polygon to each and smooths the polygon into Bézier curves, keeping sharp corners where the
polygon turns sharply (``alphamax``) and joining curves within ``opttolerance`` pixels.

Why the ``potrace`` program: potrace and its Python bindings (``potracer``, ``potracecffi``) are
GPL-2.0-or-later and this project is MIT, so the package imports none of them. It runs the
``potrace`` command-line program (Debian/Ubuntu ``apt-get install potrace``, macOS ``brew install
potrace``; ``scripts/setup.sh`` installs it) as a separate process, writing PBM bitmaps to a
temporary folder and reading back potrace's SVG. The SVG backend keeps the Bézier curves and
corners as potrace made them, its ``-u`` rounding them to 1/100,000 of a traced pixel: on 128 px
glyphs, the same contours, segments and start points as ``potracer`` gave, every point within
1e-7 em. Each ``<path>`` element of potrace's SVG is an outline of ink followed by its holes,
which gives each contour's sign.

Speed, measured on 256 random 128 x 128 px Gaegu syllables (ink ~104 px, 2x enlarged as below;
one core of two): :func:`trace_glyph`, a process per glyph, ~200 glyphs/s (150-300: starting the
process dominates); :func:`trace_glyphs`, one process for the 256, ~440 glyphs/s (400-480), a
whole font of 11,172 syllables in under 30 s. Of a batch, the program takes about a quarter
(~2,000 glyphs/s); enlarging, writing the bitmaps and parsing the SVG in Python the rest. (Through
the bindings, ``potracer`` managed ~44 glyphs/s and ``potracecffi`` ~900.) Trace fonts with
:func:`trace_glyphs`.

Quality: a glyph whose ink is under 200 px is first enlarged with bicubic interpolation and then
thresholded (potrace's own ``mkbitmap`` does this, https://potrace.sourceforge.net/mkbitmap.html):
the grey fringe of an anti-aliased image places the edge to a fraction of a pixel, which a plain
threshold throws away. Traced from those 128 px images into a font and rendered by FreeType at
512 px, the syllables' ink IoU against the source font's rendering rises from 0.950 (worst 0.941)
without enlarging to 0.967 (worst 0.961) at 2x and 0.972 at 3x (at 60% of the 2x speed).

Coordinates: potrace works in pixel-edge coordinates (pixel ``(col, row)`` covers
``[col, col + 1] x [row, row + 1]``, rows down; the bitmap is handed to the program upside
down, so that its y is the row and it traces exactly what the C library would).
:func:`trace_glyph` maps a pixel rectangle ``px_box`` (by default the ink box of the traced
bitmap) onto an em rectangle ``box`` (y up from the baseline, x from the pen), stretching x and
y independently, the way :func:`korean_gan.data.layout.paste_ink` fits a glyph's ink into a box
of :class:`korean_gan.data.metrics.FontMetrics`. Outer contours come out counter-clockwise and
holes clockwise (y up: positive area for outer contours), the PostScript/CFF convention;
:mod:`korean_gan.data.fontfile` reverses them for TrueType.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

__all__ = ["Contour", "Point", "TraceError", "potrace_program", "trace_glyph", "trace_glyphs"]

Point = tuple[float, float]
# Below this size (the larger side, px), the image is enlarged before thresholding.
_TRACE_SIZE = 200
_MAX_UPSCALE = 4
# potrace's -u: output coordinates are whole multiples of 1/_UNIT pixel.
_UNIT = 100_000
#: Glyphs per potrace process in :func:`trace_glyphs` (bounds memory and the command line).
BATCH_SIZE = 256
_INSTALL = ("potrace is not installed: sudo apt-get install potrace (Debian/Ubuntu) or "
            "brew install potrace (macOS)")


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
                opttolerance: float = 0.2) -> list[Contour]:
    """Traces a glyph bitmap into closed contours in em units (one ``potrace`` process).

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

    Returns:
        The contours, outer ones counter-clockwise and holes clockwise; empty for a blank
        image.

    Raises:
        TraceError: the image is not a 2-D uint8 array, a box is empty, a parameter is out of
            range, or the ``potrace`` program is missing or fails.
    """
    return trace_glyphs([image], [box], px_boxes=None if px_box is None else [px_box],
                        level=level, upscale=upscale, turdsize=turdsize, alphamax=alphamax,
                        opttolerance=opttolerance)[0]


def trace_glyphs(images: Iterable[np.ndarray], boxes: Iterable[Sequence[float]], *,
                 px_boxes: Iterable[Sequence[float] | None] | None = None, level: int = 128,
                 upscale: int | None = None, turdsize: float = 4, alphamax: float = 1.0,
                 opttolerance: float = 0.2, batch_size: int = BATCH_SIZE, progress=None
                 ) -> list[list[Contour]]:
    """Traces many glyphs, one ``potrace`` process per ``batch_size`` of them.

    The same contours as :func:`trace_glyph` on each glyph, many times faster.

    Args:
        images: The glyphs, as ``image`` of :func:`trace_glyph`.
        boxes: An em box for each glyph, as ``box`` of :func:`trace_glyph`.
        px_boxes: A pixel box (or ``None``: the ink box) for each glyph, as ``px_box`` of
            :func:`trace_glyph`; default: all ``None``.
        level: As for :func:`trace_glyph`, for every glyph.
        upscale: As for :func:`trace_glyph` (``None`` chooses per glyph).
        turdsize: As for :func:`trace_glyph`.
        alphamax: As for :func:`trace_glyph`.
        opttolerance: As for :func:`trace_glyph`.
        batch_size: Glyphs per ``potrace`` process (glyphs whose enlargement differs go to
            separate processes, since the speck size is given in traced pixels).
        progress: A tqdm bar (or anything with ``update(n)``) advanced per traced glyph.

    Returns:
        The contours of each glyph, in the order of ``images``.

    Raises:
        TraceError: as :func:`trace_glyph`; also if ``images``, ``boxes`` and ``px_boxes``
            differ in length.
    """
    if turdsize < 0 or not 0 <= alphamax <= 4 / 3 or opttolerance < 0:
        raise TraceError("need turdsize >= 0, 0 <= alphamax <= 1.334 and opttolerance >= 0")
    if upscale is not None and upscale < 1:
        raise TraceError(f"upscale must be at least 1; got {upscale}")
    if batch_size < 1:
        raise TraceError(f"batch_size must be at least 1; got {batch_size}")
    # A batch at a time, so that a whole font's images may come from a generator.
    pairs = zip(images, boxes, strict=True)
    items = (((image, box, None) for image, box in pairs) if px_boxes is None
             else ((image, box, px) for (image, box), px in zip(pairs, px_boxes, strict=True)))
    out: list[list[Contour]] = []
    while True:
        try:
            chunk = list(islice(items, batch_size))
        except ValueError:  # zip(strict=True): one ran out before the others
            raise TraceError("need as many boxes (and pixel boxes, if given) as images; got "
                             "fewer or more") from None
        if not chunk:
            break
        glyphs = [_Glyph.prepare(image, box, px_box, level, upscale)
                  for image, box, px_box in chunk]
        # One process per speck size (turdsize is in traced pixels, so it follows the upscale).
        groups: dict[int, list[_Glyph]] = {}
        for glyph in glyphs:
            if glyph.bitmap is not None:
                speck = max(0, round(turdsize * glyph.upscale * glyph.upscale))
                groups.setdefault(speck, []).append(glyph)
        for speck, group in groups.items():
            traced = _run_potrace([g.bitmap for g in group], turdsize=speck,
                                  alphamax=alphamax, opttolerance=opttolerance)
            for glyph, paths in zip(group, traced, strict=True):
                glyph.contours = [glyph.to_em(*path) for path in paths]
        out += [glyph.contours for glyph in glyphs]
        if progress is not None:
            progress.update(len(glyphs))
    return out


class _Glyph:
    """One glyph on its way through potrace: its bitmap, its pixel-to-em map, its contours."""

    def __init__(self, bitmap: np.ndarray | None, upscale: int,
                 scale: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)) -> None:
        self.bitmap = bitmap
        self.upscale = upscale
        self.scale = scale  # (ox, oy, sx, sy): em = (ox + x * sx, oy - y * sy), y rows down
        self.contours: list[Contour] = []

    @classmethod
    def prepare(cls, image, box, px_box, level: int, upscale: int | None) -> _Glyph:
        image = np.asarray(image)
        if image.ndim != 2 or image.dtype != np.uint8 or 0 in image.shape:
            raise TraceError(f"a glyph to trace must be a non-empty (H, W) uint8 image; got "
                             f"{image.dtype} {image.shape}")
        bx0, by0, bx1, by1 = (float(v) for v in box)
        if not (bx1 > bx0 and by1 > by0):
            raise TraceError(f"em box {tuple(box)} is empty (need x1 > x0 and y1 > y0)")
        if upscale is None:
            # Sized by the ink, not the canvas: a glyph drawn small on a large canvas needs it.
            ink = image < level
            rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
            extent = (max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 if rows.size
                      else _TRACE_SIZE)
            upscale = int(np.clip(np.ceil(_TRACE_SIZE / extent), 1, _MAX_UPSCALE))
        if px_box is not None:
            px0, py0, px1, py1 = (float(v) for v in px_box)
            if not (px1 > px0 and py1 > py0):
                raise TraceError(f"pixel box {tuple(px_box)} is empty (need x1 > x0 and "
                                 f"y1 > y0)")
        bitmap = _threshold(image, level, upscale)
        if not bitmap.any():
            return cls(None, upscale)
        if px_box is None:
            rows = np.flatnonzero(bitmap.any(axis=1))
            cols = np.flatnonzero(bitmap.any(axis=0))
            px0, py0, px1, py1 = (cols[0] / upscale, rows[0] / upscale,
                                  (cols[-1] + 1) / upscale, (rows[-1] + 1) / upscale)
        # Tracer pixels -> em: scale by the upscale, then map px_box onto box with y flipped.
        sx = (bx1 - bx0) / (px1 - px0) / upscale
        sy = (by1 - by0) / (py1 - py0) / upscale
        return cls(bitmap, upscale, (bx0 - px0 * upscale * sx, by1 + py0 * upscale * sy, sx, sy))

    def to_em(self, outer: bool, contour: Contour, area: float) -> Contour:
        """A contour from :func:`_parse_svg` (1/``_UNIT`` traced pixels, rows down, signed
        ``area``) in em, outer ones counter-clockwise."""
        ox, oy, sx, sy = self.scale
        sx, sy = sx / _UNIT, sy / _UNIT
        # Direction from potrace's sign (ink outline or hole), not from the flipped y axis. The
        # map to em flips y (sx, sy > 0): counter-clockwise in em is negative area in pixels.
        if (area < 0) != outer:
            contour = contour.reversed()
        return contour.map(lambda p: (ox + p[0] * sx, oy - p[1] * sy))


def _threshold(image: np.ndarray, level: int, upscale: int) -> np.ndarray:
    """``image < level`` after a bicubic enlargement by ``upscale``."""
    if upscale > 1:
        from PIL import Image

        height, width = image.shape
        image = np.asarray(Image.fromarray(image).resize((width * upscale, height * upscale),
                                                         Image.Resampling.BICUBIC))
    return image < level


def potrace_program() -> str:
    """The path of the ``potrace`` program.

    Raises:
        TraceError: it is not installed (the message says how to install it).
    """
    program = shutil.which("potrace")
    if program is None:
        raise TraceError(_INSTALL)
    return program


def _run_potrace(bitmaps: list[np.ndarray], *, turdsize: int, alphamax: float,
                 opttolerance: float) -> list[list[tuple[bool, Contour, float]]]:
    """Traces bitmaps (True = ink) with one ``potrace`` process; per bitmap, its paths as
    ``(outer, contour, area)`` as :func:`_parse_svg` gives them."""
    program = potrace_program()
    with tempfile.TemporaryDirectory(prefix="korean-gan-trace-") as tmp:
        folder = Path(tmp)
        names = [f"{i:05d}.pbm" for i in range(len(bitmaps))]
        for name, bitmap in zip(names, bitmaps, strict=True):
            height, width = bitmap.shape
            # Binary PBM: 1 = black = what potrace traces; rows padded to whole bytes. Rows are
            # written bottom up: potrace puts a file's last row at y = 0, so its y is our row,
            # and it traces the same bitmap (same paths, same start points) as libpotrace.
            (folder / name).write_bytes(b"P4\n%d %d\n" % (width, height)
                                        + np.packbits(bitmap[::-1], axis=1).tobytes())
        command = [program, "--backend", "svg", "--unit", str(_UNIT), "--turnpolicy",
                   "minority", "--turdsize", str(turdsize), "--alphamax", repr(float(alphamax)),
                   "--opttolerance", repr(float(opttolerance)), "--", *names]
        try:
            result = subprocess.run(command, cwd=folder, capture_output=True, text=True)
        except FileNotFoundError:
            raise TraceError(_INSTALL) from None
        if result.returncode != 0:
            raise TraceError(f"potrace failed (exit status {result.returncode}): "
                             f"{result.stderr.strip()}")
        # potrace writes 00000.pbm's outlines to 00000.svg.
        return [_parse_svg((folder / name).with_suffix(".svg").read_text()) for name in names]


_PATH = re.compile(r'<path\s+d="([^"]*)"')
_COMMAND = re.compile(r"([MmLlCcZz])([^MmLlCcZz]*)")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _parse_svg(svg: str) -> list[tuple[bool, Contour, float]]:
    """potrace's SVG as ``(outer, contour, area)`` in pixel-edge coordinates times ``_UNIT``,
    rows down.

    Each ``<path>`` element holds an outline of ink followed by its holes (ink inside a hole
    comes as another element). Coordinates are in units of 1/``_UNIT`` pixel (y is the row,
    as the bitmap was written bottom up), absolute after ``M``, ``L`` and ``C`` and relative
    after their lower-case forms; a command letter may be followed by several sets of numbers.
    ``area`` is the contour's signed area (positive if counter-clockwise with y up, so
    negative for a contour counter-clockwise on the screen), exact for cubics.
    """
    out = []
    for d in _PATH.findall(svg):
        subpaths: list[tuple[Point, list[tuple[Point, ...]]]] = []
        x = y = 0.0
        for command, args in _COMMAND.findall(d):
            if command in "Zz":
                x, y = subpaths[-1][0]
                continue
            values = [float(v) for v in _NUMBER.findall(args)]
            relative, kind = command.islower(), command.upper()
            if kind == "M":
                x, y = (x + values[0], y + values[1]) if relative else (values[0], values[1])
                subpaths.append(((x, y), []))
                values, kind = values[2:], "L"  # SVG: pairs after a move are lines
            step = 6 if kind == "C" else 2
            for k in range(0, len(values), step):
                v = values[k:k + step]
                if relative:  # relative to the segment's start; whole units, so exact
                    v = [c + (y if j % 2 else x) for j, c in enumerate(v)]
                segment = tuple(zip(v[::2], v[1::2], strict=True))
                subpaths[-1][1].append(segment)
                x, y = segment[-1]
        for k, (start, segments) in enumerate(subpaths):
            if segments and segments[-1][-1] != start:
                segments.append((start,))  # an implicit closing line
            out.append((k == 0, Contour(start, tuple(segments)), _area(start, segments)))
    return out


def _area(start: Point, segments: list[tuple[Point, ...]]) -> float:
    """The signed area of a closed contour, as :meth:`Contour.area` (fontTools' AreaPen)."""
    area = 0.0
    x0, y0 = start
    for segment in segments:
        x3, y3 = segment[-1]
        if len(segment) == 3:
            (x1, y1), (x2, y2) = segment[0], segment[1]
            x1, y1, x2, y2, dx, dy = x1 - x0, y1 - y0, x2 - x0, y2 - y0, x3 - x0, y3 - y0
            area -= (x1 * (-y2 - dy) + x2 * (y1 - 2 * dy) + dx * (y1 + 2 * y2)) * 0.15
        area -= (x3 - x0) * (y3 + y0) * 0.5
        x0, y0 = x3, y3
    return area
