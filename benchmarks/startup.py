"""Short commands end to end: how long a user waits for one sentence, ten lines, a style list.

Each command runs as a process (``korean-gan ...``, wall time from start to exit, the median
of ``--repeats`` runs after one untimed warm-up that fills the file cache), once with
``--runtime tensorflow`` and once with the default ``--runtime auto`` (ONNX Runtime for the
bundled model in float32):

* ``write "다람쥐 헌 쳇바퀴에 타고파" --size 128 --style Gaegu-Regular --out ...``
  (``--precision float32``; the default precision of ``write``);
* ``lines --random 10 --height 64 --quiet --out ...``;
* ``styles`` (``--runtime`` does not apply: it lists the model's styles, loaded as ``auto``
  loads them), and ``--help``.

Before each timed run the script waits (at most ``--max-wait`` s) for the 1-minute load
average to fall below ``--quiet-load``, and records it.

Usage (about 3 min on 2 cores)::

    python benchmarks/startup.py [--repeats 3] [--json benchmarks/results/startup.json]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provenance import write_result

SENTENCE = "다람쥐 헌 쳇바퀴에 타고파"


def wait_for_quiet(threshold: float, max_wait: float, poll: float = 10.0) -> float:
    started, load = time.monotonic(), os.getloadavg()[0]
    while load >= threshold and time.monotonic() - started < max_wait:
        time.sleep(poll)
        load = os.getloadavg()[0]
    return round(load, 2)


def timed(argv: list[str], repeats: int, quiet: float, max_wait: float) -> dict:
    """Median wall seconds of ``argv`` over ``repeats`` runs (after one untimed run)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    subprocess.run(argv, env=env, capture_output=True, check=True)
    seconds, loads = [], []
    for _ in range(repeats):
        loads.append(wait_for_quiet(quiet, max_wait))
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        seconds.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return {"seconds_median": round(statistics.median(seconds), 2),
            "seconds": [round(s, 2) for s in seconds], "load_at_start": loads}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quiet-load", type=float, default=0.6)
    parser.add_argument("--max-wait", type=float, default=120.0, help="seconds")
    parser.add_argument("--json", default="benchmarks/results/startup.json")
    args = parser.parse_args()

    exe = str(Path(sys.executable).parent / "korean-gan")
    work = Path(tempfile.mkdtemp(prefix="startup-"))
    commands = {}
    for runtime in ("tensorflow", "auto"):
        commands[f"write_{runtime}"] = [
            exe, "write", SENTENCE, "--size", "128", "--style", "Gaegu-Regular",
            "--precision", "float32", "--runtime", runtime, "--out", str(work / "w.png")]
        commands[f"lines_10_{runtime}"] = [
            exe, "lines", "--random", "10", "--height", "64", "--quiet", "--runtime", runtime,
            "--out", str(work / f"lines_{runtime}")]
    commands["styles"] = [exe, "styles"]
    commands["help"] = [exe, "--help"]
    result = {"cpu": {"model": None, "cores": os.cpu_count()}, "sentence": SENTENCE,
              "repeats": args.repeats, "quiet_load_threshold": args.quiet_load, "runs": {}}
    try:
        from provenance import _cpu

        result["cpu"] = _cpu()
    except ImportError:
        pass
    try:
        for label, argv in commands.items():
            row = {"command": " ".join(["korean-gan", *argv[1:]]).replace(str(work), "OUT")}
            row.update(timed(argv, args.repeats, args.quiet_load, args.max_wait))
            result["runs"][label] = row
            print(f"{label:22s} {row['seconds_median']:6.2f} s  {row['seconds']}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    runs = result["runs"]
    result["speedup_auto_over_tensorflow"] = {
        name: round(runs[f"{name}_tensorflow"]["seconds_median"]
                    / runs[f"{name}_auto"]["seconds_median"], 2)
        for name in ("write", "lines_10")}
    print(f"auto (ONNX Runtime) over TensorFlow: {result['speedup_auto_over_tensorflow']}")
    write_result(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
