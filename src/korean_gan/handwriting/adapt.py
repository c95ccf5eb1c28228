"""A style of your own: fit a style vector of the conditional generator to your handwriting.

The generator stays frozen; only its ``style`` input, a vector of a few dozen numbers, is
optimised so that the generator's glyphs of your syllables look like yours (an ingested set
from ``korean-gan ingest``, a few dozen syllables are enough). Because content comes from the
jamo and style from the vector, the fitted style then writes any of the 11,172 syllables:
``korean-gan write "안녕하세요" --style mine``.

This is GAN inversion restricted to the style code, as in Image2StyleGAN (Abdal et al. 2019,
https://arxiv.org/abs/1904.03189): gradient descent (Adam) on the latent with the network
fixed, here on the expected L1 distance over the noise (a fresh noise batch every step, since
the noise is free at write time), at full and half resolution (the half-resolution term is
more forgiving of strokes a pixel off), plus a Gaussian prior fitted to the training fonts'
styles (the squared Mahalanobis distance), which keeps the vector where the generator was
trained. It starts from whichever training font's style (or their mean) is already closest.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from korean_gan.artifacts import STYLE_DIR, save_style
from korean_gan.data.charsets import jamo_table
from korean_gan.generate import Handwriting, HandwritingError
from korean_gan.models.styles import style_gaussian

__all__ = ["AdaptConfig", "AdaptResult", "adapt", "fit_style"]

_NAME = re.compile(r"^[\w.-]+$")


@dataclass
class AdaptConfig:
    """What :func:`adapt` fits and where it saves it.

    Attributes:
        data: The dataset of your glyphs (``korean-gan ingest`` output; its original glyphs of
            one style are used).
        model: ``default`` (the pretrained conditional model) or a conditional run folder.
        name: The style's name (default: the dataset's style name); ``--style NAME`` finds it.
        out: Where to save the vector (default ``styles/<name>.npz``).
        steps: Optimisation steps.
        learning_rate: Adam's step size.
        noise_samples: Noise draws per glyph and step (the expectation over the noise).
        prior_weight: Weight of the Gaussian prior on the style.
        seed: Seed of the noise.
    """

    data: str = "data/mine.npz"
    model: str = "default"
    name: str | None = None
    out: str | None = None
    steps: int = 300
    learning_rate: float = 0.05
    noise_samples: int = 2
    prior_weight: float = 0.002
    seed: int = 0


@dataclass
class AdaptResult:
    """What :func:`adapt` fitted and saved."""

    path: Path
    name: str
    vector: np.ndarray = field(repr=False)
    start: str
    loss_start: float
    loss_end: float
    n_glyphs: int
    seconds: float


def _prior(styles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and inverse covariance (regularised) of the training fonts' styles."""
    mean, cov = style_gaussian(styles)
    cov = cov + 1e-3 * np.eye(len(mean))
    return mean.astype(np.float32), np.linalg.inv(cov).astype(np.float32)


def fit_style(writer: Handwriting, images: np.ndarray, chars, steps: int = 300,
              learning_rate: float = 0.05, noise_samples: int = 2, prior_weight: float = 0.002,
              seed: int = 0, on_step: Callable[[int, int], None] | None = None
              ) -> tuple[np.ndarray, dict]:
    """Fits one style vector so the generator draws ``chars`` like ``images``.

    Args:
        writer: The conditional model (frozen).
        images: uint8 ``(N, S, S)`` glyphs (255 = paper) at the model's image size.
        chars: The syllable of each image.
        steps: Adam steps.
        learning_rate: Adam's step size.
        noise_samples: Noise draws per glyph per step.
        prior_weight: Weight of the squared Mahalanobis distance to the fonts' styles.
        seed: Seed of the noise.
        on_step: Called as ``on_step(done, steps)`` before the first step and after each.

    Returns:
        The ``(D,)`` float32 vector and a report: the starting style, and the loss (mean L1 in
        [-1, 1] units, full plus half resolution) at the start and the end.

    Raises:
        HandwritingError: no images, or images of another size than the model's.
    """
    import tensorflow as tf

    if writer.runtime != "tensorflow":  # fitting needs the network's gradients
        raise HandwritingError("fitting a style needs the model loaded in TensorFlow: "
                               "Handwriting.load(..., runtime='tensorflow')")
    images = np.asarray(images)
    if images.ndim != 3 or len(images) == 0:
        raise HandwritingError("no glyphs to fit a style to")
    if images.shape[1:] != (writer.image_size, writer.image_size):
        raise HandwritingError(f"the glyphs are {images.shape[1]} px; the model draws "
                               f"{writer.image_size} px (ingest with --size "
                               f"{writer.image_size})")
    n = len(images)
    targets = tf.constant(np.repeat(images, noise_samples, axis=0)[..., None] / 127.5 - 1.0,
                          tf.float32)
    jamo = tf.constant(np.repeat(jamo_table(list(chars)), noise_samples, axis=0), tf.int32)
    mean, precision = _prior(writer.styles)
    mean_t, precision_t = tf.constant(mean), tf.constant(precision)
    generator = writer.generator

    def distance(fake):
        full = tf.reduce_mean(tf.abs(fake - targets))
        half = tf.reduce_mean(tf.abs(tf.nn.avg_pool2d(fake, 2, 2, "VALID")
                                     - tf.nn.avg_pool2d(targets, 2, 2, "VALID")))
        return full + half

    rng = np.random.default_rng(seed)

    def noise():
        return tf.constant(rng.standard_normal((n * noise_samples, writer.noise_dim)),
                           tf.float32)

    # Start from the closest known style: each training font's and their mean.
    candidates = {name: row for name, row in zip(writer.fonts, writer.styles, strict=True)}
    candidates["mean"] = mean
    fixed = noise()
    scores = {}
    for name, row in candidates.items():
        style = tf.repeat(tf.constant(row[None], tf.float32), n * noise_samples, axis=0)
        scores[name] = float(distance(generator([fixed, jamo, style], training=False)))
    start = min(scores, key=scores.get)
    variable = tf.Variable(candidates[start][None].astype(np.float32))
    optimizer = tf.keras.optimizers.Adam(learning_rate)

    @tf.function
    def step(z):
        with tf.GradientTape() as tape:
            style = tf.repeat(variable, n * noise_samples, axis=0)
            fake = generator([z, jamo, style], training=False)
            delta = variable[0] - mean_t
            prior = tf.tensordot(delta, tf.linalg.matvec(precision_t, delta), 1)
            loss = distance(fake) + prior_weight * prior / float(len(mean))
        optimizer.apply_gradients([(tape.gradient(loss, variable), variable)])
        return loss

    steps = max(0, int(steps))
    if on_step is not None:
        on_step(0, steps)
    for done in range(1, steps + 1):
        step(noise())
        if on_step is not None:
            on_step(done, steps)
    vector = variable.numpy()[0].astype(np.float32)
    style = tf.repeat(variable, n * noise_samples, axis=0)
    end = float(distance(generator([fixed, jamo, style], training=False)))
    return vector, {"start": start, "loss_start": scores[start], "loss_end": end,
                    "loss_by_font": scores}


def adapt(config: AdaptConfig | None = None, writer: Handwriting | None = None,
          on_progress: Callable[[str, int, int], None] | None = None,
          **overrides) -> AdaptResult:
    """Fits a style to an ingested dataset and saves it where ``--style NAME`` finds it.

    Args:
        config: What to fit (see :class:`AdaptConfig`).
        writer: An already loaded model (default: load ``config.model``).
        on_progress: Called as ``on_progress("adapt", done, steps)`` as the fit goes (the
            same signature as :func:`korean_gan.fontmaker.make_font`'s).
        **overrides: Fields of :class:`AdaptConfig` to change.

    Raises:
        HandwritingError, DatasetError, OutputError: a bad model, dataset, name or output.
    """
    from korean_gan._io import check_output_path
    from korean_gan.data.dataset import load_dataset

    config = AdaptConfig(**{**asdict(config or AdaptConfig()), **overrides})
    data = load_dataset(config.data)
    if len(data.fonts) != 1:
        raise HandwritingError(f"dataset {config.data} holds {len(data.fonts)} styles "
                               f"({', '.join(data.fonts[:5])}); give one of your own from "
                               "`korean-gan ingest`")
    name = config.name or data.fonts[0]
    if not _NAME.match(name) or name in ("random", "random-one", "mean") or name.isdigit():
        raise HandwritingError(f"style name {name!r} cannot be used: give --name with letters, "
                               "digits, '.', '-' or '_' (not random, mean or a number)")
    out = Path(config.out) if config.out else STYLE_DIR / f"{name}.npz"
    check_output_path(out)
    originals = data.originals() if "orig" in data.augmentations else data
    # The style vector is optimised through the generator: float32 gradients.
    writer = writer or Handwriting.load(config.model, precision="float32")
    started = time.perf_counter()
    chars = [data.charset[label] for label in originals.labels]
    vector, report = fit_style(writer, originals.images, chars, config.steps,
                               config.learning_rate, config.noise_samples, config.prior_weight,
                               config.seed, on_step=None if on_progress is None else
                               (lambda done, total: on_progress("adapt", done, total)))
    save_style(out, vector, name=name, model=str(writer.info.get("source", config.model)),
               data=os.fspath(config.data), start=report["start"],
               loss_start=report["loss_start"], loss_end=report["loss_end"])
    return AdaptResult(out, name, vector, report["start"], report["loss_start"],
                       report["loss_end"], len(originals), time.perf_counter() - started)
