"""Using a trained generator: load it from a run folder or a weights file, and sample images.

Loading never runs code from a file: the architecture is built here from the run's
``config.json`` and only weights are read (``.weights.h5`` or a TensorFlow checkpoint).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["SamplingError", "load_generator", "run_settings", "sample_images"]

CONFIG_NAME = "config.json"
GENERATOR_NAME = "generator.weights.h5"
CHECKPOINT_DIR = "checkpoints"


class SamplingError(ValueError):
    """Nothing to load at the given place, or a bad sampling request."""


def run_settings(run_dir: str | os.PathLike) -> dict:
    """The saved configuration of a run folder, as a dict.

    Raises:
        SamplingError: the folder has no ``config.json``.
    """
    path = Path(run_dir) / CONFIG_NAME
    if not path.is_file():
        raise SamplingError(f"{run_dir} holds no {CONFIG_NAME}; it is not a run folder")
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SamplingError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(settings, dict):
        raise SamplingError(f"{path} does not hold a run configuration (a JSON object)")
    return settings


def _image_size(settings: dict) -> int:
    data = Path(settings.get("data", ""))
    if data.is_file():
        try:
            with np.load(data, allow_pickle=False) as npz:
                return int(npz["images"].shape[1])
        except Exception as err:  # BadZipFile, KeyError, ValueError (pickled), ...
            raise SamplingError(f"the run's dataset {data} cannot be read "
                                f"({type(err).__name__}: {err}); restore or rebuild it") from None
    return 32


def _load_weights(generator, path: Path) -> None:
    """Reads weights only (HDF5 holds no code); any foreign or damaged file is a SamplingError."""
    try:
        generator.load_weights(str(path))
    except Exception as err:  # h5py/Keras raise several types for foreign files
        # Keras's messages run over several lines; the first sentence says what failed.
        reason = (str(err).strip().splitlines() or [""])[0].split(". Example")[0]
        raise SamplingError(f"{path} does not hold this generator's weights "
                            f"({type(err).__name__}: {reason})") from None


def load_generator(run_dir: str | os.PathLike | None = None,
                   weights: str | os.PathLike | None = None):
    """Builds a run's generator and loads its trained weights.

    Args:
        run_dir: A run folder: its ``generator.weights.h5``, else its latest checkpoint.
        weights: A ``.weights.h5`` file; its folder's ``config.json`` (if any) gives the noise
            size, otherwise the reference generator (noise 100, 32×32) is assumed.

    Returns:
        The generator, a ``keras.Model``.

    Raises:
        SamplingError: nothing to load at the given place.
    """
    from korean_gan.models import build_generator

    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise SamplingError(f"weights file {path} does not exist")
        settings = run_settings(path.parent) if (path.parent / CONFIG_NAME).is_file() else {}
        generator = build_generator(noise_dim=settings.get("noise_dim", 100),
                                    image_size=_image_size(settings) if settings else 32)
        _load_weights(generator, path)
        return generator
    if run_dir is None:
        raise SamplingError("give a run folder (--run-dir) or a weights file (--weights)")
    run_dir = Path(run_dir)
    settings = run_settings(run_dir)
    if settings.get("model", "dcgan") != "dcgan":
        raise SamplingError(f"{run_dir} is a {settings['model']} run; sampling it from the CLI "
                            "is not available yet (use korean_gan.conditional in Python)")
    generator = build_generator(noise_dim=settings.get("noise_dim", 100),
                                image_size=_image_size(settings))
    final = run_dir / GENERATOR_NAME
    if final.is_file():
        _load_weights(generator, final)
        return generator
    import tensorflow as tf

    latest = tf.train.latest_checkpoint(str(run_dir / CHECKPOINT_DIR))
    if latest is None:
        raise SamplingError(f"{run_dir} has neither {GENERATOR_NAME} nor a checkpoint yet")
    try:
        # A TensorFlow checkpoint holds tensors only; restoring it runs no code from the file.
        tf.train.Checkpoint(generator=generator).restore(latest).expect_partial()
    except (tf.errors.OpError, ValueError, AssertionError) as err:
        raise SamplingError(f"checkpoint {latest} cannot be read ({type(err).__name__}: "
                            f"{err}); resume the run to write a new one") from None
    return generator


def sample_images(generator, n: int, seed: int = 0, batch_size: int = 1024) -> np.ndarray:
    """Generates ``n`` images as uint8 (n, S, S), 255 = paper, from seeded noise.

    The same generator, ``n`` and ``seed`` give the same images.
    """
    from korean_gan.images import from_model_output

    if not isinstance(n, int) or n < 1:
        raise SamplingError(f"number of samples must be a positive integer, got {n!r}")
    noise_dim = generator.input_shape[-1]
    noise = np.random.default_rng(seed).standard_normal((n, noise_dim)).astype(np.float32)
    out = [from_model_output(generator(noise[i:i + batch_size], training=False))
           for i in range(0, n, batch_size)]
    return np.concatenate(out)
