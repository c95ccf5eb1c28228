"""The ``korean-gan`` command line.

One module per command group (:mod:`.data`, :mod:`.train`, :mod:`.generate`, :mod:`.evaluate`,
:mod:`.handwriting`, :mod:`.demo`, :mod:`.font`, :mod:`.lines`, :mod:`.serve`): each maps its
arguments onto the library's configuration dataclasses and calls the library. Heavy imports
(TensorFlow, scikit-image, FastAPI) happen inside the handlers, so ``--help`` is fast.

Errors: a bad input or environment is one line on stderr, ``korean-gan: error: ...``, with exit
status 2 (``KOREAN_GAN_DEBUG=1`` shows the traceback); Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from korean_gan.cli import (
    data,
    demo,
    evaluate,
    font,
    generate,
    handwriting,
    lines,
    serve,
    train,
)

__all__ = ["build_parser", "main"]

#: The command groups in the order ``--help`` lists them.
_GROUPS = (data, train, generate, evaluate, demo, handwriting, font, lines, serve)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``korean-gan`` command."""
    from korean_gan import __version__
    from korean_gan.cli._common import OneLineParser

    parser = OneLineParser(
        prog="korean-gan",
        description="Generate handwritten Korean (Hangul) glyph images with GANs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in _GROUPS:
        group.add_parsers(sub)
    return parser


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a one-line argument error (status 2)
        return exit_.code if isinstance(exit_.code, int) else 2
    # TensorFlow's INFO lines (oneDNN, XLA start-up) say nothing to a user of the command line;
    # its warnings and errors still show. A value the user set wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    previous = warnings.showwarning
    warnings.showwarning = _one_line_warning
    try:
        try:
            return int(args.handler(args) or 0)
        except Exception as err:
            # TensorFlow's own errors (a damaged file it reads, ...) are neither ValueError
            # nor OSError; report them the same way, on one line.
            if type(err).__module__.startswith("tensorflow") and not os.environ.get(
                    "KOREAN_GAN_DEBUG"):
                raise OSError(str(err).splitlines()[0] if str(err) else type(err).__name__) \
                    from None
            raise
    except (ValueError, OSError) as err:
        # Every error the library raises for bad input is a ValueError or OSError subclass
        # whose message names the value and what to do. KOREAN_GAN_DEBUG=1 shows the traceback.
        if os.environ.get("KOREAN_GAN_DEBUG"):
            raise
        print(f"korean-gan: error: {_user_message(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("korean-gan: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: one line for the user, the traceback in a log
        if os.environ.get("KOREAN_GAN_DEBUG"):
            raise
        log = _crash_log(err)
        where = f"; the traceback is in {log}" if log else ""
        print(f"korean-gan: internal error (a bug, please report it): {type(err).__name__}: "
              f"{(str(err).splitlines() or [''])[0][:200]}{where}", file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = previous


def _user_message(err: Exception) -> str:
    """The one line a user error prints; the operating system's own errors in plain words."""
    import errno

    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" writing {err.filename}" if err.filename else ""
        return (f"the disk is full{where}: free some space or write elsewhere (nothing "
                "half-written was kept)")
    if isinstance(err, OSError) and err.errno in (errno.EACCES, errno.EPERM) and err.filename:
        return f"permission denied: {err.filename}; choose a place you can write to"
    if isinstance(err, OSError) and err.errno == errno.EROFS and err.filename:
        return f"{err.filename} is on a read-only disk; write elsewhere"
    return (str(err).splitlines() or [type(err).__name__])[0]


def _crash_log(err: BaseException) -> str | None:
    """Writes the traceback of ``err`` to a new file in the temporary folder; its path."""
    import tempfile
    import traceback

    try:
        fd, path = tempfile.mkstemp(prefix="korean-gan-crash-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"korean-gan {' '.join(sys.argv[1:])}\n")
            fh.write("".join(traceback.format_exception(err)))
        return path
    except OSError:
        return None

