"""Running a training: build the GAN of a config, restore or start its run folder, fit it with
its callbacks, and export the sampling generator.

``fit()`` gives progress bars, the loss CSV, TensorBoard and checkpoints through Keras
callbacks; everything a run writes goes under its run folder (the layout is
:mod:`korean_gan.artifacts`'s). A run stopped by Ctrl-C, SIGTERM or a crash resumes exactly
(``resume=True``): same batches, same noise, same RNG states.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from dataclasses import asdict, fields, replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from korean_gan.artifacts import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    FORMAT_VERSION,
    GIF_FILE,
    LOG_FILE,
    NOISE_FILE,
    RECOGNIZER_FILE,
    SAMPLES_DIR,
    SNAPSHOTS_DIR,
    TENSORBOARD_DIR,
    ArtifactError,
    checkpoints_newest_first,
    restore_newest_intact,
)
from korean_gan.models.networks import build_discriminator, build_generator
from korean_gan.training.callbacks import (
    Checkpointer,
    GeneratorSnapshots,
    GifOnEnd,
    LearningRateDecay,
    LossLog,
    SampleGrid,
    stops_if_unwritable,
)
from korean_gan.training.config import (
    PRESET_ALIASES,
    PRESETS,
    ConditionalConfig,
    TrainConfig,
    TrainError,
    config_class,
)
from korean_gan.training.distribute import (
    dtype_policy,
    is_chief,
    make_strategy,
    resolve_precision,
)
from korean_gan.training.losses import get_losses
from korean_gan.training.optimizers import adam
from korean_gan.training.pipeline import training_dataset
from korean_gan.training.reference import GAN

__all__ = [
    "PRESETS",
    "TrainConfig",
    "TrainError",
    "build_gan",
    "prepare_run",
    "read_run_config",
    "train",
]


def build_gan(config: TrainConfig, image_size: int, dataset=None) -> keras.Model:
    """The GAN of a config, compiled with its optimizers and losses: a
    :class:`~korean_gan.training.reference.GAN` for the reference model, a
    :class:`~korean_gan.training.conditional.ConditionalGAN` for the conditional one.

    Args:
        config: The run's configuration.
        image_size: Side of the training images.
        dataset: The training GlyphDataset (the conditional model needs its charset and fonts).
    """
    precision = resolve_precision(config.precision)
    if config.model == "conditional":
        if dataset is None:
            raise TrainError("the conditional model needs the training dataset")
        from korean_gan.training.conditional import build_conditional_gan

        with dtype_policy(precision):
            return build_conditional_gan(
                dataset.charset.chars, dataset.fonts, image_size=image_size,
                noise_dim=config.noise_dim, loss=config.loss,
                g_learning_rate=config.g_learning_rate, d_learning_rate=config.d_learning_rate,
                beta_1=config.beta_1, beta_2=config.beta_2, ema_decay=config.ema_decay,
                diffaugment=config.diffaugment, g_filters=config.g_filters,
                d_filters=config.d_filters, aux_weight=config.aux_weight,
                recon_weight=config.recon_weight, content_weight=config.content_weight,
                content_affine=config.content_affine,
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


def _checkpoint(gan: GAN, epoch_var: tf.Variable,
                step_var: tf.Variable | None) -> tf.train.Checkpoint:
    seeds = [v for v in gan.variables if "seed_generator" in v.path]
    # Checkpoints written before runs could stop mid-epoch have no step (restored with None).
    step = {} if step_var is None else {"epoch_step": step_var}
    return tf.train.Checkpoint(**gan.checkpoint_objects(), epoch=epoch_var, seeds=seeds, **step)


def read_run_config(run_dir: Path) -> TrainConfig:
    """The TrainConfig saved in a run folder."""
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise TrainError(f"{run_dir} holds no {CONFIG_FILE}; it is not a run folder to resume")
    values = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(values, dict):
        raise TrainError(f"{path} does not hold a run configuration (a JSON object)")
    # Runs written before the presets' renaming say "seed"; runs of either model written
    # before each model had its own config hold the other model's fields too.
    values["preset"] = PRESET_ALIASES.get(values.get("preset"), values.get("preset"))
    target = config_class(values.get("model", "dcgan"))
    known = {f.name for f in fields(target)}
    return target(**{k: v for k, v in values.items() if k in known})


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
    if (run_dir / CONFIG_FILE).exists():
        raise TrainError(f"run folder {run_dir} already holds a run; pass --resume to continue it "
                         "or choose another --run-dir")
    # The run's config.json names the precision it really trains in, not "auto": a resume on
    # other hardware then knows whether the optimizer state has a loss scale.
    return replace(config, precision=resolve_precision(config.precision))


def train(config: TrainConfig | None = None, resume: bool = False, callbacks=(),
          **overrides) -> keras.callbacks.History:
    """Trains a GAN; writes everything into ``config.run_dir``.

    Args:
        config: The run's configuration (default: the ``reference`` preset).
        resume: Continue the run in ``config.run_dir`` from its last checkpoint, with its saved
            configuration, fixed noise and RNG states; ``config.epochs`` may raise the total.
        callbacks: Extra Keras callbacks.
        **overrides: TrainConfig fields to change.

    Returns:
        The Keras History of this call's epochs; ``history.interrupted`` is True when a signal
        stopped the run early (it was checkpointed; ``resume=True`` continues it).

    Raises:
        TrainError, DatasetError: bad configuration or data, before any training.
    """
    config = config or TrainConfig.from_preset("reference")
    if overrides:
        config = replace(config, **overrides)
    config.validate()
    run_dir = Path(config.run_dir)
    # One process writes a run at a time. On a cluster every worker is handed the same
    # folder and only the chief writes it; a path that is not a folder is refused below.
    if config.strategy == "multiworker" or (run_dir.exists() and not run_dir.is_dir()):
        return _train(config, resume, callbacks)
    from korean_gan._io import OutputError, folder_lock

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(folder_lock(run_dir, "choose another --run-dir"))
        except OutputError as err:
            raise TrainError(str(err)) from None
        except OSError:  # a folder that cannot be made: the run says why
            pass
        return _train(config, resume, callbacks)


def _train(config: TrainConfig, resume: bool, callbacks) -> keras.callbacks.History:
    config = prepare_run(config, resume)
    config.validate()
    dataset = _training_data(config)
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

    recognizer_path = None
    if isinstance(config, ConditionalConfig) and config.content_weight > 0:
        recognizer_path = _training_recognizer(config, dataset, run_dir)
    with strategy.scope():
        gan = build_gan(config, dataset.image_size, dataset)
        if recognizer_path is not None:
            gan.set_recognizer(_load_recognizer(recognizer_path, dataset))
        if isinstance(config, ConditionalConfig) and config.init_from and not resume:
            try:
                gan.start_from(config.init_from)
            except ValueError as err:
                raise TrainError(f"init-from: {err}") from None
        epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        step_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch_step")
    checkpoint = _checkpoint(gan, epoch_var, step_var)
    manager = tf.train.CheckpointManager(checkpoint, str(run_dir / CHECKPOINT_DIR),
                                         max_to_keep=config.keep_checkpoints)
    if resume:
        first_epoch, first_step, noise = _restore(gan, checkpoint, epoch_var, step_var,
                                                  chief_dir)
    else:
        first_epoch = first_step = 0
        noise = _fixed_noise(config, chief_dir / NOISE_FILE, write=chief)
    if chief:
        from korean_gan._io import write_json_atomic

        write_json_atomic(run_dir / CONFIG_FILE,
                          {**asdict(config), "format_version": FORMAT_VERSION})
    if first_epoch >= config.epochs:
        raise TrainError(f"{run_dir} already finished {first_epoch} epochs; pass a larger "
                         "--epochs to train further")

    steps = len(dataset) // config.batch_size
    loss_log = LossLog(run_dir / LOG_FILE, first_epoch)
    checkpointer = Checkpointer(manager, epoch_var, step_var, config.checkpoint_every,
                                config.epochs, steps)
    all_callbacks = _callbacks(config, run_dir, chief, noise, loss_log, checkpointer,
                               callbacks)
    batches = _batches(config, dataset, strategy)
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
            history = part if history is None else _joined(history, part)
            if checkpointer.stop_requested:
                break
    finally:
        # fit() skips on_train_end when a callback raises: hand Ctrl-C back regardless.
        checkpointer._restore_signals()
    if chief:
        with stops_if_unwritable(None, run_dir):
            gan.export(run_dir)
    else:
        import shutil

        shutil.rmtree(run_dir, ignore_errors=True)
    history.interrupted = checkpointer.stop_requested
    return history


def _training_data(config: TrainConfig):
    """The run's GlyphDataset, its fonts repeated as the config asks, checked against the
    batch size."""
    from korean_gan.data.dataset import load_dataset

    dataset = load_dataset(config.data)
    if config.repeat_fonts:
        dataset = dataset.repeat_fonts(config.repeat_fonts)
    if config.batch_size > len(dataset):
        raise TrainError(f"batch size {config.batch_size} is larger than the dataset "
                         f"{config.data} ({len(dataset)} images); lower --batch-size")
    return dataset


def _restore(gan, checkpoint: tf.train.Checkpoint, epoch_var: tf.Variable,
             step_var: tf.Variable, run_dir: Path) -> tuple[int, int, np.ndarray]:
    """Restores a run's latest checkpoint; returns (epochs done, steps done of the next epoch,
    the sample grid's fixed noise).

    Raises:
        TrainError: no checkpoint, or a damaged one (naming what to do).
    """
    folder = run_dir / CHECKPOINT_DIR
    if not checkpoints_newest_first(folder):
        raise TrainError(f"{run_dir} has no checkpoint yet; start it again without --resume")

    def restore(prefix: str) -> None:
        names = {name for name, _ in tf.train.list_variables(prefix)}
        source = (checkpoint if "epoch_step/.ATTRIBUTES/VARIABLE_VALUE" in names
                  else _checkpoint(gan, epoch_var, None))
        source.restore(prefix).assert_existing_objects_matched()

    # The newest intact checkpoint: a killed write or a full disk may have cut the last one.
    try:
        used, skipped = restore_newest_intact(restore, folder)
    except ArtifactError as err:
        raise TrainError(f"cannot resume {run_dir}: {err}") from None
    if skipped:
        import warnings

        warnings.warn(f"{skipped[0]}; resuming from {Path(used).name}, an earlier one",
                      stacklevel=2)
    try:
        noise = np.load(run_dir / NOISE_FILE, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise TrainError(f"cannot resume {run_dir}: {NOISE_FILE} is damaged "
                         f"({type(err).__name__}); start a new run") from None
    return int(epoch_var.numpy()), int(step_var.numpy()), noise


def _fixed_noise(config: TrainConfig, path: Path, write: bool) -> np.ndarray:
    """The sample grid's noise, the same every epoch (and saved for a resume)."""
    noise = np.random.default_rng(config.seed).standard_normal(
        (16, config.noise_dim)).astype(np.float32)
    if write:
        from korean_gan._io import atomic_path

        with atomic_path(path, suffix=".npy") as tmp:
            np.save(tmp, noise, allow_pickle=False)
    return noise


def _callbacks(config: TrainConfig, run_dir: Path, chief: bool, noise: np.ndarray,
               loss_log: LossLog, checkpointer: Checkpointer, extra) -> list:
    """The run's callbacks, in the order they must run at the end of an epoch."""
    # The per-epoch writers come before the checkpointer: it sets stop_training at the end of
    # an epoch a signal stopped, and they must still write that (complete) epoch.
    callbacks = [
        LearningRateDecay(config.g_learning_rate, config.d_learning_rate, config.epochs,
                          config.lr_decay_epochs),
        loss_log,
        SampleGrid(noise, run_dir / SAMPLES_DIR, config.sample_every, config.epochs,
                   run_dir / TENSORBOARD_DIR / "images" if config.tensorboard else None),
        checkpointer,
        GifOnEnd(run_dir / SAMPLES_DIR, run_dir / GIF_FILE),
        *extra,
    ]
    if config.eval_every and chief:
        from korean_gan.evaluation.evaluator import EvaluationCallback

        # Before the loss log and checkpointer, so the epoch's metrics are in place first.
        callbacks.insert(0, EvaluationCallback(
            run_dir, config.data, config.eval_every, config.eval_samples, config.epochs,
            tensorboard=config.tensorboard))
    if config.snapshot_every:
        callbacks.insert(callbacks.index(checkpointer),
                         GeneratorSnapshots(run_dir / SNAPSHOTS_DIR, config.snapshot_every))
    if config.tensorboard and chief:
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / TENSORBOARD_DIR),
                                                     write_graph=False))
    return callbacks


def _batches(config: TrainConfig, dataset, strategy):
    """``batches(first_epoch, stop_epoch, steps_to_skip)``: the input of one ``fit()``."""
    labels = None
    if config.model == "conditional":
        from korean_gan.training.conditional import condition_labels

        labels = condition_labels(dataset)
    replicas = strategy.num_replicas_in_sync

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

    return batches


def _joined(first: keras.callbacks.History,
            then: keras.callbacks.History) -> keras.callbacks.History:
    """One History for two fit() calls (``then`` extended backwards with ``first``)."""
    then.epoch = first.epoch + then.epoch
    for key, values in first.history.items():
        then.history[key] = values + then.history.get(key, [])
    return then


def _training_recognizer(config: TrainConfig, dataset, run_dir: Path) -> Path:
    """The content loss's recogniser in the run folder, trained on the run's data if absent.

    It reads only the run's own training glyphs (seeded by the run's seed), so a resumed run,
    or a new run on the same data and seed, gets the same recogniser.
    """
    path = run_dir / RECOGNIZER_FILE
    if path.is_file():
        print(f"content loss: using the jamo recogniser in {path} (delete it to train a new one)",
              flush=True)
        return path
    from korean_gan._io import atomic_path
    from korean_gan.evaluation.evaluator import fit_jamo_recognizer

    print(f"content loss: training a jamo recogniser on the {len(dataset):,} training glyphs "
          f"({config.recognizer_epochs} epochs) into {path}", flush=True)
    started = time.perf_counter()
    model = fit_jamo_recognizer(dataset.images, dataset.labels, dataset.charset,
                                epochs=config.recognizer_epochs, seed=config.seed + 1,
                                warmup_epochs=config.recognizer_warmup_epochs,
                                verbose=config.verbose)
    with stops_if_unwritable(None, path), atomic_path(path, suffix=".weights.h5") as tmp:
        model.save_weights(str(tmp))
    print(f"content loss: recogniser ready ({time.perf_counter() - started:.0f} s)", flush=True)
    return path


def _load_recognizer(path: Path, dataset) -> keras.Model:
    """The frozen float32 recogniser saved by :func:`_training_recognizer`."""
    from korean_gan.data.charsets import jamo_table
    from korean_gan.evaluation.evaluator import RECOGNIZER_WIDTHS
    from korean_gan.models.networks import build_evaluator

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
