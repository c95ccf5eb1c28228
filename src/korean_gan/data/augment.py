"""Augmentation: more glyph images from each rendered glyph, each still a valid glyph.

Images follow the renderer's convention (uint8, 255 = paper). Transforms run on floats in [0, 1]
with paper = 1, as scikit-image expects and as the reference project did, and are rounded back.

Policies (combine several; the original image is always kept once):

* ``none``: the original only.
* ``reference`` (earlier name ``seed``): the reference project's four transforms, exactly:
  ``rotate(img, 15, cval=1)``, ``rotate(img, -15, cval=1)``,
  ``warp(img, AffineTransform(translation=(27, 0)), mode="wrap")`` and
  ``warp(img, AffineTransform(translation=(0, 27)), mode="wrap")``.
* ``elastic``: the IBM tensorflow-hangul-recognition elastic distortion (alpha 30-36,
  sigma 5-6 at 64 px, scaled to the image size), ``copies`` random variants.
* ``affine``: small random rotation, shear, scale and shift without wrap, ``copies`` variants.
* ``stroke``: one thicker and one thinner stroke variant (half-pixel grey erosion/dilation).

No policy mirrors a glyph: a mirrored syllable is not a syllable. Randomness comes only from the
``numpy.random.Generator`` passed in, so the same seed gives the same images.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.transform import AffineTransform, rotate, warp

__all__ = [
    "POLICIES",
    "AugmentConfig",
    "augment_glyph",
    "augmentation_names",
    "elastic_distort",
    "from_unit",
    "random_affine",
    "random_affine_batch",
    "reference_transforms",
    "seed_transforms",
    "canonical_policy",
    "stroke_variants",
    "to_unit",
]


def to_unit(image: np.ndarray) -> np.ndarray:
    """uint8 (255 = paper) to float64 in [0, 1] (1 = paper), as scikit-image's img_as_float."""
    return image.astype(np.float64) / 255.0


def from_unit(image: np.ndarray) -> np.ndarray:
    """float in [0, 1] back to uint8, rounding to nearest."""
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


# The reference project's augmentation (ganadalama, after the IBM recipe's idea of growing a
# font-rendered set with geometric transforms).
def reference_transforms(image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The reference's four transforms of one uint8 glyph, in its order.

    The wrap shifts are whole-pixel translations, which scikit-image's ``warp`` with
    ``mode="wrap"`` computes as a cyclic roll (``warp`` maps output (x, y) to input
    (x + 27, y)); ``np.roll`` gives the identical result far faster (a test checks the equality
    against scikit-image itself).
    """
    unit = to_unit(image)
    return [
        ("rot+15", from_unit(rotate(unit, 15, cval=1))),
        ("rot-15", from_unit(rotate(unit, -15, cval=1))),
        ("shift-x27", np.roll(image, -27, axis=1)),
        ("shift-y27", np.roll(image, -27, axis=0)),
    ]


# Elastic distortion: Simard, Steinkraus & Platt 2003, "Best Practices for Convolutional Neural
# Networks Applied to Visual Document Analysis"; parameters from IBM's hangul-image-generator.
def elastic_distort(image: np.ndarray, rng: np.random.Generator,
                    alpha: float | None = None, sigma: float | None = None) -> np.ndarray:
    """One random elastic distortion of a uint8 glyph.

    Args:
        image: ``(H, W)`` uint8 glyph.
        rng: Source of randomness.
        alpha: Displacement scale at 64 px (random in [30, 36] if None).
        sigma: Smoothing of the displacement field at 64 px (random in [5, 6] if None).

    Returns:
        The distorted uint8 glyph. The field is scaled with the image size so a 32 px glyph
        bends like a 64 px one (sigma by size/64, alpha by (size/64)², since smoothing noise with
        a wider kernel shrinks it in proportion).
    """
    alpha = rng.uniform(30, 36) if alpha is None else alpha
    sigma = rng.uniform(5, 6) if sigma is None else sigma
    height, width = image.shape
    ratio = height / 64.0
    alpha_s, sigma_s = alpha * ratio * ratio, sigma * ratio
    dx = ndimage.gaussian_filter(rng.uniform(-1, 1, image.shape), sigma_s, mode="constant")
    dy = ndimage.gaussian_filter(rng.uniform(-1, 1, image.shape), sigma_s, mode="constant")
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    coords = np.stack([rows + dy * alpha_s, cols + dx * alpha_s])
    out = ndimage.map_coordinates(to_unit(image), coords, order=1, mode="constant", cval=1.0)
    return from_unit(out)


def random_affine(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A small random affine change about the centre: rotation ±6°, shear ±0.15 rad,
    scale 0.85-1.0, shift ±1 px; paper fills what moves in (no wrap).

    No ink is ever cut off at the frame: the glyph is transformed on a sheet with room around
    it, and the frame is then moved by whole pixels just enough to hold all of its ink (and in
    the rare case that the ink no longer fits, the glyph is shrunk a little more). Small glyphs
    need this: their margin (1 px below 24 px, none at 8 px) is less than shear and shift can
    move an edge. When the ink fits where it lands, the result is the plain transform.
    """
    height, width = image.shape
    scale = rng.uniform(0.85, 1.0)
    rotation = np.deg2rad(rng.uniform(-6, 6))
    shear = rng.uniform(-0.15, 0.15)
    shift = rng.uniform(-1, 1, 2)
    # Rotation and shear move a point by at most ~0.26 of the half-size, plus the 1 px shift.
    pad = max(height, width) // 4 + 2
    sheet = np.pad(to_unit(image), pad, constant_values=1.0)
    centre = np.array([(width - 1) / 2, (height - 1) / 2]) + pad
    for _ in range(4):
        tform = (AffineTransform(translation=-centre)
                 + AffineTransform(rotation=rotation, shear=shear, scale=(scale, scale))
                 + AffineTransform(translation=centre + shift))
        out = from_unit(warp(sheet, tform.inverse, order=1, mode="constant", cval=1.0))
        rows = np.flatnonzero((out < 255).any(axis=1))
        cols = np.flatnonzero((out < 255).any(axis=0))
        if rows.size == 0:
            return out[pad:pad + height, pad:pad + width]
        tall, wide = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
        if tall <= height and wide <= width:
            break
        scale *= 0.99 * min(height / tall, width / wide)
    # The frame where it was, unless that would cut ink: then the nearest whole-pixel place.
    top = min(max(pad, rows[-1] + 1 - height), rows[0])
    left = min(max(pad, cols[-1] + 1 - width), cols[0])
    return out[top:top + height, left:left + width]


_CROSS = ndimage.generate_binary_structure(2, 1)


def stroke_variants(image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """A thicker and a thinner version of a glyph's strokes.

    Ink is dark, so grey erosion (a min filter over a 3×3 cross) spreads ink by a pixel and
    dilation removes a pixel; averaging each with the original makes the change half a pixel,
    which keeps thin strokes of a 32 px glyph from vanishing.
    """
    unit = to_unit(image)
    thick = (unit + ndimage.grey_erosion(unit, footprint=_CROSS, mode="nearest")) / 2
    thin = (unit + ndimage.grey_dilation(unit, footprint=_CROSS, mode="nearest")) / 2
    return [("thick", from_unit(thick)), ("thin", from_unit(thin))]


def seed_transforms(image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The earlier name of :func:`reference_transforms` (a FutureWarning says so)."""
    import warnings

    warnings.warn("seed_transforms is now called reference_transforms; the old name will be "
                  "removed", FutureWarning, stacklevel=2)
    return reference_transforms(image)


def _names_reference(copies: int) -> list[str]:
    return ["rot+15", "rot-15", "shift-x27", "shift-y27"]


def _names_copies(prefix: str) -> Callable[[int], list[str]]:
    return lambda copies: [f"{prefix}{i + 1}" for i in range(copies)]


#: Policy name -> (variant names for a copies count, transform of (image, rng, copies)).
POLICIES: dict[str, tuple[Callable[[int], list[str]],
                          Callable[[np.ndarray, np.random.Generator, int], list[np.ndarray]]]] = {
    "none": (lambda copies: [], lambda image, rng, copies: []),
    "reference": (_names_reference,
                  lambda image, rng, copies: [v for _, v in reference_transforms(image)]),
    "elastic": (_names_copies("elastic"),
                lambda image, rng, copies: [elastic_distort(image, rng) for _ in range(copies)]),
    "affine": (_names_copies("affine"),
               lambda image, rng, copies: [random_affine(image, rng) for _ in range(copies)]),
    "stroke": (lambda copies: ["thick", "thin"],
               lambda image, rng, copies: [v for _, v in stroke_variants(image)]),
}


#: Earlier names of policies, still accepted (with a FutureWarning).
POLICY_ALIASES = {"seed": "reference"}


def canonical_policy(name: str) -> str:
    """A policy's current name; an earlier name gives a FutureWarning naming the new one."""
    if name in POLICY_ALIASES:
        import warnings

        warnings.warn(f"augmentation policy {name!r} is now called "
                      f"{POLICY_ALIASES[name]!r}; the old name will be removed",
                      FutureWarning, stacklevel=3)
        return POLICY_ALIASES[name]
    return name


@dataclass(frozen=True)
class AugmentConfig:
    """Which augmentations a dataset build applies.

    Attributes:
        policies: Policy names from :data:`POLICIES`, applied each to the original glyph.
        copies: Variants per glyph for the random policies (``elastic``, ``affine``); IBM's
            recipe made 3 elastic copies.
    """

    policies: tuple[str, ...] = ("reference",)
    copies: int = 3

    def __post_init__(self) -> None:
        policies = (self.policies,) if isinstance(self.policies, str) else tuple(self.policies)
        policies = tuple(canonical_policy(name) for name in policies)
        object.__setattr__(self, "policies", policies)
        for name in policies:
            if name not in POLICIES:
                raise ValueError(f"unknown augmentation policy {name!r}; choose from "
                                 + ", ".join(POLICIES))
        if len(set(policies)) != len(policies):
            raise ValueError(f"augmentation policy listed twice in {list(policies)}")
        if not isinstance(self.copies, int) or self.copies < 1:
            raise ValueError(f"copies must be a positive integer, got {self.copies!r}")


def augmentation_names(config: AugmentConfig) -> list[str]:
    """Names of the images :func:`augment_glyph` returns, in order (``orig`` first)."""
    names = ["orig"]
    for policy in config.policies:
        names.extend(POLICIES[policy][0](config.copies))
    return names


def augment_glyph(image: np.ndarray, config: AugmentConfig,
                  rng: np.random.Generator) -> list[np.ndarray]:
    """The original glyph followed by every variant of every policy in ``config``.

    Args:
        image: ``(H, W)`` uint8 glyph, 255 = paper.
        config: The policies.
        rng: Source of randomness (seed it per glyph for order-independent results).

    Returns:
        uint8 images, aligned with :func:`augmentation_names`.
    """
    out = [image]
    for policy in config.policies:
        out.extend(POLICIES[policy][1](image, rng, config.copies))
    return out


def augment_images(images: Sequence[np.ndarray], config: AugmentConfig,
                   seed: int = 0) -> list[list[np.ndarray]]:
    """Augments several glyphs, seeding glyph ``i`` with ``(seed, i)``."""
    return [augment_glyph(img, config, np.random.default_rng([seed, i]))
            for i, img in enumerate(images)]


def random_affine_batch(images, seed):
    """:func:`random_affine`'s transform in TensorFlow graph ops, for a batch, on the fly.

    Each glyph gets its own rotation (±6°), shear (±0.15 rad), scale (0.85-1.0) and shift
    (±1 px) about its centre, bilinear, with paper (255) filling what moves in. Unlike
    :func:`random_affine` it does not move the frame to keep every bit of ink (a shrink of at
    most 15% rarely needs it), so it is cheap enough to give a classifier fresh variants of
    its training glyphs every epoch inside a ``tf.data`` pipeline.

    Args:
        images: ``(B, S, S, 1)`` float32 tensor, 255 = paper.
        seed: A shape-``(2,)`` int tensor (stateless randomness: the same seed, the same
            transforms).

    Returns:
        The transformed batch, float32, same shape.
    """
    import tensorflow as tf

    count = tf.shape(images)[0]
    size = tf.cast(tf.shape(images)[1], tf.float32)
    u = tf.random.stateless_uniform((count, 5), seed=seed) * 2.0 - 1.0  # in [-1, 1)
    angle = u[:, 0] * np.deg2rad(6.0)
    shear = u[:, 1] * 0.15
    scale = 0.925 + u[:, 2] * 0.075
    shift_x, shift_y = u[:, 3], u[:, 4]
    # Forward map about the centre c: out = A (in - c) + c + shift, A = rotation · shear · scale.
    cos, sin = tf.cos(angle), tf.sin(angle)
    a00, a01 = cos * scale, (cos * shear - sin) * scale
    a10, a11 = sin * scale, (sin * shear + cos) * scale
    det = a00 * a11 - a01 * a10
    # ImageProjectiveTransformV3 wants the inverse map, from output pixels to input pixels.
    i00, i01, i10, i11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    centre = (size - 1.0) / 2.0
    to_x, to_y = centre + shift_x, centre + shift_y
    zeros = tf.zeros_like(angle)
    transforms = tf.stack([i00, i01, centre - (i00 * to_x + i01 * to_y),
                           i10, i11, centre - (i10 * to_x + i11 * to_y), zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
        fill_value=255.0, interpolation="BILINEAR", fill_mode="CONSTANT")
