"""Provenance for benchmark results: which code, machine and command produced a result file.

Every JSON result a benchmark writes goes through :func:`write_result`, which adds a
``"provenance"`` entry (:func:`provenance`) at the top level of the file. That entry describes
the run that last wrote the file. Scripts that add rows to an existing result file
(``cas_protocol.py``'s classifiers, ``recognizer_warmup.py``'s recognisers) also put
:func:`provenance` in each new row, so a row keeps the run that measured it; rows that predate
this get the file's earlier entry (for committed results, one reconstructed from git history:
``{"reconstructed": true, ...}``) before the file is rewritten. ``profile_step.py`` prints its
figures (``results/profile_*.txt`` are its output, redirected) and carries no provenance.

Benchmarks run as ``python benchmarks/x.py``, so this folder is on ``sys.path`` and they import
it as ``from provenance import write_result``.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

from korean_gan._io import write_json_atomic

REPO = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str | None:
    """Output of ``git args`` in the repository, or None without git or a repository."""
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _cpu() -> dict:
    """The CPU's model name (from /proc/cpuinfo), core count and native bfloat16 flags."""
    model, flags = None, set()
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model is None:
            model = value.strip()
        elif key.strip() == "flags":
            flags.update(value.split())
    return {"model": model, "cores": os.cpu_count(),
            "amx_bf16": "amx_bf16" in flags, "avx512_bf16": "avx512_bf16" in flags}


def _tensorflow_version() -> str | None:
    """The installed TensorFlow's version, from package metadata (TensorFlow is not imported)."""
    for name in ("tensorflow-cpu", "tensorflow"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def provenance() -> dict:
    """Describes this run: code, machine, software, time and command.

    Returns:
        ``commit`` (``git rev-parse HEAD``, None outside a repository), ``dirty`` (tracked files
        differ from that commit), ``cpu`` (``model``, ``cores``, ``amx_bf16``, ``avx512_bf16``),
        ``tensorflow`` and ``python`` versions, ``date`` (UTC, ISO 8601) and ``command``
        (``sys.argv`` as a shell line, ``python benchmarks/x.py --flag ...``).
    """
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": _git("rev-parse", "HEAD"),
        "dirty": None if status is None else bool(status),
        "cpu": _cpu(),
        "tensorflow": _tensorflow_version(),
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", *sys.argv]),
    }


def write_result(path: str | os.PathLike, payload: dict) -> None:
    """Writes ``payload`` with ``"provenance": provenance()`` as JSON, atomically.

    The file is UTF-8 JSON with an indent of 2 and Hangul kept readable
    (:func:`korean_gan._io.write_json_atomic`); an interrupted write leaves the previous file.
    ``payload`` itself is not changed. A ``"provenance"`` it already holds (read back from the
    file) is replaced in place; otherwise the entry comes last.

    Args:
        path: the result file; its folder is created if needed.
        payload: the result, a JSON-serialisable dict.
    """
    write_json_atomic(path, {**payload, "provenance": provenance()})
