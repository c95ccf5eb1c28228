"""Evaluation: how good are generated glyphs, measured with a Hangul recogniser.

The reference project judged its samples by eye. Here a small CNN recogniser (the *evaluator*,
``korean_gan.models.networks.build_evaluator``) trained on rendered glyphs, with whole fonts held
out for its test, is the yardstick:

* **FCD**, the Fréchet classifier distance: the Fréchet Inception Distance recipe (Heusel et al.
  2017, https://arxiv.org/abs/1706.08500) in the evaluator's 256-d penultimate features, beside
  the real-data floor (the FCD between two disjoint halves of the real set);
* **KID**, the unbiased kernel distance (Bińkowski et al. 2018), fair for small samples;
* **legibility**: the share of samples the evaluator reads as some syllable with p ≥ 0.9;
* **coverage**: the histogram of the syllables read and its entropy (mode collapse shows here);
* **content accuracy**: for labelled samples, the share read as the intended syllable;
* **precision / recall** (Kynkäänniemi et al. 2019, k = 3) in evaluator features;
* **CAS**, the classification accuracy score (Ravuri & Vinyals 2019,
  https://arxiv.org/abs/1905.10887): a fresh classifier trained only on generated labelled
  samples, tested on real glyphs of the held-out fonts.

The committed evaluators live in ``korean_gan/evaluators/<charset>.weights.h5`` with a JSON
sidecar that records their fonts, split, accuracy and sha256. This module never imports the
trainer.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from korean_gan.artifacts import BEST_FILE, BEST_GENERATOR_FILE, EVAL_LOG_FILE, TENSORBOARD_DIR
from korean_gan.data.charsets import Charset, resolve_charset
from korean_gan.data.dataset import GlyphDataset, load_dataset
from korean_gan.evaluation import metrics
from korean_gan.evaluation.reader import EVALUATOR_DIR, ReaderError, reader_files

__all__ = [
    "CASConfig",
    "DEFAULT_HELD_OUT",
    "EvaluationCallback",
    "EvaluationError",
    "Evaluator",
    "EvaluatorConfig",
    "classification_accuracy_score",
    "evaluate_samples",
    "export_jamo_reader",
    "find_evaluator",
    "fit_jamo_recognizer",
    "real_statistics",
    "train_evaluator",
]

#: Fonts the committed evaluators never see in training: one handwriting, one brush, one display.
DEFAULT_HELD_OUT = ("NanumPenScript-Regular", "Dokdo-Regular", "BMYeonsung-Regular")
#: Widths of the content loss's recogniser: the evaluators' (wider ones, 48/96/192, learned
#: far slower with this recipe: 10% of initials read after 2 epochs, against 32%).
RECOGNIZER_WIDTHS = (32, 64, 128)


class EvaluationError(ValueError):
    """Samples, weights or settings that cannot be evaluated, with the reason."""


@dataclass
class EvaluatorConfig:
    """How an evaluator is trained.

    Attributes:
        charset: The syllables it recognises.
        fonts: Font files or folders to render (``bundled`` is the corpus).
        held_out: Font names (file stems) kept out of training, for its test.
        augment: Augmentation policies of its training glyphs (never mirrors).
        copies: Variants per random policy.
        epochs: Training epochs.
        batch_size: Images per step.
        learning_rate: Adam learning rate (cosine-decayed to 0).
        seed: Seed of rendering augmentation, weights and data order.
        jamo_heads: Read initial, vowel and final with three heads and compose the syllable
            (``None``: only for charsets of more than 256 syllables, where one softmax over
            thousands of classes has too few glyphs per class to learn from).
        widths: Filters of the three convolution blocks.
    """

    charset: str = "seed16"
    fonts: tuple[str, ...] = ("bundled",)
    held_out: tuple[str, ...] = DEFAULT_HELD_OUT
    augment: tuple[str, ...] = ("reference", "affine", "elastic", "stroke")
    copies: int = 2
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    jamo_heads: bool | None = None
    widths: tuple[int, ...] = (32, 64, 128)


def _sha256(path: Path) -> str:
    from korean_gan._io import sha256_file

    return sha256_file(path)


def _as_uint8_batch(images: np.ndarray, size: int) -> np.ndarray:
    """Checks generated/real images and returns them as uint8 (N, S, S, 1), 255 = paper."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (size, size):
        raise EvaluationError(f"images have shape {images.shape}; the evaluator needs "
                              f"(N, {size}, {size}) or (N, {size}, {size}, 1)")
    if len(images) == 0:
        raise EvaluationError("no images to evaluate")
    if images.dtype != np.uint8:
        if not np.issubdtype(images.dtype, np.floating):
            raise EvaluationError(f"images have dtype {images.dtype}; give uint8 (255 = paper) "
                                  "or floats in [-1, 1]")
        if not np.isfinite(images).all():
            raise EvaluationError("images contain NaN or infinite values")
        low, high = float(images.min()), float(images.max())
        if low < -1.0 - 1e-3 or high > 1.0 + 1e-3:
            raise EvaluationError(f"float images must be in [-1, 1] (generator output); got "
                                  f"[{low:.3g}, {high:.3g}]")
        from korean_gan.data.images import from_model_output

        images = from_model_output(images)
    return images[..., None]


class Evaluator:
    """A trained glyph recogniser used as the metric network.

    Args:
        model: The Keras model from ``build_evaluator`` with loaded weights.
        charset: The syllables, in the model's output order.
        info: The sidecar metadata (fonts, split, accuracy, ...).
    """

    def __init__(self, model, charset: Charset, info: dict):
        self.model = model
        self.charset = charset
        self.info = info
        self.image_size = int(model.input_shape[1])

    @property
    def name(self) -> str:
        """Short name for reports and cache keys (charset and weights hash)."""
        return f"{self.charset.name}-{self.info.get('sha256', 'unsaved')[:8]}"

    @classmethod
    def load(cls, name_or_path: str | os.PathLike = "seed16") -> Evaluator:
        """Loads a committed evaluator (``seed16``, ``ks2350``) or a ``.weights.h5`` file.

        The weights' sha256 is checked against the sidecar JSON, and only weights are read.

        Raises:
            EvaluationError: unknown name, missing file, or a hash mismatch.
        """

        path = Path(name_or_path)
        if not path.suffix:
            path = EVALUATOR_DIR / f"{name_or_path}.weights.h5"
            if not path.is_file():
                known = sorted(p.name.split(".")[0] for p in EVALUATOR_DIR.glob("*.weights.h5"))
                raise EvaluationError(f"no committed evaluator {name_or_path!r}; available: "
                                      f"{', '.join(known) or 'none'} (or train one with "
                                      "`korean-gan evaluator train`)")
        if not path.is_file():
            raise EvaluationError(f"evaluator weights {path} do not exist")
        sidecar = path.with_name(path.name.replace(".weights.h5", ".json"))
        if not sidecar.is_file():
            raise EvaluationError(f"evaluator {path} lacks its description {sidecar.name}")
        info = json.loads(sidecar.read_text(encoding="utf-8"))
        actual = _sha256(path)
        if info.get("sha256") != actual:
            raise EvaluationError(f"evaluator weights {path} do not match the sha256 in "
                                  f"{sidecar.name} (file changed or damaged); restore it or "
                                  "retrain with `korean-gan evaluator train`")
        charset = Charset(info["charset_name"], tuple(info["charset"]))
        model = _build(charset, info.get("image_size", 32), info.get("jamo_heads", False),
                       tuple(info.get("widths", (32, 64, 128))))
        try:
            model.load_weights(str(path))
        except Exception as err:  # h5py/Keras raise several types for foreign files
            raise EvaluationError(f"evaluator weights {path} cannot be loaded "
                                  f"({str(err).splitlines()[0][:200]}); retrain with "
                                  "`korean-gan evaluator train`") from None
        return cls(model, charset, info)

    def label_map(self, charset: Charset) -> np.ndarray:
        """Array mapping labels of ``charset`` to this evaluator's labels.

        Raises:
            EvaluationError: a syllable of ``charset`` is not one this evaluator reads.
        """
        index = {c: i for i, c in enumerate(self.charset.chars)}
        missing = [c for c in charset.chars if c not in index]
        if missing:
            raise EvaluationError(f"the evaluator {self.name} does not read {len(missing)} "
                                  f"syllables of {charset.name!r} (e.g. {''.join(missing[:5])})")
        return np.array([index[c] for c in charset.chars], dtype=np.int64)

    def predict(self, images: np.ndarray, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """Features (N, 256) and class probabilities (N, C) of images.

        Args:
            images: uint8 (N, S, S[, 1]) with 255 = paper, or floats in [-1, 1].
            batch_size: Images per forward pass.
        """
        batch = _as_uint8_batch(images, self.image_size).astype(np.float32)
        feats, probs = [], []
        for i in range(0, len(batch), batch_size):
            out = self.model(batch[i:i + batch_size], training=False)
            feats.append(np.asarray(out["features"], np.float64))
            probs.append(np.asarray(out["probs"], np.float64))
        return np.concatenate(feats), np.concatenate(probs)


def export_jamo_reader(name: str = "ks2350") -> Path:
    """Exports a committed evaluator's jamo heads to ``evaluators/<name>-jamo.onnx`` and
    records the file's sha256 in the evaluator's sidecar (both written atomically).

    Args:
        name: A committed evaluator with jamo heads (``ks2350``).

    Returns:
        The ``.onnx`` file.

    Raises:
        ReaderError: the evaluator has no jamo heads.
    """
    from korean_gan._io import atomic_path, sha256_file, write_json_atomic
    from korean_gan.models.onnx_io import export_evaluator_jamo

    evaluator = Evaluator.load(name)
    if not evaluator.info.get("jamo_heads"):
        raise ReaderError(f"the evaluator {name} reads syllables with one head, not jamo: "
                          "export one trained with jamo heads (ks2350)")
    path, sidecar = reader_files(name)
    with atomic_path(path, suffix=".onnx") as tmp:
        tmp.write_bytes(export_evaluator_jamo(evaluator.model))
    info = json.loads(sidecar.read_text(encoding="utf-8"))
    info["jamo_onnx_sha256"] = sha256_file(path)
    write_json_atomic(sidecar, info)
    return path


def find_evaluator(charset: Charset) -> Evaluator:
    """The committed evaluator for ``charset``: one that reads exactly its syllables, else the
    smallest that reads all of them (``ks2350`` for ``ks2350-train``).

    Labels of ``charset`` become the evaluator's with :meth:`Evaluator.label_map`.

    Raises:
        EvaluationError: none reads every syllable of the charset.
    """
    wanted = list(charset.chars)
    supersets = []
    for sidecar in sorted(EVALUATOR_DIR.glob("*.json")):
        info = json.loads(sidecar.read_text(encoding="utf-8"))
        chars = info.get("charset", [])
        if chars == wanted:
            return Evaluator.load(sidecar.with_name(sidecar.stem + ".weights.h5"))
        if set(wanted) <= set(chars):
            supersets.append((len(chars), sidecar))
    if supersets:
        return Evaluator.load(min(supersets)[1].with_name(min(supersets)[1].stem
                                                          + ".weights.h5"))
    raise EvaluationError(f"no committed evaluator reads the charset {charset.name!r} "
                          f"({len(charset)} syllables); train one with `korean-gan evaluator "
                          "train --charset ...` and pass --evaluator")


# --- training the evaluator -------------------------------------------------------------------

def _split_by_font(data: GlyphDataset, held_out: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    unknown = sorted(set(held_out) - set(data.fonts))
    if unknown:
        raise EvaluationError(f"held-out fonts {unknown} are not among the dataset's fonts")
    held = np.isin(data.font_ids, [data.fonts.index(f) for f in held_out])
    return ~held, held


def _build(charset: Charset, image_size: int, jamo_heads: bool,
           widths: tuple[int, ...] = (32, 64, 128)):
    from korean_gan.data.charsets import jamo_table
    from korean_gan.models.networks import build_evaluator

    table = jamo_table(charset.chars) if jamo_heads else None
    return build_evaluator(len(charset), image_size, jamo_table=table, widths=widths)


def _classifier_batches(images: np.ndarray, targets, batch_size: int, seed: int, epochs: int,
                       augment: bool = False):
    """The training batches of a classifier's ``epochs`` epochs, as one ``tf.data`` pipeline.

    Each epoch is a fresh shuffle of all glyphs (seeded), cut into ``ceil(N / batch_size)``
    batches of float32 images ``(B, S, S, 1)`` (255 = paper) and their ``targets``. With
    ``augment``, batch i of every epoch gets fresh random affine variants of its glyphs
    (:func:`korean_gan.data.augment.random_affine_batch`) from the stateless seed (seed, i); the
    reshuffle puts other glyphs in it, so a glyph meets a new transform every epoch,
    reproducibly.

    One pipeline over all the epochs, not a new iterator per epoch: with an iterator per epoch
    most of a recogniser's epochs took 41 s instead of 23 s on a 2-core CPU (measured; every
    epoch ran at 23 s with the one pipeline). It yields the batches the per-epoch form gave:
    Keras's ``fit`` made two iterators of the dataset per epoch and trained on the first, so
    epoch k saw the dataset's (2k − 1)-th reshuffle; the committed evaluators, the CAS
    baselines and the recognisers of earlier runs came from those orders, so the pipeline
    draws the reshuffles in pairs and keeps the first of each.

    Args:
        images: uint8 glyphs ``(N, S, S)``.
        targets: An array, or a tuple of arrays, with N rows each.
        batch_size: Glyphs per batch.
        seed: Seed of the order and the transforms.
        epochs: Epochs of batches the pipeline yields.
        augment: Random affine variants every epoch.

    Returns:
        A ``tf.data.Dataset`` of ``(images, targets)`` batches, ``epochs × ceil(N / batch_size)``
        of them.
    """
    import tensorflow as tf

    from korean_gan.data.augment import random_affine_batch

    steps = -(-len(images) // batch_size)
    # repeat() re-iterates the shuffle, which draws a new order each time; the skipped
    # reshuffles cost only a shuffle of uint8 glyphs (the transforms come after the filter).
    ds = (tf.data.Dataset.from_tensor_slices((images[..., None], targets))
          .shuffle(len(images), seed=seed).batch(batch_size)
          .repeat(2 * epochs).enumerate()
          .filter(lambda g, xy: (g // steps) % 2 == 0))
    if augment:
        ds = ds.map(lambda g, xy: (random_affine_batch(
            tf.cast(xy[0], tf.float32), tf.stack([tf.cast(seed, tf.int64), g % steps])), xy[1]),
            num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda g, xy: (tf.cast(xy[0], tf.float32), xy[1]))
    return ds.prefetch(tf.data.AUTOTUNE)


def _classifier_schedule(n: int, batch_size: int, epochs: int, learning_rate: float,
                         warmup_epochs: float = 0.0):
    """The classifiers' learning rate: cosine decay to 0 over ``epochs`` epochs of ``n``
    glyphs, after an optional linear warm-up from 0 over ``warmup_epochs`` of them."""
    import keras

    per_epoch = max(1, n // batch_size)
    steps = per_epoch * epochs
    if warmup_epochs <= 0:
        return keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    # Linear warm-up (Goyal et al. 2017, https://arxiv.org/abs/1706.02677): full-size Adam
    # steps on fresh weights can stall a 2,350-class classifier for good.
    warmup = min(steps - 1, max(1, round(per_epoch * warmup_epochs)))
    return keras.optimizers.schedules.CosineDecay(0.0, steps - warmup, warmup_target=learning_rate,
                                                  warmup_steps=warmup)


def _fit_classifier(images: np.ndarray, labels: np.ndarray, charset: Charset, epochs: int,
                    batch_size: int, learning_rate: float, seed: int, verbose: int | str = 0,
                    jamo_heads: bool = False, widths: tuple[int, ...] = (32, 64, 128),
                    augment: bool = False, warmup_epochs: float = 0.0,
                    losses: list | None = None):
    """Trains a fresh ``build_evaluator`` model on (uint8 images, labels), on the batches of
    :func:`_classifier_batches` (with ``augment``, fresh random affine variants every epoch).

    With ``warmup_epochs``, the learning rate first rises linearly from 0 over that many
    epochs' steps, then decays (cosine) to 0 over the rest; ``losses`` (a list) gets each
    epoch's mean training loss."""
    import keras

    from korean_gan.data.charsets import jamo_table

    keras.utils.set_random_seed(seed)
    model = _build(charset, images.shape[1], jamo_heads, widths)
    schedule = _classifier_schedule(len(images), batch_size, epochs, learning_rate,
                                    warmup_epochs)
    # Train through a view of the same layers with only the heads that have a loss.
    if jamo_heads:
        parts = ("initial", "vowel", "final")
        classifier = keras.Model(model.inputs, [model.output[p] for p in parts])
        targets = tuple(jamo_table(charset.chars)[labels].T)
        loss = ["sparse_categorical_crossentropy"] * 3
        metric = [["accuracy"]] * 3
    else:
        classifier = keras.Model(model.inputs, model.output["probs"])
        targets, loss, metric = labels, "sparse_categorical_crossentropy", ["accuracy"]
    classifier.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, metrics=metric)
    batches = _classifier_batches(images, targets, batch_size, seed, epochs, augment)
    history = classifier.fit(batches, epochs=epochs,
                             steps_per_epoch=-(-len(images) // batch_size),
                             verbose=verbose, shuffle=False)
    if losses is not None:
        losses.extend(float(v) for v in history.history["loss"])
    return model


def fit_jamo_recognizer(images: np.ndarray, labels: np.ndarray, charset: Charset,
                        epochs: int = 30, seed: int = 0,
                        widths: tuple[int, ...] = RECOGNIZER_WIDTHS, batch_size: int = 128,
                        learning_rate: float = 2e-3, warmup_epochs: float = 0.0,
                        verbose: int | str = 0):
    """A jamo recogniser (``build_evaluator`` with jamo heads) trained on glyphs you give it.

    The conditional trainer's content loss reads generated glyphs with one of these, trained
    on the run's own training glyphs only (fresh random affine variants every epoch) and its
    own seed; it has the evaluators' architecture, so what it teaches the generator is checked
    with measures it does not take part in (CAS, the sample sheet).

    Args:
        images: uint8 glyphs ``(N, S, S)``, 255 = paper.
        labels: Their class indices in ``charset``.
        charset: Syllables of the labels (their jamo are the targets).
        epochs: Passes over the glyphs.
        seed: Seed of the weights, order and augmentation.
        widths: Filters of its three convolution blocks.
        batch_size: Glyphs per step.
        learning_rate: Adam's, cosine-decayed to 0.
        warmup_epochs: Raise the learning rate linearly from 0 over this many epochs first.
        verbose: Keras progress output.

    Returns:
        The trained model (outputs ``features``, ``probs``, ``initial``, ``vowel``, ``final``).
    """
    if len(images) != len(labels):
        raise EvaluationError(f"{len(images)} images but {len(labels)} labels")
    return _fit_classifier(np.asarray(images, np.uint8), np.asarray(labels, np.int64), charset,
                           epochs, batch_size, learning_rate, seed, verbose=verbose,
                           jamo_heads=True, widths=tuple(widths), augment=True,
                           warmup_epochs=warmup_epochs)


def _predictions(model, images: np.ndarray) -> np.ndarray:
    """The class a recogniser-shaped model reads in each uint8 image (N, S, S)."""
    return np.concatenate([
        np.asarray(model(images[i:i + 1024, ..., None].astype(np.float32),
                         training=False)["probs"]).argmax(axis=1)
        for i in range(0, len(images), 1024)])


def _accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(_predictions(model, images) == labels))


def train_evaluator(config: EvaluatorConfig | None = None, out: str | os.PathLike | None = None,
                    verbose: int | str = "auto") -> tuple[Evaluator, dict]:
    """Renders glyphs, trains the recogniser on all but the held-out fonts, and saves it.

    Args:
        config: What to train (default: seed16 over the bundled fonts).
        out: The ``.weights.h5`` path (a JSON sidecar is written beside it); default
            ``korean_gan/evaluators/<charset>.weights.h5``.
        verbose: Keras progress output.

    Returns:
        The evaluator and its report (held-out-font accuracy, fonts, timing).
    """
    from korean_gan._io import atomic_path, write_json_atomic
    from korean_gan.data.dataset import build_dataset

    config = config or EvaluatorConfig()
    charset = resolve_charset(config.charset)
    out = Path(out) if out else EVALUATOR_DIR / f"{charset.name}.weights.h5"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        built = build_dataset(charset=config.charset, fonts=tuple(config.fonts),
                              augment=tuple(config.augment), copies=config.copies,
                              seed=config.seed, out=str(Path(tmp) / "eval.npz"),
                              preview=False, progress=verbose != 0)
        data = load_dataset(built.path)
    train_mask, test_mask = _split_by_font(data, tuple(config.held_out))
    orig = data.aug_ids == data.augmentations.index("orig")
    jamo_heads = len(charset) > 256 if config.jamo_heads is None else bool(config.jamo_heads)
    model = _fit_classifier(data.images[train_mask], data.labels[train_mask], charset,
                            config.epochs, config.batch_size, config.learning_rate,
                            config.seed, verbose, jamo_heads, tuple(config.widths))
    test = test_mask & orig
    held_out_accuracy = _accuracy(model, data.images[test], data.labels[test])
    # The originals of three fonts are few (48 for seed16): also report the augmented variants
    # of the held-out fonts, a larger (and harder) test of the same fonts.
    held_out_augmented = _accuracy(model, data.images[test_mask], data.labels[test_mask])
    train_fonts = sorted(set(data.fonts) - set(config.held_out))
    with atomic_path(out, suffix=".weights.h5") as tmp_path:
        model.save_weights(str(tmp_path))
    report = {
        "charset_name": charset.name,
        "charset": list(charset.chars),
        "image_size": data.image_size,
        "jamo_heads": jamo_heads,
        "widths": list(config.widths),
        "held_out_accuracy": round(held_out_accuracy, 5),
        "held_out_images": int(test.sum()),
        "held_out_accuracy_augmented": round(held_out_augmented, 5),
        "held_out_images_augmented": int(test_mask.sum()),
        "train_images": int(train_mask.sum()),
        "train_fonts": train_fonts,
        "held_out_fonts": list(config.held_out),
        "font_sha256": {f["name"]: f["sha256"] for f in built.manifest["fonts"]},
        "config": asdict(config),
        "seconds": round(time.perf_counter() - started, 1),
        "sha256": _sha256(out),
    }
    write_json_atomic(out.with_name(out.name.replace(".weights.h5", ".json")), report)
    return Evaluator(model, charset, report), report


# --- metrics of samples -----------------------------------------------------------------------

@dataclass
class RealStatistics:
    """Evaluator features of a real dataset, for FCD/KID/precision-recall."""

    features: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    floor_fcd: float
    n: int
    extra: dict = field(default_factory=dict)


def _cache_path(dataset_path: Path, evaluator: Evaluator) -> Path:
    digest = hashlib.sha256(dataset_path.read_bytes()).hexdigest()[:12]
    return dataset_path.with_name(
        f".{dataset_path.stem}.evalstats-{evaluator.name}-{digest}.npz")


def real_statistics(dataset: str | os.PathLike, evaluator: Evaluator,
                    originals_only: bool = False, seed: int = 0) -> RealStatistics:
    """Evaluator features of a real dataset, cached beside it (keyed by both files' hashes).

    The floor is the FCD between two random disjoint halves of the real set: the distance a
    perfect generator with half as many samples would still show.
    """
    from korean_gan._io import save_npz

    path = Path(dataset)
    cache = _cache_path(path, evaluator)
    feats = None
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as npz:
                feats = npz["features"]
                floor = float(npz["floor_fcd"])
        except Exception:  # a damaged cache is stale: compute the statistics again
            feats = None
    if feats is None:
        data = load_dataset(path)
        if originals_only:
            data = data.originals()
        feats, _ = evaluator.predict(data.images)
        order = np.random.default_rng(seed).permutation(len(feats))
        half = len(feats) // 2
        floor = metrics.frechet_distance_from_activations(feats[order[:half]],
                                                          feats[order[half:2 * half]])
        try:
            save_npz(cache, {"features": feats.astype(np.float32), "floor_fcd": np.float64(floor)})
        except OSError:
            pass  # a read-only dataset folder: compute again next time
    mu, sigma = metrics.gaussian_statistics(feats)
    return RealStatistics(feats.astype(np.float64), mu, sigma, floor, len(feats))


def evaluate_samples(images: np.ndarray, evaluator: Evaluator,
                     real: RealStatistics | None = None, labels: np.ndarray | None = None,
                     precision_recall: bool = True, seed: int = 0) -> dict:
    """All sample metrics in one pass of the evaluator.

    Args:
        images: Generated images, uint8 (255 = paper) or floats in [-1, 1].
        evaluator: The metric network.
        real: Statistics of the real data (needed for FCD, KID, precision/recall).
        labels: Intended syllable of each image (labels of ``evaluator.charset``), if known.
        precision_recall: Also compute improved precision/recall (k = 3).
        seed: Seed of the KID subsets.

    Returns:
        A flat dict of numbers (and the coverage histogram).
    """
    feats, probs = evaluator.predict(images)
    result: dict = {"n": int(len(feats)), "evaluator": evaluator.name}
    result["legibility"] = metrics.legibility(probs, 0.9)
    coverage = metrics.class_coverage(probs, len(evaluator.charset))
    result.update(coverage_entropy=coverage["normalized_entropy"],
                  classes_covered=coverage["classes_covered"],
                  coverage_histogram=coverage["histogram"])
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(feats),):
            raise EvaluationError(f"labels have shape {labels.shape}; expected ({len(feats)},)")
        if labels.min() < 0 or labels.max() >= len(evaluator.charset):
            raise EvaluationError(f"labels out of range [0, {len(evaluator.charset)}) of the "
                                  f"evaluator's charset {evaluator.charset.name}")
        result["content_accuracy"] = metrics.content_accuracy(probs, labels)
    if real is not None:
        mu, sigma = metrics.gaussian_statistics(feats)
        result["fcd"] = metrics.frechet_distance(mu, sigma, real.mu, real.sigma)
        result["fcd_floor"] = real.floor_fcd
        kid_mean, kid_std = metrics.kernel_distance(feats, real.features, seed=seed)
        result["kid"], result["kid_std"] = kid_mean, kid_std
        if precision_recall:
            n = min(len(feats), len(real.features), 5000)
            rng = np.random.default_rng(seed)
            fake_sub = feats[rng.permutation(len(feats))[:n]]
            real_sub = real.features[rng.permutation(len(real.features))[:n]]
            result["precision"], result["recall"] = metrics.precision_recall(real_sub, fake_sub,
                                                                             k=3)
    return result


@dataclass
class CASConfig:
    """How CAS trains its classifiers: one recipe for generated and for real glyphs.

    Attributes:
        epochs: Passes over the training glyphs.
        batch_size: Glyphs per step.
        learning_rate: Adam's, cosine-decayed to 0.
        seeds: One classifier per seed and training set; the scores are means over seeds.
            A classifier that generalises from ~20 styles to unseen fonts varies with its
            seed, so one seed cannot judge a generator.
        augment: Give the classifier fresh random affine variants of its glyphs every epoch
            (:func:`korean_gan.data.augment.random_affine_batch`), which makes it generalise to
            new fonts better and vary less with its seed.
        real_plus_generated: Also train on real and generated glyphs together (the benefit of
            adding generated data), which costs as much as the other two together.
        warmup_epochs: Raise the learning rate linearly from 0 over this many epochs before
            the cosine decay. Without it (0) the classifiers often stalled
            on a plateau (final training loss 2 to 5 instead of 0.2 to 0.35) and their
            accuracy swung with the seed by up to 40 points (benchmarks/cas_protocol.py).
    """

    epochs: int = 10  # passes over the ~42,000 training glyphs
    batch_size: int = 128
    learning_rate: float = 2e-3  # Adam's peak
    seeds: tuple[int, ...] = (0, 1, 2)
    augment: bool = True  # fresh random affine variants every epoch
    real_plus_generated: bool = False
    warmup_epochs: float = 1.0


def cas_split(real_dataset: GlyphDataset, evaluator: Evaluator) -> tuple[np.ndarray, np.ndarray]:
    """CAS's real glyphs: a mask of the evaluator's training fonts (the baseline's training
    set) and a mask of the originals of its held-out fonts (every classifier's test set)."""
    held = tuple(evaluator.info.get("held_out_fonts", ()))
    if not held:
        raise EvaluationError("the evaluator records no held-out fonts to test CAS on")
    if list(real_dataset.charset.chars) != list(evaluator.charset.chars):
        raise EvaluationError("the real dataset's charset differs from the evaluator's")
    train_mask, test_mask = _split_by_font(real_dataset, held)
    return train_mask, test_mask & (real_dataset.aug_ids
                                    == real_dataset.augmentations.index("orig"))


def fit_cas_classifier(images: np.ndarray, labels: np.ndarray, evaluator: Evaluator,
                       config: CASConfig, seed: int, losses: list | None = None):
    """One CAS classifier: the evaluator's architecture trained on uint8 glyphs ``(N, S, S)``
    with ``config``'s recipe and ``seed``; ``losses`` (a list) gets each epoch's training loss."""
    return _fit_classifier(images, labels, evaluator.charset, config.epochs, config.batch_size,
                           config.learning_rate, seed,
                           jamo_heads=bool(evaluator.info.get("jamo_heads", False)),
                           widths=tuple(evaluator.info.get("widths", (32, 64, 128))),
                           augment=config.augment, warmup_epochs=config.warmup_epochs,
                           losses=losses)


def classification_accuracy_score(images: np.ndarray, labels: np.ndarray, evaluator: Evaluator,
                                  real_dataset: GlyphDataset, config: CASConfig | None = None,
                                  progress: bool = False,
                                  real_baseline: tuple[float, ...] | None = None) -> dict:
    """CAS (Ravuri & Vinyals 2019): train on generated, test on real held-out fonts.

    For every seed in ``config.seeds``, trains fresh classifiers of the evaluator's
    architecture on the generated labelled samples alone (CAS) and on the real glyphs of the
    evaluator's training fonts (the baseline), and optionally on both; tests each on the
    originals of the evaluator's held-out fonts in ``real_dataset``.

    Args:
        images: Generated glyphs (uint8 or [-1, 1] floats, the evaluator's size).
        labels: Their class indices in the evaluator's charset.
        evaluator: Gives the charset, architecture and held-out fonts.
        real_dataset: Real glyphs of the evaluator's fonts (its training and held-out fonts).
        config: The classifiers' recipe (default: :class:`CASConfig`).
        progress: Print one line per classifier trained.
        real_baseline: The baseline's accuracy per seed of ``config.seeds``, measured before
            with the same config and real data (it does not depend on the generated glyphs):
            given, those classifiers are not trained again.

    Returns:
        ``cas``, ``real_baseline`` (and ``real_plus_generated``): means over the seeds;
        ``cas_ratio``: their ratio; ``per_seed``: each seed's accuracies;
        ``final_training_loss``: each classifier's last-epoch training loss (one that failed
        to fit its glyphs shows here); ``test_images``, ``test_fonts`` and the ``config`` used.
    """
    config = config or CASConfig()
    if not config.seeds:
        raise EvaluationError("CAS needs at least one classifier seed")
    train_mask, test = cas_split(real_dataset, evaluator)
    test_x, test_y = real_dataset.images[test], real_dataset.labels[test]
    gen = _as_uint8_batch(images, evaluator.image_size)[..., 0]
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (len(gen),):
        raise EvaluationError(f"labels have shape {labels.shape}; expected ({len(gen)},)")
    runs = {"cas": (gen, labels)}
    if real_baseline is None:
        runs["real_baseline"] = (real_dataset.images[train_mask],
                                 real_dataset.labels[train_mask])
    elif len(real_baseline) != len(config.seeds):
        raise EvaluationError(f"real_baseline has {len(real_baseline)} accuracies for "
                              f"{len(config.seeds)} classifier seeds")
    if config.real_plus_generated:
        runs["real_plus_generated"] = (np.concatenate([real_dataset.images[train_mask], gen]),
                                       np.concatenate([real_dataset.labels[train_mask], labels]))
    per_seed: dict[str, list[float]] = {key: [] for key in runs}
    final_loss: dict[str, list[float]] = {key: [] for key in runs}
    for seed in config.seeds:
        for key, (x, y) in runs.items():
            started = time.perf_counter()
            losses: list[float] = []
            model = fit_cas_classifier(x, y, evaluator, config, seed, losses)
            per_seed[key].append(_accuracy(model, test_x, test_y))
            final_loss[key].append(losses[-1])
            if progress:
                print(f"CAS: {key} classifier, seed {seed}: {per_seed[key][-1]:.4f} "
                      f"(final training loss {losses[-1]:.3f}, "
                      f"{time.perf_counter() - started:.0f} s)", flush=True)
    if real_baseline is not None:
        per_seed["real_baseline"] = [float(a) for a in real_baseline]
    result: dict = {key: float(np.mean(values)) for key, values in per_seed.items()}
    result["cas_ratio"] = result["cas"] / result["real_baseline"] \
        if result["real_baseline"] > 0 else float("nan")
    result.update(per_seed=per_seed, final_training_loss=final_loss,
                  test_images=int(test.sum()), test_fonts=list(evaluator.info["held_out_fonts"]),
                  config=asdict(config))
    return result


def format_report(result: dict) -> str:
    """A small aligned table of the scalar metrics."""
    names = {
        "n": "samples", "fcd": "FCD", "fcd_floor": "FCD real-data floor", "kid": "KID",
        "kid_std": "KID std", "legibility": "legibility (p >= 0.9)",
        "coverage_entropy": "coverage entropy (normalised)", "classes_covered": "classes covered",
        "content_accuracy": "content accuracy", "precision": "precision (k=3)",
        "recall": "recall (k=3)", "cas": "CAS (train generated, test real)",
        "real_baseline": "real-trained accuracy", "cas_ratio": "CAS / real-trained",
        "real_plus_generated": "real+generated accuracy",
    }
    lines = []
    for key, label in names.items():
        if key in result:
            value = result[key]
            text = f"{value:,}" if isinstance(value, int) else f"{value:.4f}"
            lines.append(f"  {label:34} {text}")
    return "\n".join(lines)


# --- during training --------------------------------------------------------------------------

import keras  # noqa: E402  (only the training callback below needs it)


class EvaluationCallback(keras.callbacks.Callback):
    """Evaluates the generator every ``every`` epochs and keeps its best weights by FCD.

    Writes ``eval.csv`` (epoch, FCD, KID, legibility, coverage entropy, classes covered) and
    TensorBoard scalars under ``tensorboard/eval`` in the run folder, and saves the generator
    with the lowest FCD so far as ``generator.best.weights.h5`` (with ``best.json``).

    Args:
        run_dir: The run folder.
        data: The real dataset the run trains on.
        every: Evaluate every this many epochs (and after the last).
        n: Samples per evaluation (same noise each time).
        total_epochs: The run's last epoch.
        evaluator: An Evaluator, or None to pick the committed one for the data's charset
            (if none exists, the callback warns once and does nothing).
        tensorboard: Also write TensorBoard scalars.
    """

    COLUMNS = ("epoch", "fcd", "fcd_floor", "kid", "legibility", "coverage_entropy",
               "classes_covered", "content_accuracy", "unseen_content_accuracy")

    def __init__(self, run_dir, data, every: int = 10, n: int = 2000, total_epochs: int = 0,
                 evaluator: Evaluator | None = None, tensorboard: bool = True):
        super().__init__()
        self.run_dir, self.data = Path(run_dir), Path(data)
        self.every, self.n, self.total_epochs = every, n, total_epochs
        self.evaluator, self.tensorboard = evaluator, tensorboard
        self.real: RealStatistics | None = None
        self.noise: np.ndarray | None = None
        self.best = float("inf")
        self.writer = None

    def on_train_begin(self, logs=None):
        import warnings

        if self.evaluator is None:
            try:
                self.evaluator = find_evaluator(load_dataset(self.data).charset)
            except EvaluationError as err:
                warnings.warn(f"no evaluation during training: {err}", stacklevel=2)
                return
        charset = load_dataset(self.data).charset
        self.labels_to_evaluator = self.evaluator.label_map(charset)
        # Syllables the evaluator reads but the run never trains on (a held-out split): a
        # conditional model is also asked for those, to measure composition from jamo.
        seen = set(charset.chars)
        self.unseen = [c for c in self.evaluator.charset.chars if c not in seen]
        self.real = real_statistics(self.data, self.evaluator)
        noise_dim = self.model.noise_dim
        self.noise = np.random.default_rng(12345).standard_normal(
            (self.n, noise_dim)).astype(np.float32)
        best = self.run_dir / BEST_FILE
        if best.is_file():
            self.best = float(json.loads(best.read_text())["fcd"])
        if self.tensorboard:
            import tensorflow as tf

            self.writer = tf.summary.create_file_writer(str(self.run_dir / TENSORBOARD_DIR /
                                                            "eval"))

    def on_epoch_end(self, epoch, logs=None):
        number = epoch + 1
        if (self.real is None or (number % self.every and number != self.total_epochs)
                or self.model.stop_training):  # an epoch cut short by a signal: on resume
            return
        from korean_gan._io import atomic_path, write_json_atomic
        from korean_gan.data.images import from_model_output

        # The model gives its own samples: unconditional ones, or labelled ones that cycle
        # through the charset (then content accuracy is measured too).
        images, labels = self.model.evaluation_samples(self.noise)
        if labels is not None:
            labels = self.labels_to_evaluator[labels]
        result = evaluate_samples(from_model_output(images), self.evaluator, self.real,
                                  labels=labels, precision_recall=False)
        if self.unseen and labels is not None:
            images, unseen_labels = self.model.evaluation_samples(
                self.noise[:max(len(self.unseen), len(self.noise) // 4)], chars=self.unseen)
            _, probs = self.evaluator.predict(from_model_output(images))
            to_eval = self.evaluator.label_map(Charset("unseen", tuple(self.unseen)))
            result["unseen_content_accuracy"] = metrics.content_accuracy(
                probs, to_eval[unseen_labels])
        row = {"epoch": number, **{k: result.get(k, "") for k in self.COLUMNS[1:]}}
        path = self.run_dir / EVAL_LOG_FILE
        import csv

        new = not path.is_file()
        with open(path, "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=self.COLUMNS)
            if new:
                writer.writeheader()
            writer.writerow({k: (f"{v:.6f}" if isinstance(v, float) else v)
                             for k, v in row.items()})
        if logs is not None:
            logs.update({f"eval_{k}": v for k, v in row.items()
                         if k != "epoch" and isinstance(v, (int, float))})
        if self.writer is not None:
            import tensorflow as tf

            with self.writer.as_default():
                for key in ("fcd", "kid", "legibility", "coverage_entropy", "content_accuracy",
                            "unseen_content_accuracy"):
                    if key in result:
                        tf.summary.scalar(f"eval/{key}", result[key], step=number)
        if result["fcd"] < self.best:
            self.best = result["fcd"]
            with atomic_path(self.run_dir / BEST_GENERATOR_FILE,
                             suffix=".weights.h5") as tmp:
                self.model.sampling_generator.save_weights(str(tmp))
            write_json_atomic(self.run_dir / BEST_FILE, {"epoch": number, **row})
