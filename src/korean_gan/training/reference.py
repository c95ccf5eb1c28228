"""The reference GAN as a ``keras.Model``: a DCGAN generator and discriminator trained together.

``train_step`` follows the TensorFlow DCGAN tutorial: one batch of noise, both networks updated
at once from two gradient tapes.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from korean_gan.artifacts import GENERATOR_FILE, save_weights
from korean_gan.training.distribute import scaled_loss, step_logs

__all__ = ["GAN"]


class GAN(keras.Model):
    """A generator and a discriminator trained together by ``fit()``.

    ``train_step`` follows the TensorFlow DCGAN tutorial: one batch of noise, both networks
    updated at once from two gradient tapes (Goodfellow et al. 2014,
    https://arxiv.org/abs/1406.2661).

    Args:
        generator: Maps noise ``(B, noise_dim)`` to images ``(B, S, S, 1)`` in [-1, 1].
        discriminator: Maps images to logits ``(B, 1)``.
        noise_dim: Length of the noise vector.
        seed: Seed of the training noise (its state is checkpointed, so resume is exact).
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, noise_dim: int,
                 seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.noise_dim = noise_dim
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        # Its networks are built; fit() must not try to build it by calling it on a batch.
        self.built = True

    def compile(self, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn, **kwargs):
        """Sets both optimizers and both loss functions (pure functions on logits)."""
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.d_loss_fn = d_loss_fn
        self.g_loss_fn = g_loss_fn

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    @property
    def sampling_generator(self) -> keras.Model:
        """The network to sample, snapshot and export."""
        return self.generator

    def call(self, noise, training=False):
        return self.generator(noise, training=training)

    def grid_images(self, noise) -> np.ndarray:
        """The sample-grid images for the run's fixed noise, in [-1, 1]."""
        return np.asarray(self.generator(noise, training=False))

    def evaluation_samples(self, noise) -> tuple[np.ndarray, None]:
        """Images (in [-1, 1]) to evaluate, and their intended labels (none: unconditional)."""
        return np.asarray(self.generator(noise, training=False)), None

    def checkpoint_objects(self) -> dict:
        """What a checkpoint holds (the trainer adds the epoch and RNG states)."""
        return {"generator": self.generator, "discriminator": self.discriminator,
                "g_optimizer": self.g_optimizer, "d_optimizer": self.d_optimizer}

    def export(self, run_dir: Path) -> None:
        """Writes what sampling needs into the run folder: the generator's weights."""
        save_weights(self.generator, Path(run_dir) / GENERATOR_FILE)

    def train_step(self, real_images):
        batch = tf.shape(real_images)[0]
        noise = keras.random.normal((batch, self.noise_dim), seed=self.noise_seed)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_images = self.generator(noise, training=True)
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            g_loss = self.g_loss_fn(fake_logits)
            d_loss = self.d_loss_fn(real_logits, fake_logits)
            g_scaled = scaled_loss(g_loss, self.g_optimizer)
            d_scaled = scaled_loss(d_loss, self.d_optimizer)
        g_grads = g_tape.gradient(g_scaled, self.generator.trainable_variables)
        d_grads = d_tape.gradient(d_scaled, self.discriminator.trainable_variables)
        self.g_optimizer.apply_gradients(
            zip(g_grads, self.generator.trainable_variables, strict=True))
        self.d_optimizer.apply_gradients(
            zip(d_grads, self.discriminator.trainable_variables, strict=True))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return step_logs(self.metrics)
