"""DCGAN generator and discriminator for 32x32 grayscale Hangul glyphs (Keras 3).

The generator reproduces, layer for layer, the reference "ganadalama" generator, which itself
follows the TensorFlow DCGAN tutorial: two fully connected layers, a reshape to an
``(image_size // 4) x (image_size // 4) x 128`` feature map, and three transposed convolutions
that upsample it to a single-channel image in ``[-1, 1]``.

The discriminator is the matching convolutional critic: two strided convolutions, a hidden
fully connected layer, and a single output logit (no sigmoid; the losses in
:mod:`korean_gan.training.losses` work on logits).

Both models are built with the Keras functional API and give every layer an explicit name, so
that the architecture can be inspected and tested. The output layers compute in ``float32``,
which keeps the models usable under a ``mixed_float16`` / ``mixed_bfloat16`` dtype policy.
"""

from __future__ import annotations

import keras
from keras import layers

__all__ = [
    "JAMO_SIZES",
    "ConditionalBatchNorm",
    "JamoComposer",
    "ProjectionHead",
    "UpsampleConv2D",
    "WideBiasConv2D",
    "WideBiasDense",
    "build_conditional_generator",
    "build_discriminator",
    "build_evaluator",
    "build_generator",
    "build_projection_discriminator",
    "copy_layer_weights",
    "generator_dims",
    "with_fast_upsampling",
]

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


def _add_bias_wide(layer: layers.Layer, outputs, bias):
    """``outputs + bias`` computed in float32, returned in the layer's compute dtype."""
    wide = keras.ops.add(keras.ops.cast(outputs, "float32"), keras.ops.cast(bias, "float32"))
    return keras.ops.cast(wide, layer.compute_dtype)


# Under mixed_bfloat16, TensorFlow sums a bias's gradient over the batch (and, for a
# convolution, every position) in bfloat16, whose 8-bit mantissa cannot hold such a sum: in the
# reference critic's first convolution (65,536 terms a batch) the summed gradient was 98% off,
# the second's 89% (benchmarks/bf16_gradients.py). These layers add their bias in float32, so
# the gradient's sum is float32 too; in float32 they are exactly Keras' layers.
class WideBiasConv2D(layers.Conv2D):
    """``keras.layers.Conv2D`` whose bias is added, and summed in backprop, in float32 under a
    mixed-precision policy (channels-last; channels-first is Keras' path). Same weights as
    ``Conv2D``."""

    def call(self, inputs):
        if (not self.use_bias or self.compute_dtype == "float32"
                or self.data_format != "channels_last"):
            return super().call(inputs)
        outputs = self.convolution_op(inputs, self.kernel)
        outputs = _add_bias_wide(self, outputs, keras.ops.reshape(
            self.bias, (1,) * (self.rank + 1) + (self.filters,)))
        return self.activation(outputs)


class WideBiasDense(layers.Dense):
    """``keras.layers.Dense`` whose bias is added, and summed in backprop, in float32 under a
    mixed-precision policy. Same weights as ``Dense``."""

    def call(self, inputs, training=None):
        if not self.use_bias or self.compute_dtype == "float32":
            return super().call(inputs, training=training)
        outputs = _add_bias_wide(self, keras.ops.matmul(inputs, self.kernel), self.bias)
        return self.activation(outputs)


# Nearest-neighbour 2x upsampling then a 3x3 convolution ("resize-convolution", Odena et al.
# 2016, https://distill.pub/2016/deconv-checkerboard/) sees only 2x2 distinct input pixels for
# each output pixel: each of the four output phases is a 2x2 convolution of the small input
# (the sub-pixel view of Shi et al. 2016, https://arxiv.org/abs/1609.05158). Together they are
# one stride-2 transposed convolution with a 4x4 kernel whose taps are sums of the 3x3
# kernel's: the same function for 16/36 of the multiply-adds, in one oneDNN deconvolution
# (twice as fast here as four 2x2 convolutions interleaved by slices and stacks). With "same"
# padding, output row o reads input row i through kernel row o - 2i + 1, so kernel row k sums
# the 3x3 kernel's rows _TRANSPOSED_TAPS[k] (likewise for columns).
_TRANSPOSED_TAPS = ((0, 0, 1), (0, 1, 1), (1, 1, 0), (1, 0, 0))


class UpsampleConv2D(layers.Conv2D):
    """``UpSampling2D(2)`` (nearest) then ``Conv2D(filters, 3, padding="same")``, computed at the
    input's resolution (channels-last).

    The same function and the same weights (one 3x3 kernel, one optional bias) as that pair of
    layers, in 44% of the arithmetic: ``set_weights`` takes the pair's convolution's weights,
    and the reverse (weight files do not: Keras keys them by layer class).
    """

    def __init__(self, filters: int, **kwargs):
        kwargs.update(kernel_size=3, strides=1, padding="same", dilation_rate=1, groups=1,
                      data_format="channels_last")
        super().__init__(filters, **kwargs)

    def call(self, inputs):
        ops = keras.ops
        taps = ops.convert_to_tensor(_TRANSPOSED_TAPS, dtype="float32")
        # (4, 4, filters, channels in), as conv_transpose takes it; summed in float32.
        kernel = ops.cast(ops.einsum("py,qx,yxio->pqoi", taps, taps,
                                     ops.cast(self.kernel, "float32")), self.compute_dtype)
        outputs = ops.conv_transpose(inputs, kernel, strides=2, padding="same")
        if self.use_bias:
            outputs = _add_bias_wide(self, outputs, self.bias)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        batch, height, width = input_shape[:3]
        return (batch, None if height is None else 2 * height,
                None if width is None else 2 * width, self.filters)


def _shifted_tap_sum(maps, bias):
    """Σ over the 3x3 taps of each tap's map shifted by its offset, plus bias, in float32:
    (B, H, W, 9) -> (B, H, W, 1)."""
    ops = keras.ops
    height, width = maps.shape[1], maps.shape[2]
    maps = ops.pad(ops.cast(maps, "float32"), ((0, 0), (1, 1), (1, 1), (0, 0)))
    return bias + sum(maps[:, dy:dy + height, dx:dx + width, 3 * dy + dx:3 * dy + dx + 1]
                      for dy in range(3) for dx in range(3))


class OneFilterConv2D(layers.Conv2D):
    """``Conv2D(1, 3, padding="same")`` (channels-last) as one matrix product and a sum of
    shifted maps: the input times the (channels, 9) matrix of the kernel's taps gives one map
    per tap, and the output sums the nine maps, each shifted by its tap's offset.

    The same function and weights as the convolution, faster on this CPU, where oneDNN's
    convolution with a single output channel runs far below its usual speed. The product runs
    in the compute dtype; the maps are summed, and the output returned, in float32.
    """

    def __init__(self, **kwargs):
        kwargs.update(filters=1, kernel_size=3, strides=1, padding="same", dilation_rate=1,
                      groups=1, data_format="channels_last")
        super().__init__(**kwargs)
        self._shifted_sum = None

    def call(self, inputs):
        ops = keras.ops
        height, width, channels = inputs.shape[1], inputs.shape[2], inputs.shape[3]
        taps = ops.cast(ops.reshape(ops.transpose(self.kernel[..., 0], (2, 0, 1)),
                                    (channels, 9)), self.compute_dtype)
        maps = ops.reshape(ops.matmul(ops.reshape(inputs, (-1, channels)), taps),
                           (-1, height, width, 9))
        bias = ops.cast(self.bias if self.use_bias else ops.zeros((1,)), "float32")
        if self._shifted_sum is None:
            import tensorflow as tf

            # Nine shifted copies and their sum: XLA fuses them into one pass over the maps.
            self._shifted_sum = tf.function(
                lambda m, b: self.activation(_shifted_tap_sum(m, b)), jit_compile=True,
                autograph=False)
        return self._shifted_sum(maps, bias)


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

    # The first convolution stays float32 under mixed precision: its kernel gradient sums
    # batch x 256 positions, which bf16 arithmetic got 6.5% wrong (3.1% for the whole critic
    # with it in float32, benchmarks/bf16_gradients.py), and with one input channel it is a
    # small share of the step (the bf16 step's speed is unchanged within measurement noise).
    x = WideBiasConv2D(64, _KERNEL_SIZE, strides=2, padding="same", dtype="float32",
                       name="conv_1")(image)
    x = layers.LeakyReLU(negative_slope=_DISC_LEAKY_SLOPE, name="lrelu_1")(x)
    x = layers.Dropout(_DISC_DROPOUT, name="dropout_1")(x)

    x = WideBiasConv2D(128, _KERNEL_SIZE, strides=2, padding="same", name="conv_2")(x)
    x = layers.LeakyReLU(negative_slope=_DISC_LEAKY_SLOPE, name="lrelu_2")(x)

    x = layers.Flatten(name="flatten")(x)
    x = WideBiasDense(256, name="dense_1")(x)
    x = layers.LeakyReLU(negative_slope=_DISC_LEAKY_SLOPE, name="lrelu_3")(x)
    x = layers.Dropout(_DISC_DROPOUT, name="dropout_2")(x)

    logit = layers.Dense(1, dtype="float32", name="logit")(x)

    return keras.Model(inputs=image, outputs=logit, name=name)


# A small VGG-style recogniser (Simonyan & Zisserman 2014, https://arxiv.org/abs/1409.1556)
# that serves as the domain feature network of the Fréchet classifier distance, the way
# Inception-v3 serves FID (Heusel et al. 2017, https://arxiv.org/abs/1706.08500).
def build_evaluator(num_classes: int, image_size: int = 32, jamo_table=None,
                    widths: tuple[int, ...] = (32, 64, 128),
                    name: str = "evaluator") -> keras.Model:
    """A glyph classifier whose penultimate layer (``features``, 256-d) is the metric space.

    Takes uint8-valued images ``(B, S, S, 1)`` (255 = paper, as datasets store them) and
    scales them inside, so real and generated images go through the same path.

    Args:
        num_classes: Number of syllables it recognises.
        image_size: Side of the square input images (a multiple of 8).
        jamo_table: Optional ``(num_classes, 3)`` ints, each syllable's (initial, vowel, final)
            index. Given, the model reads the three jamo with their own heads (19, 21 and 28
            classes) and a syllable's probability is the product of its jamo's, renormalised
            over the charset (:class:`JamoComposer`): each head then learns from every syllable
            that shares the jamo, which is what makes 2,350 classes learnable from ~20 fonts.
        widths: Filters of the three convolution blocks.
        name: Model name.

    Returns:
        A Keras model with outputs ``features`` (B, 256) and ``probs`` (B, num_classes), plus
        ``initial``, ``vowel`` and ``final`` probabilities with a ``jamo_table``.
    """
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if not isinstance(image_size, int) or image_size < 8 or image_size % 8:
        raise ValueError(f"image_size must be a positive multiple of 8, got {image_size!r}")
    image = keras.Input((image_size, image_size, 1), name="image")
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(image)
    # One 3×3 convolution per resolution keeps a training step cheap on a CPU.
    if len(widths) != 3:
        raise ValueError(f"widths must give three block widths, got {widths!r}")
    for block, filters in enumerate(widths, start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}")(x)
        x = layers.BatchNormalization(name=f"bn{block}")(x)
        x = layers.ReLU(name=f"relu{block}")(x)
        x = layers.MaxPooling2D(name=f"pool{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.3, name="dropout_1")(x)
    features = layers.Dense(256, activation="relu", name="features")(x)
    x = layers.Dropout(0.3, name="dropout_2")(features)
    if jamo_table is None:
        probs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")(x)
        return keras.Model(inputs=image, outputs={"features": features, "probs": probs},
                           name=name)
    table = [[int(v) for v in row] for row in jamo_table]
    if len(table) != num_classes or any(len(row) != 3 for row in table):
        raise ValueError(f"jamo_table must have shape ({num_classes}, 3)")
    heads = {part: layers.Dense(size, activation="softmax", dtype="float32", name=part)(x)
             for part, size in zip(("initial", "vowel", "final"), JAMO_SIZES, strict=True)}
    probs = JamoComposer(table, dtype="float32", name="probs")(
        [heads["initial"], heads["vowel"], heads["final"]])
    return keras.Model(inputs=image, outputs={"features": features, "probs": probs, **heads},
                       name=name)


class JamoComposer(layers.Layer):
    """Syllable probabilities from jamo probabilities: ``p(s) ∝ p(i_s) p(v_s) p(f_s)``.

    Products are taken in log space and renormalised over the charset's syllables only, so a
    recogniser for 2,350 syllables never gives mass to the 8,822 others.

    Args:
        table: ``(C, 3)`` jamo indices of the charset's syllables, in output order.
    """

    def __init__(self, table, **kwargs):
        super().__init__(**kwargs)
        self.table = [[int(v) for v in row] for row in table]

    def call(self, inputs):
        ops = keras.ops
        table = ops.convert_to_tensor(self.table, dtype="int32")
        log_p = 0.0
        for i, p in enumerate(inputs):
            log_p = log_p + ops.take(ops.log(ops.maximum(p, 1e-12)), table[:, i], axis=1)
        return ops.softmax(log_p, axis=-1)

    def get_config(self):
        return {**super().get_config(), "table": self.table}


# --- the conditional model (content = jamo, style = a vector) ---------------------------------

#: Hangul jamo vocabularies: 19 initial consonants, 21 vowels, 28 finals (index 0 = no final).
#: (The same numbers as korean_gan.data.charsets; models import nothing else of the package.)
JAMO_SIZES = (19, 21, 28)


class ConditionalBatchNorm(layers.Layer):
    """Batch normalisation whose scale and shift come from a condition vector.

    Conditional BN (de Vries et al. 2017, https://arxiv.org/abs/1707.00683; as in BigGAN,
    Brock et al. 2018): ``x̂ * (1 + γ(c)) + β(c)``, with γ, β linear in the condition ``c``.

    Args:
        relu: Apply a ReLU too. At inference the scale, shift and ReLU are then one XLA-fused
            pass over the feature map instead of three (the fast generator's form).
    """

    def __init__(self, relu: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.relu = relu
        self.norm = layers.BatchNormalization(center=False, scale=False)
        self._scale_shift_relu = None

    def build(self, input_shape):
        x_shape, c_shape = input_shape
        channels = x_shape[-1]
        self.gamma = layers.Dense(channels, kernel_initializer="zeros", name="gamma")
        self.beta = layers.Dense(channels, kernel_initializer="zeros", name="beta")
        self.norm.build(x_shape)
        self.gamma.build(c_shape)
        self.beta.build(c_shape)

    def call(self, inputs, training=None):
        ops = keras.ops
        x, condition = inputs
        gamma = self.gamma(condition)[:, None, None, :]
        beta = self.beta(condition)[:, None, None, :]
        if training:
            outputs = self.norm(x, training=True) * (1.0 + gamma) + beta
            return ops.relu(outputs) if self.relu else outputs
        # Inference: the moving statistics fold into one scale and shift per image and channel,
        # computed in float32 and applied in the compute dtype (no float32 round trip of x).
        scale = (1.0 + ops.cast(gamma, "float32")) * ops.rsqrt(
            ops.cast(self.norm.moving_variance, "float32") + self.norm.epsilon)
        shift = ops.cast(beta, "float32") - ops.cast(self.norm.moving_mean, "float32") * scale
        scale, shift = ops.cast(scale, x.dtype), ops.cast(shift, x.dtype)
        if not self.relu:
            return x * scale + shift
        if self._scale_shift_relu is None:
            import tensorflow as tf

            # Memory-bound element-wise work: XLA reads and writes the map once (2.7x faster
            # than separate multiply, add and ReLU kernels on this CPU).
            self._scale_shift_relu = tf.function(lambda v, a, b: tf.nn.relu(v * a + b),
                                                 jit_compile=True, autograph=False)
        return self._scale_shift_relu(x, scale, shift)

    def get_config(self):
        return {**super().get_config(), "relu": self.relu}


def build_conditional_generator(noise_dim: int = 64, style_dim: int = 16, jamo_dim: int = 32,
                                image_size: int = 32, base_filters: int = 256,
                                name: str = "conditional_generator",
                                fast_upsampling: bool = False,
                                block_filters: tuple[int, int, int] | None = None
                                ) -> keras.Model:
    """A generator conditioned on a syllable's jamo and a handwriting style vector.

    Content is the syllable decomposed into initial, vowel and final (each its own embedding),
    so syllables are composed from parts and all 11,172 can be asked for, including those never
    seen in training. Style is a ``style_dim`` vector (a training font's learned embedding, or a
    new one). The condition (content ⊕ style) modulates every upsampling block through
    conditional batch normalisation.

    Args:
        noise_dim: Length of the noise vector.
        style_dim: Length of the style vector.
        jamo_dim: Embedding size of each jamo.
        image_size: Output side; a multiple of 8 (three 2× upsamplings from image_size/8).
        base_filters: Channels of the first feature map (halved at each upsampling).
        name: Model name.
        fast_upsampling: The form for sampling, the same function and weights: each
            upsampling + convolution as one transposed convolution at the small resolution
            (:class:`UpsampleConv2D`, 44% of the arithmetic), each conditional batch norm and
            its ReLU as one fused pass at inference, and the one-filter output convolution as
            :class:`OneFilterConv2D`. Training uses the plain form (the fast form's backward pass
            made a bf16 training step of the 256-wide generator 1.25x slower), and so do weight
            files (Keras keys them by layer class: one form's files do not load into the
            other); sampling converts with :func:`with_fast_upsampling`.
        block_filters: Channels of the three upsampling blocks (default ``base_filters``
            halved at each: ``(B/2, B/4, B/8)``). The last blocks work at the highest
            resolutions, so their widths set much of the sampling cost: a distilled generator
            (``korean_gan.training.distill``) narrows them.

    Returns:
        A model mapping ``[noise (B, noise_dim), jamo (B, 3) int, style (B, style_dim)]`` to
        images ``(B, S, S, 1)`` in [-1, 1] (float32).
    """
    if not isinstance(image_size, int) or image_size < 8 or image_size % 8:
        raise ValueError(f"image_size must be a positive multiple of 8, got {image_size!r}")
    side = image_size // 8
    noise = keras.Input((noise_dim,), name="noise")
    jamo = keras.Input((3,), dtype="int32", name="jamo")
    style = keras.Input((style_dim,), name="style")
    parts = [
        layers.Embedding(size, jamo_dim, name=f"embed_{part}")(jamo[:, i])
        for i, (part, size) in enumerate(zip(("initial", "vowel", "final"), JAMO_SIZES,
                                             strict=True))
    ]
    condition = layers.Concatenate(name="condition")([*parts, style])
    x = layers.Concatenate(name="latent")([noise, condition])
    x = layers.Dense(side * side * base_filters, use_bias=False, name="dense")(x)
    x = layers.Reshape((side, side, base_filters), name="reshape")(x)
    if fast_upsampling:
        x = ConditionalBatchNorm(relu=True, name="cbn_0")([x, condition])
    else:
        x = ConditionalBatchNorm(name="cbn_0")([x, condition])
        x = layers.ReLU(name="relu_0")(x)
    if block_filters is None:
        block_filters = (base_filters // 2, base_filters // 4, base_filters // 8)
    block_filters = tuple(block_filters)
    if len(block_filters) != 3 or not all(isinstance(f, int) and not isinstance(f, bool)
                                          and f > 0 for f in block_filters):
        raise ValueError(f"block_filters must be three positive integers, got {block_filters!r}")
    for block, filters in enumerate(block_filters, start=1):
        if fast_upsampling:
            x = UpsampleConv2D(filters, use_bias=False, name=f"conv_{block}")(x)
            x = ConditionalBatchNorm(relu=True, name=f"cbn_{block}")([x, condition])
        else:
            x = layers.UpSampling2D(name=f"up_{block}")(x)
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False,
                              name=f"conv_{block}")(x)
            x = ConditionalBatchNorm(name=f"cbn_{block}")([x, condition])
            x = layers.ReLU(name=f"relu_{block}")(x)
    if fast_upsampling:
        image = OneFilterConv2D(activation="tanh", name="to_image")(x)
    else:
        image = layers.Conv2D(1, 3, padding="same", activation="tanh", dtype="float32",
                              name="to_image")(x)
    return keras.Model([noise, jamo, style], image, name=name)


def generator_dims(generator: keras.Model) -> dict:
    """The :func:`build_conditional_generator` arguments that rebuild ``generator``'s
    architecture (either form): noise, style and jamo sizes, image size, base and block
    filters."""
    noise, _, style = generator.inputs
    side = generator.get_layer("reshape").output.shape[1]
    return {"noise_dim": int(noise.shape[-1]), "style_dim": int(style.shape[-1]),
            "jamo_dim": int(generator.get_layer("embed_initial").output_dim),
            "image_size": int(generator.output.shape[1]),
            "base_filters": int(generator.get_layer("dense").units // (side * side)),
            "block_filters": tuple(int(generator.get_layer(f"conv_{b}").filters)
                                   for b in (1, 2, 3))}


def with_fast_upsampling(generator: keras.Model) -> keras.Model:
    """A conditional generator rebuilt with ``fast_upsampling`` and the same weights.

    Args:
        generator: From ``build_conditional_generator`` (either form), in the dtype policy
            it was built with; the copy computes in the same policy.

    Returns:
        The fast form (``generator`` itself if it already is).
    """
    if any(isinstance(layer, UpsampleConv2D) for layer in generator.layers):
        return generator
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(generator.get_layer("dense").dtype_policy)
    try:
        fast = build_conditional_generator(**generator_dims(generator), name=generator.name,
                                           fast_upsampling=True)
    finally:
        keras.config.set_dtype_policy(policy)
    copy_layer_weights(generator, fast)
    return fast


def copy_layer_weights(source: keras.Model, target: keras.Model) -> None:
    """Sets each of ``target``'s layers to the weights of ``source``'s layer of the same name
    (e.g. between the plain and fast forms of a conditional generator)."""
    for layer in source.layers:
        if layer.weights:
            target.get_layer(layer.name).set_weights(layer.get_weights())


class ProjectionHead(layers.Layer):
    """The projection term of a projection discriminator: Σ_k ⟨E_k[y_k], h⟩ over the condition
    parts (initial, vowel, final, font), Miyato & Koyama 2018, https://arxiv.org/abs/1802.05637.
    """

    def __init__(self, sizes: tuple[int, ...], **kwargs):
        super().__init__(**kwargs)
        self.sizes = tuple(sizes)
        self.tables: list[layers.Embedding] = []

    def build(self, input_shape):
        h_shape, _ = input_shape
        self.tables = [layers.Embedding(size, h_shape[-1], name=f"table_{i}")
                       for i, size in enumerate(self.sizes)]
        for table in self.tables:
            table.build((None,))

    def call(self, inputs):
        h, labels = inputs
        total = 0.0
        for i, table in enumerate(self.tables):
            total = total + keras.ops.sum(table(labels[:, i]) * h, axis=-1, keepdims=True)
        return total

    def get_config(self):
        return {**super().get_config(), "sizes": self.sizes}


def build_projection_discriminator(n_styles: int, image_size: int = 32, base_filters: int = 64,
                                   aux_classifier: bool = False, spectral_norm: bool = True,
                                   name: str = "projection_discriminator") -> keras.Model:
    """A spectrally normalised projection discriminator conditioned on jamo and font.

    Spectral normalisation (Miyato et al. 2018, https://arxiv.org/abs/1802.05957) on every
    convolution and the linear output keeps the critic Lipschitz; the projection head
    (:class:`ProjectionHead`) scores whether the image matches its syllable's jamo and its font.

    Args:
        n_styles: Number of training fonts (styles).
        image_size: Input side (a multiple of 8).
        base_filters: Channels of the first block (doubled twice).
        aux_classifier: Also classify the image's jamo (see below).
        spectral_norm: Wrap the convolutions and the linear output in spectral normalisation
            (the default; ``False`` only for the ablation that measures what it does).
        name: Model name.

    Returns:
        A model mapping ``[image (B, S, S, 1), labels (B, 4) int = (initial, vowel, final,
        font)]`` to logits ``(B, 1)`` (float32); with ``aux_classifier``, to
        ``[logits, initial (B, 19), vowel (B, 21), final (B, 28)]`` (jamo logits).
    """
    if not isinstance(n_styles, int) or n_styles < 1:
        raise ValueError(f"n_styles must be a positive integer, got {n_styles!r}")
    if not isinstance(image_size, int) or image_size < 8 or image_size % 8:
        raise ValueError(f"image_size must be a positive multiple of 8, got {image_size!r}")
    image = keras.Input((image_size, image_size, 1), name="image")
    labels = keras.Input((4,), dtype="int32", name="labels")
    def normalised(layer_class, *args, name: str, **kwargs):
        # The same layer names with or without the wrapper.
        if not spectral_norm:
            return layer_class(*args, name=name, **kwargs)
        wrapper = {"dtype": kwargs["dtype"]} if "dtype" in kwargs else {}
        return layers.SpectralNormalization(layer_class(*args, **kwargs), name=name, **wrapper)

    x = image
    filters = base_filters
    for block in (1, 2, 3):
        # The first convolution reads the image in float32, as the reference critic's does
        # (the wrapper too: under a mixed policy it would cast the image to bf16 first).
        first = dict(dtype="float32") if block == 1 else {}
        x = normalised(WideBiasConv2D, filters, 3, padding="same", name=f"sn_conv_{block}a",
                       **first)(x)
        x = layers.LeakyReLU(_DISC_LEAKY_SLOPE, name=f"lrelu_{block}a")(x)
        x = normalised(WideBiasConv2D, filters, 4, strides=2, padding="same",
                       name=f"sn_conv_{block}b")(x)
        x = layers.LeakyReLU(_DISC_LEAKY_SLOPE, name=f"lrelu_{block}b")(x)
        filters *= 2
    # Global sum pooling, as in the projection-discriminator paper.
    h = layers.Lambda(lambda t: keras.ops.sum(t, axis=(1, 2)), name="sum_pool")(x)
    linear = normalised(WideBiasDense, 1, name="sn_linear")(h)
    projection = ProjectionHead((*JAMO_SIZES, n_styles), name="projection")([h, labels])
    logit = layers.Add(dtype="float32", name="logit")([linear, projection])
    if not aux_classifier:
        return keras.Model([image, labels], logit, name=name)
    # Auxiliary jamo classifiers on the same features (AC-GAN, Odena et al. 2017,
    # https://arxiv.org/abs/1610.09585): a direct content signal for the generator.
    heads = [layers.Dense(size, dtype="float32", name=f"aux_{part}")(h)
             for part, size in zip(("initial", "vowel", "final"), JAMO_SIZES, strict=True)]
    return keras.Model([image, labels], [logit, *heads], name=name)
