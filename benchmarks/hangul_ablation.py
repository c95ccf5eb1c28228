"""Ablations of the conditional model's stabilisers: spectral norm, hinge loss, DiffAugment.

Trains the ``hangul`` preset on seed16 (1,680 glyphs of 16 syllables: the small data these
stabilisers are for) once as it is and once with each stabiliser taken out, with the same seed,
data and epochs, and measures every run with the committed seed16 evaluator as it trains (the
trainer's ``eval.csv``: FCD, content accuracy, legibility)::

    python benchmarks/hangul_ablation.py [--epochs 30] [--eval-every 5] [--seeds 0] \\
        [--g-filters 128] [--out /tmp/ablation] [--json benchmarks/results/hangul_ablation.json]

* ``default``: spectral norm on the critic, hinge loss, DiffAugment (translation, cutout);
* ``no-spectral-norm``: the critic's layers without spectral normalisation (Miyato et al.
  2018, https://arxiv.org/abs/1802.05957);
* ``nonsaturating``: the non-saturating logistic loss (Goodfellow et al. 2014) instead of the
  hinge loss (Lim & Ye 2017, https://arxiv.org/abs/1705.02894);
* ``no-diffaugment``: the critic sees un-augmented glyphs (Zhao et al. 2020,
  https://arxiv.org/abs/2006.10738).

The weight average (EMA) and the generator's width are ablated in the README from the long
ks2350 runs. Each run's folder is kept; a finished run is not trained again, so a second call
with ``--summarise`` (or the same arguments) only prints the table.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

from provenance import write_result  # this folder is on sys.path when run as a script

VARIANTS = {
    "default": {},
    "no-spectral-norm": {"spectral_norm": False},
    "nonsaturating": {"loss": "nonsaturating"},
    "no-diffaugment": {"diffaugment": ""},
}


def run(name: str, seed: int, args) -> Path:
    """Trains one variant (unless its folder holds a finished run); returns its folder."""
    import keras

    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import train

    run_dir = args.out / f"{name}-s{seed}"
    if (run_dir / "generator.weights.h5").is_file():
        return run_dir
    config = TrainConfig.from_preset(
        "hangul", data=str(args.data), run_dir=str(run_dir), epochs=args.epochs,
        eval_every=args.eval_every, g_filters=args.g_filters, precision="float32", seed=seed,
        checkpoint_every=args.epochs, tensorboard=False, verbose=2, **VARIANTS[name])
    start = time.perf_counter()
    train(config)
    print(f"{name} seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
    keras.utils.clear_session()
    return run_dir


def read_eval(run_dir: Path) -> list[dict]:
    """A run's eval.csv rows with numbers as floats."""
    with open(run_dir / "eval.csv", newline="") as fh:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)}
                for row in csv.DictReader(fh)]


def summarise(rows: list[dict]) -> dict:
    """Final and last-three-mean FCD and content accuracy, best FCD, and whether it diverged."""
    last = rows[-3:]
    fcd = [r["fcd"] for r in rows]
    return {
        "final_fcd": fcd[-1],
        "last3_fcd": statistics.mean(r["fcd"] for r in last),
        "best_fcd": min(fcd),
        "final_content_accuracy": rows[-1]["content_accuracy"],
        "last3_content_accuracy": statistics.mean(r["content_accuracy"] for r in last),
        "final_legibility": rows[-1]["legibility"],
        "curve": [{"epoch": int(r["epoch"]), "fcd": round(r["fcd"], 2),
                   "content_accuracy": round(r["content_accuracy"], 4)} for r in rows],
    }


def seed_means(runs: dict, variants, seeds) -> dict:
    """Per variant, the mean and standard deviation over its finished seeds (``runs`` keyed
    ``<variant>-s<seed>``) of the final and last-three FCD and the final content accuracy (sd 0
    for a single seed)."""
    means = {}
    for name in variants:
        rows = [runs[f"{name}-s{seed}"] for seed in seeds if f"{name}-s{seed}" in runs]
        if not rows:
            continue
        means[name] = {"seeds": len(rows)}
        for key in ("final_fcd", "last3_fcd", "final_content_accuracy"):
            values = [r[key] for r in rows]
            means[name][key] = statistics.mean(values)
            means[name][f"{key}_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
    return means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--g-filters", type=int, default=128,
                        help="generator width (128: half the default's cost per step)")
    parser.add_argument("--data", type=Path, default=Path("data/seed16.npz"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/ablation"))
    parser.add_argument("--summarise", action="store_true", help="only read finished runs")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    if not args.summarise and not args.data.is_file():
        from korean_gan.data.dataset import build_dataset

        build_dataset(out=str(args.data), progress=False)  # seed16, as the demo builds it
    report = {"epochs": args.epochs, "g_filters": args.g_filters, "data": str(args.data),
              "variants": {}}
    for name in args.variants:
        for seed in args.seeds:
            run_dir = (args.out / f"{name}-s{seed}" if args.summarise
                       else run(name, seed, args))
            if not (run_dir / "eval.csv").is_file():
                continue
            report["variants"][f"{name}-s{seed}"] = summarise(read_eval(run_dir))
    print(f"\n{'run':>22} {'final FCD':>10} {'last-3 FCD':>11} {'best FCD':>9} "
          f"{'content':>8} {'last-3 content':>15}")
    for name, r in report["variants"].items():
        print(f"{name:>22} {r['final_fcd']:10.1f} {r['last3_fcd']:11.1f} {r['best_fcd']:9.1f} "
              f"{r['final_content_accuracy']:8.1%} {r['last3_content_accuracy']:15.1%}")
    report["means"] = seed_means(report["variants"], args.variants, args.seeds)
    if len(args.seeds) > 1:
        print(f"\n{'variant':>22} {'seeds':>5} {'final FCD':>14} {'last-3 FCD':>14} "
              f"{'content':>14}")
        for name, m in report["means"].items():
            print(f"{name:>22} {m['seeds']:5d} {m['final_fcd']:7.1f} ± {m['final_fcd_sd']:4.1f} "
                  f"{m['last3_fcd']:7.1f} ± {m['last3_fcd_sd']:4.1f} "
                  f"{m['final_content_accuracy']:7.1%} ± {m['final_content_accuracy_sd']:4.1%}")
    if args.json:
        write_result(args.json, report)


if __name__ == "__main__":
    main()
