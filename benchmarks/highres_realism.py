"""Realism at size (issue #31, item 3): Fréchet distance in the features of an evaluator
network that reads 64 px glyphs, per style, generated against real.

The committed evaluators read 32 px glyphs, so they cannot see what happens above 32 px. This
script trains one at 64 px (the evaluators' architecture and recipe, ``build_evaluator`` with
jamo heads) on the real renders of the training fonts (ks2350-train × 18 fonts; the
evaluators' three held-out fonts are kept out and read as its test), then, per style, measures
the Fréchet distance of its 256-d features between the font's real 64 px glyphs (all its
ks2350 syllables) and

* the model's glyphs redrawn by the upsampler (128 px, area-averaged to 64 px), and
* the same 32 px glyphs blown up to 64 px by bicubic resampling (what a user had before),

beside the real-halves floor (the font's syllables split in two random halves). Glyphs are in
the ``fit`` placement on both sides, so the distance is about the drawing, not the layout.
It builds its data (about a minute) and trains the evaluator; the whole run took 23.5 minutes
on 2 cores shared with another job::

    python benchmarks/highres_realism.py [--epochs 6] \
        [--json benchmarks/results/highres_realism.json]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import write_result  # noqa: E402

HELD_OUT_FONTS = ("NanumPenScript-Regular", "Dokdo-Regular", "BMYeonsung-Regular")


def _resize(images: np.ndarray, size: int, method) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(i).resize((size, size), method))
                     for i in images])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default="benchmarks/results/highres_realism.json")
    args = parser.parse_args()

    from PIL import Image

    from korean_gan.data.charsets import jamo_table, ks2350, ks2350_train
    from korean_gan.data.dataset import build_dataset, load_dataset
    from korean_gan.evaluation.evaluator import _fit_classifier
    from korean_gan.evaluation.metrics import frechet_distance_from_activations
    from korean_gan.generate import Handwriting

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ks2350-128.npz"
        build_dataset(charset="ks2350", augment=("none",), size=128, out=str(path),
                      preview=False, progress=False)
        data = load_dataset(path)
    real64 = _resize(data.images, 64, Image.Resampling.BOX)
    fonts = np.array([data.fonts[i] for i in data.font_ids])
    chars = np.array([data.charset.chars[i] for i in data.labels])
    train_chars = set(ks2350_train().chars)
    train = np.array([f not in HELD_OUT_FONTS and c in train_chars
                      for f, c in zip(fonts, chars, strict=True)])
    print(f"training a 64 px evaluator on {train.sum():,} real glyphs", flush=True)
    model = _fit_classifier(real64[train], data.labels[train], data.charset, args.epochs, 128,
                            1e-3, args.seed, verbose=2, jamo_heads=True, augment=True,
                            warmup_epochs=1.0)

    def features(images):
        out = model.predict(images[..., None].astype(np.float32), batch_size=512, verbose=0)
        return out["features"], out["probs"]

    test = np.isin(fonts, HELD_OUT_FONTS)
    _, probs = features(real64[test])
    test_accuracy = float((probs.argmax(axis=1) == data.labels[test]).mean())
    print(f"its accuracy on the 3 held-out fonts: {test_accuracy:.4f}", flush=True)

    hw = Handwriting.load(args.model, precision="float32")
    rng = np.random.default_rng(args.seed)
    rows = []
    for name in hw.fonts:
        mine = np.flatnonzero(fonts == name)
        real_features, _ = features(real64[mine])
        half = rng.permutation(len(mine))
        floor = frechet_distance_from_activations(real_features[half[: len(mine) // 2]],
                                                  real_features[half[len(mine) // 2:]])
        syllables = [str(c) for c in chars[mine]]
        styles = np.repeat(hw.styles[hw.fonts.index(name)][None], len(mine), axis=0)
        small = hw._generate(jamo_table(syllables), styles, hw._noise(len(mine), 3))
        upsampled = _resize(hw.upsample(small, styles=styles), 64, Image.Resampling.BOX)
        bicubic = _resize(small, 64, Image.Resampling.BICUBIC)
        up_features, up_probs = features(upsampled)
        bi_features, _ = features(bicubic)
        row = {"style": name, "glyphs": int(len(mine)), "real_halves_floor": round(floor, 2),
               "upsampled": round(frechet_distance_from_activations(up_features,
                                                                    real_features), 2),
               "bicubic": round(frechet_distance_from_activations(bi_features,
                                                                  real_features), 2),
               "upsampled_content_accuracy": round(float(
                   (up_probs.argmax(axis=1) == data.labels[mine]).mean()), 4)}
        rows.append(row)
        print(f"{name:28s} FD upsampled {row['upsampled']:8.2f}  bicubic {row['bicubic']:8.2f}"
              f"  floor {row['real_halves_floor']:6.2f}", flush=True)
    result = {"model": args.model, "precision": "float32", "evaluator_size": 64,
              "evaluator_epochs": args.epochs, "evaluator_held_out_accuracy": round(test_accuracy,
                                                                                    4),
              "charset": ks2350().name, "styles": rows,
              "seconds": round(time.perf_counter() - started, 1)}
    write_result(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
