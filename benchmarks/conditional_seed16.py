"""The conditional model against the reference DCGAN on seed16, at the same CPU training time.

Trains both presets on ``data/seed16.npz`` (the reference ``seed`` preset for the demo's 170
epochs, the conditional ``hangul`` preset for ``--epochs``) once per seed, measuring FCD with
the committed seed16 evaluator along the way, then prints each run's FCD against its training
time and, at the reference's total training time, the conditional model's FCD over the
reference's (issue #5's target: at most 0.5)::

    python benchmarks/conditional_seed16.py [--seeds 0 1] [--out /tmp/cs16]
    python benchmarks/conditional_seed16.py --summarise /tmp/cs16 [--reference-dir /tmp/q]

Training time is epochs × the model's cost per epoch: the median of a run's ``log.csv``
wall-clock epoch times, taken from the model's fastest run (a run made beside other work is
slower, not longer; evaluation epochs are left out, so measuring more often costs neither
model). On the idle 2-core development machine both models take about 4.2 s per epoch, so one
pair of runs takes about 25 minutes. ``--reference-dir`` reads finished float32 reference runs
from elsewhere (``benchmarks/bf16_quality.py`` leaves them as ``float32-s<seed>``);
``--seconds-per-epoch`` gives both costs, measured on an idle machine, when the runs were not.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
from pathlib import Path

from provenance import write_result  # this folder is on sys.path when run as a script

REFERENCE_EPOCHS = 170  # the demo's run


def train(run_dir: Path, preset: str, seed: int, epochs: int, eval_every: int) -> None:
    """Trains one run with the CLI, unless its folder already holds a finished run."""
    if (run_dir / "generator.weights.h5").is_file():
        return
    exe = Path(sys.executable).with_name("korean-gan")
    subprocess.run([str(exe), "train", "--preset", preset, "--data", "data/seed16.npz",
                    "--run-dir", str(run_dir), "--epochs", str(epochs), "--eval-every",
                    str(eval_every), "--seed", str(seed), "--precision", "float32", "--quiet",
                    "--no-tensorboard"], check=True)


def curve(run_dir: Path) -> tuple[float, list[tuple[int, float]]]:
    """A finished run's median seconds per (non-evaluation) epoch and its ``(epoch, FCD)``."""
    with open(run_dir / "log.csv", newline="") as fh:
        seconds = {int(r["epoch"]): float(r["seconds"]) for r in csv.DictReader(fh)}
    with open(run_dir / "eval.csv", newline="") as fh:
        fcd = [(int(r["epoch"]), float(r["fcd"])) for r in csv.DictReader(fh)]
    evaluated = {e for e, _ in fcd}
    return statistics.median(s for e, s in seconds.items() if e not in evaluated), fcd


def timed(runs: dict[str, tuple[float, list]],
          cost: float | None = None) -> tuple[float, dict[str, list]]:
    """The model's cost per epoch (``cost``, else its fastest run's) and each run's
    ``(epoch, seconds, FCD)``."""
    cost = cost or min(per_epoch for per_epoch, _ in runs.values())
    return cost, {name: [(e, e * cost, f) for e, f in rows] for name, (_, rows) in runs.items()}


def at_time(rows: list[tuple[int, float, float]], seconds: float) -> tuple[int, float, float]:
    """The last evaluation made within ``seconds`` of training (the first one if none)."""
    within = [r for r in rows if r[1] <= seconds * 1.02]  # 2%: epoch-time jitter
    return within[-1] if within else rows[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=170, help="conditional model's epochs")
    parser.add_argument("--eval-every", type=int, default=17)
    parser.add_argument("--out", type=Path, default=Path("/tmp/cs16"))
    parser.add_argument("--summarise", type=Path, default=None, metavar="DIR",
                        help="only summarise the runs already in DIR")
    parser.add_argument("--reference-dir", type=Path, default=None,
                        help="folder with finished reference runs named float32-s<seed>")
    parser.add_argument("--seconds-per-epoch", type=float, nargs=2, default=None,
                        metavar=("REFERENCE", "CONDITIONAL"),
                        help="epoch costs measured on an idle machine, instead of the runs'")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    out = args.summarise or args.out
    reference_dir = args.reference_dir or out
    if args.summarise is None:
        for seed in args.seeds:
            if not (reference_dir / f"float32-s{seed}" / "generator.weights.h5").is_file():
                train(out / f"float32-s{seed}", "reference", seed, REFERENCE_EPOCHS, 34)
            train(out / f"hangul-s{seed}", "hangul", seed, args.epochs, args.eval_every)

    references = {p.name: curve(p) for p in sorted(reference_dir.glob("float32-s*"))
                  if (p / "generator.weights.h5").is_file()}
    conditionals = {p.name: curve(p) for p in sorted(out.glob("hangul-s*"))
                    if (p / "generator.weights.h5").is_file()}
    if not references or not conditionals:
        raise SystemExit(f"need finished reference (float32-s*) and conditional (hangul-s*) "
                         f"runs in {reference_dir} and {out}")
    ref_cost, references = timed(references, args.seconds_per_epoch and
                                 args.seconds_per_epoch[0])
    cond_cost, conditionals = timed(conditionals, args.seconds_per_epoch and
                                    args.seconds_per_epoch[1])
    print(f"seconds per epoch: reference {ref_cost:.2f}, conditional {cond_cost:.2f}")
    for name, rows in {**references, **conditionals}.items():
        print(f"{name:>12}: " + ", ".join(f"{t / 60:.1f} min {f:.0f}" for _, t, f in rows))

    budget = REFERENCE_EPOCHS * ref_cost
    ref_fcd = statistics.mean(at_time(rows, budget)[2] for rows in references.values())
    cond = [at_time(rows, budget) for rows in conditionals.values()]
    cond_fcd = statistics.mean(r[2] for r in cond)
    print(f"at the reference's training time ({budget / 60:.1f} min, {REFERENCE_EPOCHS} epochs): "
          f"reference FCD {ref_fcd:.1f} (mean of {len(references)}), conditional "
          f"{cond_fcd:.1f} (mean of {len(cond)}, epochs {[r[0] for r in cond]}): "
          f"ratio {cond_fcd / ref_fcd:.2f} (target <= 0.5)")
    if args.json:
        report = {"seconds_per_epoch": {"reference": ref_cost, "conditional": cond_cost},
                  "budget_seconds": budget, "reference_fcd": ref_fcd,
                  "conditional_fcd": cond_fcd, "ratio": cond_fcd / ref_fcd,
                  "curves": {k: [{"epoch": e, "seconds": round(t, 1), "fcd": f}
                                 for e, t, f in v]
                             for k, v in {**references, **conditionals}.items()}}
        write_result(args.json, report)


if __name__ == "__main__":
    main()
