"""The model and run folder format: file names, config and model card, loading and exporting.

This is the one module that knows what a run folder or a model folder holds; everything else
calls it. A run folder (``korean-gan train``)::

    runs/<name>/
      config.json                  the run's training config (+ ``format_version``)
      fixed_noise.npy              the noise of the 4×4 sample grid
      samples/epoch_0001.png       the grid after each epoch (frames of the GIF)
      samples.gif                  the GIF of those frames
      log.csv                      one row per epoch: losses, seconds, other terms
      eval.csv, best.json          periodic evaluation and the best epoch by FCD
      generator.best.weights.h5    the generator of that best epoch
      tensorboard/                 scalars and sample images
      checkpoints/                 networks, optimizers, RNG states, epoch and step
      snapshots/                   the generator (and styles) every N epochs
      generator.weights.h5         the final (sampling) generator, weights only
      styles.npz                   conditional model: the fonts' style vectors and names
      recognizer.weights.h5        conditional model with a content loss: its recogniser

A model folder (``korean_gan/pretrained/<name>``, or one that ``export_model`` or
``korean-gan distill`` writes) holds ``config.json``, ``generator.weights.h5``, ``styles.npz``
and a model card, ``model.json``, with the sha256 of each file, checked at load.

Loading never runs code from a file: architectures are built from ``config.json`` and only
weights are read (``.weights.h5`` or a TensorFlow checkpoint).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np

__all__ = [
    "CHECKPOINT_DIR",
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "GENERATOR_FILE",
    "MODEL_CARD",
    "ONNX_GENERATOR_FILE",
    "ONNX_GENERATOR_INT8_FILE",
    "ONNX_UPSAMPLER_FILE",
    "PRETRAINED_ALIASES",
    "PRETRAINED_DIR",
    "STYLES_FILE",
    "STYLE_DIR",
    "ArtifactError",
    "FONT_METRICS_FILE",
    "UPSAMPLER_DIR",
    "UPSAMPLER64_DIR",
    "UPSAMPLER_DIRS",
    "load_upsampler",
    "read_stroke_bias",
    "upsampler_onnx",
    "write_upsampler_folder",
    "ConditionalModelFiles",
    "add_card_file",
    "stale_source",
    "export_model",
    "interpolate_models",
    "write_model_folder",
    "load_generator",
    "load_style",
    "model_folder",
    "pretrained_models",
    "read_conditional_model",
    "read_styles",
    "run_settings",
    "save_style",
    "style_data_source",
    "save_weights",
    "snapshot_files",
]

#: Written into the ``config.json`` of new runs; a config without it is version 1, which
#: loads the same way.
FORMAT_VERSION = 2

CONFIG_FILE = "config.json"
GENERATOR_FILE = "generator.weights.h5"
STYLES_FILE = "styles.npz"
MODEL_CARD = "model.json"
CHECKPOINT_DIR = "checkpoints"
NOISE_FILE = "fixed_noise.npy"
LOG_FILE = "log.csv"
EVAL_LOG_FILE = "eval.csv"
BEST_FILE = "best.json"
BEST_GENERATOR_FILE = "generator.best.weights.h5"
SAMPLES_DIR = "samples"
GIF_FILE = "samples.gif"
TENSORBOARD_DIR = "tensorboard"
SNAPSHOTS_DIR = "snapshots"
RECOGNIZER_FILE = "recognizer.weights.h5"
UPSAMPLER_FILE = "upsampler.weights.h5"
#: Per font, the upsampler's logit offset that gives the font's stroke width.
STROKE_BIAS_FILE = "stroke_bias.json"
#: The font layout table (``korean_gan.data.metrics``) beside the upsampler.
FONT_METRICS_FILE = "font_metrics.npz"
#: ONNX exports of a model folder's generator and an upsampler folder's network
#: (``korean_gan.models.onnx_io``; ``korean-gan export-onnx`` writes them).
ONNX_GENERATOR_FILE = "generator.onnx"
#: The generator with its convolutions in 8-bit integers (``--precision int8``).
ONNX_GENERATOR_INT8_FILE = "generator-int8.onnx"
ONNX_UPSAMPLER_FILE = "upsampler.onnx"

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
#: The committed glyph upsampler (``korean_gan/upsampler``) and the font metrics it places by.
UPSAMPLER_DIR = Path(__file__).resolve().parent / "upsampler"
#: The committed smaller upsampler that draws at 64 px (text lines up to 64 px high).
UPSAMPLER64_DIR = Path(__file__).resolve().parent / "upsampler64"
#: The committed upsamplers by the side they draw at.
UPSAMPLER_DIRS = {64: UPSAMPLER64_DIR, 128: UPSAMPLER_DIR}
#: Other names of committed models: ``default`` is what write and synth use; ``hangul-v3`` is
#: the default model's version name (``hangul-v2`` and ``hangul-v1`` are the earlier defaults).
PRETRAINED_ALIASES = {"default": "hangul", "hangul-v3": "hangul"}
#: Committed models that left the package for the repository's ``benchmarks/models`` (kept
#: there so the figures measured on them can be reproduced from a clone).
MOVED_MODELS = {"hangul-base": "benchmarks/models/hangul-base"}
#: Where styles of your own (``korean-gan adapt``) are kept: ``styles/<name>.npz`` in the
#: working folder; ``--style <name>`` finds them there.
STYLE_DIR = Path("styles")

#: The ``config.json`` keys that an exported model folder keeps from its run.
_EXPORTED_CONFIG = ("model", "preset", "noise_dim", "g_filters", "d_filters", "batch_size",
                    "g_learning_rate", "d_learning_rate", "beta_1", "beta_2", "loss",
                    "ema_decay", "diffaugment", "spectral_norm", "recon_weight",
                    "content_weight", "content_affine", "recognizer_epochs",
                    "recognizer_warmup_epochs", "repeat_fonts", "init_from", "epochs",
                    "lr_decay_epochs", "seed", "data", "g_block_filters", "distill")


class ArtifactError(ValueError):
    """A run or model folder (or a file in it) that is missing, damaged or of another kind."""


def snapshot_files(epoch: int) -> tuple[str, str]:
    """The generator and styles file names that ``snapshots/`` keeps for ``epoch``."""
    return (f"generator_epoch_{epoch:04d}.weights.h5", f"styles_epoch_{epoch:04d}.npz")


# --- run folders ------------------------------------------------------------------------------

# --- the schema of config.json and model.json ---------------------------------------------------
# Each known field and what it must be; a field that is absent takes its default where it is
# used. Checked at every read, so a hand-edited or damaged file is named with its field in one
# line instead of failing deep inside Keras.

def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)


def _positive_int(value):
    return None if _is_int(value) and value > 0 else "a positive integer"


def _count(value):
    return None if _is_int(value) and value >= 0 else "an integer ≥ 0"


def _integer(value):
    return None if _is_int(value) else "an integer"


def _rate(value):
    return None if _is_number(value) and value > 0 else "a positive number"


def _weight(value):
    return None if _is_number(value) and value >= 0 else "a number ≥ 0"


def _unit(value):
    return None if _is_number(value) and 0 <= value < 1 else "a number from 0 to below 1"


def _text(value):
    return None if isinstance(value, str) else "a string"


def _flag(value):
    return None if isinstance(value, bool) else "true or false"


def _image_side(value):
    return None if _is_int(value) and value in (16, 32, 64, 128) else "16, 32, 64 or 128"


def _one_of(*choices):
    def check(value):
        return None if value in choices else "one of " + ", ".join(map(str, choices))
    return check


def _mapping(check_value, what):
    def check(value):
        if not isinstance(value, dict):
            return f"an object of {what}"
        return None if all(isinstance(k, str) and check_value(v) is None
                           for k, v in value.items()) else f"an object of {what}"
    return check


_CONFIG_SCHEMA = {
    "model": _one_of("dcgan", "conditional", "upsampler"),
    "noise_dim": _positive_int, "g_filters": _positive_int, "d_filters": _positive_int,
    "batch_size": _positive_int, "epochs": _count, "lr_decay_epochs": _count,
    "recognizer_epochs": _count, "seed": _integer, "image_size": _positive_int,
    "g_learning_rate": _rate, "d_learning_rate": _rate, "learning_rate": _rate,
    "beta_1": _unit, "beta_2": _unit, "ema_decay": _weight, "recon_weight": _weight,
    "content_weight": _weight, "recognizer_warmup_epochs": _weight,
    "loss": _text, "preset": _text, "diffaugment": _text, "data": _text, "init_from": _text,
    "spectral_norm": _flag, "content_affine": _flag,
    "repeat_fonts": _mapping(_positive_int, "font: positive integer"),
}
_ARCHITECTURE_SCHEMA = {"filters": _positive_int, "blocks": _positive_int,
                        "factor": _one_of(2, 4), "input_size": _image_side}
_CARD_SCHEMA = {"image_size": _positive_int, "name": _text, "description": _text,
                "sha256": _mapping(lambda v: None if isinstance(v, str) and
                                   re.fullmatch(r"[0-9a-f]{64}", v) else "", "file: sha256")}


def _check_fields(path: Path, settings: dict, schema: dict, prefix: str = "") -> None:
    """Raises ArtifactError naming ``path`` and the first field that breaks ``schema``."""
    for name, check in schema.items():
        if name not in settings:
            continue
        value = settings[name]
        problem = check(value)
        if problem:
            shown = json.dumps(value, ensure_ascii=False)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise ArtifactError(f"{path}: {prefix}{name} must be {problem}, got {shown}")


def check_config(path: Path, settings: dict) -> dict:
    """``settings`` (a ``config.json``) if every field it has is of the right type and range.

    Raises:
        ArtifactError: the file and the first bad field, e.g.
            ``models/x/config.json: g_block_filters[0] must be a positive integer, got -80``.
    """
    _check_fields(path, settings, _CONFIG_SCHEMA)
    blocks = settings.get("g_block_filters")
    if blocks is not None:
        if not isinstance(blocks, list) or not blocks:
            raise ArtifactError(f"{path}: g_block_filters must be a list of positive integers "
                                f"or null, got {json.dumps(blocks)[:40]}")
        for i, value in enumerate(blocks):
            _check_fields(path, {f"g_block_filters[{i}]": value},
                          {f"g_block_filters[{i}]": _positive_int})
    if "architecture" in settings:
        architecture = settings["architecture"]
        if not isinstance(architecture, dict):
            raise ArtifactError(f"{path}: architecture must be an object, got "
                                f"{json.dumps(architecture)[:40]}")
        _check_fields(path, architecture, _ARCHITECTURE_SCHEMA, "architecture.")
    return settings


def run_settings(run_dir: str | os.PathLike) -> dict:
    """The saved configuration of a run or model folder, as a dict.

    Raises:
        ArtifactError: the folder has no ``config.json``, or it is not a JSON object.
    """
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise ArtifactError(f"{run_dir} holds no {CONFIG_FILE}; it is not a run folder")
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ArtifactError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(settings, dict):
        raise ArtifactError(f"{path} does not hold a run configuration (a JSON object)")
    version = settings.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise ArtifactError(f"{path}: format_version {version!r} is not one this korean-gan "
                            f"reads (1 to {FORMAT_VERSION}); upgrade korean-gan")
    return check_config(path, settings)


def _image_size(settings: dict) -> int:
    data = Path(settings.get("data", ""))
    if data.is_file():
        try:
            with np.load(data, allow_pickle=False) as npz:
                return int(npz["images"].shape[1])
        except Exception as err:  # BadZipFile, KeyError, ValueError (pickled), ...
            raise ArtifactError(f"the run's dataset {data} cannot be read "
                                f"({type(err).__name__}: {err}); restore or rebuild it") from None
    return 32


def _load_weights(generator, path: Path) -> None:
    """Reads weights only (HDF5 holds no code); any foreign or damaged file is an ArtifactError."""
    try:
        generator.load_weights(str(path))
    except Exception as err:  # h5py/Keras raise several types for foreign files
        # Keras's messages run over several lines; the first sentence says what failed.
        reason = (str(err).strip().splitlines() or [""])[0].split(". Example")[0]
        raise ArtifactError(f"{path} does not hold this generator's weights "
                            f"({type(err).__name__}: {reason})") from None


def checkpoints_newest_first(folder: str | os.PathLike) -> list[str]:
    """The checkpoint prefixes (``.../ckpt-N``) in ``folder`` whose index file exists, the
    newest first: what a resume or a sample tries in turn when the newest is damaged."""
    found = []
    for index in Path(folder).glob("ckpt-*.index"):
        number = index.name[len("ckpt-"):-len(".index")]
        if number.isdigit():
            found.append((int(number), str(index.with_suffix(""))))
    return [prefix for _, prefix in sorted(found, reverse=True)]


def restore_newest_intact(restore, folder: str | os.PathLike) -> tuple[str, list[str]]:
    """Calls ``restore(prefix)`` on the checkpoints of ``folder``, newest first, until one
    succeeds; returns its prefix and a line for each damaged one skipped.

    A killed write or a full disk can leave the newest checkpoint truncated; an earlier one
    is then the run's state.

    Raises:
        ArtifactError: no checkpoint, or every one is damaged (naming the newest and why).
    """
    import tensorflow as tf

    prefixes = checkpoints_newest_first(folder)
    if not prefixes:
        raise ArtifactError(f"{folder} holds no checkpoint")
    skipped = []
    for prefix in prefixes:
        try:
            restore(prefix)
            return prefix, skipped
        except (tf.errors.OpError, AssertionError, ValueError, OSError, IndexError,
                KeyError) as err:
            reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
            skipped.append(f"checkpoint {prefix} is damaged ({type(err).__name__}: {reason})")
    raise ArtifactError(f"every checkpoint in {folder} is damaged; the newest: "
                        f"{skipped[0]}; delete the folder's checkpoints and start again")


def load_generator(run_dir: str | os.PathLike | None = None,
                   weights: str | os.PathLike | None = None):
    """Builds a reference (DCGAN) run's generator and loads its trained weights.

    Args:
        run_dir: A run folder: its ``generator.weights.h5``, else its latest checkpoint.
        weights: A ``.weights.h5`` file; its folder's ``config.json`` (if any) gives the noise
            size, otherwise the reference generator (noise 100, 32×32) is assumed.

    Returns:
        The generator, a ``keras.Model``.

    Raises:
        ArtifactError: nothing to load at the given place.
    """
    from korean_gan.models.networks import build_generator

    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise ArtifactError(f"weights file {path} does not exist")
        settings = run_settings(path.parent) if (path.parent / CONFIG_FILE).is_file() else {}
        generator = build_generator(noise_dim=settings.get("noise_dim", 100),
                                    image_size=_image_size(settings) if settings else 32)
        _load_weights(generator, path)
        return generator
    if run_dir is None:
        raise ArtifactError("give a run folder (--run-dir) or a weights file (--weights)")
    run_dir = Path(run_dir)
    settings = run_settings(run_dir)
    if settings.get("model", "dcgan") != "dcgan":
        raise ArtifactError(f"{run_dir} is a {settings['model']} run; sampling it from the CLI "
                            "is not available yet (use korean_gan.Handwriting in Python)")
    generator = build_generator(noise_dim=settings.get("noise_dim", 100),
                                image_size=_image_size(settings))
    final = run_dir / GENERATOR_FILE
    if final.is_file():
        _load_weights(generator, final)
        return generator
    import tensorflow as tf

    if not checkpoints_newest_first(run_dir / CHECKPOINT_DIR):
        raise ArtifactError(f"{run_dir} has neither {GENERATOR_FILE} nor a checkpoint yet")

    def restore(prefix: str) -> None:
        # A TensorFlow checkpoint holds tensors only; restoring it runs no code from the file.
        tf.train.Checkpoint(generator=generator).restore(prefix).expect_partial()

    used, skipped = restore_newest_intact(restore, run_dir / CHECKPOINT_DIR)
    if skipped:
        import warnings

        warnings.warn(f"{skipped[0]}; sampling from {Path(used).name}, an earlier one",
                      stacklevel=2)
    return generator


# --- conditional model folders ----------------------------------------------------------------

def model_folder(source: str | os.PathLike) -> Path:
    """The folder of a conditional model: ``default`` (the committed one), a name under
    ``korean_gan/pretrained`` (``hangul``, ``hangul-fast``, ``hangul-v2``, ``hangul-v1``) or
    one of ``PRETRAINED_ALIASES``, or a run folder.

    Raises:
        ArtifactError: ``source`` is none of these.
    """
    folder = Path(source)
    if str(source) in PRETRAINED_ALIASES:
        folder = PRETRAINED_DIR / PRETRAINED_ALIASES[str(source)]
    elif not folder.exists() and (PRETRAINED_DIR / str(source)).is_dir():
        folder = PRETRAINED_DIR / str(source)
    if not folder.is_dir() and str(source) in MOVED_MODELS:
        raise ArtifactError(f"{source} is no longer in the package: give its folder "
                            f"{MOVED_MODELS[str(source)]} in a clone of the repository")
    if not folder.is_dir():
        raise ArtifactError(f"{source} is not a model folder (give `default` or a run "
                            "folder of `korean-gan train --preset hangul`)")
    return folder


def read_styles(folder: Path) -> tuple[np.ndarray, list[str]]:
    """A model folder's font styles ``(n_fonts, style_dim)`` float32 and the fonts' names.

    Raises:
        ArtifactError: the styles file is missing or cannot be read.
    """
    try:
        with np.load(Path(folder) / STYLES_FILE, allow_pickle=False) as npz:
            return np.asarray(npz["styles"], np.float32), [str(f) for f in npz["fonts"]]
    except Exception as err:  # OSError, BadZipFile, KeyError, ValueError (pickled), ...
        raise ArtifactError(f"{Path(folder) / STYLES_FILE} cannot be read ({err})") from None


class ConditionalModelFiles:
    """What a conditional model folder holds, checked: config, model card, styles and the path
    of the generator's weights.

    Attributes:
        folder: The folder.
        config: ``config.json``.
        card: ``model.json`` (empty for a run folder).
        styles: ``(F, D)`` style vectors of the training fonts.
        fonts: The training fonts' names.
        generator_path: ``generator.weights.h5``.
    """

    def __init__(self, folder: Path, config: dict, card: dict, styles: np.ndarray,
                 fonts: list[str]):
        self.folder, self.config, self.card = folder, config, card
        self.styles, self.fonts = styles, fonts
        self.generator_path = folder / GENERATOR_FILE

    def generator_dims(self) -> dict:
        """The keyword arguments of ``models.networks.build_conditional_generator`` for this
        model."""
        config, card = self.config, self.card
        return {"noise_dim": int(config.get("noise_dim", 64)),
                "style_dim": int(self.styles.shape[1]),
                "image_size": int(card.get("image_size", config.get("image_size", 32))),
                "base_filters": int(config.get("g_filters", 128)),
                "block_filters": (tuple(int(f) for f in config["g_block_filters"])
                                  if config.get("g_block_filters") else None)}

    def build_generator(self):
        """The conditional generator (its training form) with this folder's weights, built
        in the current Keras dtype policy.

        Raises:
            ArtifactError: the weights file does not fit the architecture the config gives.
        """
        from korean_gan.models.networks import build_conditional_generator

        generator = build_conditional_generator(**self.generator_dims())
        try:
            generator.load_weights(str(self.generator_path))
        except Exception as err:  # h5py/Keras raise several types for foreign files
            raise ArtifactError(f"{self.generator_path} does not hold this model's weights "
                                f"({err})") from None
        return generator


def _checked_card(folder: Path) -> dict:
    """A folder's model card (empty if it has none), after checking the sha256 of every file
    it lists.

    Raises:
        ArtifactError: the card is not a JSON object, or a file differs from its sha256.
    """
    from korean_gan._io import sha256_file

    path = folder / MODEL_CARD
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
        digests = card.get("sha256", {})
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as err:
        raise ArtifactError(f"{path} is not a model card ({err})") from None
    _check_fields(path, card, _CARD_SCHEMA)
    for name, digest in digests.items():
        if (folder / name).is_file() and sha256_file(folder / name) != digest:
            raise ArtifactError(f"{folder / name} does not match the sha256 in {MODEL_CARD} "
                                "(changed or damaged); restore it from the repository")
    return card


def _write_card(folder: Path, card: dict, names) -> None:
    """Writes ``model.json``: ``card``'s entries plus the sha256 of each named file."""
    from korean_gan._io import sha256_file

    files = {name: sha256_file(folder / name) for name in names}
    (folder / MODEL_CARD).write_text(json.dumps({**card, "sha256": files}, ensure_ascii=False,
                                                indent=2) + "\n", encoding="utf-8")


def add_card_file(folder: str | os.PathLike, name: str, data: bytes,
                  sources: tuple[str, ...] = ()) -> Path:
    """Writes a file into a model, run or upsampler folder and lists its sha256 in the model
    card (made if the folder has none), each atomically; the folder's other files and card
    entries stay as they are.

    Args:
        folder: The folder.
        name: The file's name in it.
        data: Its bytes.
        sources: Files of the folder it was made from (an export's weights): their sha256 are
            recorded, so that :func:`stale_source` can tell when they have changed since.

    Returns:
        The file's path.

    Raises:
        ArtifactError: one of the folder's files fails its sha256, or a source is missing.
    """
    from korean_gan._io import sha256_file, write_bytes_atomic, write_json_atomic

    folder = Path(folder)
    card = _checked_card(folder)
    missing = [s for s in sources if not (folder / s).is_file()]
    if missing:
        raise ArtifactError(f"{folder / missing[0]} does not exist")
    derived = {s: sha256_file(folder / s) for s in sources}
    write_bytes_atomic(folder / name, data)
    card["sha256"] = {**card.get("sha256", {}), name: hashlib.sha256(data).hexdigest()}
    if derived:
        card["derived_from"] = {**card.get("derived_from", {}), name: derived}
    write_json_atomic(folder / MODEL_CARD, card)
    return folder / name


def stale_source(folder: str | os.PathLike, name: str) -> str | None:
    """The first file that ``name`` was made from (see :func:`add_card_file`) and that has
    changed or gone since, or None if all are as they were."""
    from korean_gan._io import sha256_file

    folder = Path(folder)
    path = folder / MODEL_CARD
    try:
        sources = json.loads(path.read_text(encoding="utf-8")).get("derived_from", {})[name]
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return None
    for source, digest in sources.items():
        if not (folder / source).is_file() or sha256_file(folder / source) != digest:
            return source
    return None


def read_conditional_model(source: str | os.PathLike) -> ConditionalModelFiles:
    """Reads and checks a conditional model folder (pretrained or a finished run).

    Args:
        source: ``default``, a pretrained model's name, or a folder.

    Raises:
        ArtifactError: nothing loadable there, a file whose sha256 does not match the model
            card, or a run of another model.
    """
    folder = model_folder(source)
    if not (folder / CONFIG_FILE).is_file():
        raise ArtifactError(f"{folder} holds no {CONFIG_FILE}; it is not a run folder")
    config = run_settings(folder)
    if config.get("model") != "conditional":
        raise ArtifactError(f"{folder} is a {config.get('model', 'dcgan')} run; write and "
                            "synth need a conditional one (--preset hangul); use "
                            "`korean-gan sample` for it")
    for name in (GENERATOR_FILE, STYLES_FILE):
        if not (folder / name).is_file():
            raise ArtifactError(f"{folder} has no {name} yet (a run writes it when it "
                                "ends; resume or finish the run)")
    card = _checked_card(folder)
    styles, fonts = read_styles(folder)
    return ConditionalModelFiles(folder, config, card, styles, fonts)


def pretrained_models() -> list[dict]:
    """The committed models, read from their model cards (no TensorFlow): one dict each with
    ``name``, ``aliases`` (other names that load it, ``default`` among them for the default),
    ``megabytes`` and ``description``, the default first, then by name."""
    models = []
    for folder in sorted(p for p in PRETRAINED_DIR.iterdir() if (p / MODEL_CARD).is_file()):
        card = json.loads((folder / MODEL_CARD).read_text(encoding="utf-8"))
        models.append({
            "name": folder.name,
            "aliases": [a for a, name in PRETRAINED_ALIASES.items() if name == folder.name],
            "megabytes": round(sum(f.stat().st_size for f in folder.iterdir()) / 2**20, 1),
            "description": card.get("description", ""),
        })
    return sorted(models, key=lambda m: ("default" not in m["aliases"], m["name"]))


def write_model_folder(out: str | os.PathLike, config: dict, generator, styles,
                       card: dict | None = None) -> Path:
    """Writes a conditional model folder whole, or not at all (``out`` is replaced).

    Args:
        out: The folder.
        config: Its ``config.json``.
        generator: A weights file to copy, or a callable that writes the weights to the path
            it is given.
        styles: A styles file to copy, or ``(styles (F, D), fonts)`` to save.
        card: Model-card entries: with a card, ``model.json`` also holds the sha256 of every
            file (checked at load); ``None`` writes no model card.
    """
    from korean_gan._io import atomic_dir, save_npz

    out = Path(out)
    with atomic_dir(out) as tmp:
        (tmp / CONFIG_FILE).write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")
        if callable(generator):
            generator(tmp / GENERATOR_FILE)
        else:
            shutil.copyfile(generator, tmp / GENERATOR_FILE)
        if isinstance(styles, tuple):
            save_npz(tmp / STYLES_FILE, {"styles": np.asarray(styles[0], np.float32),
                                         "fonts": np.array(styles[1])})
        else:
            shutil.copyfile(styles, tmp / STYLES_FILE)
        if card is not None:
            _write_card(tmp, card, (GENERATOR_FILE, STYLES_FILE, CONFIG_FILE))
    return out


def export_model(run_dir: str | os.PathLike, out: str | os.PathLike,
                 card: dict | None = None, snapshot: int | None = None) -> Path:
    """Copies a finished conditional run's sampling files into a model folder with a model card
    (``model.json``: sha256 of every file, checked at load, plus ``card``'s entries).

    This is how ``korean_gan/pretrained/hangul`` is made from a training run.

    Args:
        run_dir: The run folder (its ``config.json``, ``generator.weights.h5``, ``styles.npz``).
        out: The model folder to write (replaced as a whole).
        card: Extra model-card entries (training data, measured quality, commands).
        snapshot: Export the generator and styles the run kept at the end of this epoch
            (``train --snapshot-every``) instead of its final ones; the model's config then
            says ``epochs``: this epoch.

    Returns:
        The folder.

    Raises:
        ArtifactError: not a finished conditional run, or no snapshot of that epoch.
    """
    run_dir = Path(run_dir)
    model = read_conditional_model(run_dir)  # refuses anything but a finished conditional run
    config = {k: model.config[k] for k in _EXPORTED_CONFIG if k in model.config}
    if snapshot is None:
        return write_model_folder(out, config, run_dir / GENERATOR_FILE, run_dir / STYLES_FILE,
                                  card or {})
    generator, styles_path = (run_dir / SNAPSHOTS_DIR / name for name in snapshot_files(snapshot))
    missing = [str(p) for p in (generator, styles_path) if not p.is_file()]
    if missing:
        raise ArtifactError(f"{run_dir} has no snapshot of epoch {snapshot} "
                            f"({missing[0]} is missing); train with --snapshot-every")
    # A snapshot's styles file holds the styles only; the fonts are the run's.
    with np.load(styles_path, allow_pickle=False) as npz:
        styles = np.asarray(npz["styles"], np.float32)
    if styles.shape[0] != len(model.fonts):
        raise ArtifactError(f"{styles_path} holds {styles.shape[0]} styles for the run's "
                            f"{len(model.fonts)} fonts")
    config["epochs"] = snapshot
    return write_model_folder(out, config, generator, (styles, model.fonts), card or {})


# The settings that fix a generator's shape: two models interpolate only if they agree on them.
_ARCHITECTURE = ("preset", "noise_dim", "g_filters", "g_block_filters")


# Weight-space ensembling (WiSE-FT), Wortsman et al. 2022: https://arxiv.org/abs/2109.01903
def interpolate_models(first: str | os.PathLike, second: str | os.PathLike, weight: float,
                       out: str | os.PathLike, card: dict | None = None) -> Path:
    """A model whose weights and font styles are ``(1 - weight) x first + weight x second``.

    Meant for a model and a fine-tune of it (the two lie in one basin of the loss, so points
    between them are good models too): a weight between 0 and 1 keeps part of what the
    fine-tune gained and part of what it cost. The new folder takes ``second``'s config and a
    model card that names both models and the weight.

    Args:
        first: A model folder or name (``hangul-v2``, ``default``, a run or model folder).
        second: Another of the same architecture and training fonts.
        weight: Share of ``second``, from 0 (``first``'s weights) to 1 (``second``'s).
        out: The model folder to write (replaced as a whole, or not at all).
        card: Extra model-card entries.

    Returns:
        The folder.

    Raises:
        ArtifactError: a weight outside [0, 1], or models of another architecture or fonts.
    """
    import h5py

    if not 0.0 <= float(weight) <= 1.0:
        raise ArtifactError(f"weight {weight} is not between 0 and 1 (the share of the "
                            "second model)")
    weight = float(weight)
    a, b = (read_conditional_model(m) for m in (first, second))
    for key in _ARCHITECTURE:
        if a.config.get(key) != b.config.get(key):
            raise ArtifactError(f"{first} and {second} differ in {key} ({a.config.get(key)} "
                                f"against {b.config.get(key)}): only models of one "
                                "architecture interpolate")
    if a.fonts != b.fonts:
        raise ArtifactError(f"{first} and {second} were trained on other fonts: only a model "
                            "and a fine-tune of it interpolate")

    def write(path: Path) -> None:
        shutil.copyfile(b.generator_path, path)
        with h5py.File(a.generator_path, "r") as fa, h5py.File(path, "r+") as fb:
            names: list[str] = []
            fb.visititems(lambda name, obj: names.append(name)
                          if isinstance(obj, h5py.Dataset) else None)
            for name in names:
                mine, theirs = fb[name], fa.get(name)
                if not isinstance(theirs, h5py.Dataset) or theirs.shape != mine.shape:
                    raise ArtifactError(f"{a.generator_path} has no weight {name} of shape "
                                        f"{mine.shape}: only models of one architecture "
                                        "interpolate")
                if mine.dtype.kind == "f":  # in the weights' own precision
                    mine[...] = ((1.0 - weight) * theirs[()] + weight * mine[()]).astype(
                        mine.dtype)

    styles = ((1.0 - weight) * a.styles + weight * b.styles).astype(np.float32)
    entries = {"name": Path(out).name,
               "interpolated": {"first": str(first), "second": str(second), "weight": weight,
                                "method": "weights and styles (1 - weight) x first + weight "
                                          "x second (WiSE-FT, arXiv:2109.01903)"},
               **(card or {})}
    return write_model_folder(out, dict(b.config), write, (styles, b.fonts), entries)


def save_weights(model, path: str | os.PathLike) -> None:
    """Saves a network's weights (weights only, ``.weights.h5``) atomically."""
    from korean_gan._io import atomic_path

    with atomic_path(path, suffix=".weights.h5") as tmp:
        model.save_weights(str(tmp))


# --- the glyph upsampler ----------------------------------------------------------------------

def write_upsampler_folder(out: str | os.PathLike, model, config: dict, card: dict,
                           stroke_bias: dict[str, float] | None = None) -> Path:
    """Writes an upsampler folder whole, or not at all: weights, ``config.json`` (the
    architecture and how it was trained), the per-font stroke offsets and a model card with
    every file's sha256.

    Args:
        out: The folder (replaced).
        model: The upsampler (``models.upsampler.build_upsampler``).
        config: Its training config.
        card: Model-card entries.
        stroke_bias: ``{font: logit offset}`` (``training.upsample.calibrate_stroke_bias``).
    """
    from korean_gan._io import atomic_dir
    from korean_gan.models.upsampler import upsampler_dims

    out = Path(out)
    with atomic_dir(out) as tmp:
        settings = {"format_version": FORMAT_VERSION, "model": "upsampler",
                    "architecture": upsampler_dims(model), "training": config}
        (tmp / CONFIG_FILE).write_text(json.dumps(settings, ensure_ascii=False, indent=2)
                                       + "\n", encoding="utf-8")
        model.save_weights(str(tmp / UPSAMPLER_FILE))
        names = [UPSAMPLER_FILE, CONFIG_FILE]
        if stroke_bias is not None:
            (tmp / STROKE_BIAS_FILE).write_text(json.dumps(stroke_bias, indent=2) + "\n",
                                                encoding="utf-8")
            names.append(STROKE_BIAS_FILE)
        _write_card(tmp, card, names)
    return out


def load_upsampler(source: str | os.PathLike | None = None):
    """Builds the upsampler of a folder (default the committed one) and reads its weights.

    Raises:
        ArtifactError: no upsampler there, a file whose sha256 differs from the model card, or
            weights of another architecture.
    """
    from korean_gan.models.upsampler import build_upsampler

    folder = Path(source) if source is not None else UPSAMPLER_DIR
    config_path, weights = folder / CONFIG_FILE, folder / UPSAMPLER_FILE
    if not config_path.is_file() or not weights.is_file():
        raise ArtifactError(f"{folder} is not an upsampler folder (it needs {CONFIG_FILE} and "
                            f"{UPSAMPLER_FILE}; `korean-gan train-upsampler` writes one)")
    settings = run_settings(folder)
    _checked_card(folder)
    try:
        model = build_upsampler(**settings["architecture"])
    except (KeyError, TypeError, ValueError) as err:
        raise ArtifactError(f"{config_path}: bad architecture ({err})") from None
    _load_weights(model, weights)
    return model


def upsampler_onnx(source: str | os.PathLike | None = None) -> Path:
    """The ONNX export of an upsampler folder's network (default the committed one), checked
    against the folder's model card.

    Raises:
        ArtifactError: the folder has no export, or a file differs from its sha256.
    """
    folder = Path(source) if source is not None else UPSAMPLER_DIR
    path = folder / ONNX_UPSAMPLER_FILE
    stale = stale_source(folder, ONNX_UPSAMPLER_FILE) if path.is_file() else None
    if not path.is_file() or stale is not None:
        why = "does not exist" if stale is None else f"is older than {folder / stale}"
        raise ArtifactError(f"{path} {why}: export it with `korean-gan export-onnx --no-model "
                            f"--upsampler {folder}`, or use --runtime tensorflow")
    _checked_card(folder)
    return path


def read_stroke_bias(source: str | os.PathLike | None = None) -> dict[str, float]:
    """The per-font stroke offsets of an upsampler folder (default the committed one); empty
    if the folder has none.

    Raises:
        ArtifactError: the file is not a JSON object of numbers.
    """
    path = (Path(source) if source is not None else UPSAMPLER_DIR) / STROKE_BIAS_FILE
    if not path.is_file():
        return {}
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ArtifactError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(table, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in table.values()):
        raise ArtifactError(f"{path} must map font names to numbers")
    return {str(k): float(v) for k, v in table.items()}


# --- style files ------------------------------------------------------------------------------

def load_style(path: str | os.PathLike) -> np.ndarray:
    """A style vector saved with :func:`save_style` (an ``.npz`` with a ``style`` array).

    Raises:
        ArtifactError: a missing or unreadable file.
    """
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"style file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return np.asarray(npz["style"], np.float32).reshape(-1)
    except Exception as err:  # BadZipFile, KeyError, ValueError (pickled), ...
        raise ArtifactError(f"style file {path} cannot be read ({err})") from None


def style_data_source(path: str | os.PathLike) -> str | None:
    """The dataset a style file was fitted to (``korean-gan adapt`` records it), or None.

    Raises:
        ArtifactError: a missing or unreadable file.
    """
    path = Path(path)
    load_style(path)  # the same checks and messages
    with np.load(path, allow_pickle=False) as npz:
        if "data" not in npz.files or npz["data"].dtype.kind != "U" or npz["data"].ndim:
            return None
        return str(npz["data"])


def save_style(path: str | os.PathLike, vector: np.ndarray, **meta) -> Path:
    """Saves a style vector (and scalar/string metadata) atomically as ``.npz``."""
    from korean_gan._io import save_npz

    arrays = {"style": np.asarray(vector, np.float32).reshape(-1)}
    arrays.update({k: np.asarray(v) for k, v in meta.items()})
    save_npz(path, arrays)
    return Path(path)
