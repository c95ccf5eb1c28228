"""SVG files: a written image traced into vector outlines (``write --out text.svg``).

The image is traced by potrace (:mod:`korean_gan.data.trace`) with a plain pixel-to-unit
mapping, so one SVG unit is one pixel of the image it was traced from, and the outlines are
written as one ``<path>`` of cubic Bézier curves: it scales to any size without blurring, and
opens in browsers, Inkscape and Illustrator.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from korean_gan._io import write_bytes_atomic
from korean_gan.data.trace import Contour, TraceError, trace_glyph

__all__ = ["save_svg", "svg_from_image"]


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _path_data(contours: list[Contour], height: float) -> str:
    """SVG path data of contours in y-up units, flipped to SVG's y-down."""
    parts = []

    def point(p) -> str:
        return f"{_number(p[0])} {_number(height - p[1])}"

    for contour in contours:
        parts.append(f"M{point(contour.start)}")
        for segment in contour.segments:
            if len(segment) == 1:
                parts.append(f"L{point(segment[0])}")
            else:
                parts.append("C" + " ".join(point(p) for p in segment))
        parts.append("Z")
    return "".join(parts)


def svg_from_image(image: np.ndarray, title: str | None = None, level: int = 128) -> str:
    """The ink of a written image (uint8, 255 = paper) as an SVG document.

    Args:
        image: ``(H, W)`` uint8, e.g. from :meth:`korean_gan.Handwriting.write`.
        title: The document's ``<title>`` (the text, for screen readers and search).
        level: Pixels darker than this are ink.

    Returns:
        The SVG text: ``W`` by ``H`` units (pixels), black ink on no background.

    Raises:
        TraceError: not a 2-D uint8 image, or potrace is missing.
    """
    from xml.sax.saxutils import escape

    image = np.asarray(image)
    if image.ndim != 2 or image.dtype != np.uint8 or image.size == 0:
        raise TraceError(f"the image must be a 2-D uint8 array, got {image.dtype} of shape "
                         f"{image.shape}")
    height, width = image.shape
    # One unit per pixel: the pixel rectangle maps onto the same rectangle, y up.
    contours = trace_glyph(image, (0, 0, width, height), px_box=(0, 0, width, height),
                           level=level)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">')
    body = f"<title>{escape(title)}</title>" if title else ""
    body += f'<path fill="#000" d="{_path_data(contours, height)}"/>' if contours else ""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{head}{body}</svg>\n'


def save_svg(path: str | os.PathLike, image: np.ndarray, title: str | None = None) -> Path:
    """Traces ``image`` and writes the SVG to ``path`` atomically."""
    write_bytes_atomic(path, svg_from_image(image, title).encode("utf-8"))
    return Path(path)
