"""The content loss's jamo recogniser with and without a learning-rate warm-up.

The conditional trainer's content loss reads generated glyphs with a recogniser trained when the
run starts (``korean_gan.evaluation.evaluator.fit_jamo_recognizer``: 30 epochs on the run's
training glyphs, about 12 minutes of a two-hour budget on 2 cores). CAS's classifiers, the same
architecture, stalled without a warm-up (benchmarks/cas_protocol.py); this measures whether the
recogniser does too, and whether a warmed-up one needs fewer epochs. Each recipe trains on
``ks2350-train`` in the 18 training fonts (the default model's data, with the trainer's seed 0
+ 1) and is read on its own training glyphs and on the 3 held-out fonts' glyphs of all 2,350
syllables (the 235 ``ks2350-holdout`` syllables among them)::

    python benchmarks/recognizer_warmup.py --recipes 30:0 12:1 \\
        --json benchmarks/results/recognizer_warmup.json

A recipe is ``EPOCHS:WARMUP_EPOCHS``; recipes already in ``--json`` are not trained again.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hangul_targets import HELD_OUT_FONTS  # this folder is on sys.path when run as a script
from provenance import provenance, write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", nargs="+", default=["30:0", "12:1"],
                        help="EPOCHS:WARMUP_EPOCHS, one per recogniser to train")
    parser.add_argument("--seed", type=int, default=1, help="the trainer's seed + 1")
    parser.add_argument("--train-data", type=Path, default=Path("data/ks2350-train.npz"))
    parser.add_argument("--real-data", type=Path, default=Path("data/ks2350.npz"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    recipes = []
    for text in args.recipes:
        try:
            epochs, warmup = text.split(":")
            recipes.append((int(epochs), float(warmup)))
        except ValueError:
            raise SystemExit(f"--recipes: {text!r} is not EPOCHS:WARMUP_EPOCHS "
                             "(e.g. 12:1)") from None

    from korean_gan.data.dataset import build_dataset, load_dataset
    from korean_gan.evaluation.evaluator import _accuracy, fit_jamo_recognizer

    for path, kwargs in ((args.train_data, dict(charset="ks2350-train",
                                                exclude_fonts=tuple(HELD_OUT_FONTS.split(",")))),
                         (args.real_data, dict(charset="ks2350"))):
        if not path.is_file():
            build_dataset(augment=("none",), out=str(path), progress=False, **kwargs)
    train, real = load_dataset(args.train_data), load_dataset(args.real_data)
    held = [real.fonts.index(f) for f in HELD_OUT_FONTS.split(",")]
    test = (real.aug_ids == real.augmentations.index("orig")) & \
        (real.font_ids[:, None] == held).any(axis=1)
    # The recogniser's charset is ks2350-train; the held-out fonts' glyphs of its syllables.
    index = {c: i for i, c in enumerate(train.charset.chars)}
    chars = [real.charset.chars[label] for label in real.labels[test]]
    seen = [i for i, c in enumerate(chars) if c in index]
    test_x = real.images[test][seen]
    test_y = [index[chars[i]] for i in seen]
    earlier = json.loads(args.json.read_text(encoding="utf-8")) \
        if args.json and args.json.is_file() else {"recognizers": []}
    done = earlier["recognizers"]
    for row in done:  # rows measured before rows had their own: the file's entry
        row.setdefault("provenance", earlier.get("provenance"))
    for epochs, warmup in recipes:
        if any((r["epochs"], r["warmup_epochs"], r["seed"]) == (epochs, warmup, args.seed)
               for r in done):
            continue
        started = time.perf_counter()
        model = fit_jamo_recognizer(train.images, train.labels, train.charset, epochs=epochs,
                                    seed=args.seed, warmup_epochs=warmup)
        seconds = time.perf_counter() - started
        row = {"epochs": epochs, "warmup_epochs": warmup, "seed": args.seed,
               "seconds": round(seconds),
               "training_glyph_accuracy": _accuracy(model, train.images, train.labels),
               "held_out_font_accuracy": _accuracy(model, test_x, test_y),
               "held_out_font_glyphs": len(test_y), "provenance": provenance()}
        done.append(row)
        print(f"{epochs} epochs, warm-up {warmup:g}: {seconds:.0f} s, training glyphs "
              f"{row['training_glyph_accuracy']:.4f}, held-out fonts "
              f"{row['held_out_font_accuracy']:.4f}", flush=True)
        if args.json:
            write_result(args.json, {"what": __doc__.split("\n\n")[0],
                                     "recognizers": done})


if __name__ == "__main__":
    main()
