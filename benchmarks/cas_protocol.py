"""CAS's classifiers themselves: does each one fit its training glyphs, seed by seed?

CAS (``korean_gan.evaluation.evaluator.classification_accuracy_score``) trains a fresh classifier on
generated glyphs and another on the real training fonts, per classifier seed, and tests both on
the evaluator's held-out fonts. A classifier that stalls (its training loss stays high) reads
the held-out fonts badly whatever the generator did, so one such seed can move a model's CAS
by 15 points. This benchmark trains the classifiers of the chosen seeds and recipes on the real
fonts (arm ``real``) and on the model's ``synth`` output (arm ``synth``: 18 glyphs per syllable
of ks2350 × the 18 font styles, as ``hangul_targets.py --cas`` makes), and records every
epoch's training loss beside the held-out accuracy::

    python benchmarks/cas_protocol.py --arms real synth --seeds 0 1 2 3 4 5 --warmup 0 1 \\
        --json benchmarks/results/cas_protocol.json

Arm ``both`` trains on the real fonts and the synth set together (what generated data adds).
``--per-class 36`` gives the synth arm twice the generated glyphs, and ``--epochs 20`` on the
real arm is its control with as many training steps; ``--styles mix`` (or ``random``, or
``fonts,mix``) shares the synth glyphs over new styles instead of the 18 fonts'; ``--swap FONT``
with arms ``real-but-synth`` and ``synth-but-real`` swaps one training font's glyphs between
the two sets (what that one generated style costs). Results already in ``--json`` (same arm,
model, synth size, styles, seed and recipe) are not measured again, so an interrupted run goes
on where it stopped. Each classifier takes about 4 to 5 minutes on 2 cores per 42,000 glyphs
× 10 epochs.

Classifiers of one seed differ from run to run (the synth set is drawn again, and TensorFlow's
threaded sums round in another order): the same seed has read 2 points apart in two runs. To
compare two models, measure both over the same seeds, then compare seed by seed (the mean
difference and its standard error)::

    python benchmarks/cas_protocol.py --compare hangul models/hangul-mid \
        --json benchmarks/results/cas_protocol.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from provenance import provenance, write_result  # this folder is on sys.path when run as a script

#: The files of a model that decide what it draws (its config.json also records provenance).
DRAWING_FILES = ("generator.weights.h5", "styles.npz")


def model_name(model: str) -> str:
    """The name results are filed under: a committed model's folder name (``default`` is
    ``hangul``), else the run folder as given."""
    from korean_gan.artifacts import PRETRAINED_DIR, model_folder

    folder = model_folder(model)
    return folder.name if folder.parent == PRETRAINED_DIR else model


def _join(*arms):
    """``(images, labels)`` pairs concatenated into one."""
    return np.concatenate([x for x, _ in arms]), np.concatenate([y for _, y in arms])


def load_arms(model: str, real_path: Path, synth_path: Path, evaluator, per_class: int = 18,
              styles: str = "fonts", swap: str | None = None):
    """The training glyphs of every arm and the held-out test glyphs (with their fonts)."""
    from korean_gan.data.dataset import build_dataset, load_dataset
    from korean_gan.evaluation.evaluator import _as_uint8_batch, cas_split

    if not real_path.is_file():
        build_dataset(charset="ks2350", augment=("none",), out=str(real_path), progress=False)
    real = load_dataset(real_path)
    train, test = cas_split(real, evaluator)
    arms = {"real": (real.images[train], real.labels[train])}
    from korean_gan.generate import Handwriting

    writer = Handwriting.load(model)
    if synth_path.is_file():
        # A kept synth set must come from these weights: a name like ``default`` can move on.
        made_by = json.loads(synth_path.with_suffix(".json").read_text(encoding="utf-8"))
        drawn_with = {k: made_by["model"]["sha256"].get(k) for k in DRAWING_FILES}
        if all(drawn_with.values()) and drawn_with != {
                k: writer.info.get("sha256", {}).get(k) for k in DRAWING_FILES}:
            raise SystemExit(f"{synth_path} was drawn by another model than {model}: delete it "
                             "or give --synth-data")
    else:
        writer.synthesize(charset="ks2350", per_class=per_class, styles=styles,
                          out=str(synth_path), preview=False, progress=False)
    synth = load_dataset(synth_path)
    arms["synth"] = (_as_uint8_batch(synth.images, evaluator.image_size)[..., 0], synth.labels)
    # Real and generated together: what generated data adds to the real fonts.
    arms["both"] = _join(arms["real"], arms["synth"])
    if swap:
        # One training font's glyphs from the other side: how much that one style costs.
        real_font = np.array(real.fonts)[real.font_ids[train]] == swap
        synth_font = np.array(synth.fonts)[synth.font_ids] == swap
        if not real_font.any() or not synth_font.any():
            raise SystemExit(f"--swap {swap}: not a training font of both sets")
        real_arm, synth_arm = arms["real"], arms["synth"]
        arms["real-but-synth"] = _join((real_arm[0][~real_font], real_arm[1][~real_font]),
                                       (synth_arm[0][synth_font], synth_arm[1][synth_font]))
        arms["synth-but-real"] = _join((synth_arm[0][~synth_font], synth_arm[1][~synth_font]),
                                       (real_arm[0][real_font], real_arm[1][real_font]))
    test_fonts = np.array([real.fonts[i] for i in real.font_ids[test]])
    return arms, (real.images[test], real.labels[test], test_fonts)


def summary(rows: list[dict]) -> list[dict]:
    """Per model, synth size and recipe: mean accuracy of each arm over the seeds measured in
    both, and their ratio."""
    out = []
    for model, per_class, styles, warmup, n in sorted(
            {(r["model"], r["per_class"], r["styles"], r["warmup_epochs"], r["epochs"])
             for r in rows if r["arm"] == "synth"}):
        real = {r["seed"]: r["accuracy"] for r in rows
                if (r["arm"], r["warmup_epochs"], r["epochs"]) == ("real", warmup, n)}
        synth = {r["seed"]: r["accuracy"] for r in rows
                 if (r["arm"], r["model"], r["per_class"], r["styles"], r["warmup_epochs"],
                     r["epochs"]) == ("synth", model, per_class, styles, warmup, n)}
        seeds = sorted(real.keys() & synth.keys())
        if seeds:
            real_mean = float(np.mean([real[s] for s in seeds]))
            synth_mean = float(np.mean([synth[s] for s in seeds]))
            out.append({"model": model, "per_class": per_class, "styles": styles,
                        "warmup_epochs": warmup,
                        "epochs": n, "seeds": seeds, "real": real_mean, "synth": synth_mean,
                        "ratio": synth_mean / real_mean})
    return out


def paired(rows: list[dict], first: str, second: str, warmup: float = 1.0,
           epochs: int = 10) -> dict | None:
    """Synth-arm accuracy of ``second`` minus ``first`` over the seeds both have (18 per
    syllable, font styles): the mean difference and its standard error."""
    def accuracy(model):
        return {r["seed"]: r["accuracy"] for r in rows
                if (r["arm"], r["model"], r["per_class"], r["styles"], r["warmup_epochs"],
                    r["epochs"]) == ("synth", model, 18, "fonts", warmup, epochs)}

    a, b = accuracy(first), accuracy(second)
    seeds = sorted(a.keys() & b.keys())
    if len(seeds) < 2:
        return None
    diff = np.array([b[s] - a[s] for s in seeds])
    return {"first": first, "second": second, "seeds": seeds,
            "mean_difference": float(diff.mean()),
            "standard_error": float(diff.std(ddof=1) / np.sqrt(len(diff)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default", help="default or a conditional run folder")
    parser.add_argument("--arms", nargs="+",
                        choices=("real", "synth", "both", "real-but-synth", "synth-but-real"),
                        default=["real", "synth"],
                        help="train on the real fonts, the model's synth set, or both together")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--warmup", type=float, nargs="+", default=None,
                        help="learning-rate warm-up epochs to compare (default: CASConfig's)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="classifier epochs (default: CASConfig's 10); e.g. 20 on the real "
                             "fonts gives as many steps as 10 on 36 synth glyphs per syllable")
    parser.add_argument("--per-class", type=int, default=18,
                        help="synth glyphs per syllable (18: one per font style, as many as "
                             "the real fonts give)")
    parser.add_argument("--styles", default="fonts",
                        help="synth's style specifications, comma-separated (fonts, random, mix, "
                             "a font): which styles the synth glyphs are shared over")
    parser.add_argument("--swap", default=None, metavar="FONT",
                        help="arms real-but-synth / synth-but-real: this training font's glyphs "
                             "generated in the real set / real in the synth set")
    parser.add_argument("--real-data", type=Path, default=Path("data/ks2350.npz"))
    parser.add_argument("--synth-data", type=Path, default=None,
                        help="where the model's synth set is kept (default: beside --real-data)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--compare", nargs=2, metavar=("FIRST", "SECOND"), default=None,
                        help="print the seed-by-seed synth difference of two models already "
                             "in --json (names as filed there) and stop")
    args = parser.parse_args()
    if args.compare:
        rows = json.loads(args.json.read_text(encoding="utf-8"))["classifiers"]
        found = paired(rows, *args.compare)
        if found is None:
            raise SystemExit(f"{args.json} holds fewer than 2 seeds of both {args.compare}")
        print(f"{found['second']} - {found['first']}, seeds {found['seeds']}: "
              f"{100 * found['mean_difference']:+.2f} points "
              f"(standard error {100 * found['standard_error']:.2f})")
        return

    from dataclasses import replace

    from korean_gan.evaluation.evaluator import (
        CASConfig,
        Evaluator,
        _predictions,
        fit_cas_classifier,
    )

    evaluator = Evaluator.load("ks2350")
    name = model_name(args.model)
    suffix = ("" if args.per_class == 18 else f"-{args.per_class}") + (
        "" if args.styles == "fonts" else "-" + args.styles.replace(",", "+"))
    synth_path = args.synth_data or args.real_data.parent / (
        f"synth-{name.replace('/', '_').strip('_')}{suffix}.npz")
    arms, (test_x, test_y, test_fonts) = load_arms(args.model, args.real_data, synth_path,
                                                   evaluator, args.per_class, args.styles,
                                                   args.swap)
    config = CASConfig(**({"epochs": args.epochs} if args.epochs else {}))
    # Keep what else the file holds (e.g. notes on earlier recipes) beside the classifiers.
    report = json.loads(args.json.read_text(encoding="utf-8")) \
        if args.json and args.json.is_file() else {}
    done = report.get("classifiers", [])
    for row in done:  # rows measured before rows had their own: the file's entry
        row.setdefault("provenance", report.get("provenance"))
    for warmup in args.warmup or [config.warmup_epochs]:
        for seed in args.seeds:
            for arm_name in args.arms:
                arm = f"{arm_name}:{args.swap}" if "-but-" in arm_name else arm_name
                # The real arm has no model, no synth size and no styles.
                model, per_class, styles = ((name, args.per_class, args.styles)
                                            if arm != "real" else ("", 0, ""))
                if any((r["arm"], r["model"], r["per_class"], r["styles"], r["seed"],
                        r["warmup_epochs"], r["epochs"])
                       == (arm, model, per_class, styles, seed, warmup, config.epochs)
                       for r in done):
                    continue
                x, y = arms[arm_name]
                started, losses = time.perf_counter(), []
                classifier = fit_cas_classifier(x, y, evaluator,
                                                replace(config, warmup_epochs=warmup), seed,
                                                losses)
                right = _predictions(classifier, test_x) == test_y
                row = {"arm": arm, "model": model, "per_class": per_class, "styles": styles,
                       "seed": seed,
                       "warmup_epochs": warmup, "epochs": config.epochs,
                       "accuracy": float(np.mean(right)),
                       # Which held-out fonts the classifier reads, and which it does not.
                       "per_font": {f: round(float(np.mean(right[test_fonts == f])), 4)
                                    for f in sorted(set(test_fonts))},
                       "losses": [round(v, 4) for v in losses],
                       "seconds": round(time.perf_counter() - started),
                       "provenance": provenance()}
                done.append(row)
                print(f"{arm:5} seed {seed} warm-up {warmup:g}, {config.epochs} epochs: "
                      f"accuracy {row['accuracy']:.4f}, "
                      f"loss {losses[0]:.2f} → {losses[-1]:.2f} ({row['seconds']} s)", flush=True)
                if args.json:  # after every classifier, atomically: minutes of work each
                    report.update({"what": __doc__.split("\n\n")[0],
                                   "test_images": int(len(test_y)),
                                   "config": {"batch_size": config.batch_size,
                                              "learning_rate": config.learning_rate,
                                              "augment": config.augment},
                                   "classifiers": done, "summary": summary(done)})
                    write_result(args.json, report)
    for row in summary(done):
        print(f"{row['model']}, {row['per_class']} per syllable of {row['styles']}, warm-up "
              f"{row['warmup_epochs']:g}, {row['epochs']} epochs, seeds {row['seeds']}: "
              f"real {row['real']:.4f}, "
              f"synth {row['synth']:.4f}, ratio {row['ratio']:.3f}")


if __name__ == "__main__":
    main()
