"""FCD and friends over a run's training time, from its generator snapshots.

Train with snapshots first, for example the reference model for 800 epochs (about an hour on 2
CPU cores)::

    korean-gan train --run-dir runs/seed800 --epochs 800 --snapshot-every 20

then::

    python benchmarks/fcd_over_time.py runs/seed800 --budgets 5 15 60 --plot media/fcd_vs_time.png

It evaluates every snapshot (FCD, KID, legibility, coverage, precision/recall with the committed
evaluator), maps each epoch to training time with the run's ``log.csv`` (wall-clock seconds per
epoch; or ``--seconds-per-epoch`` for a figure measured on an idle machine), prints a table,
prints the rows nearest the given budgets (minutes), and plots FCD against time beside the
real-data floor.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

import numpy as np
from provenance import write_result  # this folder is on sys.path when run as a script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--n", type=int, default=2000, help="samples per snapshot")
    parser.add_argument("--budgets", type=float, nargs="*", default=[5, 15, 60],
                        help="training minutes to report")
    parser.add_argument("--seconds-per-epoch", type=float, default=None,
                        help="use this instead of the run's logged epoch times")
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG plot here")
    parser.add_argument("--json", type=Path, default=None, help="write all rows as JSON")
    args = parser.parse_args()

    from korean_gan.artifacts import run_settings
    from korean_gan.data.dataset import load_dataset
    from korean_gan.evaluation.evaluator import evaluate_samples, find_evaluator, real_statistics
    from korean_gan.generate import sample_images
    from korean_gan.models.networks import build_generator

    settings = run_settings(args.run_dir)
    data_path = Path(settings["data"])
    evaluator = find_evaluator(load_dataset(data_path).charset)
    real = real_statistics(data_path, evaluator)
    with open(args.run_dir / "log.csv", newline="") as fh:
        seconds = {int(r["epoch"]): float(r["seconds"]) for r in csv.DictReader(fh)}
    snapshots = sorted((args.run_dir / "snapshots").glob("generator_epoch_*.weights.h5"))
    if not snapshots:
        raise SystemExit(f"{args.run_dir}/snapshots holds no generator snapshots")
    generator = build_generator(noise_dim=settings.get("noise_dim", 100))
    rows = []
    print(f"{'epoch':>6} {'minutes':>8} {'FCD':>9} {'KID':>8} {'legible':>8} {'classes':>7} "
          f"{'entropy':>7} {'prec':>6} {'recall':>6}")
    for path in snapshots:
        epoch = int(re.search(r"epoch_(\d+)", path.name).group(1))
        minutes = (epoch * args.seconds_per_epoch if args.seconds_per_epoch
                   else sum(seconds.get(e, np.nan) for e in range(1, epoch + 1))) / 60
        generator.load_weights(str(path))
        result = evaluate_samples(sample_images(generator, args.n, seed=0), evaluator, real)
        row = {"epoch": epoch, "minutes": round(minutes, 2),
               **{k: v for k, v in result.items() if k != "coverage_histogram"}}
        rows.append(row)
        print(f"{epoch:>6} {minutes:>8.1f} {row['fcd']:>9.2f} {row['kid']:>8.3f} "
              f"{row['legibility']:>8.3f} {row['classes_covered']:>7} "
              f"{row['coverage_entropy']:>7.3f} {row['precision']:>6.3f} {row['recall']:>6.3f}")
    print(f"real-data floor (two halves of {real.n} real images): FCD {real.floor_fcd:.2f}")
    for budget in args.budgets:
        near = min(rows, key=lambda r: abs(r["minutes"] - budget))
        print(f"budget {budget:g} min -> epoch {near['epoch']} ({near['minutes']:.1f} min): "
              f"FCD {near['fcd']:.2f}, legibility {near['legibility']:.3f}, "
              f"classes {near['classes_covered']}/{len(evaluator.charset)}")
    if args.json:
        write_result(args.json, {"floor_fcd": real.floor_fcd, "rows": rows})
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
        ax.plot([r["minutes"] for r in rows], [r["fcd"] for r in rows], "o-", label="generator")
        ax.axhline(real.floor_fcd, color="gray", ls="--", label="real-data floor")
        ax.set_xlabel("training time on 2 CPU cores (minutes)")
        ax.set_ylabel("FCD (lower is better)")
        ax.set_yscale("log")
        ax.set_title(f"Reference DCGAN on {data_path.name}")
        ax.legend()
        fig.tight_layout()
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
