"""Helpers of the tests that run ``korean-gan`` training in real subprocesses (kill, resume)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def cli(*args) -> list[str]:
    """The command line of ``korean-gan`` with ``args``, run by this interpreter."""
    return [sys.executable, "-m", "korean_gan.cli", *map(str, args)]


def env() -> dict:
    """The environment of a training subprocess: deterministic ops, quiet TensorFlow."""
    return {**os.environ, "TF_DETERMINISTIC_OPS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def train_args(data: Path, run: Path, epochs: int) -> list[str]:
    """``train`` arguments of a tiny run that checkpoints every epoch."""
    return ["train", "--data", str(data), "--run-dir", str(run), "--epochs", str(epochs),
            "--batch-size", "8", "--checkpoint-every", "1", "--eval-every", "0", "--quiet",
            "--no-tensorboard"]


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 180) -> None:
    """Waits until ``path`` exists; fails if ``proc`` ends first or the time runs out."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"process ended ({proc.returncode}) before {path} appeared: "
                                 + proc.stdout.read().decode(errors="replace")[-2000:])
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{path} did not appear in {timeout} s")
        time.sleep(0.02)
