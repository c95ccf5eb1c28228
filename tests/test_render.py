"""Tests for :mod:`korean_gan.data.render`: image format, margins, fitting, undrawn syllables."""

from __future__ import annotations

import json

import numpy as np
import pytest

from korean_gan.data.fonts import drawn_syllables, load_faces, read_catalog
from korean_gan.data.render import (
    PLACEMENTS,
    GlyphRenderer,
    RenderConfig,
    fit_to_box,
    render_glyph,
)

# Wide (가), tall (힝) and dense (를) syllables, all in KS X 1001, which every bundled font draws.
SYLLABLES = "가힝를"


@pytest.fixture(scope="module")
def faces(two_fonts):
    faces = load_faces(two_fonts)
    assert [f.name for f in faces] == ["CuteFont-Regular", "DoHyeon-Regular"]
    return faces


@pytest.fixture(scope="module")
def all_faces(font_dir):
    catalog = read_catalog()
    faces = load_faces([font_dir / entry.file for entry in catalog])
    # Every catalogued font loads (none skipped), so the loops below see the whole corpus.
    assert len(catalog) >= 20 and len(faces) == len(catalog)
    return faces


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), inclusive, of the true pixels."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


def test_image_format(faces):
    image = GlyphRenderer(faces[0]).render("가")
    assert image.shape == (32, 32) and image.dtype == np.uint8
    assert image[0, 0] == image[0, -1] == image[-1, 0] == image[-1, -1] == 255
    assert image.min() < 64
    assert image.max() == 255


def test_every_bundled_font_fills_the_box_inside_the_margin(all_faces):
    # size 32, margin 0.0625 -> 2 px of paper on each side, a 28 px box at rows/cols 2..29.
    for face in all_faces:
        renderer = GlyphRenderer(face)
        for char in SYLLABLES:
            image = renderer.render(char)
            where = f"{face.name} {char}"
            assert image is not None, where
            inside = np.zeros_like(image, dtype=bool)
            inside[2:30, 2:30] = True
            # Not even a faint fringe outside the box; true ink well inside it.
            assert (image[~inside] == 255).all(), where
            top, bottom, left, right = _bbox(image < 128)
            assert max(bottom - top, right - left) + 1 >= 26, where
            # Centred: equal paper on both sides of the (faint-inclusive) ink, within a pixel.
            top, bottom, left, right = _bbox(image < 255)
            assert abs(top - (31 - bottom)) <= 1 and abs(left - (31 - right)) <= 1, where


@pytest.mark.parametrize("size, box_margin", [(16, 1), (64, 4), (48, 3)])
def test_other_sizes(faces, size, box_margin):
    config = RenderConfig(size=size)
    assert config.box == size - 2 * box_margin
    for face in faces:
        renderer = GlyphRenderer(face, config)
        for char in SYLLABLES:
            image = renderer.render(char)
            assert image.shape == (size, size) and image.dtype == np.uint8
            lo, hi = box_margin, size - box_margin
            outside = np.ones_like(image, dtype=bool)
            outside[lo:hi, lo:hi] = False
            assert (image[outside] == 255).all()
            top, bottom, left, right = _bbox(image < 128)
            assert max(bottom - top, right - left) + 1 >= config.box - 2


def test_render_glyph_convenience_matches_renderer(faces):
    for size in (32, 64):
        direct = GlyphRenderer(faces[1], RenderConfig(size=size)).render("정")
        assert direct is not None and direct.shape == (size, size) and direct.min() < 64
        assert np.array_equal(render_glyph(faces[1], "정", size=size), direct)


def test_rendering_is_deterministic(faces):
    first = [GlyphRenderer(f).render(c) for f in faces for c in SYLLABLES]
    second = [GlyphRenderer(f).render(c) for f in faces for c in SYLLABLES]
    # Real glyphs (None == None would also be "equal"): 2 fonts x 3 syllables, all with ink.
    assert len(first) == 2 * len(SYLLABLES)
    assert all(a is not None and a.shape == (32, 32) and a.min() < 64 for a in first)
    for a, b in zip(first, second, strict=True):
        assert b is not None and a.dtype == b.dtype == np.uint8
        assert np.array_equal(a, b)
    # ... and different syllables give different images: the comparison can fail.
    assert len({a.tobytes() for a in first}) == len(first)


def test_different_fonts_and_syllables_differ(faces):
    cute, dohyeon = (GlyphRenderer(f) for f in faces)
    assert (cute.render("가") != dohyeon.render("가")).any()
    assert (cute.render("가") != cute.render("나")).any()


def test_syllable_without_cmap_entry_is_none(faces):
    # CuteFont draws only the 2,350 KS X 1001 syllables; '똠' is not one of them.
    renderer = GlyphRenderer(faces[0])
    assert renderer.render("똠") is None
    assert renderer.check(["똠", "가"]) == {"똠": "no cmap entry"}


def test_mapped_but_undrawn_syllable_is_none(font_dir):
    from fontTools.ttLib import TTFont

    (face,) = load_faces([font_dir / "BMJua-Regular.ttf"])
    cmap = TTFont(face.path, lazy=True).getBestCmap()
    sample = [chr(cp) for cp in range(0xAC00, 0xAD00)]
    drawn, _ = drawn_syllables(face, sample)
    mapped_not_drawn = [c for c in sample if ord(c) in cmap and c not in drawn]
    assert mapped_not_drawn, "BM Jua should map syllables it does not draw"
    renderer = GlyphRenderer(face)
    for char in mapped_not_drawn[:10]:
        assert renderer.render(char) is None
        # FreeType agrees that nothing is drawn: the unchecked rendering is blank too.
        assert renderer.render_unchecked(char) is None
    assert len(drawn) >= 10, "BM Jua draws the KS X 1001 syllables of U+AC00-U+ACFF"
    for char in drawn[:10]:
        image = renderer.render(char)
        assert image is not None and image.min() < 64


def test_fake_cmap_font_renders_only_real_syllables(fake_cmap_font):
    (face,) = load_faces([fake_cmap_font.path])
    renderer = GlyphRenderer(face)
    for char in fake_cmap_font.real:
        assert renderer.render(char) is not None
    for char in fake_cmap_font.shared + fake_cmap_font.empty:
        assert renderer.render(char) is None


def test_fit_to_box_centres_and_scales_a_rectangle():
    config = RenderConfig(size=32)
    big = np.full((200, 300), 255, np.uint8)
    big[50:90, 100:220] = 0                  # 40 x 120 black bar: 3:1
    image = fit_to_box(big, config)
    top, bottom, left, right = _bbox(image < 128)
    assert (left, right) == (2, 29)          # the long side fills the 28 px box
    height = bottom - top + 1
    assert 8 <= height <= 10                  # 28 / 3 = 9.3
    assert abs(top - (31 - bottom)) <= 1
    assert fit_to_box(np.full((50, 50), 255, np.uint8), config) is None
    # A faint mark alone is not ink.
    faint = np.full((50, 50), 255, np.uint8)
    faint[10, 10] = 200
    assert fit_to_box(faint, config) is None


@pytest.mark.parametrize("kwargs, message", [
    ({"size": 7}, "at least 8"),
    ({"size": 32.0}, "integer"),
    ({"size": "32"}, "integer"),
    ({"margin": -0.01}, "margin"),
    ({"margin": 0.4}, "margin"),
    ({"oversample": 0}, "oversample"),
    ({"oversample": 2.5}, "oversample"),
])
def test_render_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RenderConfig(**kwargs)


def test_render_config_defaults():
    config = RenderConfig()
    assert (config.size, config.margin, config.oversample, config.box) == (32, 0.0625, 4, 28)
    assert RenderConfig(margin=0).box == 32


# --- placement "em": as the font draws it -------------------------------------------------------

def _ink_rows_cols(image):
    ink = np.argwhere(image < 128)
    return ink[:, 0].min(), ink[:, 0].max(), ink[:, 1].min(), ink[:, 1].max()


def _ink_at(face, char: str, px: int):
    """Rows and columns of a glyph's ink drawn at ``px`` pixels per em, relative to the pen
    position at the ascender line (where the renderer's frame is measured from)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(face.path), px, index=face.index)
    canvas = Image.new("L", (2 * px, 2 * px), 255)
    ImageDraw.Draw(canvas).text((px // 2, px // 2), char, font=font, fill=0)
    return [v - px // 2 for v in _ink_rows_cols(np.asarray(canvas))]


def test_em_placement_keeps_the_fonts_own_sizes_and_positions(faces):
    size, px = 64, 64 * 4  # the renderer draws at oversample x size pixels per em
    for face in faces:
        renderer = GlyphRenderer(face, RenderConfig(size=size, placement="em"))
        left, top, right, bottom = renderer.frame
        scale = RenderConfig(size=size).box / max(right - left, bottom - top)
        offset_y = (size - round((bottom - top) * scale)) // 2
        offset_x = (size - round((right - left) * scale)) // 2
        for char in "오늘를가":
            got = _ink_rows_cols(renderer.render(char))
            # Where the font puts the ink, through the one scale of this face (within 2 px:
            # downsampling and the ink threshold thin a stroke's anti-aliased ends).
            y0, y1, x0, x1 = _ink_at(face, char, px)
            want = (offset_y + (y0 - top) * scale, offset_y + (y1 - top) * scale,
                    offset_x + (x0 - left) * scale, offset_x + (x1 - left) * scale)
            assert np.allclose(got, want, atol=2), (face.name, char, got, want)
    # CuteFont draws 오 at half the height of 를; the reference placement stretches both.
    cute = faces[0]
    heights = {}
    for placement in PLACEMENTS:
        renderer = GlyphRenderer(cute, RenderConfig(size=size, placement=placement))
        heights[placement] = {c: np.ptp(np.argwhere(renderer.render(c) < 128)[:, 0])
                              for c in "오를"}
    assert heights["em"]["를"] > 1.8 * heights["em"]["오"]
    assert heights["fit"]["를"] < 1.3 * heights["fit"]["오"]


def test_every_mapped_syllable_fits_in_the_frame(all_faces):
    from korean_gan.data.fonts import mapped_syllables

    config = RenderConfig(size=32, placement="em")
    margin = (config.size - config.box) // 2
    rng = np.random.default_rng(0)
    checked = 0
    for face in all_faces:
        chars = mapped_syllables(face)
        assert len(chars) >= 2350, face.name
        renderer = GlyphRenderer(face, config)
        # The tallest and widest syllables of the face, and a random sample of the rest.
        boxes = {c: renderer._font.getbbox(c) for c in chars}
        extremes = {min(boxes, key=lambda c: boxes[c][i]) for i in (0, 1)} | {
            max(boxes, key=lambda c: boxes[c][i]) for i in (2, 3)}
        for char in extremes | set(rng.choice(chars, 20, replace=False)):
            image = renderer.render_unchecked(char)
            if image is None:
                continue
            inside = np.full(image.shape, False)
            inside[margin:config.size - margin, margin:config.size - margin] = True
            assert (image[~inside] == 255).all(), (face.name, char)
            checked += 1
    # Syllables a face maps but draws blank are skipped; most are drawn.
    assert checked > 10 * len(all_faces)


def test_an_unknown_placement_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown placement 'centre'; choose from fit, em"):
        RenderConfig(placement="centre")


def test_data_build_placement_em(tmp_path, two_fonts, run_cli):
    out = tmp_path / "em.npz"
    code, _, err = run_cli("data", "build", "--charset", "오를", "--fonts", *two_fonts,
                           "--augment", "none", "--size", "64", "--placement", "em",
                           "--out", out, "--quiet", "--no-preview")
    assert code == 0, err
    manifest = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["placement"] == "em"
    with np.load(out) as npz:
        images, labels, font_ids = npz["images"], npz["labels"], npz["font_ids"]
    assert images.shape == (4, 64, 64)
    # Each glyph's height relative to the other as its font draws them (CuteFont: 를 over twice
    # the height of 오; DoHyeon, a block face: about the same).
    faces = load_faces(two_fonts)
    for font, face in enumerate(faces):
        short, tall = (images[(font_ids == font) & (labels == label)][0] for label in (0, 1))
        ratio = np.ptp(np.argwhere(tall < 128)[:, 0]) / np.ptp(np.argwhere(short < 128)[:, 0])
        drawn = [_ink_at(face, c, 1000) for c in "오를"]
        expected = (drawn[1][1] - drawn[1][0]) / (drawn[0][1] - drawn[0][0])
        assert ratio == pytest.approx(expected, rel=0.1), face.name
