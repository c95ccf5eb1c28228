"""DCGAN generator and discriminator for 32x32 grayscale Hangul glyphs (Keras 3).

The generator reproduces, layer for layer, the reference "ganadalama" generator, which itself
follows the TensorFlow DCGAN tutorial: two fully connected layers, a reshape to an
``(image_size // 4) x (image_size // 4) x 128`` feature map, and three transposed convolutions
that upsample it to a single-channel image in ``[-1, 1]``.

The discriminator is the matching convolutional critic: two strided convolutions, a hidden
fully connected layer, and a single output logit (no sigmoid; the losses in
:mod:`korean_gan.losses` work on logits).

Both models are built with the Keras functional API and give every layer an explicit name, so
that the architecture can be inspected and tested. The output layers compute in ``float32``,
which keeps the models usable under a ``mixed_float16`` / ``mixed_bfloat16`` dtype policy.
"""

from __future__ import annotations

import keras
from keras import layers

__all__ = ["build_discriminator", "build_evaluator", "build_generator"]

#: Number of feature maps in the generator's first (smallest) spatial feature map.
_BASE_FILTERS = 128
#: Both models halve/double the spatial size twice, so images must be divisible by this.
_SIZE_MULTIPLE = 4
#: Kernel size of every (transposed) convolution, as in the DCGAN tutorial.
_KERNEL_SIZE = 5
#: Negative slope of the discriminator's LeakyReLU activations.
_DISC_LEAKY_SLOPE = 0.2
#: Dropout rate of the discriminator.
_DISC_DROPOUT = 0.3


def _check_image_size(image_size: int) -> None:
    """Validates that ``image_size`` is a positive multiple of 4.

    Args:
        image_size: Side length, in pixels, of the square images.

    Raises:
        ValueError: If ``image_size`` is not a positive integer divisible by 4.
    """
    if (
        isinstance(image_size, bool)
        or not isinstance(image_size, int)
        or image_size <= 0
        or image_size % _SIZE_MULTIPLE != 0
    ):
        raise ValueError(
            f"image_size must be a positive integer divisible by {_SIZE_MULTIPLE} "
            f"(the models up/downsample twice by a factor of 2), got {image_size!r}"
        )


# DCGAN: Radford, Metz & Chintala (2015), "Unsupervised Representation Learning with Deep
# Convolutional Generative Adversarial Networks", https://arxiv.org/abs/1511.06434
# (strided (transposed) convolutions instead of pooling, batch normalization in the generator,
# LeakyReLU in the discriminator, tanh output).
def build_generator(
    noise_dim: int = 100,
    image_size: int = 32,
    name: str = "generator",
) -> keras.Model:
    """Builds the DCGAN generator of the reference "ganadalama" model.

    Architecture (for the default ``image_size=32``, so ``s = image_size // 4 = 8``)::

        Input(noise_dim)
        Dense(1024, no bias) -> BatchNorm -> LeakyReLU
        Dense(s*s*128, no bias) -> BatchNorm -> LeakyReLU -> Reshape((s, s, 128))
        Conv2DTranspose(128, 5, stride 1, no bias) -> BatchNorm -> LeakyReLU   # s x s
        Conv2DTranspose(64, 5, stride 2, no bias) -> BatchNorm -> LeakyReLU    # 2s x 2s
        Conv2DTranspose(1, 5, stride 2, tanh, float32)                          # 4s x 4s

    The LeakyReLU layers use Keras 3's default negative slope (0.3), as the TensorFlow DCGAN
    tutorial that the reference followed. With the defaults the model has exactly 9,144,641
    parameters (including the batch-normalization moving statistics).

    Args:
        noise_dim: Length of the latent noise vector.
        image_size: Side length of the generated square images; must be divisible by 4.
        name: Name of the returned model.

    Returns:
        An uncompiled ``keras.Model`` mapping noise of shape
        ``(batch, noise_dim)`` to images of shape ``(batch, image_size, image_size, 1)`` with
        values in ``[-1, 1]``. The output is ``float32`` even under a mixed-precision policy.

    Raises:
        ValueError: If ``image_size`` is not a positive multiple of 4 or ``noise_dim`` is not a
            positive integer.
    """
    _check_image_size(image_size)
    if isinstance(noise_dim, bool) or not isinstance(noise_dim, int) or noise_dim <= 0:
        raise ValueError(f"noise_dim must be a positive integer, got {noise_dim!r}")
    side = image_size // _SIZE_MULTIPLE

    noise = keras.Input(shape=(noise_dim,), name="noise")

    x = layers.Dense(1024, use_bias=False, name="dense_1")(noise)
    x = layers.BatchNormalization(name="bn_1")(x)
    x = layers.LeakyReLU(name="lrelu_1")(x)

    x = layers.Dense(side * side * _BASE_FILTERS, use_bias=False, name="dense_2")(x)
    x = layers.BatchNormalization(name="bn_2")(x)
    x = layers.LeakyReLU(name="lrelu_2")(x)
    x = layers.Reshape((side, side, _BASE_FILTERS), name="reshape")(x)

    x = layers.Conv2DTranspose(
        _BASE_FILTERS, _KERNEL_SIZE, strides=1, padding="same", use_bias=False, name="deconv_1"
    )(x)
    x = layers.BatchNormalization(name="bn_3")(x)
    x = layers.LeakyReLU(name="lrelu_3")(x)

    x = layers.Conv2DTranspose(
        _BASE_FILTERS // 2,
        _KERNEL_SIZE,
        strides=2,
        padding="same",
        use_bias=False,
        name="deconv_2",
    )(x)
    x = layers.BatchNormalization(name="bn_4")(x)
    x = layers.LeakyReLU(name="lrelu_4")(x)

    image = layers.Conv2DTranspose(
        1,
        _KERNEL_SIZE,
        strides=2,
        padding="same",
        activation="tanh",
        dtype="float32",
        name="deconv_out",
    )(x)

    return keras.Model(inputs=noise, outputs=image, name=name)


def build_discriminator(image_size: int = 32, name: str = "discriminator") -> keras.Model:
    """Builds the DCGAN discriminator (a critic that outputs one logit per image).

    Architecture::

        Input((image_size, image_size, 1))
        Conv2D(64, 5, stride 2) -> LeakyReLU(0.2) -> Dropout(0.3)
        Conv2D(128, 5, stride 2) -> LeakyReLU(0.2)
        Flatten -> Dense(256) -> LeakyReLU(0.2) -> Dropout(0.3)
        Dense(1)                                   # linear logit, float32

    For ``image_size=32`` the model has exactly 2,304,257 parameters.

    Args:
        image_size: Side length of the input square images; must be divisible by 4 (the same
            constraint as :func:`build_generator`, whose images it judges).
        name: Name of the returned model.

    Returns:
        An uncompiled ``keras.Model`` mapping images of shape
        ``(batch, image_size, image_size, 1)`` to ``float32`` logits of shape ``(batch, 1)``.

    Raises:
        ValueError: If ``image_size`` is not a positive multiple of 4.
    """
    _check_image_size(image_size)

    image = keras.Input(shape=(image_size, image_size, 1), name="image")

    x = layers.Conv2D(64, _KERNEL_SIZE, strides=2, padding="same", name="conv_1")(image)
    x = layers.LeakyReLU(negative_slope=_DISC_LEAKY_SLOPE, name="lrelu_1")(x)
    x = layers.Dropout(_DISC_DROPOUT, name="dropout_1")(x)

    x = layers.Conv2D(128, _KERNEL_SIZE, strides=2, padding="same", name="conv_2")(x)
    x = layers.LeakyReLU(negative_slope=_DISC_LEAKY_SLOPE, name="lrelu_2")(x)

    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(256, name="dense_1")(x)
    x = layers.LeakyReLU(negative_slope=_DISC_LEAKY_SLOPE, name="lrelu_3")(x)
    x = layers.Dropout(_DISC_DROPOUT, name="dropout_2")(x)

    logit = layers.Dense(1, dtype="float32", name="logit")(x)

    return keras.Model(inputs=image, outputs=logit, name=name)


# A small VGG-style recogniser (Simonyan & Zisserman 2014, https://arxiv.org/abs/1409.1556)
# that serves as the domain feature network of the Fréchet classifier distance, the way
# Inception-v3 serves FID (Heusel et al. 2017, https://arxiv.org/abs/1706.08500).
def build_evaluator(num_classes: int, image_size: int = 32,
                    name: str = "evaluator") -> keras.Model:
    """A glyph classifier whose penultimate layer (``features``, 256-d) is the metric space.

    Takes uint8-valued images ``(B, S, S, 1)`` (255 = paper, as datasets store them) and
    scales them inside, so real and generated images go through the same path.

    Args:
        num_classes: Number of syllables it recognises.
        image_size: Side of the square input images (a multiple of 8).
        name: Model name.

    Returns:
        A Keras model with two outputs: ``features`` (B, 256) and ``probs`` (B, num_classes).
    """
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if not isinstance(image_size, int) or image_size < 8 or image_size % 8:
        raise ValueError(f"image_size must be a positive multiple of 8, got {image_size!r}")
    image = keras.Input((image_size, image_size, 1), name="image")
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(image)
    # One 3×3 convolution per resolution keeps a training step cheap on a CPU.
    for block, filters in enumerate((32, 64, 128), start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}")(x)
        x = layers.BatchNormalization(name=f"bn{block}")(x)
        x = layers.ReLU(name=f"relu{block}")(x)
        x = layers.MaxPooling2D(name=f"pool{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.3, name="dropout_1")(x)
    features = layers.Dense(256, activation="relu", name="features")(x)
    x = layers.Dropout(0.3, name="dropout_2")(features)
    probs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs=image, outputs={"features": features, "probs": probs}, name=name)
