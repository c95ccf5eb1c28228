"""Tracing glyph bitmaps (data.trace) and writing them as font files (data.fontfile)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from korean_gan.data.fontfile import DEFAULT_LICENSE, FontFileError, build_font
from korean_gan.data.metrics import MetricsTable
from korean_gan.data.trace import Contour, TraceError, trace_glyph, trace_glyphs

SYLLABLES = "한글꿈봤읽"
PX = 256
# Ink IoU of a syllable drawn by the built font against the same syllable drawn by the source
# font, both by FreeType at 256 px per em. Observed 0.954-0.985 for .otf (cubic curves) and
# 0.932-0.98 for .ttf, whose quadratics stray up to 2 units (0.5 px at this size) from the
# traced cubics (0.971 for the copied 'A').
MIN_RENDER_IOU = 0.92


@pytest.fixture(scope="module")
def gaegu(font_dir):
    return font_dir / "Gaegu-Regular.ttf"


@pytest.fixture(scope="module")
def metrics():
    from importlib.resources import files

    path = files("korean_gan.upsampler") / "font_metrics.npz"
    return MetricsTable.load(str(path)).font("Gaegu-Regular")


def _render(font_path, char: str, px: int = PX) -> np.ndarray:
    """``char`` drawn at ``px`` per em, pen at (px/2, 3px/2) on the baseline, 255 = paper."""
    font = ImageFont.truetype(str(font_path), px)
    image = Image.new("L", (2 * px, 2 * px), 255)
    ImageDraw.Draw(image).text((px // 2, 3 * px // 2), char, font=font, fill=0, anchor="ls")
    return np.asarray(image)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a < 128, b < 128
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture(scope="module")
def traced(gaegu, metrics):
    # The default mapping: the traced ink box onto the syllable's ink box from the metrics.
    return {c: trace_glyph(_render(gaegu, c), metrics.box(c)) for c in SYLLABLES}


@pytest.fixture(scope="module")
def fonts(tmp_path_factory, traced, metrics, gaegu):
    folder = tmp_path_factory.mktemp("fonts")
    return {suffix: build_font(traced, metrics, "Test Hand", folder / f"test{suffix}",
                               latin_from=gaegu)
            for suffix in (".ttf", ".otf", ".woff2")}


def test_trace_gives_smooth_directed_contours_in_em(traced, metrics):
    contours = traced["꿈"]
    assert all(isinstance(c, Contour) for c in contours)
    # Curves, not a pixel staircase: most segments are cubics.
    segments = [s for c in contours for s in c.segments]
    assert sum(len(s) == 3 for s in segments) > 0.5 * len(segments)
    # 꿈's ㅁ has a hole: outer contours CCW (positive area), holes CW.
    areas = [c.area() for c in contours]
    assert any(a < 0 for a in areas) and sum(a > 0 for a in areas) >= 2
    points = np.array([p for c in contours for s in c.segments for p in s])
    x0, y0, x1, y1 = metrics.box("꿈")
    tolerance = 0.01  # em; curves can overshoot their end points slightly
    assert points[:, 0].min() >= x0 - tolerance and points[:, 0].max() <= x1 + tolerance
    assert points[:, 1].min() >= y0 - tolerance and points[:, 1].max() <= y1 + tolerance


def test_trace_pixel_box_drops_specks_and_reverses():
    image = np.full((128, 128), 255, np.uint8)
    image[32:96, 32:96] = 0
    image[48:80, 48:80] = 255  # a hole
    image[5, 5] = 0  # a speck
    # The whole image is the em square [0, 1] x [-0.2, 0.8].
    contours = trace_glyph(image, (0, -0.2, 1, 0.8), px_box=(0, 0, 128, 128))
    assert len(contours) == 2
    areas = sorted(c.area() for c in contours)
    assert areas[0] == pytest.approx(-0.25 ** 2, rel=0.05)
    assert areas[1] == pytest.approx(0.5 ** 2, rel=0.05)
    again = contours[0].reversed()
    assert again.area() == pytest.approx(-contours[0].area())
    assert again.reversed() == contours[0]
    assert trace_glyph(np.full((64, 64), 255, np.uint8), (0, 0, 1, 1)) == []


def test_trace_glyphs_batch_equals_one_by_one(gaegu):
    images = [_render(gaegu, c, 128) for c in "봤한"]
    small = np.full((128, 128), 255, np.uint8)
    small[40:70, 50:60] = 0  # ink 30 px: enlarged 4x, not 2x, so another potrace process
    images += [np.full((64, 64), 255, np.uint8), small, images[0]]
    boxes = [(0, -0.2, 1, 0.8), (0.1, 0, 0.9, 0.7), (0, 0, 1, 1), (0, 0, 0.5, 0.5), (0, 0, 2, 1)]
    px_boxes = [None, (0, 0, 256, 256), None, None, (10, 20, 200, 220)]
    # batch_size 2: several batches, each with glyphs for one or two processes.
    batch = trace_glyphs(iter(images), boxes, px_boxes=px_boxes, batch_size=2)
    single = [trace_glyph(image, box, px_box=px_box)
              for image, box, px_box in zip(images, boxes, px_boxes, strict=True)]
    assert batch == single
    assert batch[2] == [] and all(batch[i] for i in (0, 1, 3, 4))
    assert trace_glyphs(images[:2], boxes[:2]) == [trace_glyph(images[0], boxes[0]),
                                                     trace_glyph(images[1], boxes[1])]
    assert trace_glyphs([], []) == []
    with pytest.raises(TraceError, match="as many boxes"):
        trace_glyphs(images, boxes[:3])


def test_trace_without_the_potrace_program(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no potrace to run
    image = np.full((32, 32), 255, np.uint8)
    image[8:24, 8:24] = 0
    with pytest.raises(TraceError) as error:
        trace_glyph(image, (0, 0, 1, 1))
    assert str(error.value) == ("potrace is not installed: sudo apt-get install potrace "
                                "(Debian/Ubuntu) or brew install potrace (macOS)")
    with pytest.raises(TraceError, match="potrace is not installed"):
        trace_glyphs([image], [(0, 0, 1, 1)])


@pytest.mark.parametrize("bad, match", [
    (dict(image=np.zeros((4, 4, 3), np.uint8)), "uint8"),
    (dict(box=(0, 0, 0, 1)), "empty"),
    (dict(upscale=0), "upscale"),
    (dict(alphamax=2.0), "alphamax"),
])
def test_trace_errors(bad, match):
    args = dict(image=np.zeros((8, 8), np.uint8), box=(0, 0, 1, 1)) | bad
    with pytest.raises(TraceError, match=match):
        trace_glyph(args.pop("image"), args.pop("box"), **args)


def test_fonts_read_back(fonts, metrics):
    from fontTools.pens.areaPen import AreaPen
    from fontTools.ttLib import TTFont

    for suffix, path in fonts.items():
        font = TTFont(path)
        cmap = font.getBestCmap()
        assert {ord(c) for c in SYLLABLES + "A0 ,"} <= set(cmap), suffix
        hmtx = font["hmtx"]
        for char in SYLLABLES:
            assert abs(hmtx[cmap[ord(char)]][0] - metrics.advance(char) * 1000) <= 1
        assert abs(hmtx["space"][0] - metrics.space * 1000) <= 1
        assert font["head"].unitsPerEm == 1000
        assert font["hhea"].ascent == round(metrics.ascender * 1000)
        assert font["hhea"].descent == round(metrics.descender * 1000)
        assert font["OS/2"].fsType == 0
        assert font["OS/2"].sTypoLineGap == round(metrics.line_gap * 1000)
        name = font["name"]
        assert name.getDebugName(1) == "Test Hand" and name.getDebugName(2) == "Regular"
        assert name.getDebugName(13) == DEFAULT_LICENSE
        # Outer contours clockwise in TrueType (negative area), counter-clockwise in CFF.
        pen = AreaPen(font.getGlyphSet())
        font.getGlyphSet()[cmap[ord("한")]].draw(pen)
        assert (pen.value < 0) == (suffix != ".otf"), suffix
        assert ("CFF " in font) == (suffix == ".otf")


def test_fonts_render_like_the_source(fonts, gaegu):
    for suffix, path in fonts.items():
        if suffix == ".woff2":
            continue  # FreeType in Pillow may lack brotli; the same outlines as .ttf
        for char in SYLLABLES:
            iou = _iou(_render(path, char), _render(gaegu, char))
            assert iou > MIN_RENDER_IOU, (suffix, char, iou)
        assert _iou(_render(path, "A"), _render(gaegu, "A")) > MIN_RENDER_IOU, suffix


def test_fonts_pass_the_sanitizer(fonts):
    ots = pytest.importorskip("ots")
    for suffix, path in fonts.items():
        result = ots.sanitize(str(path), capture_output=True)
        assert result.returncode == 0, (suffix, result.stdout, result.stderr)


@pytest.mark.parametrize("family, out, glyphs, match", [
    ("Test", "x.svg", None, "unknown font format"),
    ("Test", "x", None, "unknown font format"),
    ("", "x.ttf", None, "empty"),
    ("A" * 32, "x.ttf", None, "at most 31"),
    ("Test\u00e9", "x.ttf", None, "printable ASCII"),
    ("Test", "x.ttf", {"A": []}, "not Hangul syllables"),
    ("Test", "x.ttf", {"가나": []}, "not Hangul syllables"),
])
def test_build_font_errors(tmp_path, metrics, family, out, glyphs, match):
    with pytest.raises(FontFileError, match=match):
        build_font({"가": []} if glyphs is None else glyphs, metrics, family, tmp_path / out)
    assert list(tmp_path.iterdir()) == []


def test_hangul_family_and_blank_glyph(tmp_path, metrics):
    from fontTools.ttLib import TTFont

    path = build_font({"가": []}, metrics, "내 손글씨", tmp_path / "hand.otf", version="2.010",
                      license_text="All rights reserved.")
    font = TTFont(path)
    assert font["name"].getDebugName(1) == "내 손글씨"
    assert font["name"].getDebugName(6).isascii()
    assert font["name"].getDebugName(13) == "All rights reserved."
    assert font["head"].fontRevision == pytest.approx(2.01, abs=1e-3)


def test_build_is_atomic(tmp_path, metrics, gaegu):
    out = tmp_path / "hand.ttf"
    build_font({"가": []}, metrics, "Test", out)
    before = out.read_bytes()

    class Broken:
        def draw(self, pen):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        build_font({"가": [Broken()]}, metrics, "Test", out)
    with pytest.raises(FontFileError, match="cannot copy Latin"):
        build_font({"가": []}, metrics, "Test", out, latin_from=tmp_path / "missing.ttf")
    fresh = tmp_path / "new.woff2"
    with pytest.raises(FontFileError):
        build_font({"가": []}, metrics, "Test", fresh, latin_from=__file__)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hand.ttf"]


def test_interrupted_save_leaves_nothing(tmp_path, metrics, monkeypatch):
    from fontTools.ttLib import TTFont

    out = tmp_path / "hand.otf"
    out.write_bytes(b"old")

    def half_written(self, file, *args, **kwargs):
        with open(file, "wb") as fh:
            fh.write(b"OTTO half")
        raise KeyboardInterrupt

    monkeypatch.setattr(TTFont, "save", half_written)
    with pytest.raises(KeyboardInterrupt):
        build_font({"가": []}, metrics, "Test", out)
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["hand.otf"]
