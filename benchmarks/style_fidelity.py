"""How faithfully a conditional model writes each training font: ink IoU per style.

Content accuracy says whether a generated glyph reads as the syllable asked for; it does not say
whether it looks like the font asked for. This draws every syllable of ks2350 in each training
font's style (one noise draw per glyph, ``--seed``) and compares it with that font's real glyph
of the same syllable (``korean_gan.evaluation.metrics.ink_iou``: intersection over union of the
ink), separately on the syllables the model trained on and on the ``ks2350-holdout`` ones it never
saw::

    python benchmarks/style_fidelity.py --models hangul-v1 default \\
        --json benchmarks/results/style_fidelity.json

A style far below the others is one the generator does not draw like its font; in CAS
(benchmarks/cas_protocol.py ``--swap``) such a style can cost a classifier most of what it
loses on generated glyphs. A minute per model on 2 cores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from cas_protocol import model_name  # this folder is on sys.path when run as a script
from provenance import write_result


def fidelity(model: str, real, seed: int = 0) -> dict:
    """Per training font of ``model``: mean ink IoU on seen and on held-out syllables."""
    from korean_gan.data.charsets import resolve_charset
    from korean_gan.evaluation.metrics import ink_iou
    from korean_gan.generate import Handwriting

    writer = Handwriting.load(model)
    held_out = set(resolve_charset("ks2350-holdout").chars)
    fonts = {}
    for font in writer.fonts:
        if font not in real.fonts:
            raise SystemExit(f"{model}'s style {font} is not a font of the real data; build it "
                             "with korean-gan data build --charset ks2350 --augment none")
        rows = np.flatnonzero((real.font_ids == real.fonts.index(font))
                              & (real.aug_ids == real.augmentations.index("orig")))
        chars = [real.charset.chars[i] for i in real.labels[rows]]
        generated = writer.glyphs(chars, style=font, seed=seed)
        iou = ink_iou(generated, real.images[rows])
        unseen = np.array([c in held_out for c in chars])
        fonts[font] = {"seen": round(float(iou[~unseen].mean()), 4),
                       "held_out": round(float(iou[unseen].mean()), 4)}
    return {"model": model_name(model), "seed": seed, "fonts": fonts,
            "mean_seen": round(float(np.mean([f["seen"] for f in fonts.values()])), 4),
            "mean_held_out": round(float(np.mean([f["held_out"] for f in fonts.values()])), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["default"],
                        help="default, a name under korean_gan/pretrained or a run folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise")
    parser.add_argument("--real-data", type=Path, default=Path("data/ks2350.npz"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from korean_gan.data.dataset import build_dataset, load_dataset

    if not args.real_data.is_file():
        build_dataset(charset="ks2350", augment=("none",), out=str(args.real_data),
                      progress=False)
    real = load_dataset(args.real_data)
    results = [fidelity(model, real, args.seed) for model in args.models]
    fonts = list(results[0]["fonts"])
    print(f"{'ink IoU (seen / held-out syllables)':36}" + "".join(
        f"{r['model'][-16:]:>18}" for r in results))
    for font in fonts + ["mean"]:
        cells = [(r["mean_seen"], r["mean_held_out"]) if font == "mean" else
                 (r["fonts"][font]["seen"], r["fonts"][font]["held_out"])
                 if font in r["fonts"] else (np.nan, np.nan) for r in results]
        print(f"{font:36}" + "".join(f"{a:>10.3f} / {b:.3f}" for a, b in cells))
    if args.json:
        write_result(args.json, {"what": __doc__.split("\n\n")[0], "results": results})


if __name__ == "__main__":
    main()
