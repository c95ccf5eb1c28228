"""Layout: ink boxes, pasting glyphs into boxes, font-drawn characters and line setting."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from fontTools.ttLib import TTFont

from korean_gan.data.fonts import bundled_font_dir
from korean_gan.data.layout import FontGlyphs, LayoutError, ink_box, layout_text, paste_ink

GAEGU = bundled_font_dir() / "Gaegu-Regular.ttf"


def _square_metrics(advance=1.0, space=0.25):
    """Every syllable: ink box x 0.1..0.9, y -0.1..0.8 em; advance 1 em."""
    boxes = np.tile(np.array([0.1, -0.1, 0.9, 0.8], np.float32), (11172, 1))
    return SimpleNamespace(boxes=boxes, advances=np.full(11172, advance, np.float32),
                           ascender=0.8, descender=-0.2, line_gap=0.25, space=space)


def test_ink_box_finds_the_dark_pixels_and_none_when_blank():
    image = np.full((20, 30), 255, np.uint8)
    assert ink_box(image) is None
    image[5:9, 10:21] = 0
    image[2, 2] = 230  # a faint fringe pixel does not count
    assert ink_box(image) == (10, 5, 21, 9)


def test_paste_ink_fills_exactly_the_box_darkest_wins():
    glyph = np.full((40, 40), 255, np.uint8)
    glyph[10:30, 5:35] = 0
    page = np.full((50, 60), 255, np.uint8)
    page[0, 0] = 7
    paste_ink(page, glyph, (12, 8, 42, 28))
    assert ink_box(page[1:, 1:]) == (11, 7, 41, 27)
    assert page[8:28, 12:42].max() == 0
    assert page[0, 0] == 7  # ink already on the page stays
    # Half outside the page: cut, no error.
    paste_ink(page, glyph, (50, 40, 80, 60))
    assert page[40:, 50:].max() == 0


def test_font_glyphs_match_the_fonts_own_metrics():
    font = FontGlyphs(GAEGU, 200)
    tt = TTFont(GAEGU)
    upm = tt["head"].unitsPerEm
    glyph_name = tt.getBestCmap()[ord("H")]
    advance = tt["hmtx"][glyph_name][0] / upm
    image, box, got_advance = font.glyph("H")
    assert got_advance == pytest.approx(advance, abs=1 / 200)
    glyph = tt["glyf"][glyph_name]
    glyph.recalcBounds(tt["glyf"])
    # The ink box in em against the outline's bounds, within 2 px at 200 px per em.
    assert box[1] == pytest.approx(glyph.yMin / upm, abs=2 / 200)
    assert box[3] == pytest.approx(glyph.yMax / upm, abs=2 / 200)
    assert box[0] == pytest.approx(glyph.xMin / upm, abs=2 / 200)
    assert ink_box(image) is not None
    assert font.draws("7") and font.draws(" ")
    assert not font.draws("中")  # not in Gaegu
    assert not font.draws("\u20bf")


def test_layout_text_sets_pen_space_baseline_and_lines():
    metrics = _square_metrics()
    width, height, placed = layout_text("가나 다\n라", metrics, [], px_per_em=100, pad=10)
    assert [p.char for p in placed] == ["가", "나", "다", "라"]
    assert [p.line for p in placed] == [0, 0, 0, 1]
    # Pen from the pad, one em per syllable, a quarter em for the space.
    assert [p.box[0] for p in placed] == [20, 120, 245, 20]
    # Baseline of line 0 at pad + ascender; the box top is 0.8 em above it.
    assert placed[0].box[1] == 10 and placed[0].box[3] == 100
    # The next line is ascender - descender + line gap = 1.25 em lower.
    assert placed[3].box[1] - placed[0].box[1] == 125
    assert width == 335 + 10 - 0  # right edge of 다's advance (325) or its ink (315), + pad
    assert height == round(10 + 80 + 125 + 20 + 10)


def test_layout_text_draws_other_characters_from_fonts_and_names_what_none_can():
    metrics = _square_metrics()
    font = FontGlyphs(GAEGU, 100)
    _, _, placed = layout_text("A가!", metrics, [font], px_per_em=100)
    assert [p.source for p in placed] == ["Gaegu-Regular", "hangul", "Gaegu-Regular"]
    a_advance = font.glyph("A")[2]
    assert placed[1].box[0] == round(25 + a_advance * 100 + 10)
    with pytest.raises(LayoutError, match=r"'中' \(U\+4E2D\).*Gaegu-Regular"):
        layout_text("가中", metrics, [font], px_per_em=100)
