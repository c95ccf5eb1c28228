"""A two-process MultiWorkerMirroredStrategy run on localhost: both workers train, only the
chief writes the run folder, and a single-device run continues its checkpoint.

    python benchmarks/multiworker_localhost.py [--data data/seed16.npz] [--epochs 2]

Each worker is a ``korean-gan train --strategy multiworker`` process with its own ``TF_CONFIG``
(worker 0 is the chief); the global batch is split over the two.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="data/seed16.npz")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    exe = str(Path(sys.executable).with_name("korean-gan"))
    workers = [f"localhost:{free_port()}", f"localhost:{free_port()}"]
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        procs = []
        started = time.perf_counter()
        for index in range(2):
            env = {**os.environ, "TF_CONFIG": json.dumps(
                {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}
            log = open(Path(tmp) / f"worker{index}.log", "w")
            procs.append((subprocess.Popen(
                [exe, "train", "--strategy", "multiworker", "--data", args.data, "--run-dir",
                 str(run), "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
                 "--eval-every", "0", "--no-tensorboard", "--quiet"],
                env=env, stdout=log, stderr=subprocess.STDOUT), log))
        codes = [p.wait(timeout=1800) for p, _ in procs]
        seconds = time.perf_counter() - started
        for _, log in procs:
            log.close()
        for index, code in enumerate(codes):
            tail = (Path(tmp) / f"worker{index}.log").read_text().splitlines()[-3:]
            print(f"worker {index}: exit {code}; " + " | ".join(tail))
        written = sorted(p.name for p in run.iterdir())
        print(f"run folder (written by the chief only): {', '.join(written)}")
        print(f"{args.epochs} epochs on 2 workers in {seconds:.0f} s")
        resumed = subprocess.run([exe, "train", "--resume", "--run-dir", str(run), "--epochs",
                                  str(args.epochs + 1), "--quiet"], capture_output=True,
                                 text=True)
        print(f"single-device --resume of the multi-worker checkpoint: exit "
              f"{resumed.returncode}")
        if any(codes) or resumed.returncode:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
