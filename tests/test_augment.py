"""Tests for :mod:`korean_gan.data.augment`."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import AffineTransform, rotate, warp

from korean_gan.data.augment import (
    AugmentConfig,
    augment_glyph,
    augment_images,
    augmentation_names,
    elastic_distort,
    from_unit,
    random_affine,
    reference_transforms,
    stroke_variants,
    to_unit,
)
from korean_gan.data.fonts import load_faces
from korean_gan.data.render import GlyphRenderer


@pytest.fixture(scope="module")
def glyph(two_fonts) -> np.ndarray:
    """'가' in Cute Font: left-right asymmetric (ㄱ then ㅏ), so a mirror is far from it."""
    image = GlyphRenderer(load_faces(two_fonts[:1])[0]).render("가")
    assert image is not None
    return image


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    """A fixed synthetic image with every grey level."""
    return np.random.default_rng(1234).integers(0, 256, (32, 32), dtype=np.uint8)


def _reference_seed(image: np.ndarray) -> list[np.ndarray]:
    """The reference project's augmentation, written directly with scikit-image."""
    unit = image / 255.0
    outs = [
        rotate(unit, 15, cval=1),
        rotate(unit, -15, cval=1),
        warp(unit, AffineTransform(translation=(27, 0)), mode="wrap"),
        warp(unit, AffineTransform(translation=(0, 27)), mode="wrap"),
    ]
    return [np.rint(x * 255).astype(np.uint8) for x in outs]


def _ink(image: np.ndarray) -> float:
    return float((255 - image.astype(np.float64)).sum())


# --- the reference ("seed") policy --------------------------------------------------------------

@pytest.mark.parametrize("which", ["glyph", "noise"])
def test_seed_policy_equals_scikit_image_reference(which, request):
    image = request.getfixturevalue(which)
    ours = reference_transforms(image)
    assert [name for name, _ in ours] == ["rot+15", "rot-15", "shift-x27", "shift-y27"]
    for (name, out), ref in zip(ours, _reference_seed(image), strict=True):
        assert out.dtype == np.uint8 and out.shape == image.shape, name
        assert np.array_equal(out, ref), name


def test_seed_shifts_are_cyclic_whole_pixel_moves(noise):
    _, _, shift_x, shift_y = (img for _, img in reference_transforms(noise))
    # warp maps output (x, y) to input (x + 27, y): column j of the output is column j + 27.
    assert np.array_equal(shift_x[:, 0], noise[:, 27])
    assert np.array_equal(shift_y[0, :], noise[27, :])
    assert sorted(shift_x.ravel()) == sorted(noise.ravel())


def test_seed_rotations_fill_corners_with_paper(glyph):
    rot_plus, rot_minus = (img for _, img in reference_transforms(glyph)[:2])
    for image in (rot_plus, rot_minus):
        assert image[0, 0] == image[-1, -1] == 255
    assert (rot_plus != rot_minus).any()


def test_unit_conversion_round_trips():
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert np.array_equal(from_unit(to_unit(values)), values)
    assert to_unit(values).max() == 1.0 and to_unit(values).min() == 0.0
    assert np.array_equal(from_unit(np.array([-0.5, 0.5, 1.5])), np.array([0, 128, 255]))


# --- random policies ----------------------------------------------------------------------------

RANDOM = {
    "elastic": lambda image, rng: elastic_distort(image, rng),
    "affine": lambda image, rng: random_affine(image, rng),
}


@pytest.mark.parametrize("policy", sorted(RANDOM))
def test_random_policy_shape_seed_and_no_mirror(policy, glyph):
    transform = RANDOM[policy]
    outs = [transform(glyph, np.random.default_rng(seed)) for seed in (0, 0, 1)]
    for out in outs:
        assert out.shape == glyph.shape and out.dtype == np.uint8
    assert np.array_equal(outs[0], outs[1])          # same seed, same image
    assert not np.array_equal(outs[0], outs[2])      # another seed, another image
    mirror = np.fliplr(glyph).astype(np.int64)
    for out in outs:
        to_original = np.abs(out.astype(np.int64) - glyph).sum()
        to_mirror = np.abs(out.astype(np.int64) - mirror).sum()
        assert to_original < to_mirror, policy


def test_elastic_changes_pixels_but_keeps_the_ink(glyph):
    for seed in range(5):
        out = elastic_distort(glyph, np.random.default_rng(seed))
        assert np.count_nonzero(out != glyph) > 20
        assert 0.75 < _ink(out) / _ink(glyph) < 1.25


def test_elastic_fixed_parameters_and_zero_strength(glyph):
    same = elastic_distort(glyph, np.random.default_rng(0), alpha=0.0, sigma=5.0)
    assert np.array_equal(same, glyph)               # no displacement, identity
    strong = elastic_distort(glyph, np.random.default_rng(0), alpha=300.0, sigma=5.0)
    weak = elastic_distort(glyph, np.random.default_rng(0), alpha=30.0, sigma=5.0)
    diff = lambda x: np.abs(x.astype(np.int64) - glyph).sum()  # noqa: E731
    assert diff(strong) > diff(weak) > 0


def test_affine_keeps_paper_at_the_border_and_ink_inside(glyph):
    for seed in range(5):
        out = random_affine(glyph, np.random.default_rng(seed))
        assert out[0, 0] == out[0, -1] == out[-1, 0] == out[-1, -1] == 255
        # scale 0.85-1.0 shrinks the ink at most to 0.85² of its area; it never grows much.
        assert 0.6 < _ink(out) / _ink(glyph) < 1.15


def test_stroke_variants_thicken_and_thin(glyph):
    (thick_name, thick), (thin_name, thin) = stroke_variants(glyph)
    assert (thick_name, thin_name) == ("thick", "thin")
    assert thick.shape == thin.shape == glyph.shape
    assert thick.dtype == thin.dtype == np.uint8
    assert thick.mean() < glyph.mean() < thin.mean()
    # Ink only spreads in the thick one and only recedes in the thin one.
    assert (thick <= glyph).all() and (thin >= glyph).all()
    assert thin.min() < 128, "thin strokes must not vanish"


def test_stroke_on_a_single_line():
    image = np.full((9, 9), 255, np.uint8)
    image[:, 4] = 0
    (_, thick), (_, thin) = stroke_variants(image)
    # Half a pixel: the neighbours become half ink, the line half paper.
    assert list(thick[4, 3:6]) == [128, 0, 128]
    assert list(thin[4, 3:6]) == [255, 128, 255]


# --- configuration and the combined call --------------------------------------------------------

def test_augmentation_names_align_with_outputs(glyph):
    config = AugmentConfig(("reference", "elastic", "affine", "stroke"), copies=2)
    names = augmentation_names(config)
    assert names == ["orig", "rot+15", "rot-15", "shift-x27", "shift-y27", "elastic1",
                     "elastic2", "affine1", "affine2", "thick", "thin"]
    outs = augment_glyph(glyph, config, np.random.default_rng(7))
    assert len(outs) == len(names)
    assert outs[0] is glyph
    for out, (_, ref) in zip(outs[1:5], reference_transforms(glyph), strict=True):
        assert np.array_equal(out, ref)
    for out, (_, ref) in zip(outs[-2:], stroke_variants(glyph), strict=True):
        assert np.array_equal(out, ref)
    assert not np.array_equal(outs[5], outs[6])       # two different elastic copies
    again = augment_glyph(glyph, config, np.random.default_rng(7))
    assert all(np.array_equal(a, b) for a, b in zip(outs, again, strict=True))


@pytest.mark.parametrize("policies, copies, expected", [
    (("none",), 3, ["orig"]),
    (("reference",), 3, ["orig", "rot+15", "rot-15", "shift-x27", "shift-y27"]),
    (("elastic",), 3, ["orig", "elastic1", "elastic2", "elastic3"]),
    (("stroke", "affine"), 1, ["orig", "thick", "thin", "affine1"]),
])
def test_augmentation_names(policies, copies, expected, glyph):
    config = AugmentConfig(policies, copies)
    assert augmentation_names(config) == expected
    assert len(augment_glyph(glyph, config, np.random.default_rng(0))) == len(expected)


def test_policy_may_be_given_as_a_string():
    assert AugmentConfig("reference").policies == ("reference",)


def test_the_old_policy_name_seed_still_works_with_a_warning():
    with pytest.warns(FutureWarning, match="'seed' is now called 'reference'"):
        config = AugmentConfig(("seed", "elastic"))
    assert config.policies == ("reference", "elastic")


@pytest.mark.parametrize("kwargs, message", [
    ({"policies": ("mirror",)}, "unknown augmentation policy 'mirror'"),
    ({"policies": ("reference", "flip")}, "'flip'"),
    ({"policies": ("reference", "reference")}, "twice"),
    ({"copies": 0}, "copies"),
    ({"copies": -2}, "copies"),
    ({"copies": 1.5}, "copies"),
])
def test_augment_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AugmentConfig(**kwargs)


def test_augment_images_seeds_each_glyph_independently(glyph, noise):
    config = AugmentConfig(("elastic",), copies=1)
    both = augment_images([glyph, noise], config, seed=3)
    alone = augment_images([glyph], config, seed=3)
    assert np.array_equal(both[0][1], alone[0][1])
    assert not np.array_equal(augment_images([glyph], config, seed=4)[0][1], alone[0][1])


def test_random_affine_batch_is_a_seeded_small_affine_change():
    tf = pytest.importorskip("tensorflow")
    from korean_gan.data.augment import random_affine_batch

    # A dark 8 × 8 square in the middle of 32 × 32 paper, eight times, plus a blank page.
    square = np.full((32, 32), 255.0, np.float32)
    square[12:20, 12:20] = 0.0
    batch = np.stack([square] * 8 + [np.full((32, 32), 255.0, np.float32)])[..., None]
    out = random_affine_batch(tf.constant(batch), tf.constant([3, 7], tf.int64)).numpy()
    again = random_affine_batch(tf.constant(batch), tf.constant([3, 7], tf.int64)).numpy()
    other = random_affine_batch(tf.constant(batch), tf.constant([3, 8], tf.int64)).numpy()
    assert out.shape == batch.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out, again)  # same seed, same bytes
    assert np.abs(out - other).max() > 50  # another seed, other transforms
    # Each glyph of the batch gets its own transform.
    assert len({out[i].tobytes() for i in range(8)}) == 8
    np.testing.assert_allclose(out[8], 255.0, atol=1e-3)  # paper stays paper
    ys, xs = np.mgrid[:32, :32]
    for image in out[:8, ..., 0]:
        ink = (255.0 - image) / 255.0
        # Scale 0.85-1.0 (area 0.72-1.0); rotation and shear keep area.
        assert 0.70 * 64 <= ink.sum() <= 1.01 * 64
        # About the centre, plus a shift of at most 1 px per axis.
        centre = np.array([(ink * ys).sum(), (ink * xs).sum()]) / ink.sum()
        assert np.abs(centre - 15.5).max() <= 1.05
        assert (255.0 - image > 1).sum() > 0 and not np.array_equal(image, square)
