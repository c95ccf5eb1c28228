"""What several command groups share: option helpers and the one-line output conventions."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from korean_gan.training.distribute import PRECISIONS, STRATEGIES

__all__ = ["MAX_HOURS", "MODEL_HELP", "PRECISIONS", "STRATEGIES", "ConfigOptions",
           "add_sampling_precision", "add_yes", "SEED", "OneLineParser", "float_range",
           "int_range", "max_hours", "model_source", "read_text_source"]

#: A job whose pace says it would run longer than this stops unless --yes is given.
MAX_HOURS = 24.0


@dataclass(frozen=True)
class ConfigOptions:
    """How a command's options map onto the fields of the library config it fills; a test
    checks every command's map against the dataclass fields and the parser, so that a new
    field cannot be forgotten in the CLI.

    Attributes:
        command: The command's words, e.g. ``("data", "build")``.
        configs: Dotted paths of the config dataclasses (their fields are united).
        options: Option (argparse dest) -> the field it sets.
        api_only: Fields that no option sets (the Python API or a preset does).
        cli_only: Options that set no field (which model to load, its precision, ...).
    """

    command: tuple[str, ...]
    configs: tuple[str, ...]
    options: dict[str, str]
    api_only: frozenset[str] = field(default_factory=frozenset)
    cli_only: frozenset[str] = field(default_factory=frozenset)

#: --model of write and synth (``korean-gan models`` lists the committed ones).
MODEL_HELP = ("default (the committed pretrained model, hangul), hangul-fast (a distilled copy "
               "of hangul-v1, 1.5x the glyphs per second), hangul-v2 or hangul-v1 (earlier "
               "defaults) or a conditional run folder")


def add_sampling_precision(parser: argparse.ArgumentParser, default: str | None = "auto",
                           default_help: str | None = None) -> None:
    auto = "auto (bf16 on CPUs where a timed matmul shows it faster than float32, glyphs " \
           "within a few grey levels of float32's; float16 on GPUs; else float32)"
    same = "float32 for the same bytes on every machine"
    int8 = "int8 (ONNX Runtime, 8-bit convolutions: 2.3x float32's speed, glyphs within a " \
           "grey level on average)"
    parser.add_argument("--precision", default=default,
                        choices=(*PRECISIONS, "int8"),
                        help=f"what the generator computes in: {auto}, {same}, or {int8}; "
                             f"default {default_help or default}")


def add_runtime(parser: argparse.ArgumentParser, default: str | None = "auto",
                default_help: str | None = None) -> None:
    parser.add_argument("--runtime", default=default, choices=("auto", "tensorflow", "onnx"),
                        help="what runs the networks: onnx (ONNX Runtime, float32 or int8: "
                             "starts in a tenth of TensorFlow's time), tensorflow, or auto "
                             "(onnx for float32 and int8 when the model has their exports); "
                             f"default {default_help or default}")


def add_yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true",
                        help=f"run even if the pace of the first 20 s says the job would take "
                             f"more than {MAX_HOURS:g} hours (without it such a job stops, "
                             f"having written nothing)")


def max_hours(args: argparse.Namespace) -> float | None:
    """The time limit that ``--yes`` lifts."""
    return None if args.yes else MAX_HOURS


def model_source(run_dir: str) -> str:
    from korean_gan.artifacts import run_settings

    return run_settings(run_dir).get("model", "dcgan")


def read_text_source(source: str, option: str) -> str:
    """The UTF-8 text of a file, or of standard input for ``-``.

    Args:
        source: A file path, or ``-``.
        option: The option it came from, for messages (``--text-file``).

    Raises:
        ValueError: a missing or unreadable file, or bytes that are not UTF-8, in one line.
    """
    import sys

    where = "standard input" if source == "-" else source
    try:
        if source == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as fh:
                raw = fh.read()
    except FileNotFoundError:
        raise ValueError(f"{option} {source}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{option} {source}: is a folder; give a UTF-8 text file") from None
    except OSError as err:
        raise ValueError(f"{option} {source}: cannot be read ({err.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{option} {where}: not UTF-8 text (byte {err.start}); save it as "
                         "UTF-8") from None


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``korean-gan write: error: ...``) naming
    the option, the value and where to look, with exit status 2, as every other error."""

    def error(self, message: str):
        self.exit(2, f"korean-gan: error: {message}; see {self.prog} --help\n")


def int_range(low: int, high: int):
    """An argparse ``type``: an integer from ``low`` to ``high`` (the option's documented range).

    Ranges keep a job within what one machine can do: a value past them is refused before any
    work, with the range in the message.
    """
    def integer(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"give a whole number from {low:,} to {high:,}, "
                                             f"got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, got "
                                             f"{value:,}")
        return value

    return integer


def float_range(low: float, high: float):
    """An argparse ``type``: a finite number from ``low`` to ``high``."""
    import math

    def number(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"give a number from {low:g} to {high:g}, got "
                                             f"{text!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}, got {text}")
        return value

    return number


#: Seeds: what numpy's generators take.
SEED = int_range(0, 2**32 - 1)
