"""Tests for :mod:`korean_gan.data.svgfile`: written images traced into SVG outlines (needs the
potrace program, which scripts/setup.sh installs)."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from korean_gan.data.svgfile import save_svg, svg_from_image
from korean_gan.data.trace import TraceError

pytestmark = pytest.mark.skipif(shutil.which("potrace") is None,
                                reason="potrace is not installed (apt-get install potrace)")
SVG = "{http://www.w3.org/2000/svg}"


def _written(font_dir, text="가나", size=128) -> np.ndarray:
    """Black ink on white: syllables rendered side by side by a bundled font."""
    from korean_gan.data.fonts import load_faces
    from korean_gan.data.render import GlyphRenderer, RenderConfig

    renderer = GlyphRenderer(load_faces([font_dir / "Gaegu-Regular.ttf"])[0],
                             RenderConfig(size=size))
    glyphs = [renderer.render(c) for c in text]
    return np.pad(np.concatenate(glyphs, axis=1), 8, constant_values=255)


def _geometry(svg: str) -> tuple[float, tuple[float, float, float, float]]:
    """Area enclosed and bounds of the document's path, read back with fontTools."""
    from fontTools.pens.areaPen import AreaPen
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.svgLib.path import parse_path

    paths = ET.fromstring(svg.encode("utf-8")).findall(f"{SVG}path")
    assert len(paths) == 1
    area, bounds = AreaPen(), BoundsPen(None)
    parse_path(paths[0].get("d"), area)
    parse_path(paths[0].get("d"), bounds)
    return abs(area.value), bounds.bounds


def test_the_outlines_cover_the_ink_where_it_is(font_dir):
    image = _written(font_dir)
    svg = svg_from_image(image, title="가나 <&>")
    root = ET.fromstring(svg.encode("utf-8"))
    height, width = image.shape
    assert root.get("viewBox") == f"0 0 {width} {height}"
    assert root.find(f"{SVG}title").text == "가나 <&>"
    area, (x0, y0, x1, y1) = _geometry(svg)
    ink = image < 128
    rows, cols = np.nonzero(ink)
    # Pixel edges: the ink's box spans cols.min() to cols.max() + 1; SVG's y runs down as rows.
    assert abs(x0 - cols.min()) <= 1.5 and abs(x1 - (cols.max() + 1)) <= 1.5
    assert abs(y0 - rows.min()) <= 1.5 and abs(y1 - (rows.max() + 1)) <= 1.5
    assert area == pytest.approx(ink.sum(), rel=0.05)


def test_a_blank_image_has_no_path_and_bad_input_is_refused(tmp_path):
    svg = svg_from_image(np.full((20, 40), 255, np.uint8))
    assert ET.fromstring(svg.encode("utf-8")).findall(f"{SVG}path") == []
    with pytest.raises(TraceError, match="2-D uint8"):
        svg_from_image(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(TraceError, match="2-D uint8"):
        svg_from_image(np.zeros((4, 4), np.float32))
    # Written whole or not at all: a failed trace leaves an earlier file as it was.
    out = tmp_path / "hand.svg"
    out.write_text("earlier")
    with pytest.raises(TraceError):
        save_svg(out, np.zeros((0, 0), np.uint8))
    assert out.read_text() == "earlier" and sorted(p.name for p in tmp_path.iterdir()) == [
        "hand.svg"]


def test_the_same_image_gives_the_same_bytes(font_dir):
    image = _written(font_dir, "다람쥐", size=64)
    assert svg_from_image(image) == svg_from_image(image.copy())
