"""The conditional GAN: ask for a syllable (by its jamo) in a handwriting style (a font).

Building blocks (each with its paper):

* generator: ``models.build_conditional_generator``, jamo embeddings + a style vector through
  conditional batch norm;
* critic: ``models.build_projection_discriminator``, spectral norm + projection on jamo and font;
* loss: hinge (Lim & Ye 2017) by default, any family of ``korean_gan.training.losses``;
* DiffAugment translation + cutout on real and fake images (``korean_gan.training.diffaugment``);
* an exponential moving average of the generator's weights for sampling (Yazıcı et al. 2019,
  https://arxiv.org/abs/1806.04498);
* optionally, a content loss: a frozen jamo recogniser, trained on the run's training glyphs,
  reads the generated glyphs (ScrabbleGAN's recogniser term, Fogel et al. 2020,
  https://arxiv.org/abs/2003.10557).

Styles: each training font gets a learned ``style_dim`` embedding (trained with the generator);
:meth:`ConditionalGAN.random_styles` draws new styles from a Gaussian fitted to the learned ones.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import tensorflow as tf

from korean_gan.data.charsets import jamo_table
from korean_gan.models.networks import build_conditional_generator, build_projection_discriminator
from korean_gan.training.diffaugment import diff_augment, rand_affine
from korean_gan.training.distribute import scaled_loss, step_logs
from korean_gan.training.losses import get_losses, jamo_cross_entropy
from korean_gan.training.optimizers import adam

__all__ = ["ConditionalGAN", "build_conditional_gan", "condition_labels"]

JAMO_PARTS = ("initial", "vowel", "final")


def condition_labels(dataset) -> np.ndarray:
    """(N, 4) int32 training conditions of a GlyphDataset: (initial, vowel, final, font)."""
    table = jamo_table(dataset.charset.chars)
    return np.concatenate([table[dataset.labels], dataset.font_ids[:, None]],
                          axis=1).astype(np.int32)


class ConditionalGAN(keras.Model):
    """Generator, projection critic and style table trained together by ``fit()``.

    ``fit`` takes batches ``(images (B, S, S, 1) in [-1, 1], labels (B, 4) int32)`` with labels
    ``(initial, vowel, final, font)``.

    Args:
        generator: From ``build_conditional_generator``.
        discriminator: From ``build_projection_discriminator``.
        n_styles: Number of training fonts.
        ema_decay: Decay of the generator's weight average (0 disables it); warmed up over
            the first steps (see :meth:`update_ema`).
        diffaugment: DiffAugment policy applied to real and fake images before the critic.
        aux_weight: Weight of the critic's auxiliary jamo classifiers (AC-GAN).
        recon_weight: Weight of the L1 distance to the real glyph of the same condition.
        content_weight: Weight of the recogniser's jamo cross-entropy on generated glyphs
            (needs :meth:`set_recognizer` before training).
        content_affine: The recogniser reads each generated glyph randomly scaled and moved
            (:func:`~korean_gan.training.diffaugment.rand_affine`) instead of as drawn.
        seed: Seed of the noise and augmentation (state is a checkpointable variable).
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, n_styles: int,
                 ema_decay: float = 0.999, diffaugment: str = "translation,cutout",
                 aux_weight: float = 0.0, recon_weight: float = 0.0,
                 content_weight: float = 0.0, content_affine: bool = False, seed: int = 0,
                 **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.noise_dim = int(generator.inputs[0].shape[-1])
        self.style_dim = int(generator.inputs[2].shape[-1])
        self.style_table = keras.layers.Embedding(
            n_styles, self.style_dim, embeddings_initializer=keras.initializers.RandomNormal(
                stddev=1.0, seed=seed), name="style_table")
        self.style_table.build((None,))
        self.ema_decay = float(ema_decay)
        self.ema_generator = keras.models.clone_model(generator)
        self.ema_generator.set_weights(generator.get_weights())
        self.diffaugment = diffaugment
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.step_counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.aug_seed = int(seed)
        # Set by build_conditional_gan: the charset's jamo and the training fonts' names.
        self.class_jamo = np.zeros((0, 3), np.int32)
        self.font_names: list[str] = []
        self.aux_weight = float(aux_weight)
        self.recon_weight = float(recon_weight)
        self.recon_tracker = keras.metrics.Mean(name="l1")
        self.content_weight = float(content_weight)
        self.content_affine = bool(content_affine)
        self.recognizer: keras.Model | None = None
        # Jamo cross-entropy of the frozen recogniser on generated glyphs.
        self.content_tracker = keras.metrics.Mean(name="content_ce")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        # Jamo cross-entropy of the critic's auxiliary heads on real and on generated images.
        self.real_aux_tracker = keras.metrics.Mean(name="real_jamo_ce")
        self.fake_aux_tracker = keras.metrics.Mean(name="fake_jamo_ce")
        # Its networks are built; fit() must not try to build it by calling it on a batch.
        self.built = True

    def compile(self, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn, **kwargs):
        """Sets both optimizers and both loss functions (pure functions on logits)."""
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.d_loss_fn, self.g_loss_fn = d_loss_fn, g_loss_fn

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker]
        if self.aux_weight > 0:
            trackers += [self.real_aux_tracker, self.fake_aux_tracker]
        if self.recon_weight > 0:
            trackers.append(self.recon_tracker)
        if self.content_weight > 0:
            trackers.append(self.content_tracker)
        return trackers

    def set_recognizer(self, recognizer: keras.Model) -> None:
        """The frozen jamo recogniser of the content loss (``build_evaluator`` with jamo heads:
        uint8-valued input, ``initial``/``vowel``/``final`` probabilities)."""
        recognizer.trainable = False
        self.recognizer = recognizer

    def start_from(self, source) -> None:
        """Starts the generator, its weight average and the font styles from a trained model
        (fine-tuning); the critic and both optimizers keep their fresh state.

        Args:
            source: A model folder: ``default`` (the pretrained model) or a conditional run.

        Raises:
            ValueError: the folder's model has another shape, or lacks a training font's
                style (the message names the folder and what differs).
        """
        from korean_gan.artifacts import GENERATOR_FILE, STYLES_FILE, model_folder, read_styles

        folder = model_folder(source)
        for name in (GENERATOR_FILE, STYLES_FILE):
            if not (folder / name).is_file():
                raise ValueError(f"{folder} has no {name}: not a finished conditional run or "
                                 "model folder")
        try:
            with warnings.catch_warnings():
                # A file of another shape makes Keras warn about each layer it skips before it
                # fails; the one-line error below says what is wrong.
                warnings.filterwarnings("ignore", message="Skipping nested container")
                self.generator.load_weights(str(folder / GENERATOR_FILE))
        except Exception as err:  # h5py/Keras raise several types for foreign files
            raise ValueError(f"{folder / GENERATOR_FILE} does not fit this generator (another "
                             f"width or noise size? {str(err).splitlines()[0][:160]})") from None
        self.ema_generator.set_weights(self.generator.get_weights())
        styles, fonts = read_styles(folder)
        missing = [f for f in self.font_names if f not in fonts]
        if missing:
            raise ValueError(f"{folder} has no style for the training fonts {missing}; train "
                             "from scratch or use data with its fonts")
        if styles.shape[1] != self.style_dim:
            raise ValueError(f"{folder} has {styles.shape[1]}-number styles; this model uses "
                             f"{self.style_dim}")
        self.style_table.embeddings.assign(styles[[fonts.index(f) for f in self.font_names]])

    @property
    def generator_variables(self) -> list:
        """What the generator's optimizer trains: the generator and the style table."""
        return self.generator.trainable_variables + self.style_table.trainable_variables

    @property
    def sampling_generator(self) -> keras.Model:
        """The weight-averaged generator when EMA is on (it samples better), else the raw one."""
        return self.ema_generator if self.ema_decay > 0 else self.generator

    def _conditions(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Labels cycling through the charset, with seeded random training fonts."""
        labels = np.arange(n) % max(1, len(self.class_jamo))
        fonts = np.random.default_rng(seed).integers(0, max(1, len(self.font_names)), n)
        return labels, self.class_jamo[labels], fonts.astype(np.int32)

    def grid_images(self, noise) -> np.ndarray:
        """The sample grid: 4 fonts down × 4 syllables across, for the fixed noise."""
        n = len(noise)
        cols = 4
        # Syllables spread over the charset (가, 긷, 깨, ... for ks2350), not its first few.
        labels = (np.arange(n) % cols) * max(1, len(self.class_jamo) // cols) % max(
            1, len(self.class_jamo))
        fonts = (np.arange(n) // cols) % max(1, len(self.font_names))
        styles = np.asarray(self.style_table(fonts.astype(np.int32)))
        return np.asarray(self.sampling_generator(
            [noise, self.class_jamo[labels], styles], training=False))

    def evaluation_samples(self, noise, chars=None) -> tuple[np.ndarray, np.ndarray]:
        """Images for every syllable in turn, in seeded training fonts, and their labels.

        Args:
            noise: ``(N, noise_dim)``; one image each.
            chars: Syllables to cycle through instead of the training charset (labels are then
                indices into ``chars``).
        """
        labels, jamo, fonts = self._conditions(len(noise), seed=0)
        if chars is not None:
            table = jamo_table(chars)
            labels = np.arange(len(noise)) % len(table)
            jamo = table[labels]
        styles = np.asarray(self.style_table(fonts))
        images = np.concatenate([
            np.asarray(self.sampling_generator(
                [noise[i:i + 512], jamo[i:i + 512], styles[i:i + 512]], training=False))
            for i in range(0, len(noise), 512)])
        return images, labels

    def checkpoint_objects(self) -> dict:
        """What a checkpoint holds (the trainer adds the epoch and RNG states)."""
        return {"generator": self.generator, "discriminator": self.discriminator,
                "g_optimizer": self.g_optimizer, "d_optimizer": self.d_optimizer,
                "style_table": self.style_table, "ema_generator": self.ema_generator,
                "step": self.step_counter}

    def export(self, run_dir) -> None:
        """Writes the sampling generator's weights and the font styles into the run folder."""
        from pathlib import Path

        from korean_gan._io import save_npz
        from korean_gan.artifacts import GENERATOR_FILE, STYLES_FILE, save_weights

        run_dir = Path(run_dir)
        save_weights(self.sampling_generator, run_dir / GENERATOR_FILE)
        save_npz(run_dir / STYLES_FILE, {
            "styles": np.asarray(self.style_table.embeddings, np.float32),
            "fonts": np.array(self.font_names),
        })

    def call(self, inputs, training=False):
        noise, jamo, fonts = inputs
        return self.generator([noise, jamo, self.style_table(fonts)], training=training)

    def _augment(self, images):
        if not self.diffaugment:
            return images
        seed = tf.stack([tf.cast(self.aug_seed, tf.int64), self.step_counter])
        return diff_augment(images, self.diffaugment, seed=tf.cast(seed, tf.int32))

    def train_step(self, data):
        real_images, labels = data
        labels = tf.cast(labels, tf.int32)
        batch = tf.shape(real_images)[0]
        noise = keras.random.normal((batch, self.noise_dim), seed=self.noise_seed)
        jamo, fonts = labels[:, :3], labels[:, 3]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_images = self.generator([noise, jamo, self.style_table(fonts)], training=True)
            real_out = self.discriminator([self._augment(real_images), labels], training=True)
            fake_out = self.discriminator([self._augment(fake_images), labels], training=True)
            if self.aux_weight > 0:
                (real_logits, *real_jamo), (fake_logits, *fake_jamo) = real_out, fake_out
            else:
                real_logits, fake_logits = real_out, fake_out
            g_loss = self.g_loss_fn(fake_logits)
            d_loss = self.d_loss_fn(real_logits, fake_logits)
            g_loss, d_loss, terms = self._add_extra_losses(
                g_loss, d_loss, real_images, fake_images,
                real_jamo if self.aux_weight > 0 else None,
                fake_jamo if self.aux_weight > 0 else None, jamo)
            g_scaled = scaled_loss(g_loss, self.g_optimizer)
            d_scaled = scaled_loss(d_loss, self.d_optimizer)
        g_vars = self.generator_variables
        d_vars = self.discriminator.trainable_variables
        g_grads = g_tape.gradient(g_scaled, g_vars)
        d_grads = d_tape.gradient(d_scaled, d_vars)
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars, strict=True))
        self.g_optimizer.apply_gradients(zip(g_grads, g_vars, strict=True))
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            # Mirrored variables are updated once, from the cross-replica context.
            replica.merge_call(lambda _: self._after_step())
        else:
            self._after_step()
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        for tracker, value in terms:
            tracker.update_state(value)
        return step_logs(self.metrics)

    def _add_extra_losses(self, g_loss, d_loss, real_images, fake_images, real_jamo,
                          fake_jamo, jamo):
        """Adds the loss terms besides the adversarial ones to the generator's and critic's
        losses; returns both and the ``(tracker, value)`` pairs that log the terms.

        Args:
            g_loss, d_loss: The adversarial losses.
            real_images, fake_images: The step's batches in [-1, 1].
            real_jamo, fake_jamo: The critic's auxiliary jamo logits (None without them).
            jamo: ``(B, 3)`` the jamo asked for.
        """
        terms = []
        if self.aux_weight > 0:
            # The critic learns to read jamo from real glyphs; the generator is pushed to
            # write glyphs it reads as the jamo asked for.
            real_ce = jamo_cross_entropy(real_jamo, jamo)
            fake_ce = jamo_cross_entropy(fake_jamo, jamo)
            d_loss += self.aux_weight * real_ce
            g_loss += self.aux_weight * fake_ce
            terms += [(self.real_aux_tracker, real_ce), (self.fake_aux_tracker, fake_ce)]
        if self.recon_weight > 0:
            # Each real glyph is *the* glyph of its (syllable, font): the same condition's
            # fake is pulled towards it (the L1 term of pix2pix, Isola et al. 2017,
            # https://arxiv.org/abs/1611.07004, and of zi2zi's font transfer), which
            # teaches content from the first step; the critic keeps strokes sharp.
            l1 = tf.reduce_mean(tf.abs(tf.cast(fake_images, tf.float32) - real_images))
            g_loss += self.recon_weight * l1
            terms.append((self.recon_tracker, l1))
        if self.content_weight > 0:
            # The recogniser was trained on real glyphs and is frozen: the generator is
            # pushed to write strokes that make each jamo readable (the y-vowels' second
            # stroke, which L1 and the critic let it drop).
            shown = tf.cast(fake_images, tf.float32)
            if self.content_affine:
                # Read through random scales and shifts, the loss cannot be met by pixel
                # patterns that only this network at this framing reads (Expectation over
                # Transformation, Athalye et al. 2018, https://arxiv.org/abs/1707.07397);
                # the glyphs must read at any size and place, as in a written line.
                seed = tf.stack([tf.cast(self.aug_seed + 7, tf.int64), self.step_counter])
                shown = rand_affine(shown, seed=tf.cast(seed, tf.int32))
            read = self.recognizer((shown + 1.0) * 127.5, training=False)
            content_ce = jamo_cross_entropy(
                [tf.math.log(read[part] + 1e-7) for part in JAMO_PARTS], jamo)
            g_loss += self.content_weight * content_ce
            terms.append((self.content_tracker, content_ce))
        return g_loss, d_loss, terms

    def _after_step(self) -> None:
        self.update_ema()
        self.step_counter.assign_add(1)

    # The warm-up is tf.train.ExponentialMovingAverage's num_updates rule
    # (https://www.tensorflow.org/api_docs/python/tf/train/ExponentialMovingAverage): without
    # it, a 0.999 average still holds mostly the random initial weights after 1,000 steps,
    # which on a small dataset (seed16: 13 steps an epoch) is the first 77 epochs.
    def update_ema(self) -> None:
        """ema ← d·ema + (1 − d)·current over all weights (BN statistics included), with
        ``d = min(ema_decay, (1 + step) / (10 + step))`` so that early averages follow the
        generator instead of its initialisation (``ema_decay`` 0 copies the generator)."""
        step = tf.cast(self.step_counter, tf.float32)
        decay = tf.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        for ema, current in zip(self.ema_generator.weights, self.generator.weights,
                                strict=True):
            ema.assign(decay * ema + (1.0 - decay) * tf.cast(current, ema.dtype))

    def random_styles(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` new style vectors from a Gaussian fitted to the learned font styles."""
        from korean_gan.models.styles import random_styles

        return random_styles(np.asarray(self.style_table.embeddings), n, seed)

    def generate(self, jamo: np.ndarray, styles: np.ndarray, seed: int = 0,
                 use_ema: bool = True) -> np.ndarray:
        """Images (N, S, S, 1) in [-1, 1] for jamo (N, 3) and style vectors (N, style_dim)."""
        noise = np.random.default_rng(seed).standard_normal(
            (len(jamo), self.noise_dim)).astype(np.float32)
        model = self.ema_generator if use_ema and self.ema_decay > 0 else self.generator
        return np.asarray(model([noise, np.asarray(jamo, np.int32),
                                 np.asarray(styles, np.float32)], training=False))


def build_conditional_gan(chars, fonts, image_size: int = 32, noise_dim: int = 64,
                          loss: str = "hinge",
                          g_learning_rate: float = 2e-4, d_learning_rate: float = 2e-4,
                          beta_1: float = 0.0, beta_2: float = 0.99, ema_decay: float = 0.999,
                          diffaugment: str = "translation,cutout",
                          g_filters: int = 256, d_filters: int = 32, aux_weight: float = 0.0,
                          recon_weight: float = 20.0, content_weight: float = 0.0,
                          content_affine: bool = False, spectral_norm: bool = True,
                          loss_scaling: bool = False,
                          seed: int = 0) -> ConditionalGAN:
    """A compiled ConditionalGAN with its optimizers built (ready to restore a checkpoint).

    Adam with β₁ = 0 and equal learning rates for both networks, as in the SN-GAN / projection
    discriminator set-ups.

    Args:
        chars: The training charset's syllables (label order).
        fonts: The training fonts' names (font-id order); one style each.
    """
    keras.utils.set_random_seed(seed)
    n_styles = len(fonts)
    gan = ConditionalGAN(build_conditional_generator(noise_dim=noise_dim,
                                                     image_size=image_size,
                                                     base_filters=g_filters),
                         build_projection_discriminator(n_styles, image_size=image_size,
                                                        base_filters=d_filters,
                                                        aux_classifier=aux_weight > 0,
                                                        spectral_norm=spectral_norm),
                         n_styles, ema_decay=ema_decay, diffaugment=diffaugment,
                         aux_weight=aux_weight, recon_weight=recon_weight,
                         content_weight=content_weight, content_affine=content_affine,
                         seed=seed)
    g_loss, d_loss = get_losses(loss)
    optimizers = [adam(rate, beta_1, beta_2, loss_scaling)
                  for rate in (d_learning_rate, g_learning_rate)]
    gan.compile(d_optimizer=optimizers[0], g_optimizer=optimizers[1],
                d_loss_fn=d_loss, g_loss_fn=g_loss)
    gan.class_jamo = jamo_table(chars)
    gan.font_names = list(fonts)
    gan.g_optimizer.build(gan.generator_variables)
    gan.d_optimizer.build(gan.discriminator.trainable_variables)
    return gan
