"""Tests for the DCGAN generator and discriminator in :mod:`korean_gan.models`."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from korean_gan.models import build_discriminator, build_generator

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
    "Conv2D",
    "LeakyReLU",
    "Dropout",
    "Conv2D",
    "LeakyReLU",
    "Flatten",
    "Dense",
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
