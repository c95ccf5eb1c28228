"""Line augmentation: glyph jitter, glyph rotation and line effects (numpy and OpenCV only)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from korean_gan.data.layout import ink_box
from korean_gan.data.lineaug import (
    LineAugError,
    LineAugment,
    glyph_jitter,
    line_effects,
    rotate_glyph,
)

EVERYTHING = LineAugment(ink_weight=1.0, paper=1.0, blur=1.0, noise=1.0, jpeg=1.0)
NOTHING_DONE = {"slant": 0.0, "ink": 0, "paper": "none", "blur": 0.0, "noise": 0.0, "jpeg": 0}


def _only(**settings) -> LineAugment:
    config = LineAugment.none()
    for name, value in settings.items():
        setattr(config, name, value)
    config.validate()
    return config


def _line(height=64, width=400, px_per_em=48):
    """A page with a row of black and grey bars (strokes), and their boxes."""
    page = np.full((height, width), 255, np.uint8)
    boxes = []
    for i, x in enumerate(range(10, width - 50, px_per_em)):
        box = (x, 10, x + px_per_em - 8, 50)
        page[box[1]:box[3]:5, box[0]:box[2]] = 0 if i % 2 else 90
        page[box[1]:box[3], box[0]:box[0] + 3] = 0
        boxes.append(box)
    return page, boxes


def _asymmetric_glyph():
    glyph = np.full((30, 20), 255, np.uint8)
    glyph[3:27, 4:8] = 0   # a long vertical bar
    glyph[22:27, 4:17] = 0  # a foot to the right: an L
    glyph[5, 14] = 40      # and a dot
    return glyph


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not():
    page, boxes = _line()
    glyph = _asymmetric_glyph()

    def run(seed):
        rng = np.random.default_rng(seed)
        jittered, angles = glyph_jitter(boxes, 48, LineAugment(), rng)
        turned = [rotate_glyph(glyph, a).tobytes() for a in angles]
        out, moved, params = line_effects(page, jittered, 48, EVERYTHING, rng)
        return jittered, angles, turned, out.tobytes(), moved, params

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_none_leaves_the_layout_exactly_as_typeset():
    page, boxes = _line()
    before = page.copy()
    rng = np.random.default_rng(0)
    jittered, angles = glyph_jitter(boxes, 48, LineAugment.none(), rng)
    assert jittered == boxes
    assert angles == [0.0] * len(boxes)
    assert all(str(a) == "0.0" for a in angles)  # no -0.0 in a label
    out, moved, params = line_effects(page, boxes, 48, LineAugment.none(), rng)
    assert out is not page and out.dtype == np.uint8
    assert np.array_equal(out, page) and np.array_equal(page, before)
    assert moved == boxes
    assert params == NOTHING_DONE
    assert json.dumps(params) == json.dumps(NOTHING_DONE)


def test_turning_one_effect_off_does_not_reshuffle_the_others():
    page, boxes = _line()
    _, _, with_paper = line_effects(page, boxes, 48, EVERYTHING, np.random.default_rng(3))
    no_paper = LineAugment(ink_weight=1.0, paper=0.0, blur=1.0, noise=1.0, jpeg=1.0)
    _, _, without = line_effects(page, boxes, 48, no_paper, np.random.default_rng(3))
    assert with_paper["paper"] != "none" and without["paper"] == "none"
    assert {k: v for k, v in with_paper.items() if k != "paper"} == \
        {k: v for k, v in without.items() if k != "paper"}


# Over N boxes, a sample mean is within 4 standard errors and a sample sd within 6 % of its
# expected value (the draws are truncated at 3 sd: sd 0.9866 of nominal). A wrong unit, a
# missing factor or an off sd fails; chance alone fails about once in 10^4 runs.
N = 4000
TRUNCATED_SD = 0.9866


def _assert_normal(values, sd, label):
    values = np.asarray(values, np.float64)
    expected = sd * TRUNCATED_SD
    assert abs(values.mean()) < 4 * sd / math.sqrt(N), f"{label}: mean {values.mean():.3f}"
    assert abs(values.std() / expected - 1) < 0.06, f"{label}: sd {values.std():.3f} " \
        f"for {expected:.3f}"


def _grid_boxes(size=400):
    return [((i % 40) * 500, (i // 40) * 500, (i % 40) * 500 + size, (i // 40) * 500 + size)
            for i in range(N)]


@pytest.mark.parametrize("field, axis", [("spacing_jitter", 0), ("baseline_jitter", 1)])
def test_shifts_have_zero_mean_and_the_configured_sd_in_em(field, axis):
    boxes = _grid_boxes()
    px_per_em = 200
    jittered, _ = glyph_jitter(boxes, px_per_em, _only(**{field: 0.05}),
                               np.random.default_rng(1))
    old = np.asarray(boxes, np.float64)
    new = np.asarray(jittered, np.float64)
    shift = (new[:, axis] + new[:, axis + 2] - old[:, axis] - old[:, axis + 2]) / 2
    _assert_normal(shift, 0.05 * px_per_em, field)
    other = 1 - axis  # the other axis does not move, and sizes stay
    assert np.array_equal(new[:, other], old[:, other])
    assert np.array_equal(new[:, 2] - new[:, 0], old[:, 2] - old[:, 0])


def test_size_jitter_scales_boxes_about_their_centres():
    boxes = _grid_boxes()
    jittered, _ = glyph_jitter(boxes, 64, _only(size_jitter=0.06), np.random.default_rng(2))
    old = np.asarray(boxes, np.float64)
    new = np.asarray(jittered, np.float64)
    width, height = new[:, 2] - new[:, 0], new[:, 3] - new[:, 1]
    _assert_normal(width / 400 - 1, 0.06, "scale")
    assert np.abs(width - height).max() <= 1  # one scale for both sides
    centre = (new[:, :2] + new[:, 2:]) / 2 - (old[:, :2] + old[:, 2:]) / 2
    assert np.abs(centre).max() <= 0.5


def test_rotation_angles_and_the_room_they_need():
    boxes = _grid_boxes(size=100)
    jittered, angles = glyph_jitter(boxes, 64, _only(rotation=2.0), np.random.default_rng(3))
    _assert_normal(angles, 2.0, "rotation")
    assert max(abs(a) for a in angles) <= 6.0 + 1e-9  # truncated at 3 sd
    for (x0, y0, x1, y1), angle in zip(jittered, angles, strict=True):
        theta = math.radians(angle)
        need = 100 * (abs(math.cos(theta)) + abs(math.sin(theta)))
        assert abs((x1 - x0) - need) <= 1 and abs((y1 - y0) - need) <= 1


def test_jittered_boxes_keep_a_positive_size():
    boxes = [(5, 5, 6, 6), (0, 0, 2, 1), (10, 10, 10, 12)] * 300
    big = LineAugment(size_jitter=0.3, baseline_jitter=0.5, spacing_jitter=0.5, rotation=30)
    jittered, _ = glyph_jitter(boxes, 32, big, np.random.default_rng(4))
    assert all(x1 > x0 and y1 > y0 for x0, y0, x1, y1 in jittered)
    assert all(isinstance(v, int) for box in jittered for v in box)
    assert glyph_jitter([], 32, big, np.random.default_rng(4)) == ([], [])


def test_rotate_by_zero_is_the_same_ink_and_by_ninety_a_quarter_turn():
    glyph = _asymmetric_glyph()
    assert np.array_equal(rotate_glyph(glyph, 0), glyph)
    assert rotate_glyph(glyph, 0) is not glyph
    # Counter-clockwise as seen: the transposed shape, flipped upside down (np.rot90).
    assert np.array_equal(rotate_glyph(glyph, 90), np.rot90(glyph))
    assert np.array_equal(rotate_glyph(glyph, -90), np.rot90(glyph, -1))
    assert np.array_equal(np.flipud(rotate_glyph(glyph, 90)), glyph.T)


@pytest.mark.parametrize("angle", [2.5, -7.0, 17.0, 45.0])
def test_rotate_keeps_all_the_ink(angle):
    glyph = np.full((64, 48), 255, np.uint8)
    glyph[4:60, 2:46:7] = 0  # ink up to the corners: any cut would lose some
    turned = rotate_glyph(glyph, angle)
    assert turned.dtype == np.uint8
    ink_before = (255 - glyph.astype(np.int64)).sum()
    ink_after = (255 - turned.astype(np.int64)).sum()
    assert abs(ink_after / ink_before - 1) < 0.03
    # Nothing reaches past the canvas: the border rows and columns are (nearly) paper.
    edges = np.concatenate([turned[0], turned[-1], turned[:, 0], turned[:, -1]])
    assert edges.min() > 100


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("box", [(40, 10, 80, 50), (2, 0, 30, 64), (300, 30, 398, 40)])
def test_slant_moves_each_box_with_its_ink_and_widens_the_page(seed, box):
    height, width = 64, 400
    page = np.full((height, width), 255, np.uint8)
    x0, y0, x1, y1 = box
    page[y0:y1, x0:x1] = 0
    out, (moved,), params = line_effects(page, [box], 48, _only(slant=0.3),
                                         np.random.default_rng(seed))
    shear = params["slant"]
    assert abs(shear) <= 0.3 and shear != 0
    assert out.shape == (height, width + math.ceil(abs(shear) * height))
    found = ink_box(out)
    assert found is not None
    assert max(abs(a - b) for a, b in zip(found, moved, strict=True)) <= 1, (found, moved)
    assert 0 <= moved[0] < moved[2] <= out.shape[1]
    # The ink leans the way the shear says: its top row is right of its bottom row if > 0.
    if abs(shear) * (y1 - y0) >= 2:
        top, bottom = out[y0], out[y1 - 1]
        lean = np.flatnonzero(top < 128).mean() - np.flatnonzero(bottom < 128).mean()
        assert np.sign(lean) == np.sign(shear)


def test_slant_keeps_every_box_inside_the_page():
    page, boxes = _line(width=400)
    for seed in range(10):
        out, moved, _ = line_effects(page, boxes, 48, _only(slant=1.0),
                                     np.random.default_rng(seed))
        assert len(moved) == len(boxes)
        for x0, y0, x1, y1 in moved:
            assert 0 <= x0 < x1 <= out.shape[1] and 0 <= y0 < y1 <= out.shape[0]


def test_paper_keeps_ink_darker_than_the_paper_of_every_kind():
    page, boxes = _line()
    ink = page < 255
    kinds = set()
    for seed in range(40):
        out, moved, params = line_effects(page, boxes, 48, _only(paper=1.0),
                                          np.random.default_rng(seed))
        kinds.add(params["paper"])
        assert moved == boxes and out.shape == page.shape
        assert out[ink].max() < out[~ink].min(), params
        assert 150 < out[~ink].mean() < 253  # a tint, not white
        assert out[~ink].std() > 0.5  # grain
    assert kinds == {"plain", "fibres", "ruled"}


def test_ruled_paper_has_a_rule_under_the_line():
    page, boxes = _line()
    for seed in range(40):
        out, _, params = line_effects(page, boxes, 48, _only(paper=1.0),
                                      np.random.default_rng(seed))
        if params["paper"] == "ruled":
            rows = out[:, -10:].mean(axis=1)  # right of the ink: paper only
            darkest = int(rows.argmin())
            assert 50 <= darkest <= 50 + 0.15 * 48 + 1
            assert rows[darkest] < np.median(rows) - 15
            return
    pytest.fail("no ruled paper in 40 seeds")


def test_each_scanner_effect_is_applied_and_reported():
    page, boxes = _line()
    darkness = (255 - page.astype(np.int64)).sum()
    for sign in (1, -1):
        for seed in range(10):
            out, _, params = line_effects(page, boxes, 48, _only(ink_weight=1.0),
                                          np.random.default_rng(seed))
            if params["ink"] == sign:
                change = (255 - out.astype(np.int64)).sum() / darkness - 1
                assert sign * change > 0.05, change  # heavier or lighter strokes
                break
        else:
            pytest.fail(f"ink {sign} never drawn")
    for name, key, low, high in [("blur", "blur", 0.3 * 0.75, 1.0 * 0.75),
                                 ("noise", "noise", 2, 10), ("jpeg", "jpeg", 30, 90)]:
        for seed in range(5):
            out, moved, params = line_effects(page, boxes, 48, _only(**{name: 1.0}),
                                              np.random.default_rng(seed))
            assert low <= params[key] <= high, params
            assert {k: v for k, v in params.items() if k != key} == \
                {k: v for k, v in NOTHING_DONE.items() if k != key}
            assert out.shape == page.shape
            # (a blur of sigma under 0.3 px rounds to no change on a uint8 page)
            assert params[key] < 0.3 or not np.array_equal(out, page), params
            assert moved == boxes
            assert abs(out.astype(np.float64).mean() - page.mean()) < 3  # not a wreck
    assert json.dumps(line_effects(page, boxes, 48, EVERYTHING, np.random.default_rng(0))[2])


def test_scanner_effects_scale_with_px_per_em():
    page, boxes = _line()
    sigmas = [line_effects(page, boxes, 128, _only(blur=1.0), np.random.default_rng(s))[2]
              ["blur"] for s in range(20)]
    assert all(0.3 * 2 <= s <= 1.0 * 2 for s in sigmas)


@pytest.mark.parametrize("field, value", [
    ("size_jitter", -0.01), ("baseline_jitter", -1.0), ("spacing_jitter", float("nan")),
    ("rotation", -2.0), ("rotation", 90.0), ("slant", 1.5), ("ink_weight", 1.01),
    ("paper", -0.5), ("blur", 2.0), ("noise", "often"), ("jpeg", True)])
def test_bad_settings_are_one_line_errors_naming_the_field(field, value):
    with pytest.raises(LineAugError) as caught:
        LineAugment(**{field: value})
    message = str(caught.value)
    assert field in message and "[" in message and "\n" not in message
    assert isinstance(caught.value, ValueError)


def test_settings_changed_after_construction_are_checked_too():
    config = LineAugment()
    config.noise = 3.0
    page, boxes = _line()
    with pytest.raises(LineAugError, match=r"noise must be a number in \[0, 1\]"):
        line_effects(page, boxes, 48, config, np.random.default_rng(0))
    with pytest.raises(LineAugError, match="noise"):
        glyph_jitter(boxes, 48, config, np.random.default_rng(0))


def test_bad_arguments_are_clear_errors():
    page, boxes = _line()
    rng = np.random.default_rng(0)
    with pytest.raises(LineAugError, match="px_per_em"):
        glyph_jitter(boxes, 0, LineAugment(), rng)
    with pytest.raises(LineAugError, match="x1 >= x0"):
        glyph_jitter([(10, 0, 5, 5)], 48, LineAugment(), rng)
    with pytest.raises(LineAugError, match="page must be a non-empty 2-D uint8"):
        line_effects(page.astype(np.float32), boxes, 48, LineAugment(), rng)
    with pytest.raises(LineAugError, match="glyph"):
        rotate_glyph(np.zeros((4, 4, 3), np.uint8), 5)


def test_glyph_quads_are_the_turned_rectangles_their_boxes_bound():
    from korean_gan.data.lineaug import glyph_quads

    assert glyph_quads([(10, 20, 40, 60)], [0.0]) == [(10, 20, 40, 20, 40, 60, 10, 60)]
    box, angle = (100, 10, 130, 50), 10.0
    (quad,) = glyph_quads([box], [angle])
    corners = np.asarray(quad).reshape(4, 2)
    # The quad's corners touch the four sides of its box.
    assert corners[:, 0].min() == pytest.approx(100) and corners[:, 0].max() == pytest.approx(130)
    assert corners[:, 1].min() == pytest.approx(10) and corners[:, 1].max() == pytest.approx(50)
    # Its top edge rises to the right by the angle (counter-clockwise as seen, y down).
    top = corners[1] - corners[0]
    assert np.degrees(np.arctan2(-top[1], top[0])) == pytest.approx(angle)
    # It is a rectangle: opposite sides equal, corners square.
    assert np.linalg.norm(corners[2] - corners[1]) == pytest.approx(
        np.linalg.norm(corners[3] - corners[0]))
    assert np.dot(top, corners[3] - corners[0]) == pytest.approx(0, abs=1e-9)
    # A box too thin for its angle has no such rectangle: the box itself is the quad.
    assert glyph_quads([(0, 0, 1, 40)], [30.0]) == [(0, 0, 1, 0, 1, 40, 0, 40)]


# Seeds 11 and 13 draw a slant to the left (-0.22) and to the right (0.22).
@pytest.mark.parametrize(("slant", "seed"), [(0.3, 11), (0.3, 13), (0.0, 11)])
def test_slant_quads_move_with_the_page_as_the_boxes_do(slant, seed):
    from korean_gan.data.lineaug import glyph_quads, slant_quads

    page = np.full((48, 200), 255, np.uint8)
    boxes = [(20, 8, 50, 40), (60, 4, 90, 44)]
    page[8:40, 20:50] = 0
    page[4:44, 60:90] = 0
    config = _only(slant=slant)
    rng = np.random.default_rng(seed)
    out, moved, params = line_effects(page, boxes, 48, config, rng)
    quads = slant_quads(glyph_quads(boxes, [0.0, 0.0]), params["slant"], page.shape)
    for quad, box in zip(quads, moved, strict=True):
        xs, ys = quad[0::2], quad[1::2]
        # The upright box bounds the slanted quad (floor and ceil of its corners).
        assert (math.floor(min(xs)), min(ys), math.ceil(max(xs)), max(ys)) == box
        # Top and bottom edges stay level; the sides lean by the shear.
        assert ys[0] == ys[1] and ys[2] == ys[3]
        assert xs[0] - xs[3] == pytest.approx(params["slant"] * (ys[3] - ys[0]))
        assert 0 <= min(xs) and max(xs) <= out.shape[1]


def test_kept_apart_a_glyph_never_runs_into_the_one_before_it():
    from dataclasses import replace

    # A row of glyphs 2 px apart, one pair typeset overlapping by 4 px, and a second row.
    boxes = [(10 + 32 * i, 10, 40 + 32 * i, 40) for i in range(12)]
    boxes[6] = (boxes[5][2] - 4, 10, boxes[5][2] + 26, 40)
    boxes += [(10 + 32 * i, 60, 40 + 32 * i, 90) for i in range(4)]
    loose = _only(spacing_jitter=0.2, size_jitter=0.1, rotation=5.0)
    overlaps = {True: 0, False: 0}
    for keep in (True, False):
        for seed in range(20):
            jittered, _ = glyph_jitter(boxes, 48, replace(loose, keep_apart=keep),
                                       np.random.default_rng(seed))
            for i in range(1, len(boxes)):
                if boxes[i][1] != boxes[i - 1][1]:
                    continue  # a new row
                gap = jittered[i][0] - jittered[i - 1][2]
                typeset_gap = boxes[i][0] - boxes[i - 1][2]
                overlaps[keep] += gap < min(typeset_gap, 0) - 1  # rounding: 1 px
    assert overlaps[True] == 0 and overlaps[False] > 20, overlaps
    # Without jitter there is nothing to keep apart: the boxes are as typeset.
    assert glyph_jitter(boxes, 48, LineAugment.none(), np.random.default_rng(0))[0] == boxes


def test_keep_apart_must_be_a_bool():
    with pytest.raises(LineAugError, match="keep_apart must be true or false, got 1"):
        LineAugment(keep_apart=1)
