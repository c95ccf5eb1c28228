"""Keras callbacks of a training run: sample grids and the GIF, the loss log, learning-rate
decay, generator snapshots, and checkpoints with a graceful stop on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import csv
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from korean_gan.artifacts import save_weights, snapshot_files
from korean_gan.training.config import TrainError

__all__ = [
    "Checkpointer",
    "GeneratorSnapshots",
    "GifOnEnd",
    "LearningRateDecay",
    "LossLog",
    "SampleGrid",
    "stops_if_unwritable",
]


@contextmanager
def stops_if_unwritable(model, path: Path):
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
        from korean_gan.data.images import caption, from_model_output, save_png, tile

        images = from_model_output(self.model.grid_images(self.noise))
        grid = tile(images, cols=4)
        path = self.folder / f"epoch_{number:04d}.png"
        with stops_if_unwritable(self.model, path):
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
        from korean_gan.data.images import frame_paths, write_gif

        frames = frame_paths(self.frames_dir)
        if frames:
            with stops_if_unwritable(self.model, self.out):
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
            generator_name, styles_name = snapshot_files(epoch + 1)
            with stops_if_unwritable(self.model, self.folder):
                save_weights(self.model.sampling_generator, self.folder / generator_name)
                if hasattr(self.model, "style_table"):
                    from korean_gan._io import save_npz

                    save_npz(self.folder / styles_name,
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
        with stops_if_unwritable(self.model, self.path), open(self.path, "a",
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
