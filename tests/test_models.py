"""Tests for the DCGAN generator and discriminator in :mod:`korean_gan.models.networks`."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from korean_gan.models.networks import (
    ConditionalBatchNorm,
    OneFilterConv2D,
    UpsampleConv2D,
    WideBiasConv2D,
    WideBiasDense,
    build_conditional_generator,
    build_discriminator,
    build_generator,
    build_projection_discriminator,
    generator_dims,
    with_fast_upsampling,
)

GENERATOR_LAYERS = [
    "InputLayer",
    "Dense",
    "BatchNormalization",
    "LeakyReLU",
    "Dense",
    "BatchNormalization",
    "LeakyReLU",
    "Reshape",
    "Conv2DTranspose",
    "BatchNormalization",
    "LeakyReLU",
    "Conv2DTranspose",
    "BatchNormalization",
    "LeakyReLU",
    "Conv2DTranspose",
]

DISCRIMINATOR_LAYERS = [
    "InputLayer",
    "WideBiasConv2D",
    "LeakyReLU",
    "Dropout",
    "WideBiasConv2D",
    "LeakyReLU",
    "Flatten",
    "WideBiasDense",
    "LeakyReLU",
    "Dropout",
    "Dense",
]


@pytest.fixture(scope="module")
def generator() -> keras.Model:
    return build_generator()


@pytest.fixture(scope="module")
def discriminator() -> keras.Model:
    return build_discriminator()


def _layer_classes(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


# --- generator -------------------------------------------------------------------------------


def test_generator_layer_sequence(generator: keras.Model) -> None:
    assert _layer_classes(generator) == GENERATOR_LAYERS
    assert generator.name == "generator"


def test_generator_layer_hyperparameters(generator: keras.Model) -> None:
    dense_units = [
        layer.units for layer in generator.layers if isinstance(layer, keras.layers.Dense)
    ]
    assert dense_units == [1024, 8 * 8 * 128]

    reshape = next(layer for layer in generator.layers if isinstance(layer, keras.layers.Reshape))
    assert tuple(reshape.target_shape) == (8, 8, 128)

    deconvs = [
        layer for layer in generator.layers if isinstance(layer, keras.layers.Conv2DTranspose)
    ]
    assert [layer.filters for layer in deconvs] == [128, 64, 1]
    assert [tuple(layer.strides) for layer in deconvs] == [(1, 1), (2, 2), (2, 2)]
    assert all(tuple(layer.kernel_size) == (5, 5) for layer in deconvs)
    assert all(layer.padding == "same" for layer in deconvs)
    assert deconvs[-1].get_config()["activation"] == "tanh"

    # Keras 3's default LeakyReLU slope, as in the TensorFlow DCGAN tutorial.
    slopes = [
        layer.negative_slope
        for layer in generator.layers
        if isinstance(layer, keras.layers.LeakyReLU)
    ]
    assert slopes == pytest.approx([0.3] * 4)


def test_generator_parameter_count(generator: keras.Model) -> None:
    assert generator.count_params() == 9_144_641


def test_generator_hidden_layers_have_no_bias(generator: keras.Model) -> None:
    weighted = [
        layer
        for layer in generator.layers
        if isinstance(layer, keras.layers.Dense | keras.layers.Conv2DTranspose)
    ]
    hidden, output = weighted[:-1], weighted[-1]
    assert len(hidden) == 4
    for layer in hidden:
        assert layer.use_bias is False, layer.name
        assert layer.bias is None, layer.name
    assert output.use_bias is True
    assert output.bias is not None and tuple(output.bias.shape) == (1,)


def test_generator_output_shape_and_range(generator: keras.Model) -> None:
    noise = np.random.default_rng(0).normal(size=(3, 100)).astype("float32")
    images = keras.ops.convert_to_numpy(generator(noise, training=False))
    assert images.shape == (3, 32, 32, 1)
    assert images.dtype == np.float32
    assert np.all(np.isfinite(images))
    assert images.min() >= -1.0 and images.max() <= 1.0


def test_generator_rejects_size_not_divisible_by_4() -> None:
    with pytest.raises(ValueError, match="divisible by 4"):
        build_generator(image_size=30)


def test_generator_rejects_bad_noise_dim() -> None:
    with pytest.raises(ValueError, match="noise_dim"):
        build_generator(noise_dim=0)


def test_generator_image_size_64() -> None:
    model = build_generator(noise_dim=16, image_size=64)
    assert model.output_shape == (None, 64, 64, 1)
    reshape = next(layer for layer in model.layers if isinstance(layer, keras.layers.Reshape))
    assert tuple(reshape.target_shape) == (16, 16, 128)
    images = model(np.zeros((2, 16), dtype="float32"), training=False)
    assert tuple(images.shape) == (2, 64, 64, 1)


# --- discriminator ---------------------------------------------------------------------------


def test_discriminator_layer_sequence(discriminator: keras.Model) -> None:
    assert _layer_classes(discriminator) == DISCRIMINATOR_LAYERS
    assert discriminator.name == "discriminator"


def test_discriminator_layer_hyperparameters(discriminator: keras.Model) -> None:
    convs = [layer for layer in discriminator.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.filters for layer in convs] == [64, 128]
    assert all(tuple(layer.strides) == (2, 2) for layer in convs)
    assert all(tuple(layer.kernel_size) == (5, 5) for layer in convs)
    assert all(layer.padding == "same" for layer in convs)

    dense_units = [
        layer.units for layer in discriminator.layers if isinstance(layer, keras.layers.Dense)
    ]
    assert dense_units == [256, 1]

    slopes = [
        layer.negative_slope
        for layer in discriminator.layers
        if isinstance(layer, keras.layers.LeakyReLU)
    ]
    assert slopes == pytest.approx([0.2] * 3)
    rates = [
        layer.rate for layer in discriminator.layers if isinstance(layer, keras.layers.Dropout)
    ]
    assert rates == pytest.approx([0.3] * 2)


def test_discriminator_parameter_count(discriminator: keras.Model) -> None:
    assert discriminator.count_params() == 2_304_257


def test_discriminator_last_layer_is_linear(discriminator: keras.Model) -> None:
    last = discriminator.layers[-1]
    assert isinstance(last, keras.layers.Dense)
    assert last.get_config()["activation"] == "linear"


def test_discriminator_output_shape(discriminator: keras.Model) -> None:
    images = np.random.default_rng(1).uniform(-1, 1, size=(4, 32, 32, 1)).astype("float32")
    logits = keras.ops.convert_to_numpy(discriminator(images, training=False))
    assert logits.shape == (4, 1)
    assert logits.dtype == np.float32
    assert np.all(np.isfinite(logits))


def test_discriminator_rejects_size_not_divisible_by_4() -> None:
    with pytest.raises(ValueError, match="divisible by 4"):
        build_discriminator(image_size=30)


def test_discriminator_image_size_64() -> None:
    model = build_discriminator(image_size=64)
    assert model.input_shape == (None, 64, 64, 1)
    assert model.output_shape == (None, 1)


# --- both ------------------------------------------------------------------------------------


def test_generator_feeds_discriminator(generator: keras.Model, discriminator: keras.Model) -> None:
    logits = discriminator(generator(np.zeros((2, 100), dtype="float32"), training=False))
    assert tuple(logits.shape) == (2, 1)


def test_outputs_are_float32_under_mixed_precision() -> None:
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        generator = build_generator()
        discriminator = build_discriminator()
    finally:
        keras.config.set_dtype_policy(previous)
    assert generator.layers[1].compute_dtype == "float16"
    assert generator.outputs[0].dtype == "float32"
    assert discriminator.outputs[0].dtype == "float32"
    # Forcing the output layers to float32 must not change the parameter counts.
    assert generator.count_params() == 9_144_641
    assert discriminator.count_params() == 2_304_257


def _twins(wide, plain, shape):
    """Builds a WideBias layer and its Keras twin with the same (non-zero-bias) weights."""
    wide.build(shape)
    plain.build(shape)
    weights = [np.random.default_rng(1).normal(size=w.shape).astype("float32")
               for w in wide.get_weights()]
    wide.set_weights(weights)
    plain.set_weights(weights)
    return wide, plain


def test_wide_bias_layers_are_keras_layers_in_float32() -> None:
    x = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)).astype("float32")
    conv, twin = _twins(WideBiasConv2D(8, 5, strides=2, padding="same", activation="relu"),
                        keras.layers.Conv2D(8, 5, strides=2, padding="same", activation="relu"),
                        x.shape)
    np.testing.assert_array_equal(np.asarray(conv(x)), np.asarray(twin(x)))
    flat = x.reshape(4, -1)
    dense, twin = _twins(WideBiasDense(6), keras.layers.Dense(6), flat.shape)
    np.testing.assert_array_equal(np.asarray(dense(flat)), np.asarray(twin(flat)))


def test_wide_bias_gradient_is_summed_in_float32_under_bf16() -> None:
    import tensorflow as tf

    rng = np.random.default_rng(0)
    # The reference critic's first convolution: 256 images × 16 × 16 positions per bias.
    x = tf.constant(rng.uniform(-1, 1, (256, 32, 32, 1)).astype("float32"))
    upstream = tf.cast(rng.normal(size=(256, 16, 16, 64)).astype("float32"), tf.bfloat16)
    conv = WideBiasConv2D(64, 5, strides=2, padding="same", dtype="mixed_bfloat16")
    conv.build(x.shape)
    with tf.GradientTape() as tape:
        out = conv(x)
        loss = tf.reduce_sum(tf.cast(out * upstream, tf.float32))
    assert out.dtype == tf.bfloat16
    grad = tape.gradient(loss, conv.bias).numpy()
    expected = tf.cast(upstream, tf.float32).numpy().astype(np.float64).sum(axis=(0, 1, 2))
    # Keras' Conv2D sums it in bfloat16: 18% off here (98% in a trained critic).
    assert np.linalg.norm(grad - expected) / np.linalg.norm(expected) < 0.01


@pytest.mark.parametrize("critic", ["reference", "projection"])
def test_critics_read_the_image_in_float32_under_bf16(critic: str) -> None:
    """The first convolution (its kernel gradient sums batch × positions) stays float32 in a
    mixed_bfloat16 critic: its outputs equal a float32 critic's; the next layer's do not."""
    def build():
        if critic == "reference":
            return build_discriminator(), ("conv_1", "conv_2")
        return build_projection_discriminator(3, base_filters=8), ("sn_conv_1a", "sn_conv_1b")

    previous = keras.config.dtype_policy()
    try:
        keras.config.set_dtype_policy("mixed_bfloat16")
        mixed, (first, second) = build()
        keras.config.set_dtype_policy("float32")
        plain, _ = build()
    finally:
        keras.config.set_dtype_policy(previous)
    plain.set_weights(mixed.get_weights())
    image = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 1)).astype("float32")

    def outputs(model, name):
        probe = keras.Model(model.inputs, model.get_layer(name).output)
        inputs = [image] if critic == "reference" else [image, np.zeros((4, 4), "int32")]
        return np.asarray(keras.ops.cast(probe(inputs), "float32"))

    assert mixed.get_layer(first).compute_dtype == "float32"
    np.testing.assert_array_equal(outputs(mixed, first), outputs(plain, first))
    assert mixed.get_layer(second).compute_dtype == "bfloat16"
    assert not np.array_equal(outputs(mixed, second), outputs(plain, second))


@pytest.mark.parametrize("use_bias", [False, True])
def test_upsample_conv_is_nearest_upsampling_then_a_3x3_convolution(use_bias: bool) -> None:
    x = np.random.default_rng(1).normal(size=(3, 5, 7, 6)).astype("float32")  # odd, non-square
    fast = UpsampleConv2D(4, use_bias=use_bias, bias_initializer="random_normal")
    y = np.asarray(fast(x))
    pair = keras.Sequential([keras.layers.UpSampling2D(),
                             keras.layers.Conv2D(4, 3, padding="same", use_bias=use_bias)])
    pair.build(x.shape)
    pair.layers[1].set_weights(fast.get_weights())
    assert y.shape == (3, 10, 14, 4) == fast.compute_output_shape(x.shape)
    np.testing.assert_allclose(y, np.asarray(pair(x)), atol=1e-5)
    assert UpsampleConv2D.from_config(fast.get_config()).get_config() == fast.get_config()


@pytest.mark.parametrize("block_filters", [None, (16, 5, 3)])
def test_the_fast_generator_is_the_same_function_with_the_same_weights(block_filters) -> None:
    plain = build_conditional_generator(base_filters=32, block_filters=block_filters)
    widths = block_filters or (16, 8, 4)
    assert [plain.get_layer(f"conv_{b}").filters for b in (1, 2, 3)] == list(widths)
    assert generator_dims(plain) == {"noise_dim": 64, "style_dim": 16, "jamo_dim": 32,
                                     "image_size": 32, "base_filters": 32,
                                     "block_filters": widths}
    # Non-trivial conditional batch norm, so every weight matters.
    plain.set_weights([w + np.random.default_rng(i).normal(0, 0.1, w.shape).astype(w.dtype)
                       for i, w in enumerate(plain.get_weights())])
    fast = with_fast_upsampling(plain)
    assert [type(fast.get_layer(f"conv_{b}")) for b in (1, 2, 3)] == [UpsampleConv2D] * 3
    assert "up_1" not in [layer.name for layer in fast.layers]
    assert with_fast_upsampling(fast) is fast
    assert generator_dims(fast) == generator_dims(plain)
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(16, 64)).astype("float32"),
              np.stack([rng.integers(0, n, 16) for n in (19, 21, 28)], axis=1).astype("int32"),
              rng.normal(size=(16, 16)).astype("float32")]
    np.testing.assert_allclose(np.asarray(fast(inputs, training=False)),
                               np.asarray(plain(inputs, training=False)), atol=1e-5)
    # The fast form computes in the plain model's dtype policy.
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        mixed = build_conditional_generator(base_filters=32)
    finally:
        keras.config.set_dtype_policy("float32")
    assert with_fast_upsampling(mixed).get_layer("conv_2").compute_dtype == "bfloat16"


@pytest.mark.parametrize("bad", [(16, 8, 0), (16, 8), (16, 8, 2.5), (16, -1, 4)])
def test_conditional_generator_rejects_bad_block_filters(bad) -> None:
    with pytest.raises(ValueError, match="block_filters must be three positive integers, got"):
        build_conditional_generator(base_filters=32, block_filters=bad)


def test_conditional_batch_norm_folds_its_moving_statistics_at_inference() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(2.0, 3.0, size=(4, 3, 3, 5)).astype("float32")
    condition = rng.normal(size=(4, 7)).astype("float32")
    layer = ConditionalBatchNorm()
    layer([x, condition])
    mean = rng.normal(size=5).astype("float32")
    variance = rng.uniform(0.5, 4.0, size=5).astype("float32")
    layer.norm.moving_mean.assign(mean)
    layer.norm.moving_variance.assign(variance)
    g_kernel, b_kernel = (rng.normal(0, 0.3, size=(7, 5)).astype("float32") for _ in range(2))
    layer.gamma.kernel.assign(g_kernel)
    layer.beta.kernel.assign(b_kernel)
    # BN with the moving statistics, then the condition's scale (1 + γ(c)) and shift β(c).
    normed = (x - mean) / np.sqrt(variance + layer.norm.epsilon)
    expected = (normed * (1 + condition @ g_kernel)[:, None, None, :]
                + (condition @ b_kernel)[:, None, None, :])
    np.testing.assert_allclose(np.asarray(layer([x, condition], training=False)), expected,
                               rtol=1e-5, atol=1e-5)
    # Training normalises by the batch's own statistics instead.
    trained = np.asarray(layer([x, condition], training=True))
    batch = (x - x.mean((0, 1, 2))) / np.sqrt(x.var((0, 1, 2)) + layer.norm.epsilon)
    np.testing.assert_allclose(trained, batch * (1 + condition @ g_kernel)[:, None, None, :]
                               + (condition @ b_kernel)[:, None, None, :], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("use_bias", [False, True])
def test_one_filter_conv_is_a_3x3_convolution_to_one_channel(use_bias: bool) -> None:
    x = np.random.default_rng(3).normal(size=(2, 6, 9, 5)).astype("float32")  # non-square
    fast = OneFilterConv2D(activation="tanh", use_bias=use_bias,
                           bias_initializer="random_normal")
    y = np.asarray(fast(x))
    conv = keras.layers.Conv2D(1, 3, padding="same", activation="tanh", use_bias=use_bias)
    conv.build(x.shape)
    conv.set_weights(fast.get_weights())
    assert y.shape == (2, 6, 9, 1) and y.dtype == np.float32
    np.testing.assert_allclose(y, np.asarray(conv(x)), atol=1e-5)
    assert OneFilterConv2D.from_config(fast.get_config()).get_config() == fast.get_config()
