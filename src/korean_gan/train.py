"""Training: the GAN as a ``keras.Model``, its input pipeline, callbacks, checkpoints and resume.

``GAN.fit()`` gives progress bars, the loss CSV, TensorBoard and checkpoints through Keras
callbacks. Everything a run writes goes under its run folder::

    runs/<name>/
      config.json            the TrainConfig of the run
      fixed_noise.npy        the noise of the 4×4 sample grid (the same every epoch and on resume)
      samples/epoch_0001.png the grid after each epoch (frames of the GIF)
      samples.gif            the GIF of those frames, with the epoch written on each
      log.csv                epoch, d_loss, g_loss, seconds (+ the model's other terms)
      tensorboard/           scalars and sample images
      checkpoints/           generator, discriminator, both optimizers, RNG states, epoch
      generator.weights.h5   the final generator (weights only; `korean-gan sample` loads it)
      recognizer.weights.h5  the content loss's jamo recogniser (with --content-weight)

The ``seed`` preset is the reference project's model with the TensorFlow DCGAN tutorial's
hyperparameters (Adam 1e-4 for both networks, batch 256, non-saturating BCE loss), since the
reference notebook's own are not public.
"""

from __future__ import annotations

import csv
import json
import signal
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from korean_gan.distribute import (
    dtype_policy,
    is_chief,
    make_strategy,
    resolve_precision,
    scaled_loss,
    step_logs,
)
from korean_gan.losses import get_losses
from korean_gan.models import build_discriminator, build_generator
from korean_gan.optimizers import adam

# load_generator and sample_images are re-exported for convenience; they need no training code.
from korean_gan.sampling import (
    CHECKPOINT_DIR,
    CONFIG_NAME,
    GENERATOR_NAME,
    load_generator,
    sample_images,
)

__all__ = [
    "GAN",
    "PRESETS",
    "TrainConfig",
    "TrainError",
    "load_generator",
    "read_run_config",
    "sample_images",
    "train",
]

NOISE_NAME = "fixed_noise.npy"


class TrainError(ValueError):
    """A training request that cannot run, with the value at fault and what to do."""


# Each preset fills every TrainConfig field it names; the user's explicit values win.
PRESETS: dict[str, dict] = {
    # The reference DCGAN (Radford et al. 2015, https://arxiv.org/abs/1511.06434) with the
    # TensorFlow DCGAN tutorial's training set-up.
    "seed": dict(model="dcgan", noise_dim=100, batch_size=256, g_learning_rate=1e-4,
                 d_learning_rate=1e-4, beta_1=0.9, beta_2=0.999, loss="nonsaturating"),
    # The conditional model (korean_gan.conditional): jamo + font conditioning, spectral norm,
    # projection critic, hinge loss, DiffAugment, EMA; Adam(2e-4, β₁ = 0, β₂ = 0.99) as in
    # SN-GAN (Miyato et al. 2018). Generator 256 → 32 filters: at 128 → 16 it underfits
    # (drops the y-vowels' second stroke; README "Generator width"); a narrow critic (32 → 128)
    # is enough.
    "hangul": dict(model="conditional", noise_dim=64, batch_size=128, g_learning_rate=2e-4,
                   d_learning_rate=2e-4, beta_1=0.0, beta_2=0.99, loss="hinge",
                   g_filters=256, d_filters=32, aux_weight=0.0, recon_weight=20.0),
}
MODELS = ("dcgan", "conditional")


@dataclass
class TrainConfig:
    """Everything that determines a training run.

    Attributes:
        preset: Named model and hyperparameters (see :data:`PRESETS`).
        data: The dataset ``.npz`` (``korean-gan data build`` writes ``data/seed16.npz``).
        run_dir: The run folder; everything the run writes goes here.
        epochs: Total epochs (a resumed run continues up to this number).
        model: Model family (``dcgan`` is the reference's).
        noise_dim: Length of the generator's noise vector.
        batch_size: Images per training step.
        g_learning_rate: Adam learning rate of the generator.
        d_learning_rate: Adam learning rate of the discriminator.
        beta_1: Adam's first-moment decay.
        beta_2: Adam's second-moment decay.
        lr_decay_epochs: Decay both learning rates linearly towards 0 over the last this many
            epochs (pix2pix's schedule); 0 keeps them constant. A resume may change it.
        loss: Loss family (``nonsaturating`` or ``hinge``; see ``korean_gan.losses``).
        ema_decay: Conditional model: decay of the generator's weight average used to sample.
        diffaugment: Conditional model: DiffAugment policy before the critic ("" = none).
        spectral_norm: Conditional model: spectral normalisation on the critic's layers
            (Miyato et al. 2018); ``False`` only to measure what it does.
        g_filters: Conditional model: channels of the generator's first feature map.
        d_filters: Conditional model: channels of the critic's first block.
        aux_weight: Conditional model: weight of the critic's auxiliary jamo classifiers
            (AC-GAN) in both losses; 0 leaves content to the projection term alone.
        recon_weight: Conditional model: weight of the L1 distance between a real glyph and
            the generated glyph of the same syllable and font (pix2pix/zi2zi); 0 turns it off.
        content_weight: Conditional model: weight of a content loss, the jamo cross-entropy of
            a frozen recogniser reading the generated glyphs (ScrabbleGAN); the recogniser is
            trained on the run's own training glyphs when the run starts and kept in the run
            folder (``recognizer.weights.h5``); 0 turns it off.
        recognizer_epochs: Conditional model with a content loss: epochs of that recogniser.
        recognizer_warmup_epochs: Epochs over which the recogniser's learning rate rises
            linearly from 0 before its cosine decay (0: none, as the shipped model's had).
        repeat_fonts: Font name -> how many times that font's training glyphs appear in
            every epoch (``--repeat-font NAME=K``): more steps on a style the model draws
            badly. Empty: each glyph once.
        init_from: Conditional model: start the generator, its weight average and the font
            styles from a trained model folder (``default`` = the pretrained model, or a run
            folder) instead of at random: fine-tuning; the critic starts fresh. "" = scratch.
        precision: ``float32``, ``mixed_bfloat16`` (CPUs with AVX512-BF16/AMX),
            ``mixed_float16`` (GPUs; with loss scaling) or ``auto`` (by hardware); see
            ``korean_gan.distribute``.
        strategy: ``default`` (one device), ``mirrored`` (all GPUs of a machine) or
            ``multiworker`` (machines in ``TF_CONFIG``); ``batch_size`` is the global batch.
        seed: Seed of weights, noise, dropout and data order.
        checkpoint_every: Save a checkpoint every this many epochs (and at the end).
        keep_checkpoints: How many recent checkpoints to keep.
        sample_every: Save a sample grid (a GIF frame) every this many epochs.
        snapshot_every: Also keep the generator's weights every this many epochs in
            ``snapshots/`` (for evaluating a run over time); 0 keeps none.
        eval_every: Measure FCD, KID, legibility and coverage with the committed evaluator
            every this many epochs, log them to ``eval.csv`` and TensorBoard, and keep the
            best generator by FCD; 0 turns it off (also off if no evaluator reads the charset).
        eval_samples: Samples per evaluation.
        tensorboard: Write TensorBoard logs.
        verbose: Keras progress output: ``"auto"``, 0 (silent), 1 (bar) or 2 (line per epoch).
    """

    preset: str = "seed"
    data: str = "data/seed16.npz"
    run_dir: str = "runs/seed"
    epochs: int = 50
    model: str = "dcgan"
    noise_dim: int = 100
    batch_size: int = 256
    g_learning_rate: float = 1e-4
    d_learning_rate: float = 1e-4
    beta_1: float = 0.9
    beta_2: float = 0.999
    lr_decay_epochs: int = 0  # constant learning rates, as the reference and SN-GAN train
    loss: str = "nonsaturating"
    ema_decay: float = 0.999
    diffaugment: str = "translation,cutout"
    spectral_norm: bool = True  # on the critic's layers; off only to ablate it
    g_filters: int = 256
    d_filters: int = 32
    aux_weight: float = 0.0
    recon_weight: float = 20.0
    content_weight: float = 0.0  # off: the published presets have no recogniser
    recognizer_epochs: int = 30  # with random affine variants every epoch; 10 read 81% of vowels
    recognizer_warmup_epochs: float = 0.0  # 0 keeps the shipped model's recogniser
    repeat_fonts: dict[str, int] = field(default_factory=dict)  # every glyph once
    init_from: str = ""  # train from scratch
    precision: str = "float32"
    strategy: str = "default"
    seed: int = 0
    checkpoint_every: int = 5
    keep_checkpoints: int = 2
    sample_every: int = 1
    snapshot_every: int = 0
    eval_every: int = 10
    eval_samples: int = 2000
    tensorboard: bool = True
    verbose: int | str = "auto"

    @classmethod
    def from_preset(cls, preset: str = "seed", **overrides) -> TrainConfig:
        """A config with the preset's values, then ``overrides`` (None values are ignored)."""
        if preset not in PRESETS:
            raise TrainError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
        values = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
        return cls(preset=preset, **values)

    def validate(self) -> None:
        """Raises TrainError naming the first value that cannot work."""
        for name in ("snapshot_every", "eval_every", "lr_decay_epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise TrainError(f"{name.replace('_', '-')} must be 0 or a positive integer, "
                                 f"got {value!r}")
        for name in ("epochs", "batch_size", "noise_dim", "checkpoint_every", "sample_every",
                     "keep_checkpoints", "g_filters", "d_filters", "recognizer_epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise TrainError(f"{name.replace('_', '-')} must be a positive integer, got "
                                 f"{value!r}")
        if not isinstance(self.recognizer_warmup_epochs, (int, float)) \
                or isinstance(self.recognizer_warmup_epochs, bool) \
                or not 0 <= self.recognizer_warmup_epochs < self.recognizer_epochs:
            raise TrainError(f"recognizer-warmup must be a number from 0 to below "
                             f"recognizer-epochs ({self.recognizer_epochs}), got "
                             f"{self.recognizer_warmup_epochs!r}")
        if not isinstance(self.repeat_fonts, dict) or not all(
                isinstance(k, int) and not isinstance(k, bool) and k >= 1
                for k in self.repeat_fonts.values()):
            raise TrainError(f"repeat-font: give each font a whole number of repeats (1 or "
                             f"more), got {self.repeat_fonts!r}")
        if self.model == "conditional" and self.g_filters < 8:
            # Halved at each of the generator's three upsamplings: fewer than 8 leaves none.
            raise TrainError(f"g-filters must be at least 8 for the conditional model, got "
                             f"{self.g_filters}")
        for name in ("g_learning_rate", "d_learning_rate"):
            if not getattr(self, name) > 0:
                raise TrainError(f"{name.replace('_', '-')} must be positive")
        if self.model not in MODELS:
            raise TrainError(f"unknown model {self.model!r}; choose from {', '.join(MODELS)}")
        from korean_gan.distribute import PRECISIONS, STRATEGIES

        if self.precision not in PRECISIONS:
            raise TrainError(f"unknown precision {self.precision!r}; choose from "
                             f"{', '.join(PRECISIONS)}")
        if self.strategy not in STRATEGIES:
            raise TrainError(f"unknown strategy {self.strategy!r}; choose from "
                             f"{', '.join(STRATEGIES)}")
        if self.model != "conditional":
            for name, off in (("content_weight", 0.0), ("init_from", "")):
                if getattr(self, name) != off:
                    raise TrainError(f"{name.replace('_', '-')} is for the conditional model "
                                     "(--preset hangul)")
        for name in ("aux_weight", "recon_weight", "content_weight"):
            if not getattr(self, name) >= 0:
                raise TrainError(f"{name.replace('_', '-')} must be 0 or positive, got "
                                 f"{getattr(self, name)!r}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise TrainError(f"ema-decay must be in [0, 1), got {self.ema_decay!r}")
        get_losses(self.loss)
        if self.preset not in PRESETS:
            raise TrainError(f"unknown preset {self.preset!r}; choose from {', '.join(PRESETS)}")
        for name in ("beta_1", "beta_2"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise TrainError(f"{name.replace('_', '-')} must be in [0, 1), got {value!r}")
        from korean_gan.diffaugment import POLICIES as DIFFAUGMENT_POLICIES

        for name in self.diffaugment.split(","):
            if name and name not in DIFFAUGMENT_POLICIES:
                raise TrainError(f"unknown DiffAugment transform {name!r} in diffaugment; "
                                 f"choose from {', '.join(DIFFAUGMENT_POLICIES)}")
        # The run folder, or the nearest existing folder above it, must be a writable folder:
        # fail now, naming the path, rather than after the data is loaded and the model built.
        import os

        run_dir = Path(self.run_dir)
        existing = next((p for p in (run_dir, *run_dir.parents) if p.exists()), None)
        if existing is not None and not existing.is_dir():
            where = "" if existing == run_dir else f" cannot be created: {existing}"
            raise TrainError(f"run folder {run_dir}{where} is a file; choose another --run-dir")
        if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
            raise TrainError(f"run folder {run_dir}: {existing} is not writable; choose another "
                             "--run-dir")


# --- the model --------------------------------------------------------------------------------

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
        _save_generator(self.generator, Path(run_dir) / GENERATOR_NAME)

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


def build_gan(config: TrainConfig, image_size: int, dataset=None) -> GAN:
    """The GAN of a config, compiled with its optimizers and losses.

    Args:
        config: The run's configuration.
        image_size: Side of the training images.
        dataset: The training GlyphDataset (the conditional model needs its charset and fonts).
    """
    precision = resolve_precision(config.precision)
    if config.model == "conditional":
        if dataset is None:
            raise TrainError("the conditional model needs the training dataset")
        from korean_gan.conditional import build_conditional_gan

        with dtype_policy(precision):
            return build_conditional_gan(
                dataset.charset.chars, dataset.fonts, image_size=image_size,
                noise_dim=config.noise_dim, loss=config.loss,
                g_learning_rate=config.g_learning_rate, d_learning_rate=config.d_learning_rate,
                beta_1=config.beta_1, beta_2=config.beta_2, ema_decay=config.ema_decay,
                diffaugment=config.diffaugment, g_filters=config.g_filters,
                d_filters=config.d_filters, aux_weight=config.aux_weight,
                recon_weight=config.recon_weight, content_weight=config.content_weight,
                spectral_norm=config.spectral_norm, loss_scaling=precision == "mixed_float16",
                seed=config.seed)
    keras.utils.set_random_seed(config.seed)
    with dtype_policy(precision):
        generator = build_generator(noise_dim=config.noise_dim, image_size=image_size)
        discriminator = build_discriminator(image_size=image_size)
    gan = GAN(generator, discriminator, config.noise_dim, seed=config.seed)
    g_loss, d_loss = get_losses(config.loss)
    gan.compile(
        d_optimizer=adam(config.d_learning_rate, config.beta_1, config.beta_2,
                         loss_scaling=precision == "mixed_float16"),
        g_optimizer=adam(config.g_learning_rate, config.beta_1, config.beta_2,
                         loss_scaling=precision == "mixed_float16"),
        d_loss_fn=d_loss,
        g_loss_fn=g_loss,
    )
    # Create the optimizer slots now so a checkpoint can be restored into them.
    gan.g_optimizer.build(generator.trainable_variables)
    gan.d_optimizer.build(discriminator.trainable_variables)
    return gan


# --- input pipeline ---------------------------------------------------------------------------

def training_dataset(images: np.ndarray, batch_size: int, seed: int, first_epoch: int,
                     epochs: int, labels: np.ndarray | None = None,
                     shard: tuple[int, int, int] | None = None,
                     first_step: int = 0) -> tf.data.Dataset:
    """Batches of real images in [-1, 1], shape (B, S, S, 1), for epochs [first_epoch, epochs).

    With ``labels`` (N, K), batches are ``(images, labels)`` pairs.

    The uint8 images stay in memory; each epoch's order is a stateless shuffle keyed by
    (seed, epoch), so a resumed run sees exactly the batches an uninterrupted run would.
    Scaling happens in graph ops; batches are prefetched.

    Args:
        shard: ``(pipeline, replicas, pipelines)`` for distributed training: every global batch
            of ``batch_size`` is cut into ``replicas`` equal slices and this pipeline yields its
            ``replicas // pipelines`` consecutive slices, one per local replica, in order.
        first_step: Steps of ``first_epoch`` already done (a run stopped mid-epoch): its first
            batches are skipped, so the run goes on with the batch it would have seen next.
    """
    n = len(images)
    steps = n // batch_size
    pixels = tf.constant(images)
    label_table = None if labels is None else tf.constant(labels)

    def epoch_indices(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n), seed=tf.stack([tf.cast(seed, tf.int64), epoch]))
        batches = tf.reshape(order[: steps * batch_size], (steps, batch_size))
        if shard is not None:
            pipeline, replicas, pipelines = shard
            local = replicas // pipelines
            slices = tf.reshape(batches, (steps, replicas, batch_size // replicas))
            batches = tf.reshape(slices[:, pipeline * local:(pipeline + 1) * local],
                                 (steps * local, batch_size // replicas))
        return tf.data.Dataset.from_tensor_slices(batches)

    def gather(indices):
        batch = tf.cast(tf.gather(pixels, indices), tf.float32)[..., None] / 127.5 - 1.0
        if label_table is None:
            return batch
        return batch, tf.gather(label_table, indices)

    per_step = 1 if shard is None else shard[1] // shard[2]
    return (tf.data.Dataset.range(first_epoch, epochs)
            .flat_map(epoch_indices)
            .skip(first_step * per_step)
            .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE))


# --- callbacks --------------------------------------------------------------------------------

@contextmanager
def _stops_if_unwritable(model, path: Path):
    """Turns a failed write (a full disk, a folder gone read-only) into a one-line TrainError
    that stops training; the checkpoints written before stay."""
    try:
        yield
    except OSError as err:
        if model is not None:
            model.stop_training = True
        raise TrainError(f"cannot write {path} ({err.strerror or err}); training stopped, the "
                         "checkpoints so far are kept: free disk space and resume with "
                         "--resume") from None


class SampleGrid(keras.callbacks.Callback):
    """Saves the generator's images for a fixed noise batch as a grid PNG after each epoch.

    Args:
        noise: The fixed noise, ``(16, noise_dim)`` for the 4×4 grid.
        folder: Where ``epoch_NNNN.png`` frames go.
        every: Save every this many epochs (the last epoch is always saved).
        total_epochs: The run's last epoch, to always save it.
        tensorboard_dir: Also log the grid as a TensorBoard image, if given.
    """

    def __init__(self, noise: np.ndarray, folder: Path, every: int = 1, total_epochs: int = 0,
                 tensorboard_dir: Path | None = None):
        super().__init__()
        self.noise = noise
        self.folder = Path(folder)
        self.every = every
        self.total_epochs = total_epochs
        self.writer = (tf.summary.create_file_writer(str(tensorboard_dir))
                       if tensorboard_dir else None)

    def on_epoch_end(self, epoch, logs=None):
        number = epoch + 1
        if (number % self.every and number != self.total_epochs) or self.model.stop_training:
            return  # not this epoch, or one cut short by a signal (its frame comes on resume)
        from korean_gan.images import caption, from_model_output, save_png, tile

        images = from_model_output(self.model.grid_images(self.noise))
        grid = tile(images, cols=4)
        path = self.folder / f"epoch_{number:04d}.png"
        with _stops_if_unwritable(self.model, path):
            save_png(caption(grid, f"epoch {number}", scale=2), path)
        if self.writer is not None:
            with self.writer.as_default():
                tf.summary.image("samples", grid[None, :, :, None], step=number)


class GifOnEnd(keras.callbacks.Callback):
    """Assembles the run's sample frames into its GIF when training ends (also when stopped)."""

    def __init__(self, frames_dir: Path, out: Path):
        super().__init__()
        self.frames_dir, self.out = Path(frames_dir), Path(out)

    def on_train_end(self, logs=None):
        from korean_gan.images import frame_paths, write_gif

        frames = frame_paths(self.frames_dir)
        if frames:
            with _stops_if_unwritable(self.model, self.out):
                write_gif(frames, self.out)


class LearningRateDecay(keras.callbacks.Callback):
    """Sets both learning rates at the start of every epoch: constant, then a linear decay.

    Over the last ``decay_epochs`` epochs the rates fall linearly towards 0, as pix2pix trains
    (Isola et al. 2017, https://arxiv.org/abs/1611.07004): epoch ``e`` (0-based) of ``epochs``
    uses ``base × min(1, (epochs − e) / (decay_epochs + 1))``. The rates are set every epoch,
    not only in the decay, because a checkpoint restores the optimizer's last rate.
    """

    def __init__(self, g_learning_rate: float, d_learning_rate: float, epochs: int,
                 decay_epochs: int):
        super().__init__()
        self.rates = (g_learning_rate, d_learning_rate)
        self.epochs, self.decay_epochs = epochs, decay_epochs

    def factor(self, epoch: int) -> float:
        """The fraction of the base learning rates that epoch ``epoch`` (0-based) uses."""
        return min(1.0, (self.epochs - epoch) / (self.decay_epochs + 1))

    def on_epoch_begin(self, epoch, logs=None):
        factor = self.factor(epoch)
        optimizers = (self.model.g_optimizer, self.model.d_optimizer)
        for optimizer, rate in zip(optimizers, self.rates, strict=True):
            optimizer.learning_rate = rate * factor


class GeneratorSnapshots(keras.callbacks.Callback):
    """Keeps the generator's weights every ``every`` epochs as
    ``snapshots/generator_epoch_NNNN.weights.h5`` (weights only, about 37 MB each for the
    reference model), and a conditional model's font styles as ``styles_epoch_NNNN.npz``."""

    def __init__(self, folder: Path, every: int):
        super().__init__()
        self.folder, self.every = Path(folder), every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0 and not self.model.stop_training:
            with _stops_if_unwritable(self.model, self.folder):
                _save_generator(self.model.sampling_generator,
                                self.folder / f"generator_epoch_{epoch + 1:04d}.weights.h5")
                if hasattr(self.model, "style_table"):
                    from korean_gan._io import save_npz

                    save_npz(self.folder / f"styles_epoch_{epoch + 1:04d}.npz",
                             {"styles": np.asarray(self.model.style_table.embeddings,
                                                   np.float32)})


class LossLog(keras.callbacks.Callback):
    """Appends one row per epoch to a CSV: epoch (1-based), the losses, wall-clock seconds, and
    the model's other tracked terms (the conditional model's ``l1``, ``content_ce``, ...).

    Each row is flushed at once, so the log survives a killed process. A resumed run first drops
    the rows of epochs after its checkpoint, which it is about to redo.
    """

    COLUMNS = ("epoch", "d_loss", "g_loss", "seconds")

    def __init__(self, path: Path, first_epoch: int = 0):
        super().__init__()
        self.path = Path(path)
        self.first_epoch = first_epoch
        self.extra: list[str] = []

    def on_train_begin(self, logs=None):
        self.extra = [m.name for m in getattr(self.model, "metrics", [])
                      if m.name not in self.COLUMNS]
        rows = []
        if self.path.is_file():
            with open(self.path, newline="") as fh:
                rows = [r for r in csv.reader(fh)][1:]
        kept = [r for r in rows if r and r[0].isdigit() and int(r[0]) <= self.first_epoch]
        with open(self.path, "w", newline="") as fh:
            csv.writer(fh).writerows([[*self.COLUMNS, *self.extra], *kept])

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        # A run folder deleted (or unmounted) mid-run: stop before a later write recreates it.
        if not self.path.parent.is_dir():
            self.model.stop_training = True
            raise TrainError(f"run folder {self.path.parent} disappeared during epoch "
                             f"{epoch + 1}; training stopped: restore the folder and resume "
                             "with --resume, or start a new run")
        if self.model.stop_training:
            return  # cut short by a signal: the resumed run logs the epoch when it completes
        logs = logs or {}
        row = [epoch + 1] + [f"{float(logs.get(k, float('nan'))):.6f}" for k in self.COLUMNS[1:3]]
        row.append(f"{time.perf_counter() - self._start:.3f}")
        row += [f"{float(logs.get(k, float('nan'))):.6f}" for k in self.extra]
        with _stops_if_unwritable(self.model, self.path), open(self.path, "a",
                                                               newline="") as fh:
            csv.writer(fh).writerow(row)


class Checkpointer(keras.callbacks.Callback):
    """Checkpoints both networks, both optimizers, RNG states and the epoch; stops gracefully.

    A checkpoint is written every ``every`` epochs and at the end. The first SIGINT (Ctrl-C) or
    SIGTERM lets the current step finish, checkpoints the run with the steps of the epoch done
    so far, and stops (``--resume`` goes on with the next step); a second SIGINT stops at once.
    The callbacks that work per epoch (log row, sample grid, snapshot, evaluation) skip an
    epoch cut short: they see ``model.stop_training`` already set when it ends. TensorFlow
    writes a checkpoint's files first and the ``checkpoint`` index last (by temporary file and
    rename), so a process killed while saving leaves the previous checkpoint as the latest.

    A non-finite loss stops training at the step where it appears, and a model whose weights
    are not finite is never saved, so the last good checkpoint stays the latest. A checkpoint
    that cannot be written (full disk, run folder gone) stops training with a TrainError.
    """

    def __init__(self, manager: tf.train.CheckpointManager, epoch_var: tf.Variable,
                 step_var: tf.Variable, every: int, total_epochs: int, steps: int):
        super().__init__()
        self.manager = manager
        self.epoch_var = epoch_var
        self.step_var = step_var
        self.every = every
        self.total_epochs = total_epochs
        self.steps = steps  # steps per epoch
        self.step_offset = 0  # steps of the current epoch done before this fit() (a resume)
        self.stop_requested = False
        self._previous: dict[int, object] = {}
        self._epoch = 0

    @staticmethod
    def _non_finite(logs) -> str:
        """``"d_loss=nan, g_loss=0.69"`` if a loss in ``logs`` is NaN or infinite, else ``""``."""
        losses = {k: float(v) for k, v in (logs or {}).items() if k in ("d_loss", "g_loss")}
        if all(np.isfinite(v) for v in losses.values()):
            return ""
        return ", ".join(f"{k}={v:.4g}" for k, v in losses.items())

    def _kept(self) -> str:
        latest = self.manager.latest_checkpoint
        return (f"the last good checkpoint {latest} is kept" if latest
                else "no checkpoint had been written yet")

    def _stop_with(self, message: str) -> None:
        """Stops training with a TrainError, handing the signals back first (fit skips
        on_train_end when a callback raises)."""
        self.model.stop_training = True
        self._restore_signals()
        raise TrainError(message)

    def _request_stop(self, signum, frame):
        if self.stop_requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.stop_requested = True
        print(f"\n{signal.Signals(signum).name}: finishing this step, then saving a checkpoint "
              "(Ctrl-C again to stop at once, losing the steps since the last checkpoint)",
              flush=True)

    def on_train_begin(self, logs=None):
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._request_stop)

    def _restore_signals(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def on_train_end(self, logs=None):
        self._restore_signals()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        done = self.step_offset + batch + 1
        # Checked per step so the message names the step that diverged; the epoch's logs only
        # give the average.
        bad = self._non_finite(logs)
        if bad:
            self._stop_with(f"loss is not finite at epoch {self._epoch + 1}, step {done} "
                            f"({bad}); training stopped and {self._kept()}: start a new run "
                            "with a lower --g-lr/--d-lr")
        if self.stop_requested and done < self.steps:
            # Numbered by the epoch in progress; its step count tells resume where to go on.
            self.save(self._epoch + 1, completed=self._epoch, step=done)
            self.model.stop_training = True

    def save(self, number: int, completed: int | None = None, step: int = 0) -> str:
        """Writes checkpoint ``number``: after epoch ``number``, or ``step`` steps into the
        epoch after ``completed`` epochs; refuses a diverged model.

        Raises:
            TrainError: the weights are not finite, or the checkpoint cannot be written.
        """
        folder = Path(self.manager.directory)
        if not folder.parent.is_dir():
            self._stop_with(f"run folder {folder.parent} disappeared during epoch {number}; "
                            "training stopped: restore the folder and resume with --resume, "
                            "or start a new run")
        if not all(np.isfinite(w).all() for w in self.model.get_weights()):
            self._stop_with(f"weights are not finite after epoch {number}; not saving them, "
                            f"so {self._kept()}: start a new run with a lower --g-lr/--d-lr")
        self.epoch_var.assign(number if completed is None else completed)
        self.step_var.assign(step)
        try:
            return self.manager.save(checkpoint_number=number)
        except (tf.errors.OpError, OSError) as err:
            import re

            # TensorFlow wraps the OS error in op details: keep the path and the reason.
            reason = re.sub(r"\{\{.*?\}\}\s*|\s*\[Op:\w+\]", "",
                            str(getattr(err, "message", "") or err)).strip().splitlines()
            self._stop_with(f"cannot write the checkpoint of epoch {number} in {folder} "
                            f"({type(err).__name__}: {reason[0] if reason else ''}); "
                            f"{self._kept()}: free disk space and resume with --resume")

    def on_epoch_end(self, epoch, logs=None):
        if self.model.stop_training:
            return  # cut short by a signal and checkpointed at its step
        number = epoch + 1
        bad = self._non_finite(logs)
        if bad:
            self._stop_with(f"loss is not finite at epoch {number} ({bad}); training stopped "
                            f"and {self._kept()}: start a new run with a lower --g-lr/--d-lr")
        if number % self.every == 0 or number == self.total_epochs or self.stop_requested:
            self.save(number)
        if self.stop_requested:
            self.model.stop_training = True


# --- running ----------------------------------------------------------------------------------

def _checkpoint(gan: GAN, epoch_var: tf.Variable,
                step_var: tf.Variable | None) -> tf.train.Checkpoint:
    seeds = [v for v in gan.variables if "seed_generator" in v.path]
    # Checkpoints written before runs could stop mid-epoch have no step (restored with None).
    step = {} if step_var is None else {"epoch_step": step_var}
    return tf.train.Checkpoint(**gan.checkpoint_objects(), epoch=epoch_var, seeds=seeds, **step)


def read_run_config(run_dir: Path) -> TrainConfig:
    """The TrainConfig saved in a run folder."""
    path = run_dir / CONFIG_NAME
    if not path.is_file():
        raise TrainError(f"{run_dir} holds no {CONFIG_NAME}; it is not a run folder to resume")
    values = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in values.items() if k in known})


def prepare_run(config: TrainConfig, resume: bool) -> TrainConfig:
    """Checks the run folder; on resume, returns the saved config (with a new epoch count).

    Raises:
        TrainError: a fresh run into a folder that already holds one, or nothing to resume.
    """
    run_dir = Path(config.run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainError(f"run folder {run_dir} is a file; choose another --run-dir")
    if resume:
        saved = read_run_config(run_dir)
        saved.epochs = config.epochs
        saved.lr_decay_epochs = config.lr_decay_epochs
        saved.verbose = config.verbose
        saved.run_dir = str(run_dir)
        # A run may continue on other hardware: a mirrored run on one device, or the reverse,
        # and in another precision, as long as the optimizer state keeps its shape (only
        # mixed_float16 wraps the optimizer in a loss scaler).
        saved.strategy = config.strategy
        scaled = {resolve_precision(p) == "mixed_float16" for p in (saved.precision,
                                                                     config.precision)}
        if len(scaled) > 1:
            raise TrainError(f"{run_dir} was trained in {saved.precision}; it cannot resume in "
                             f"{config.precision} (the optimizer state differs): resume with "
                             f"--precision {saved.precision}")
        saved.precision = config.precision
        return saved
    if (run_dir / CONFIG_NAME).exists():
        raise TrainError(f"run folder {run_dir} already holds a run; pass --resume to continue it "
                         "or choose another --run-dir")
    # The run's config.json names the precision it really trains in, not "auto": a resume on
    # other hardware then knows whether the optimizer state has a loss scale.
    return replace(config, precision=resolve_precision(config.precision))


def train(config: TrainConfig | None = None, resume: bool = False, callbacks=(),
          **overrides) -> keras.callbacks.History:
    """Trains a GAN; writes everything into ``config.run_dir``.

    Args:
        config: The run's configuration (default: the ``seed`` preset).
        resume: Continue the run in ``config.run_dir`` from its last checkpoint, with its saved
            configuration, fixed noise and RNG states; ``config.epochs`` may raise the total.
        callbacks: Extra Keras callbacks.
        **overrides: TrainConfig fields to change.

    Returns:
        The Keras History of this call's epochs.

    Raises:
        TrainError, DatasetError: bad configuration or data, before any training.
    """
    from korean_gan.data import load_dataset

    config = config or TrainConfig.from_preset("seed")
    if overrides:
        config = TrainConfig(**{**asdict(config), **overrides})
    config.validate()
    config = prepare_run(config, resume)
    config.validate()
    dataset = load_dataset(config.data)
    if config.repeat_fonts:
        dataset = dataset.repeat_fonts(config.repeat_fonts)
    if config.batch_size > len(dataset):
        raise TrainError(f"batch size {config.batch_size} is larger than the dataset "
                         f"{config.data} ({len(dataset)} images); lower --batch-size")
    strategy = make_strategy(config.strategy)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise TrainError(f"batch size {config.batch_size} does not split evenly over "
                         f"{replicas} replicas; use a multiple of {replicas}")
    chief_dir = Path(config.run_dir)
    # Only the chief writes the run folder; other workers write (and then drop) a scratch
    # folder, but take part in every collective step, checkpoint saves included.
    chief = is_chief(strategy)
    run_dir = chief_dir if chief else Path(tempfile.mkdtemp(prefix="korean-gan-worker-"))
    run_dir.mkdir(parents=True, exist_ok=True)

    from korean_gan._io import write_json_atomic

    recognizer_path = None
    if config.model == "conditional" and config.content_weight > 0:
        recognizer_path = _training_recognizer(config, dataset, run_dir)
    with strategy.scope():
        gan = build_gan(config, dataset.image_size, dataset)
        if recognizer_path is not None:
            gan.set_recognizer(_load_recognizer(recognizer_path, dataset))
        if config.init_from and not resume:
            try:
                gan.start_from(config.init_from)
            except ValueError as err:
                raise TrainError(f"init-from: {err}") from None
        epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        step_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch_step")
    checkpoint = _checkpoint(gan, epoch_var, step_var)
    manager = tf.train.CheckpointManager(checkpoint, str(run_dir / CHECKPOINT_DIR),
                                         max_to_keep=config.keep_checkpoints)
    noise_path = chief_dir / NOISE_NAME
    first_epoch = first_step = 0
    if resume:
        latest = tf.train.latest_checkpoint(str(chief_dir / CHECKPOINT_DIR))
        if latest is None:
            raise TrainError(f"{chief_dir} has no checkpoint yet; start it again without "
                             "--resume")
        try:
            names = {name for name, _ in tf.train.list_variables(latest)}
            source = (checkpoint if "epoch_step/.ATTRIBUTES/VARIABLE_VALUE" in names
                      else _checkpoint(gan, epoch_var, None))
            source.restore(latest).assert_existing_objects_matched()
            first_epoch, first_step = int(epoch_var.numpy()), int(step_var.numpy())
            noise = np.load(noise_path, allow_pickle=False)
        except (tf.errors.OpError, AssertionError, ValueError, OSError) as err:
            raise TrainError(f"cannot resume {chief_dir}: its checkpoint {latest} or "
                             f"{NOISE_NAME} is damaged or from another model "
                             f"({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
                             "delete the damaged checkpoint files to fall back to an earlier "
                             "one, or start a new run") from None
    else:
        noise = np.random.default_rng(config.seed).standard_normal(
            (16, config.noise_dim)).astype(np.float32)
        from korean_gan._io import atomic_path

        if chief:
            with atomic_path(noise_path, suffix=".npy") as tmp:
                np.save(tmp, noise, allow_pickle=False)
    if chief:
        write_json_atomic(run_dir / CONFIG_NAME, asdict(config))
    if first_epoch >= config.epochs:
        raise TrainError(f"{run_dir} already finished {first_epoch} epochs; pass a larger "
                         "--epochs to train further")

    steps = len(dataset) // config.batch_size
    loss_log = LossLog(run_dir / "log.csv", first_epoch)
    checkpointer = Checkpointer(manager, epoch_var, step_var, config.checkpoint_every,
                                config.epochs, steps)
    # The per-epoch writers come before the checkpointer: it sets stop_training at the end of
    # an epoch a signal stopped, and they must still write that (complete) epoch.
    all_callbacks = [
        LearningRateDecay(config.g_learning_rate, config.d_learning_rate, config.epochs,
                          config.lr_decay_epochs),
        loss_log,
        SampleGrid(noise, run_dir / "samples", config.sample_every, config.epochs,
                   run_dir / "tensorboard" / "images" if config.tensorboard else None),
        checkpointer,
        GifOnEnd(run_dir / "samples", run_dir / "samples.gif"),
        *callbacks,
    ]
    if config.eval_every and chief:
        from korean_gan.evaluate import EvaluationCallback

        # Before the loss log and checkpointer, so the epoch's metrics are in place first.
        all_callbacks.insert(0, EvaluationCallback(
            run_dir, config.data, config.eval_every, config.eval_samples, config.epochs,
            tensorboard=config.tensorboard))
    if config.snapshot_every:
        all_callbacks.insert(all_callbacks.index(checkpointer),
                             GeneratorSnapshots(run_dir / "snapshots", config.snapshot_every))
    if config.tensorboard and chief:
        all_callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard"),
                                                         write_graph=False))
    labels = None
    if config.model == "conditional":
        from korean_gan.conditional import condition_labels

        labels = condition_labels(dataset)

    def batches(start: int, stop: int, skip: int):
        if replicas == 1:
            return training_dataset(dataset.images, config.batch_size, config.seed, start,
                                    stop, labels, first_step=skip)

        # Each input pipeline (one per worker) yields its replicas' slices of every global
        # batch, so a step sees exactly the batch a single device would.
        def per_worker(context):
            return training_dataset(dataset.images, config.batch_size, config.seed, start,
                                    stop, labels, first_step=skip,
                                    shard=(context.input_pipeline_id, replicas,
                                           context.num_input_pipelines))

        return strategy.distribute_datasets_from_function(per_worker)

    # A run stopped mid-epoch first finishes that epoch's remaining steps in a fit() of its
    # own (fit's epochs all have the same number of steps), then goes on as usual.
    parts = [(first_epoch, first_epoch + 1, first_step)] if first_step else []
    if first_epoch + bool(first_step) < config.epochs:
        parts.append((first_epoch + bool(first_step), config.epochs, 0))
    history = None
    try:
        for start, stop, skip in parts:
            loss_log.first_epoch, checkpointer.step_offset = start, skip
            part = gan.fit(batches(start, stop, skip), epochs=stop, initial_epoch=start,
                           steps_per_epoch=steps - skip, verbose=config.verbose, shuffle=False,
                           callbacks=all_callbacks)
            if history is not None:  # one History for the whole call
                part.epoch = history.epoch + part.epoch
                for key, values in history.history.items():
                    part.history[key] = values + part.history.get(key, [])
            history = part
            if checkpointer.stop_requested:
                break
    finally:
        # fit() skips on_train_end when a callback raises: hand Ctrl-C back regardless.
        checkpointer._restore_signals()
    if chief:
        with _stops_if_unwritable(None, run_dir):
            gan.export(run_dir)
    else:
        import shutil

        shutil.rmtree(run_dir, ignore_errors=True)
    # True when a signal stopped the run early (it was checkpointed; --resume continues it).
    history.interrupted = checkpointer.stop_requested
    return history


RECOGNIZER_NAME = "recognizer.weights.h5"


def _training_recognizer(config: TrainConfig, dataset, run_dir: Path) -> Path:
    """The content loss's recogniser in the run folder, trained on the run's data if absent.

    It reads only the run's own training glyphs (seeded by the run's seed), so a resumed run,
    or a new run on the same data and seed, gets the same recogniser.
    """
    path = run_dir / RECOGNIZER_NAME
    if path.is_file():
        print(f"content loss: using the jamo recogniser in {path} (delete it to train a new one)",
              flush=True)
        return path
    from korean_gan._io import atomic_path
    from korean_gan.evaluate import fit_jamo_recognizer

    print(f"content loss: training a jamo recogniser on the {len(dataset):,} training glyphs "
          f"({config.recognizer_epochs} epochs) into {path}", flush=True)
    started = time.perf_counter()
    model = fit_jamo_recognizer(dataset.images, dataset.labels, dataset.charset,
                                epochs=config.recognizer_epochs, seed=config.seed + 1,
                                warmup_epochs=config.recognizer_warmup_epochs,
                                verbose=config.verbose)
    with _stops_if_unwritable(None, path), atomic_path(path, suffix=".weights.h5") as tmp:
        model.save_weights(str(tmp))
    print(f"content loss: recogniser ready ({time.perf_counter() - started:.0f} s)", flush=True)
    return path


def _load_recognizer(path: Path, dataset) -> keras.Model:
    """The frozen float32 recogniser saved by :func:`_training_recognizer`."""
    from korean_gan.charsets import jamo_table
    from korean_gan.evaluate import RECOGNIZER_WIDTHS
    from korean_gan.models import build_evaluator

    with dtype_policy("float32"):
        model = build_evaluator(len(dataset.charset), dataset.image_size,
                                jamo_table=jamo_table(dataset.charset.chars),
                                widths=RECOGNIZER_WIDTHS, name="recognizer")
    try:
        model.load_weights(str(path))
    except Exception as err:  # h5py/Keras raise several types for foreign files
        raise TrainError(f"{path} is not this run's recogniser ({str(err)[:160]}); delete it "
                         "and it is trained again") from None
    return model


def _save_generator(generator: keras.Model, path: Path) -> None:
    """Saves the generator's weights (weights only) atomically."""
    from korean_gan._io import atomic_path

    with atomic_path(path, suffix=".weights.h5") as tmp:
        generator.save_weights(str(tmp))
