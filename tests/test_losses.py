"""Tests for the GAN losses in :mod:`korean_gan.training.losses`, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from korean_gan.training.losses import (
    LOSSES,
    get_losses,
    hinge_discriminator_loss,
    hinge_generator_loss,
    nonsaturating_discriminator_loss,
    nonsaturating_generator_loss,
)

LOG2 = math.log(2.0)  # 0.6931...


def softplus(x: float) -> float:
    """softplus(x) = log(1 + exp(x)) = -log(sigmoid(-x)), computed by hand."""
    return math.log1p(math.exp(x))


def _value(tensor: tf.Tensor) -> float:
    assert tensor.shape == ()
    assert tensor.dtype == tf.float32
    return float(tensor.numpy())


# --- non-saturating --------------------------------------------------------------------------


def test_nonsaturating_zero_logits_give_log2() -> None:
    zeros = tf.zeros((4, 1))
    # BCE(1, sigmoid(0)) = -log(1/2) = log 2.
    assert _value(nonsaturating_generator_loss(zeros)) == pytest.approx(LOG2, rel=1e-6)
    # log 2 for the real half plus log 2 for the fake half.
    assert _value(nonsaturating_discriminator_loss(zeros, zeros)) == pytest.approx(
        2 * LOG2, rel=1e-6
    )


def test_nonsaturating_generator_loss_by_hand() -> None:
    # L_G = mean(-log sigmoid(f)) = mean(softplus(-f))
    #     = (softplus(-0.5) + softplus(2)) / 2
    expected = (softplus(-0.5) + softplus(2.0)) / 2
    assert _value(nonsaturating_generator_loss([[0.5], [-2.0]])) == pytest.approx(
        expected, rel=1e-6
    )


def test_nonsaturating_discriminator_loss_by_hand() -> None:
    # L_D = mean over real of -log sigmoid(r) + mean over fake of -log(1 - sigmoid(f))
    #     = mean(softplus(-r)) + mean(softplus(f))
    # with r = [2, -1] and f = [0.5]:
    #     = (log1p(exp(-2)) + log1p(exp(1))) / 2 + log1p(exp(0.5))
    #     = (0.126928 + 1.313262) / 2 + 0.974077 = 1.694172
    real = tf.constant([[2.0], [-1.0]])
    fake = tf.constant([[0.5]])
    expected = (math.log1p(math.exp(-2.0)) + math.log1p(math.exp(1.0))) / 2 + math.log1p(
        math.exp(0.5)
    )
    assert expected == pytest.approx(1.694172, abs=1e-6)
    assert _value(nonsaturating_discriminator_loss(real, fake)) == pytest.approx(expected, rel=1e-6)


def test_nonsaturating_matches_keras_binary_crossentropy() -> None:
    rng = np.random.default_rng(0)
    real = rng.normal(size=(8, 1)).astype("float32")
    fake = rng.normal(size=(8, 1)).astype("float32")
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    expected = bce(np.ones_like(real), real) + bce(np.zeros_like(fake), fake)
    assert _value(nonsaturating_discriminator_loss(real, fake)) == pytest.approx(
        float(expected), rel=1e-5
    )
    assert _value(nonsaturating_generator_loss(fake)) == pytest.approx(
        float(bce(np.ones_like(fake), fake)), rel=1e-5
    )


def test_nonsaturating_large_logits_are_stable() -> None:
    big = tf.constant([[100.0]])
    small = tf.constant([[-100.0]])
    # softplus(-100) = log1p(e^-100) ~ 3.7e-44 ~ 0;  softplus(100) = 100 + log1p(e^-100) ~ 100.
    assert _value(nonsaturating_generator_loss(big)) == pytest.approx(0.0, abs=1e-6)
    assert _value(nonsaturating_generator_loss(small)) == pytest.approx(100.0, rel=1e-6)
    # A perfect discriminator has ~0 loss; a perfectly wrong one pays 100 + 100.
    assert _value(nonsaturating_discriminator_loss(big, small)) == pytest.approx(0.0, abs=1e-6)
    assert _value(nonsaturating_discriminator_loss(small, big)) == pytest.approx(200.0, rel=1e-6)


def test_nonsaturating_gradients_are_finite_for_large_logits() -> None:
    logits = tf.Variable([[100.0], [-100.0]])
    with tf.GradientTape() as tape:
        loss = nonsaturating_discriminator_loss(logits, logits) + nonsaturating_generator_loss(
            logits
        )
    grad = tape.gradient(loss, logits)
    assert np.all(np.isfinite(grad.numpy()))


# --- hinge -----------------------------------------------------------------------------------


def test_hinge_generator_loss_by_hand() -> None:
    # L_G = -mean(f) = -(0.5 + (-2)) / 2 = 0.75
    assert _value(hinge_generator_loss([[0.5], [-2.0]])) == pytest.approx(0.75)


def test_hinge_discriminator_loss_by_hand() -> None:
    # L_D = mean(relu(1 - r)) + mean(relu(1 + f)), r = [2, -1], f = [0.5, -3]
    #     = (relu(-1) + relu(2)) / 2 + (relu(1.5) + relu(-2)) / 2
    #     = (0 + 2) / 2 + (1.5 + 0) / 2 = 1.75
    real = tf.constant([[2.0], [-1.0]])
    fake = tf.constant([[0.5], [-3.0]])
    assert _value(hinge_discriminator_loss(real, fake)) == pytest.approx(1.75)


def test_hinge_large_logits() -> None:
    big = tf.constant([[100.0]])
    small = tf.constant([[-100.0]])
    assert _value(hinge_discriminator_loss(big, small)) == pytest.approx(0.0)
    assert _value(hinge_discriminator_loss(small, big)) == pytest.approx(202.0)
    assert _value(hinge_generator_loss(small)) == pytest.approx(100.0)


# --- dtype handling --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_half_precision_logits_are_cast_to_float32(name: str) -> None:
    generator_loss, discriminator_loss = get_losses(name)
    real = tf.constant([[2.0], [-1.0]], dtype=tf.float16)
    fake = tf.constant([[0.5]], dtype=tf.float16)
    g32 = _value(generator_loss(tf.cast(fake, tf.float32)))
    d32 = _value(discriminator_loss(tf.cast(real, tf.float32), tf.cast(fake, tf.float32)))
    assert _value(generator_loss(fake)) == pytest.approx(g32)
    assert _value(discriminator_loss(real, fake)) == pytest.approx(d32)


# --- registry --------------------------------------------------------------------------------


def test_get_losses_returns_pairs() -> None:
    assert get_losses("nonsaturating") == (
        nonsaturating_generator_loss,
        nonsaturating_discriminator_loss,
    )
    assert get_losses("hinge") == (hinge_generator_loss, hinge_discriminator_loss)
    assert set(LOSSES) == {"nonsaturating", "hinge"}


def test_get_losses_unknown_name_raises() -> None:
    with pytest.raises(ValueError, match="wasserstein") as excinfo:
        get_losses("wasserstein")
    message = str(excinfo.value)
    assert "'hinge'" in message and "'nonsaturating'" in message


def test_jamo_cross_entropy_sums_the_three_heads():
    import numpy as np

    from korean_gan.training.losses import jamo_cross_entropy

    logits = [np.zeros((2, 19), np.float32), np.zeros((2, 21), np.float32),
              np.zeros((2, 28), np.float32)]
    jamo = np.array([[0, 0, 0], [18, 20, 27]])
    # Uniform logits: log 19 + log 21 + log 28.
    assert float(jamo_cross_entropy(logits, jamo)) == pytest.approx(
        np.log(19) + np.log(21) + np.log(28), rel=1e-5)
    logits[0][:, 0] = 100.0  # the initial head is sure of index 0: right for row 0 only
    expected = (0 + 100) / 2 + np.log(21) + np.log(28)
    assert float(jamo_cross_entropy(logits, jamo)) == pytest.approx(expected, rel=1e-4)
