"""A faster generator: distil a trained conditional model into one with narrower last blocks.

The last two blocks of the conditional generator work at 16 × 16 and 32 × 32, so their widths
set much of the cost of sampling. Distillation keeps everything before the first narrowed block
(embeddings, dense layer, the first block: the teacher's own weights, frozen) and trains the
narrower blocks and the output layer to draw what the teacher draws, pixel for pixel (mean
absolute error against the teacher's images), on random syllables of all 11,172, font styles,
random styles and blends of two fonts. No real data and no critic are needed: the teacher is
the data.

Knowledge distillation of a GAN generator with a pixel loss, as in Aguinaldo et al. 2019
(https://arxiv.org/abs/1902.00159). The student starts from the teacher's channels that the
next layer weighs most (a warm start, so the first steps already draw glyphs).

The result is a model folder like a run's (``config.json`` with ``g_block_filters``,
``generator.weights.h5``, ``styles.npz``), which ``write``, ``synth`` and
:class:`~korean_gan.generate.Handwriting` load like any other.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from korean_gan.artifacts import (
    STYLES_FILE,
    ArtifactError,
    model_folder,
    read_conditional_model,
    write_model_folder,
)
from korean_gan.data.charsets import all11172, jamo_table
from korean_gan.models.styles import mixed_styles, random_styles

__all__ = ["DistillConfig", "DistillError", "DistillResult", "distill"]


class DistillError(ValueError):
    """A distillation request that cannot run, with the value at fault."""

_BLOCKS = (1, 2, 3)


@dataclass
class DistillConfig:
    """What :func:`distill` makes.

    Attributes:
        model: The teacher: ``default`` (the pretrained model) or a conditional model folder.
        out: The student's model folder (replaced as a whole when done).
        block_filters: Channels of the student's three upsampling blocks, each at most the
            teacher's; blocks from the first narrower one on are trained, the ones before it
            are the teacher's.
        steps: Adam steps.
        batch_size: Glyphs per step.
        learning_rate: Adam's step size, cosine-decayed to 0 over the steps.
        seed: Seed of the syllables, styles and noise drawn: same seed, same weights.
        validation_glyphs: Glyphs (drawn apart from training) on which the mean absolute
            difference to the teacher is reported.
        progress: Show a progress bar.
    """

    model: str = "default"
    out: str = "models/hangul-fast"
    block_filters: tuple[int, int, int] = (128, 32, 16)  # the default model's: (128, 64, 32)
    steps: int = 3000  # about 15 minutes on 2 CPU cores for the default model
    batch_size: int = 256
    learning_rate: float = 2e-3
    seed: int = 0
    validation_glyphs: int = 1024
    progress: bool = True


@dataclass
class DistillResult:
    """What :func:`distill` wrote and measured. Differences are mean absolute grey levels
    (of 255) between the student's and the teacher's images on the validation glyphs."""

    path: Path
    block_filters: tuple[int, int, int]
    teacher_block_filters: tuple[int, int, int]
    difference_start: float
    difference_end: float
    seconds: float


def _draw(table: np.ndarray, noise_dim: int, n: int, rng: np.random.Generator,
          jamo_all: np.ndarray):
    """A batch of conditions: half font styles, a quarter random styles, a quarter blends of
    two fonts; syllables uniform over all 11,172; standard normal noise."""
    n_font, n_random = n // 2, n // 4
    styles = np.concatenate([
        table[rng.integers(len(table), size=n_font)],
        random_styles(table, n_random, int(rng.integers(2**31))),
        mixed_styles(table, n - n_font - n_random, int(rng.integers(2**31)))])
    jamo = jamo_all[rng.integers(len(jamo_all), size=n)]
    noise = rng.standard_normal((n, noise_dim)).astype(np.float32)
    return noise, jamo, styles.astype(np.float32)


def _warm_start(teacher, student, first: int) -> None:
    """Copies the teacher's weights into the student: the layers before block ``first`` as
    they are; in each later block, the channels that the next layer weighs most (summed
    absolute weights over the channels it keeps), chosen from the output back."""
    trained = {f"conv_{b}" for b in _BLOCKS[first - 1:]} | {
        f"cbn_{b}" for b in _BLOCKS[first - 1:]} | {"to_image"}
    for layer in teacher.layers:
        if layer.weights and layer.name not in trained:
            student.get_layer(layer.name).set_weights(layer.get_weights())
    # keep[b]: the teacher's channels of block b that the student keeps (block 0, and any
    # block as wide as the teacher's: all of them, in order).
    keep = {0: slice(None)}
    next_kernel = teacher.get_layer("to_image").get_weights()[0]  # (3, 3, C3, 1)
    for block in reversed(_BLOCKS):
        width = student.get_layer(f"conv_{block}").filters
        weight = np.abs(next_kernel).sum(axis=(0, 1, 3))
        keep[block] = np.sort(np.argsort(-weight, kind="stable")[:width])
        next_kernel = teacher.get_layer(f"conv_{block}").get_weights()[0][..., keep[block]]
    for block in _BLOCKS[first - 1:]:
        kernel = teacher.get_layer(f"conv_{block}").get_weights()[0]
        student.get_layer(f"conv_{block}").set_weights(
            [kernel[:, :, keep[block - 1], :][..., keep[block]]])
        # Every weight of a conditional norm has the block's channels last.
        for source, target in zip(teacher.get_layer(f"cbn_{block}").weights,
                                  student.get_layer(f"cbn_{block}").weights, strict=True):
            target.assign(source.numpy()[..., keep[block]])
    kernel, bias = teacher.get_layer("to_image").get_weights()
    student.get_layer("to_image").set_weights([kernel[:, :, keep[3], :], bias])


def _check(config: DistillConfig) -> None:
    for name in ("steps", "batch_size", "validation_glyphs"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise DistillError(f"distill: {name} must be a positive integer, got {value!r}")
    filters = tuple(config.block_filters)
    if len(filters) != 3 or not all(isinstance(f, int) and not isinstance(f, bool) and f > 0
                                    for f in filters):
        raise DistillError(f"distill: block_filters must be three positive integers, got "
                               f"{config.block_filters!r}")
    if not config.learning_rate > 0:
        raise DistillError(f"distill: learning_rate must be positive, got "
                               f"{config.learning_rate!r}")


def distill(config: DistillConfig | None = None, **overrides) -> DistillResult:
    """Trains narrower last blocks to draw what a conditional model draws; saves the result
    as a model folder.

    Args:
        config: What to make (default :class:`DistillConfig`).
        **overrides: Fields of :class:`DistillConfig` to change.

    Returns:
        A :class:`DistillResult`.

    Raises:
        DistillError: the teacher cannot be loaded; ``block_filters`` wider than the
            teacher's or no narrower anywhere; bad numbers; all before any work starts.
    """
    config = DistillConfig(**{**asdict(config or DistillConfig()), **overrides})
    _check(config)
    config.block_filters = tuple(config.block_filters)
    try:
        folder = model_folder(config.model)
        out = Path(config.out)
        if out.resolve() == folder.resolve():
            raise DistillError(f"distill: the student's folder {out} is the teacher's; give "
                               "another --out")
        teacher_files = read_conditional_model(folder)
    except ArtifactError as err:
        raise DistillError(str(err)) from None

    import keras
    import tensorflow as tf
    from tqdm.auto import tqdm

    from korean_gan.models.networks import build_conditional_generator, generator_dims
    from korean_gan.training.distribute import dtype_policy

    # The plain (training) form of the teacher: its layers are the student's template.
    try:
        with dtype_policy("float32"):
            teacher = teacher_files.build_generator()
    except ArtifactError as err:
        raise DistillError(str(err)) from None
    dims = generator_dims(teacher)
    widths = dims["block_filters"]
    if any(s > t for s, t in zip(config.block_filters, widths, strict=True)) or \
            config.block_filters == widths:
        raise DistillError(f"distill: the teacher's blocks have {widths} channels; "
                               f"block_filters must be narrower somewhere and wider nowhere, "
                               f"got {config.block_filters}")
    first = next(b for b, s, t in zip(_BLOCKS, config.block_filters, widths, strict=True)
                 if s < t)
    student = build_conditional_generator(**{**dims, "block_filters": config.block_filters})
    _warm_start(teacher, student, first)

    # One pass through the shared, frozen trunk; then each model's trained blocks.
    trunk = keras.Model(teacher.inputs, [teacher.get_layer(f"relu_{first - 1}").output,
                                          teacher.get_layer("condition").output])

    def head(model):
        features = keras.Input(trunk.outputs[0].shape[1:])
        condition = keras.Input(trunk.outputs[1].shape[1:])
        x = features
        for block in _BLOCKS[first - 1:]:
            x = model.get_layer(f"up_{block}")(x)
            x = model.get_layer(f"conv_{block}")(x)
            x = model.get_layer(f"cbn_{block}")([x, condition])
            x = model.get_layer(f"relu_{block}")(x)
        return keras.Model([features, condition], model.get_layer("to_image")(x))

    teacher_head, student_head = head(teacher), head(student)
    variables = student_head.trainable_variables
    # Both run in inference mode: the student's norms keep the statistics they start with
    # (the teacher's kept channels), so what is trained is exactly the function that samples.
    optimizer = keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(config.learning_rate, config.steps))

    def both(noise, jamo, styles):
        features, condition = trunk([noise, jamo, styles], training=False)
        target = teacher_head([features, condition], training=False)
        return student_head([features, condition], training=False), target

    @tf.function(autograph=False)
    def train_step(noise, jamo, styles):
        with tf.GradientTape() as tape:
            image, target = both(noise, jamo, styles)
            loss = tf.reduce_mean(tf.abs(image - target))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    @tf.function(autograph=False)
    def validation_error(noise, jamo, styles):
        image, target = both(noise, jamo, styles)
        return tf.reduce_sum(tf.abs(image - target))

    jamo_all = jamo_table(all11172().chars)
    table, noise_dim = teacher_files.styles, dims["noise_dim"]
    held = _draw(table, noise_dim, config.validation_glyphs,
                 np.random.default_rng([config.seed, 1]), jamo_all)

    def grey_levels() -> float:
        total = 0.0
        for start in range(0, config.validation_glyphs, config.batch_size):
            part = [tf.constant(a[start:start + config.batch_size]) for a in held]
            total += float(validation_error(*part))
        # [-1, 1] spans 255 grey levels.
        return total * 127.5 / (config.validation_glyphs * dims["image_size"] ** 2)

    started = time.perf_counter()
    before = grey_levels()
    rng = np.random.default_rng([config.seed, 0])
    with tqdm(total=config.steps, unit="step", desc="distill",
              disable=not config.progress) as bar:
        for step in range(config.steps):
            loss = train_step(*(tf.constant(a) for a in _draw(
                table, noise_dim, config.batch_size, rng, jamo_all)))
            if step % 50 == 0 or step == config.steps - 1:
                bar.set_postfix(difference=f"{float(loss) * 127.5:.2f}")
            bar.update(1)
    after = grey_levels()
    seconds = time.perf_counter() - started
    _save(student, folder, out, config, widths, before, after, seconds)
    return DistillResult(out, config.block_filters, widths, round(before, 3), round(after, 3),
                         round(seconds, 1))


def _save(student, teacher_folder: Path, out: Path, config: DistillConfig,
          widths: tuple[int, int, int], before: float, after: float, seconds: float) -> None:
    """Writes the student's model folder whole, or not at all."""
    from korean_gan.artifacts import run_settings

    student_config = {**run_settings(teacher_folder), "g_block_filters": list(config.block_filters),
                      "distill": {**asdict(config), "teacher_block_filters": list(widths),
                                  "difference_start": round(before, 3),
                                  "difference_end": round(after, 3),
                                  "seconds": round(seconds, 1)}}
    write_model_folder(out, student_config, lambda path: student.save_weights(str(path)),
                       teacher_folder / STYLES_FILE)
