"""Speed of the user's commands end to end, at 32, 64 and 128 px (issue #31, item 5).

Each command runs as its own process under ``/usr/bin/time`` (wall seconds and peak resident
memory), float32 in TensorFlow (``--precision int8``: the same commands with the int8
generator in ONNX Runtime; ``--runtime onnx``: float32 in ONNX Runtime), on this machine's
cores; glyphs per second are the glyphs written over the
whole command's wall time: start-up, loading the model, style resolution, the progress bar,
writing the file. The median of ``--repeats`` runs is kept::

    python benchmarks/highres_speed.py [--repeats 3] \
        [--json benchmarks/results/highres_speed.json]
    python benchmarks/highres_speed.py --precision int8 \
        --json benchmarks/results/highres_speed_int8.json
    python benchmarks/highres_speed.py --runtime onnx \
        --json benchmarks/results/highres_speed_onnx.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import write_result  # noqa: E402

CASES = [
    # (name, glyphs, arguments after `korean-gan synth`)
    *[(f"32px --styles {styles}", 2350 * 18,
       ["--charset", "ks2350", "--per-class", "18", "--styles", styles])
      for styles in ("fonts", "random", "mix", "mean", "Gaegu-Regular")],
    ("64px --styles fonts", 2350 * 2, ["--charset", "ks2350", "--per-class", "2", "--size", "64"]),
    ("128px --styles fonts", 2350 * 2,
     ["--charset", "ks2350", "--per-class", "2", "--size", "128"]),
    ("128px all11172 --styles random", 11172,
     ["--charset", "all11172", "--per-class", "1", "--size", "128", "--styles", "random"]),
]


def run(args: list[str], out: Path, precision: str, runtime: str | None
        ) -> tuple[float, int, dict]:
    """Wall seconds, peak resident kB and the manifest of one synth command."""
    exe = Path(sys.executable).with_name("korean-gan")
    timing = out.with_suffix(".time")
    command = ["/usr/bin/time", "-f", "%e %M", "-o", str(timing), str(exe), "synth", *args,
               "--precision", precision, "--quiet", "--no-preview", "--out", str(out)] + (
                   ["--runtime", runtime] if runtime else [])
    subprocess.run(command, check=True, capture_output=True)
    wall, peak = timing.read_text().split()
    manifest = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    return float(wall), int(peak), manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default=None, help="run only cases whose name contains this")
    parser.add_argument("--precision", default="float32", choices=("float32", "int8"))
    parser.add_argument("--runtime", default=None, choices=("tensorflow", "onnx", "auto"),
                        help="synth's --runtime (default: synth's own default)")
    parser.add_argument("--json", default="benchmarks/results/highres_speed.json")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, glyphs, argv in CASES:
            if args.only and args.only not in name:
                continue
            walls, peaks, inner = [], [], []
            for k in range(args.repeats):
                wall, peak, manifest = run(argv, Path(folder) / f"s{k}.npz", args.precision,
                                             args.runtime)
                walls.append(wall)
                peaks.append(peak)
                inner.append(manifest["build"]["glyphs_per_second"])
            wall = statistics.median(walls)
            row = {"case": name, "glyphs": glyphs, "wall_seconds": wall, "walls": walls,
                   "glyphs_per_second_end_to_end": round(glyphs / wall, 1),
                   "glyphs_per_second_generating": statistics.median(inner),
                   "peak_memory_mb": round(max(peaks) / 1024, 1),
                   "command": "korean-gan synth " + " ".join(argv) + " --precision "
                              + args.precision + (f" --runtime {args.runtime}"
                                                  if args.runtime else ""),
                   "runtime": manifest["build"].get("runtime"),
                   "model_precision": manifest["model"]["precision"]}
            rows.append(row)
            print(f"{name:34s} {row['glyphs_per_second_end_to_end']:8,.0f} glyphs/s end to end "
                  f"({row['glyphs_per_second_generating']:,.0f} generating), "
                  f"{wall:.1f} s, peak {row['peak_memory_mb']:,.0f} MB", flush=True)
    write_result(args.json, {"precision": args.precision, "runtime": args.runtime,
                             "repeats": args.repeats,
                             "cases": rows})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
