"""Sample quality of mixed_bfloat16 training against float32 at the same number of steps.

Trains the reference model (``reference`` preset, seed16, the demo's 170 epochs) once per precision
and seed, measuring FCD, KID and legibility every ``--eval-every`` epochs with the committed
evaluator, then prints, per precision, the final values, the mean of the last three evaluations
and the best FCD, over the seeds::

    python benchmarks/bf16_quality.py [--seeds 0 1] [--epochs 170] [--out /tmp/bf16-quality]
    python benchmarks/bf16_quality.py --summarise /tmp/bf16-quality   # runs already there

About 14 minutes per float32 run and 9 per bf16 run on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
from pathlib import Path

from provenance import write_result  # this folder is on sys.path when run as a script

PRECISIONS = ("float32", "mixed_bfloat16")
TOLERANCE = 0.10  # bf16's mean FCD may be this much above float32's and count as no worse


def run(out: Path, precision: str, seed: int, epochs: int, eval_every: int) -> Path:
    """Trains one run with the CLI (skipped if its folder already holds a finished run)."""
    run_dir = out / f"{precision}-s{seed}"
    if (run_dir / "generator.weights.h5").is_file():
        return run_dir
    exe = Path(sys.executable).with_name("korean-gan")
    subprocess.run([str(exe), "train", "--preset", "reference", "--data", "data/seed16.npz",
                    "--run-dir", str(run_dir), "--epochs", str(epochs), "--eval-every",
                    str(eval_every), "--seed", str(seed), "--precision", precision, "--quiet",
                    "--no-tensorboard"], check=True)
    return run_dir


def summarise(out: Path) -> dict:
    """Per precision, over its finished runs: final FCD/KID/legibility, mean FCD of the last
    three evaluations and the best FCD, each as the list over seeds and their mean."""
    report: dict = {}
    for precision in PRECISIONS:
        rows = {}
        for folder in sorted(out.glob(f"{precision}-s*")):
            if not (folder / "generator.weights.h5").is_file():
                continue  # still training
            with open(folder / "eval.csv", newline="") as fh:
                rows[folder.name] = [r for r in csv.DictReader(fh)]
        if not rows:
            continue
        figures = {
            "final_fcd": [float(r[-1]["fcd"]) for r in rows.values()],
            "last3_mean_fcd": [statistics.mean(float(x["fcd"]) for x in r[-3:])
                               for r in rows.values()],
            "best_fcd": [min(float(x["fcd"]) for x in r) for r in rows.values()],
            "final_kid": [float(r[-1]["kid"]) for r in rows.values()],
            "final_legibility": [float(r[-1]["legibility"]) for r in rows.values()],
        }
        report[precision] = {"runs": list(rows), "epochs": int(next(iter(rows.values()))[-1][
            "epoch"]), **{k: {"per_seed": v, "mean": statistics.mean(v), "sem": _sem(v)}
                          for k, v in figures.items()}}
    if len(report) == len(PRECISIONS):
        # The verdict, fixed before the 8-seed runs: bf16 is "no worse" when its mean FCD, final
        # and over the last three evaluations, is within TOLERANCE of float32's (one run's FCD
        # varies by about 25% from seed to seed).
        ratios = {k: report["mixed_bfloat16"][k]["mean"] / report["float32"][k]["mean"]
                  for k in ("final_fcd", "last3_mean_fcd")}
        report["bf16_over_float32"] = ratios
        report["tolerance"] = TOLERANCE
        report["no_worse"] = all(r <= 1 + TOLERANCE for r in ratios.values())
    return report


def _sem(values: list[float]) -> float:
    """Standard error of the mean (0 for a single value)."""
    return statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=170)
    parser.add_argument("--eval-every", type=int, default=34)
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=PRECISIONS,
                        help="train only these (the summary reads every run in the folder)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bf16-quality"))
    parser.add_argument("--summarise", type=Path, default=None, metavar="DIR",
                        help="only summarise the runs already in DIR")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    out = args.summarise or args.out
    if args.summarise is None:
        for seed in args.seeds:
            for precision in args.precisions:
                run(out, precision, seed, args.epochs, args.eval_every)
    report = summarise(out)
    print(f"{'':16} {'final FCD':>20} {'last-3 mean FCD':>20} {'best FCD':>18} "
          f"{'final KID':>16} {'legibility':>14}")
    for precision in PRECISIONS:
        if precision not in report:
            continue
        r = report[precision]
        cells = [", ".join(f"{v:.0f}" for v in r[k]["per_seed"]) + f" ({r[k]['mean']:.0f})"
                 for k in ("final_fcd", "last3_mean_fcd", "best_fcd", "final_kid")]
        leg = ", ".join(f"{v:.2f}" for v in r["final_legibility"]["per_seed"])
        print(f"{precision:16} {cells[0]:>20} {cells[1]:>20} {cells[2]:>18} {cells[3]:>16} "
              f"{leg:>14}")
        print(f"{'':16} {'± ' + format(r['final_fcd']['sem'], '.0f'):>20} "
              f"{'± ' + format(r['last3_mean_fcd']['sem'], '.0f'):>20}   (standard errors)")
    if "no_worse" in report:
        ratios = report["bf16_over_float32"]
        print(f"bf16 / float32 mean FCD: final {ratios['final_fcd']:.2f}, last three "
              f"{ratios['last3_mean_fcd']:.2f} -> "
              f"{'no worse' if report['no_worse'] else 'worse'} (tolerance "
              f"{TOLERANCE:.0%})")
    if args.json:
        write_result(args.json, report)


if __name__ == "__main__":
    main()
