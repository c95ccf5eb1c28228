"""Tests for :mod:`korean_gan.data.metrics` (fonts' layout metrics) and
:func:`korean_gan.models.styles.convex_weights`, on bundled fonts checked against FreeType."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from korean_gan.data.charsets import jamo_table, ks2350
from korean_gan.data.fonts import FontError, FontFace, drawn_syllables, load_faces
from korean_gan.data.metrics import (
    N_SYLLABLES,
    FontMetrics,
    MetricsError,
    MetricsTable,
    build_metrics_table,
    font_metrics,
    jamo_design,
    predict_from_jamo,
)
from korean_gan.models.styles import convex_weights

FIRST = 0xAC00
ALL = [chr(FIRST + i) for i in range(N_SYLLABLES)]


def index(char: str) -> int:
    return ord(char) - FIRST


@pytest.fixture(scope="module")
def faces(font_dir) -> dict[str, FontFace]:
    # PoorStory draws all 11,172 syllables, Cute Font only the 2,350 of KS X 1001.
    names = ("PoorStory-Regular.ttf", "CuteFont-Regular.ttf")
    return {face.name: face for face in load_faces([font_dir / name for name in names])}


@pytest.fixture(scope="module")
def poorstory(faces) -> FontMetrics:
    return font_metrics(faces["PoorStory-Regular"])


@pytest.fixture(scope="module")
def cute(faces) -> FontMetrics:
    return font_metrics(faces["CuteFont-Regular"])


@pytest.fixture(scope="module")
def table(poorstory, cute) -> MetricsTable:
    return MetricsTable.from_fonts([poorstory, cute])


@pytest.fixture(scope="module")
def ks_mask() -> np.ndarray:
    mask = np.zeros(N_SYLLABLES, dtype=bool)
    mask[[index(c) for c in ks2350().chars]] = True
    return mask


# --- font_metrics ------------------------------------------------------------------------------


def freetype_ink_box(face: FontFace, char: str, ppem: int) -> tuple[np.ndarray, float]:
    """The ink box (em, y up, pen at 0) of ``char`` rendered by FreeType, and its advance."""
    font = ImageFont.truetype(str(face.path), ppem, index=face.index)
    origin = (ppem, 2 * ppem)
    image = Image.new("L", (3 * ppem, 3 * ppem), 255)
    ImageDraw.Draw(image).text(origin, char, font=font, fill=0, anchor="ls")
    ink = np.asarray(image) < 255
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    box = np.array([cols[0] - origin[0], origin[1] - (rows[-1] + 1),
                    cols[-1] + 1 - origin[0], origin[1] - rows[0]], dtype=np.float64)
    return box / ppem, font.getlength(char) / ppem


@pytest.mark.parametrize(("font", "char"), [("PoorStory-Regular", "가"),
                                            ("PoorStory-Regular", "뷁"),
                                            ("CuteFont-Regular", "가"),
                                            ("CuteFont-Regular", "를")])
def test_boxes_and_advances_match_freetype(request, faces, font, char):
    metrics = request.getfixturevalue("poorstory" if font.startswith("Poor") else "cute")
    ppem = 400
    box, advance = freetype_ink_box(faces[font], char, ppem)
    assert metrics.drawn[index(char)]
    # Hinting and anti-aliasing move an edge by at most a pixel or two.
    np.testing.assert_allclose(metrics.box(char), box, atol=2 / ppem)
    assert metrics.advance(char) == pytest.approx(advance, abs=1 / ppem)


def test_line_metrics_are_the_hhea_values_in_em(poorstory, cute):
    # hhea ascent / descent / lineGap and the advance of U+0020, over unitsPerEm.
    assert (poorstory.ascender, poorstory.descender, poorstory.line_gap, poorstory.space) == (
        819 / 1024, -205 / 1024, 256 / 1024, 260 / 1024)
    assert (cute.ascender, cute.descender, cute.line_gap, cute.space) == pytest.approx(
        (0.710, -0.290, 0.250, 0.220))


def test_drawn_is_what_the_font_draws(poorstory, cute, ks_mask):
    assert poorstory.drawn.all()
    np.testing.assert_array_equal(cute.drawn, ks_mask)  # Cute Font draws exactly KS X 1001


@pytest.mark.parametrize("name", ["poorstory", "cute"])
def test_every_box_is_a_plausible_syllable_box(request, name):
    metrics = request.getfixturevalue(name)
    boxes, advances = metrics.boxes, metrics.advances
    assert boxes.dtype == np.float32 and boxes.shape == (N_SYLLABLES, 4)
    assert np.isfinite(boxes).all() and np.isfinite(advances).all()
    assert ((boxes >= -0.5) & (boxes <= 1.5)).all()
    x0, y0, x1, y1 = boxes.T
    assert (x1 > x0 + 0.2).all() and (y1 > y0 + 0.2).all()
    assert (advances > 0.3).all() and (advances < 1.5).all()
    # The drawn ink stays between the line's descender and ascender (Cute Font's by 1 unit).
    drawn = metrics.drawn
    assert (y0[drawn] >= metrics.descender - 0.01).all()
    assert (y1[drawn] <= metrics.ascender + 0.01).all()


@pytest.mark.parametrize("name", ["poorstory", "cute"])
def test_boxes_follow_hangul_layout(request, name):
    metrics = request.getfixturevalue(name)
    jamo = jamo_table(ALL)
    drawn = metrics.drawn
    x0, y0, x1, y1 = metrics.boxes.T
    no_final = jamo[:, 2] == 0
    # A final consonant sits under the rest: syllables with one reach lower.
    assert y0[drawn & ~no_final].mean() < y0[drawn & no_final].mean() - 0.1
    # A vowel beside the initial (ㅏ, ㅓ, ㅣ, ...) makes the syllable wider than one under it
    # (ㅗ, ㅜ, ㅡ, ...): 가 is wider than 고.
    beside = np.isin(jamo[:, 1], [0, 1, 2, 3, 4, 5, 6, 7, 20]) & no_final & drawn
    under = np.isin(jamo[:, 1], [8, 12, 13, 17, 18]) & no_final & drawn
    assert (x1 - x0)[beside].mean() > (x1 - x0)[under].mean() + 0.02


def test_jamo_model_predicts_held_out_syllables(poorstory, ks_mask):
    values = np.c_[poorstory.boxes, poorstory.advances]
    held_out = np.zeros(N_SYLLABLES, dtype=bool)
    held_out[np.random.default_rng(0).permutation(N_SYLLABLES)[:N_SYLLABLES // 10]] = True
    errors = {}
    # A random tenth held out, and the realistic case: fitted on KS X 1001, predicting the rest.
    for case, known in (("random", ~held_out), ("ks2350", ks_mask)):
        predicted = predict_from_jamo(values, known)
        error = np.abs(predicted - values)[~known, :4].mean()
        baseline = np.abs(values[known].mean(axis=0) - values[~known])[:, :4].mean()
        errors[case] = error
        # Half the error of predicting every syllable by the mean (0.020 and 0.024 em).
        assert error < 0.6 * baseline, (case, error, baseline)
    # Measured: 0.0102 em (random tenth) and 0.0121 em (KS X 1001 -> the other 8,822).
    assert errors["random"] < 0.012
    assert errors["ks2350"] < 0.014


def test_jamo_model_is_exact_on_additive_values():
    rng = np.random.default_rng(1)
    jamo = jamo_table(ALL)
    initial, vowel, final = rng.normal(size=19), rng.normal(size=21), rng.normal(size=28)
    values = 0.5 + initial[jamo[:, 0]] + vowel[jamo[:, 1]] + final[jamo[:, 2]]
    known = np.zeros(N_SYLLABLES, dtype=bool)
    known[[index(c) for c in ks2350().chars]] = True
    values_with_gaps = np.where(known, values, np.nan)
    np.testing.assert_allclose(predict_from_jamo(values_with_gaps, known), values, atol=1e-9)
    assert jamo_design().shape == (N_SYLLABLES, 69)
    with pytest.raises(ValueError, match="no syllable is known"):
        predict_from_jamo(values, np.zeros(N_SYLLABLES, dtype=bool))


def test_predicted_syllables_look_like_the_drawn_ones(cute):
    drawn, predicted = cute.boxes[cute.drawn], cute.boxes[~cute.drawn]
    assert len(predicted) == N_SYLLABLES - 2350
    # The syllables outside KS X 1001 (more complex vowels and finals) are predicted no further
    # than 0.15 em outside the range of the drawn ones.
    assert (predicted.min(axis=0) > drawn.min(axis=0) - 0.15).all()
    assert (predicted.max(axis=0) < drawn.max(axis=0) + 0.15).all()
    # 뷁 (not in KS X 1001) has the final ㄺ of the drawn 붉: it reaches as low.
    assert not cute.drawn[index("뷁")] and cute.drawn[index("붉")]
    assert cute.box("뷁")[1] == pytest.approx(cute.box("붉")[1], abs=0.05)


def test_pictures_mapped_to_syllables_are_not_taken_as_drawn(font_dir):
    # BMHannaPro maps 144 rare syllables to food pictures (갋 is a 4.3 em wide one).
    (face,) = load_faces([font_dir / "BMHannaPro-Regular.ttf"])
    metrics = font_metrics(face)
    listed, _ = drawn_syllables(face, ALL)
    assert len(listed) - metrics.drawn.sum() == 144
    assert not metrics.drawn[index("갋")] and not metrics.drawn[index("됝")]
    # Real syllables that share a rare final with many pictures stay drawn.
    assert metrics.drawn[index("꽃")] and metrics.drawn[index("앉")]
    assert metrics.advance("갋") == pytest.approx(np.median(metrics.advances), abs=0.1)
    assert (metrics.advances < 1.0).all() and (metrics.boxes[:, 2] < 1.0).all()


def test_cff_outlines_measure_like_the_truetype_ones(cff_font, cute):
    (face,) = load_faces([cff_font.path])
    metrics = font_metrics(face)
    assert {ALL[i] for i in np.flatnonzero(metrics.drawn)} == set(cff_font.drawn)
    assert not metrics.drawn[index(cff_font.empty)]
    for char in cff_font.drawn:
        # Cubic curves from the quadratic ones, with coordinates rounded to font units.
        np.testing.assert_allclose(metrics.box(char), cute.box(char), atol=2e-3)
        assert metrics.advance(char) == pytest.approx(cute.advance(char))
    assert np.isfinite(metrics.boxes).all()


def test_placeholder_glyphs_are_predicted_not_measured(fake_cmap_font):
    (face,) = load_faces([fake_cmap_font.path])
    metrics = font_metrics(face)
    for char in fake_cmap_font.real:
        assert metrics.drawn[index(char)]
    for char in fake_cmap_font.shared + fake_cmap_font.empty:
        assert not metrics.drawn[index(char)]


def test_an_unreadable_font_raises_naming_it(bad_fonts):
    path = bad_fonts("truncated")
    face = FontFace(path=path, index=0, family="x", subfamily="Regular", name="x", sha256="0")
    with pytest.raises(FontError, match="truncated.ttf"):
        font_metrics(face)


# --- MetricsTable --------------------------------------------------------------------------------


def test_table_stacks_fonts(table, poorstory, cute):
    assert table.names == ["PoorStory-Regular", "CuteFont-Regular"]
    assert table.boxes.shape == (2, N_SYLLABLES, 4) and table.lines.shape == (2, 4)
    np.testing.assert_array_equal(table.lines[1], cute.line())
    font = table.font("PoorStory-Regular")
    np.testing.assert_array_equal(font.boxes, poorstory.boxes)
    np.testing.assert_array_equal(font.drawn, poorstory.drawn)
    assert font.space == poorstory.space


def test_select_keeps_the_given_order_and_names_unknown_fonts(table):
    flipped = table.select(["CuteFont-Regular", "PoorStory-Regular"])
    assert flipped.names == ["CuteFont-Regular", "PoorStory-Regular"]
    np.testing.assert_array_equal(flipped.boxes[0], table.boxes[1])
    with pytest.raises(ValueError, match=r"unknown font 'Gaegu'; known: PoorStory-Regular, "
                                         r"CuteFont-Regular"):
        table.select(["Gaegu"])
    with pytest.raises(ValueError, match="unique"):
        table.select(["CuteFont-Regular", "CuteFont-Regular"])
    with pytest.raises(ValueError, match="unique"):
        MetricsTable.from_fonts([table.font("CuteFont-Regular")] * 2)


def test_blend_of_one_font_is_that_font(table, cute):
    blend = table.blend(np.array([0.0, 1.0]))
    assert blend.name == "blend"
    np.testing.assert_array_equal(blend.boxes, cute.boxes)
    np.testing.assert_array_equal(blend.advances, cute.advances)
    np.testing.assert_array_equal(blend.drawn, cute.drawn)
    np.testing.assert_array_equal(blend.line(), cute.line())


def test_blend_averages_every_field(table, poorstory, cute):
    blend = table.blend(np.array([3.0, 1.0]))  # normalised to 0.75, 0.25
    np.testing.assert_allclose(blend.boxes, 0.75 * poorstory.boxes + 0.25 * cute.boxes, atol=1e-6)
    np.testing.assert_allclose(blend.advances, 0.75 * poorstory.advances + 0.25 * cute.advances,
                               atol=1e-6)
    assert blend.ascender == pytest.approx(0.75 * poorstory.ascender + 0.25 * cute.ascender)
    np.testing.assert_array_equal(blend.drawn, poorstory.drawn)  # the heavier font's
    for bad in ([1.0], [-0.5, 1.5], [0.0, 0.0], [np.nan, 1.0]):
        with pytest.raises(ValueError, match="weights"):
            table.blend(np.array(bad))


def test_save_and_load_round_trip(table, tmp_path):
    path = tmp_path / "metrics.npz"
    table.save(path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["advances.npy", "boxes.npy", "drawn.npy",
                                         "format_version.npy", "lines.npy", "names.npy"]
    with np.load(path) as npz:
        assert npz["boxes"].dtype == np.float16
    loaded = MetricsTable.load(path)
    assert loaded.names == table.names
    assert np.abs(loaded.boxes - table.boxes).max() < 1e-3
    assert np.abs(loaded.advances - table.advances).max() < 1e-3
    np.testing.assert_array_equal(loaded.drawn, table.drawn)
    np.testing.assert_array_equal(loaded.lines, table.lines)
    assert not list(tmp_path.glob(".metrics.npz.*"))  # no temporary file left behind


def test_values_float16_cannot_hold_are_saved_exactly(table, tmp_path):
    wide = MetricsTable(names=table.names, boxes=table.boxes, advances=table.advances.copy(),
                        drawn=table.drawn, lines=table.lines)
    wide.advances[0, 0] = 6.4159  # float16 would make it 6.418
    wide.save(tmp_path / "wide.npz")
    loaded = MetricsTable.load(tmp_path / "wide.npz")
    assert loaded.advances[0, 0] == np.float32(6.4159)


def test_load_names_a_missing_or_damaged_file(table, tmp_path):
    with pytest.raises(MetricsError, match=r"metrics file .*absent\.npz does not exist"):
        MetricsTable.load(tmp_path / "absent.npz")
    path = tmp_path / "metrics.npz"
    table.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MetricsError, match=r"metrics file .*metrics\.npz is damaged"):
        MetricsTable.load(path)
    other = tmp_path / "other.npz"
    np.savez(other, boxes=np.zeros(3))
    with pytest.raises(MetricsError, match=r"other\.npz is damaged or not a metrics table"):
        MetricsTable.load(other)


def test_build_metrics_table_measures_faces_in_order(cff_font, fake_cmap_font):
    faces = load_faces([fake_cmap_font.path, cff_font.path])
    built = build_metrics_table(faces, progress=True)
    assert built.names == [face.name for face in faces]
    assert built.drawn.sum(axis=1).tolist() == [len(fake_cmap_font.real), len(cff_font.drawn)]


# --- convex_weights ------------------------------------------------------------------------------


def test_convex_weights_recover_a_blend_of_three_rows():
    rng = np.random.default_rng(2)
    basis = rng.normal(size=(8, 32))
    weights = np.zeros((5, 8))
    for row in weights:
        row[rng.choice(8, size=3, replace=False)] = rng.dirichlet(np.ones(3))
    found = convex_weights(weights @ basis, basis)
    assert found.shape == (5, 8)
    np.testing.assert_allclose(found, weights, atol=1e-6)


def test_convex_weights_of_a_basis_row_are_one_hot():
    basis = np.random.default_rng(3).normal(size=(6, 16))
    np.testing.assert_allclose(convex_weights(basis, basis), np.eye(6), atol=1e-6)


def test_convex_weights_outside_the_hull_are_still_convex():
    rng = np.random.default_rng(4)
    basis = rng.normal(size=(5, 3))
    found = convex_weights(rng.normal(size=(20, 3)) * 10, basis)
    assert (found >= 0).all()
    np.testing.assert_allclose(found.sum(axis=1), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match=r"\(n, D\)"):
        convex_weights(np.zeros(3), basis)
