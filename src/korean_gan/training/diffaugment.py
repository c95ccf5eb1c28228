"""Differentiable augmentation for data-efficient GAN training, in TensorFlow ops.

DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training",
https://arxiv.org/abs/2006.10738) applies the same random, differentiable transforms to real and
generated images before the discriminator sees them, so the discriminator cannot memorise a small
training set, and the generator still gets gradients through the transform.

Only transforms that keep a glyph a glyph are offered: translation and cutout. Colour changes
and flips are left out (a mirrored syllable is not a syllable). Images are in [-1, 1] with paper
= 1, so what moves in and what is cut out is paper, not grey.

:func:`rand_affine` (random scale and shift) is not a critic policy: the content loss shows the
recogniser each generated glyph through it (see ``ConditionalGAN``).
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["POLICIES", "diff_augment", "rand_affine", "rand_cutout", "rand_translation"]

PAPER = 1.0


def rand_translation(images: tf.Tensor, ratio: float = 0.125, seed=None) -> tf.Tensor:
    """Shifts each image by up to ``ratio`` of its size in x and y, filling with paper.

    Args:
        images: (B, H, W, C) in [-1, 1].
        ratio: Largest shift as a fraction of the side (DiffAugment's default 1/8).
        seed: A stateless seed ``(2,)`` int tensor, or None for stateful randomness.
    """
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    shift_h, shift_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    if seed is None:
        dy = tf.random.uniform((batch, 1, 1), -shift_h, shift_h + 1, dtype=tf.int32)
        dx = tf.random.uniform((batch, 1, 1), -shift_w, shift_w + 1, dtype=tf.int32)
    else:
        dy = tf.random.stateless_uniform((batch, 1, 1), seed, -shift_h, shift_h + 1, tf.int32)
        dx = tf.random.stateless_uniform((batch, 1, 1), seed + 1, -shift_w, shift_w + 1,
                                         tf.int32)
    rows = tf.range(height)[None, :, None] + dy  # (B, H, 1)
    cols = tf.range(width)[None, None, :] + dx  # (B, 1, W)
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    rows = tf.clip_by_value(rows, 0, height - 1)
    cols = tf.clip_by_value(cols, 0, width - 1)
    rows = tf.broadcast_to(rows, (batch, height, width))
    cols = tf.broadcast_to(cols, (batch, height, width))
    index = tf.stack([rows, cols], axis=-1)
    moved = tf.gather_nd(images, index, batch_dims=1)
    return tf.where(inside[..., None], moved, tf.cast(PAPER, images.dtype))


def rand_cutout(images: tf.Tensor, ratio: float = 0.5, seed=None) -> tf.Tensor:
    """Blanks one random square of ``ratio`` × the side per image (to paper)."""
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    cut_h, cut_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    if seed is None:
        cy = tf.random.uniform((batch, 1, 1), 0, height + (1 - cut_h % 2), dtype=tf.int32)
        cx = tf.random.uniform((batch, 1, 1), 0, width + (1 - cut_w % 2), dtype=tf.int32)
    else:
        cy = tf.random.stateless_uniform((batch, 1, 1), seed, 0, height + (1 - cut_h % 2),
                                         tf.int32)
        cx = tf.random.stateless_uniform((batch, 1, 1), seed + 1, 0, width + (1 - cut_w % 2),
                                         tf.int32)
    rows = tf.range(height)[None, :, None]
    cols = tf.range(width)[None, None, :]
    cut = ((rows >= cy - cut_h // 2) & (rows < cy - cut_h // 2 + cut_h)
           & (cols >= cx - cut_w // 2) & (cols < cx - cut_w // 2 + cut_w))
    return tf.where(cut[..., None], tf.cast(PAPER, images.dtype), images)


def rand_affine(images: tf.Tensor, scale: tuple[float, float] = (0.75, 1.05),
                shift: float = 3 / 32, seed=None) -> tf.Tensor:
    """Scales each image about its centre by a random factor in ``scale`` and shifts it by up
    to ``shift`` of its side in x and y (bilinear, differentiable), filling with paper.

    Args:
        images: (B, H, W, C) in [-1, 1].
        scale: Range of the scale factor (below 1 shrinks the glyph).
        shift: Largest shift as a fraction of the side.
        seed: A stateless seed ``(2,)`` int tensor, or None for stateful randomness.
    """
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    if seed is None:
        factor = tf.random.uniform((batch,), *scale)
        moves = tf.random.uniform((batch, 2), -1.0, 1.0)
    else:
        factor = tf.random.stateless_uniform((batch,), seed, *scale)
        moves = tf.random.stateless_uniform((batch, 2), seed + 1, -1.0, 1.0)
    dx, dy = moves[:, 0] * shift * width, moves[:, 1] * shift * height
    cx, cy = (width - 1) / 2, (height - 1) / 2
    zero = tf.zeros_like(factor)
    # The transform maps each output pixel to where it reads the input.
    transforms = tf.stack([1 / factor, zero, cx - (cx + dx) / factor,
                           zero, 1 / factor, cy - (cy + dy) / factor, zero, zero], axis=1)
    moved = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.cast(images, tf.float32), transforms=transforms,
        output_shape=tf.constant([height, width]), fill_value=PAPER, interpolation="BILINEAR",
        fill_mode="CONSTANT")
    return tf.cast(moved, images.dtype)


POLICIES = {"translation": rand_translation, "cutout": rand_cutout}


def diff_augment(images: tf.Tensor, policy: str = "translation,cutout", seed=None) -> tf.Tensor:
    """Applies the comma-separated DiffAugment ``policy`` (``""`` = none) to a batch.

    Raises:
        ValueError: an unknown transform name.
    """
    for i, name in enumerate(p for p in policy.split(",") if p):
        if name not in POLICIES:
            raise ValueError(f"unknown DiffAugment transform {name!r}; choose from "
                             + ", ".join(POLICIES))
        images = POLICIES[name](images, seed=None if seed is None else seed + 2 * i)
    return images
