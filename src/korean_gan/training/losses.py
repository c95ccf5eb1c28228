"""GAN losses computed on discriminator logits (TensorFlow ops).

Two loss families are provided:

* ``"nonsaturating"`` -- the non-saturating GAN loss of Goodfellow et al. (2014),
  "Generative Adversarial Networks", https://arxiv.org/abs/1406.2661 (section 3: instead of
  minimizing ``log(1 - D(G(z)))`` the generator maximizes ``log D(G(z))``). This is the binary
  cross-entropy formulation of the TensorFlow DCGAN tutorial, used by the reference model.
* ``"hinge"`` -- the hinge loss of Lim & Ye (2017), "Geometric GAN",
  https://arxiv.org/abs/1705.02894, popularized by Miyato et al. (2018) for spectrally
  normalized and projection-conditional GANs; intended for the conditional model.

Every function takes raw logits (no sigmoid applied), casts them to ``float32`` (so the losses
are safe under a mixed-precision policy) and returns a scalar ``float32`` tensor. The
cross-entropy terms use ``tf.nn.sigmoid_cross_entropy_with_logits``, which is numerically stable
for logits of any magnitude (it never evaluates ``log(sigmoid(x))``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

__all__ = [
    "LOSSES",
    "GeneratorLoss",
    "DiscriminatorLoss",
    "get_losses",
    "hinge_discriminator_loss",
    "jamo_cross_entropy",
    "hinge_generator_loss",
    "nonsaturating_discriminator_loss",
    "nonsaturating_generator_loss",
]

#: ``generator_loss(fake_logits) -> scalar``.
GeneratorLoss = Callable[[Any], tf.Tensor]
#: ``discriminator_loss(real_logits, fake_logits) -> scalar``.
DiscriminatorLoss = Callable[[Any, Any], tf.Tensor]


def _as_float32(logits: Any) -> tf.Tensor:
    """Converts logits (tensor, array or Python numbers) to a ``float32`` tensor.

    Args:
        logits: Logits of any float dtype (e.g. ``float16`` under mixed precision).

    Returns:
        The logits as a ``float32`` tensor.
    """
    return tf.cast(tf.convert_to_tensor(logits), tf.float32)


def _bce_with_logits(labels_value: float, logits: tf.Tensor) -> tf.Tensor:
    """Mean binary cross-entropy between a constant label and ``sigmoid(logits)``.

    Args:
        labels_value: The target label (1.0 for "real", 0.0 for "fake") for every element.
        logits: ``float32`` logits.

    Returns:
        Scalar ``float32`` mean cross-entropy.
    """
    labels = tf.fill(tf.shape(logits), tf.constant(labels_value, dtype=tf.float32))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def nonsaturating_generator_loss(fake_logits: Any) -> tf.Tensor:
    """Non-saturating generator loss, ``mean(-log sigmoid(fake)) = mean(softplus(-fake))``.

    Equivalent to binary cross-entropy (from logits) against all-ones labels.

    Args:
        fake_logits: Discriminator logits for generated images, any shape.

    Returns:
        Scalar ``float32`` loss.
    """
    return _bce_with_logits(1.0, _as_float32(fake_logits))


def nonsaturating_discriminator_loss(real_logits: Any, fake_logits: Any) -> tf.Tensor:
    """Discriminator loss, ``mean(softplus(-real)) + mean(softplus(fake))``.

    The sum of the mean binary cross-entropy of the real logits against ones and the mean
    binary cross-entropy of the fake logits against zeros (as in the TensorFlow DCGAN tutorial;
    the two means are added, not averaged).

    Args:
        real_logits: Discriminator logits for real images, any shape.
        fake_logits: Discriminator logits for generated images, any shape.

    Returns:
        Scalar ``float32`` loss.
    """
    real_loss = _bce_with_logits(1.0, _as_float32(real_logits))
    fake_loss = _bce_with_logits(0.0, _as_float32(fake_logits))
    return real_loss + fake_loss


def hinge_generator_loss(fake_logits: Any) -> tf.Tensor:
    """Hinge generator loss, ``-mean(fake)``.

    Args:
        fake_logits: Discriminator logits for generated images, any shape.

    Returns:
        Scalar ``float32`` loss.
    """
    return -tf.reduce_mean(_as_float32(fake_logits))


def hinge_discriminator_loss(real_logits: Any, fake_logits: Any) -> tf.Tensor:
    """Hinge discriminator loss, ``mean(relu(1 - real)) + mean(relu(1 + fake))``.

    Args:
        real_logits: Discriminator logits for real images, any shape.
        fake_logits: Discriminator logits for generated images, any shape.

    Returns:
        Scalar ``float32`` loss.
    """
    real_loss = tf.reduce_mean(tf.nn.relu(1.0 - _as_float32(real_logits)))
    fake_loss = tf.reduce_mean(tf.nn.relu(1.0 + _as_float32(fake_logits)))
    return real_loss + fake_loss


#: Loss family name -> ``(generator_loss, discriminator_loss)``.
LOSSES: dict[str, tuple[GeneratorLoss, DiscriminatorLoss]] = {
    "nonsaturating": (nonsaturating_generator_loss, nonsaturating_discriminator_loss),
    "hinge": (hinge_generator_loss, hinge_discriminator_loss),
}


# The auxiliary-classifier term of AC-GAN (Odena et al. 2017, https://arxiv.org/abs/1610.09585),
# one softmax per jamo position.
def jamo_cross_entropy(jamo_logits: Any, jamo: Any) -> tf.Tensor:
    """Sum over initial, vowel and final of the mean sparse cross-entropy.

    Args:
        jamo_logits: Three logit tensors, ``(B, 19)``, ``(B, 21)``, ``(B, 28)``.
        jamo: ``(B, 3)`` int jamo indices.

    Returns:
        A scalar float32 loss.
    """
    jamo = tf.cast(jamo, tf.int32)
    total = tf.constant(0.0, tf.float32)
    for i, logits in enumerate(jamo_logits):
        total += tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=jamo[:, i], logits=_as_float32(logits)))
    return total


def get_losses(name: str) -> tuple[GeneratorLoss, DiscriminatorLoss]:
    """Looks up a loss family by name.

    Args:
        name: One of the keys of :data:`LOSSES` (``"nonsaturating"`` or ``"hinge"``).

    Returns:
        The ``(generator_loss, discriminator_loss)`` pair.

    Raises:
        ValueError: If ``name`` is not a known loss family.
    """
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(key) for key in sorted(LOSSES))
        raise ValueError(f"unknown loss {name!r}; valid losses are: {valid}") from None
