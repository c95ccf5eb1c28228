"""The ``korean-gan`` command line.

Each subcommand maps its arguments onto the library's configuration dataclasses and calls the
library. Heavy imports (TensorFlow, scikit-image) happen inside the handlers, so ``--help`` is
fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from korean_gan.training.distribute import PRECISIONS, STRATEGIES

__all__ = ["main", "build_parser"]

# The demo's training budget: about 15 minutes of the reference model on 2 CPU cores.
DEMO_EPOCHS = 170


def _add_data_parsers(sub) -> None:
    data = sub.add_parser("data", help="build and inspect glyph datasets")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="COMMAND")

    build = data_sub.add_parser(
        "build", help="render fonts into a labelled glyph dataset (.npz or image folders)",
        description="Render every syllable of a charset in every font, augment, and save one "
                    ".npz (or class folders of PNG) with a JSON manifest and a preview grid.",
    )
    build.add_argument("--charset", default="seed16",
                       help="seed16 (default), ks2350, all11172, a UTF-8 text file, or literal "
                            "syllables such as 가나다")
    build.add_argument("--fonts", nargs="+", default=None, metavar="PATH",
                       help="font files or folders; 'bundled' is the bundled corpus (default)")
    build.add_argument("--font-dir", action="append", default=[], metavar="DIR",
                       help="a folder of .ttf/.otf/.ttc fonts to use (repeatable); with --fonts "
                            "bundled it adds to the corpus")
    build.add_argument("--augment", default="seed",
                       help="comma-separated policies: none, seed (default: the reference's "
                            "±15° rotations and wrap shifts), elastic, affine, stroke")
    build.add_argument("--copies", type=int, default=3,
                       help="variants per glyph for the random policies (default 3)")
    build.add_argument("--size", type=int, default=32, help="image side in pixels (default 32)")
    build.add_argument("--seed", type=int, default=0, help="augmentation seed (default 0)")
    build.add_argument("--out", default=None,
                       help="output .npz (or folder for imagefolder); default data/<charset>.npz")
    build.add_argument("--format", choices=("npz", "imagefolder"), default="npz")
    build.add_argument("--workers", type=int, default=0,
                       help="rendering processes (default: one per CPU core)")
    build.add_argument("--exclude-fonts", default="", metavar="NAMES",
                       help="comma-separated font names (file stems) to leave out, e.g. "
                            "NanumPenScript-Regular,Dokdo-Regular,BMYeonsung-Regular (the "
                            "evaluators' held-out fonts)")
    build.add_argument("--extra", action="append", default=[], metavar="NPZ",
                       help="a dataset whose glyphs join the build as a style of their own, "
                            "e.g. your handwriting from `korean-gan ingest` (repeatable)")
    build.add_argument("--strict", action="store_true",
                       help="fail on an unusable font file instead of skipping it")
    build.add_argument("--no-preview", action="store_true", help="do not write the preview PNG")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(handler=_cmd_data_build)

    info = data_sub.add_parser("info", help="print the counts of a built dataset")
    info.add_argument("path", help="a dataset .npz")
    info.set_defaults(handler=_cmd_data_info)


def _add_fonts_parsers(sub) -> None:
    fonts = sub.add_parser("fonts", help="list fonts and maintain the bundled catalog")
    fonts_sub = fonts.add_subparsers(dest="fonts_command", required=True, metavar="COMMAND")
    listing = fonts_sub.add_parser("list", help="list font faces and the syllables they draw")
    listing.add_argument("paths", nargs="*", default=["bundled"],
                         help="font files or folders (default: the bundled corpus)")
    listing.add_argument("--charset", default="ks2350",
                         help="count drawn syllables of this charset (default ks2350)")
    listing.set_defaults(handler=_cmd_fonts_list)
    catalog = fonts_sub.add_parser(
        "catalog", help="recompute sha256 and drawn-syllable counts in fonts/catalog.csv")
    catalog.add_argument("--font-dir", default=None, help="default: the bundled font folder")
    catalog.set_defaults(handler=_cmd_fonts_catalog)


#: --model of write and synth (``korean-gan models`` lists the committed ones).
_MODEL_HELP = ("default (the committed pretrained model, hangul), hangul-fast (a distilled copy "
               "of hangul-v1, 1.5x the glyphs per second), hangul-v1 (the default until "
               "2026-12-01) or a conditional run folder")


def _add_gan_parsers(sub) -> None:
    train = sub.add_parser(
        "train", help="train a GAN on a built dataset",
        description="Train a GAN; everything the run writes (config, samples, GIF, log, "
                    "TensorBoard, checkpoints, final generator) goes into its run folder.",
    )
    train.add_argument("--preset", default="seed",
                       help="model and hyperparameters: seed (the reference DCGAN with the "
                            "TensorFlow DCGAN tutorial's Adam 1e-4, batch 256); hangul (the "
                            "conditional model: jamo + style conditioning)")
    train.add_argument("--data", default=None,
                       help="dataset .npz (default data/seed16.npz)")
    train.add_argument("--run-dir", default=None, help="run folder (default runs/<preset>)")
    train.add_argument("--epochs", type=int, default=None, help="total epochs (default 50)")
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument("--g-lr", type=float, default=None, help="generator learning rate")
    train.add_argument("--d-lr", type=float, default=None, help="discriminator learning rate")
    train.add_argument("--lr-decay-epochs", type=int, default=None, metavar="N",
                       help="decay both learning rates linearly towards 0 over the last N "
                            "epochs (default 0: constant; may change on --resume)")
    train.add_argument("--g-filters", type=int, default=None, metavar="N",
                       help="conditional model: channels of the generator's first feature map, "
                            "halved at each of its 3 upsamplings (hangul preset: 256)")
    train.add_argument("--d-filters", type=int, default=None, metavar="N",
                       help="conditional model: channels of the critic's first block, doubled "
                            "twice (hangul preset: 32)")
    train.add_argument("--content-weight", type=float, default=None, metavar="W",
                       help="conditional model: weight of the content loss, a frozen jamo "
                            "recogniser (trained on the run's data at its start) reading the "
                            "generated glyphs (default 0: off)")
    train.add_argument("--recognizer-epochs", type=int, default=None, metavar="N",
                       help="conditional model with --content-weight: epochs of its recogniser "
                            "(default 30: about 20 minutes on 2 cores for ks2350-train)")
    train.add_argument("--recognizer-warmup", type=float, default=None, metavar="EPOCHS",
                       help="conditional model with --content-weight: warm its recogniser's "
                            "learning rate up from 0 over this many epochs (default 0)")
    train.add_argument("--repeat-font", action="append", default=None, metavar="NAME=K",
                       help="show this font's training glyphs K times per epoch (repeatable): "
                            "more steps on a style the model draws badly")
    train.add_argument("--init-from", default=None, metavar="MODEL",
                       help="conditional model: start the generator and styles from a trained "
                            "model (default = the pretrained one, or a run folder) and "
                            "fine-tune it; the critic starts fresh")
    train.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    train.add_argument("--checkpoint-every", type=int, default=None, metavar="N",
                       help="checkpoint every N epochs (default 5; always at the end)")
    train.add_argument("--snapshot-every", type=int, default=None, metavar="N",
                       help="keep the generator's weights every N epochs in snapshots/")
    train.add_argument("--eval-every", type=int, default=None, metavar="N",
                       help="measure FCD, legibility and coverage every N epochs and keep the "
                            "best generator (default 10; 0 = off)")
    train.add_argument("--precision", default=None,
                       choices=PRECISIONS,
                       help="float32 (default), mixed_bfloat16 (CPUs with AVX512-BF16/AMX), "
                            "mixed_float16 (GPUs), or auto (float16 on a GPU; bf16 on a CPU "
                            "where a timed matmul shows it faster; else float32)")
    train.add_argument("--strategy", default="default",
                       choices=STRATEGIES,
                       help="default (one device), mirrored (every GPU of this machine), "
                            "multiworker (the machines in TF_CONFIG); --batch-size is the "
                            "global batch")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --run-dir from its last checkpoint")
    train.add_argument("--no-tensorboard", action="store_true")
    train.add_argument("--quiet", action="store_true", help="one line per epoch, no bar")
    train.set_defaults(handler=_cmd_train)

    sample = sub.add_parser("sample", help="generate images with a trained generator")
    where = sample.add_mutually_exclusive_group(required=True)
    where.add_argument("--run-dir", help="a run folder")
    where.add_argument("--weights", help="a generator .weights.h5 file")
    sample.add_argument("--n", type=int, default=16, help="number of images (default 16)")
    sample.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    sample.add_argument("--out", required=True,
                        help="grid.png (a grid of the images) or samples.npz (uint8 images)")
    sample.set_defaults(handler=_cmd_sample)

    sample.add_argument("--chars", default=None,
                        help="conditional runs: syllables to draw, in turn (default: the "
                             "reference's 16)")
    sample.add_argument("--style", default="random",
                        help="conditional runs: a font number or name, random (a new style "
                             "per image), mix (a new blend of two fonts per image) or mean "
                             "(default random)")

    write = sub.add_parser(
        "write", help="write Hangul text in generated handwriting (a PNG)",
        description="Write a line of Hangul text (spaces kept; line breaks as \\n) in a "
                    "generated handwriting style with the pretrained conditional model or "
                    "your own run.")
    write.add_argument("text", help='the text, e.g. "안녕하세요"')
    write.add_argument("--style", default="random",
                       help="a training font's number or name (see `korean-gan styles`), "
                            "random (one new style, from --seed), mix (one new blend of two "
                            "fonts) or mean (default random)")
    write.add_argument("--model", default="default",
                       help=_MODEL_HELP)
    write.add_argument("--seed", type=int, default=0, help="seed of noise and style")
    write.add_argument("--scale", type=int, default=2, help="upscaling (default 2)")
    write.add_argument("--out", required=True, help="the PNG to write")
    _add_sampling_precision(write)
    write.set_defaults(handler=_cmd_write)

    synth = sub.add_parser(
        "synth", help="generate a labelled synthetic dataset for a classifier",
        description="Generate --per-class images of every syllable of a charset in generated "
                    "handwriting, written like `data build` output (.npz or class folders of "
                    "PNG) with a manifest and a preview.")
    synth.add_argument("--charset", default="ks2350",
                       help="ks2350 (default), seed16, all11172, a file or literal syllables")
    synth.add_argument("--per-class", type=int, default=100,
                       help="images per syllable (default 100)")
    synth.add_argument("--styles", default="fonts",
                       help="comma-separated: fonts (every training font in turn), font numbers "
                            "or names, random (a new style per image), mix (a new blend of two "
                            "training fonts per image), mean (default fonts)")
    synth.add_argument("--format", choices=("npz", "imagefolder"), default="npz")
    synth.add_argument("--out", default=None,
                       help="default data/synth-<charset>.npz (or a folder for imagefolder)")
    synth.add_argument("--model", default="default",
                       help=_MODEL_HELP)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--batch-size", type=int, default=1024)
    synth.add_argument("--no-preview", action="store_true")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.add_argument("--keep-legible", action="store_true",
                       help="keep only glyphs the committed evaluator reads as the syllable "
                            "asked for (cleaner labels; some syllables get fewer images)")
    _add_sampling_precision(synth)
    synth.set_defaults(handler=_cmd_synth)

    styles = sub.add_parser("styles", help="list the styles (training fonts) of a model")
    styles.add_argument("--model", default="default",
                        help="default (the pretrained model) or a conditional run folder")
    styles.set_defaults(handler=_cmd_styles)

    models = sub.add_parser("models", help="list the committed pretrained models",
                            description="List the models that --model takes by name: the "
                                        "committed ones under korean_gan/pretrained, with "
                                        "their other names, sizes and model cards' summaries.")
    models.set_defaults(handler=_cmd_models)

    gif = sub.add_parser("gif", help="assemble a run's sample grids into an animated GIF")
    gif.add_argument("--run-dir", required=True, help="a run folder")
    gif.add_argument("--out", default=None, help="default <run-dir>/samples.gif")
    gif.add_argument("--frame-seconds", type=float, default=0.15)
    gif.add_argument("--max-frames", type=int, default=80,
                     help="thin longer runs evenly to this many frames (default 80)")
    gif.add_argument("--width", type=int, default=None, help="rescale frames to this width")
    gif.set_defaults(handler=_cmd_gif)

    evaluator = sub.add_parser("evaluator", help="train or describe the evaluator network")
    ev_sub = evaluator.add_subparsers(dest="evaluator_command", required=True,
                                      metavar="COMMAND")
    ev_train = ev_sub.add_parser(
        "train", help="train the glyph recogniser that the metrics use, with held-out fonts")
    ev_train.add_argument("--charset", default="seed16")
    ev_train.add_argument("--fonts", nargs="+", default=["bundled"], metavar="PATH")
    ev_train.add_argument("--epochs", type=int, default=None, help="default 30")
    ev_train.add_argument("--augment", default=None,
                          help="training augmentation policies (default seed,affine,elastic,"
                               "stroke)")
    ev_train.add_argument("--copies", type=int, default=None,
                          help="variants per random policy (default 2)")
    ev_train.add_argument("--widths", default=None,
                          help="filters of the three convolution blocks (default 32,64,128)")
    ev_train.add_argument("--seed", type=int, default=0)
    ev_train.add_argument("--out", default=None,
                          help="weights file (default: the committed korean_gan/evaluators/"
                               "<charset>.weights.h5)")
    ev_train.add_argument("--quiet", action="store_true")
    ev_train.set_defaults(handler=_cmd_evaluator_train)
    ev_info = ev_sub.add_parser("info", help="describe a committed evaluator")
    ev_info.add_argument("name", nargs="?", default="seed16")
    ev_info.set_defaults(handler=_cmd_evaluator_info)

    evaluate = sub.add_parser(
        "evaluate", help="measure generated glyphs: FCD, KID, legibility, coverage, "
                         "precision/recall, content accuracy, CAS")
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--run-dir", help="a run folder: sample its generator")
    source.add_argument("--samples", help="an .npz with images (and optional labels)")
    evaluate.add_argument("--n", type=int, default=5000, help="samples to draw (default 5000)")
    evaluate.add_argument("--data", default=None,
                          help="the real dataset (default: the run's own, or data/seed16.npz)")
    evaluate.add_argument("--evaluator", default="auto",
                          help="seed16, ks2350, a .weights.h5 file, or auto (the committed one "
                               "that reads the dataset's charset)")
    evaluate.add_argument("--cas", action="store_true",
                          help="also the classification accuracy score (needs labels): trains "
                               "two classifiers per seed (about 5 minutes each for ks2350)")
    evaluate.add_argument("--cas-seeds", type=int, nargs="+", default=None, metavar="SEED",
                          help="CAS classifier seeds; the scores are means over them "
                               "(default: CASConfig's, 0 1 2)")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--json", default=None, help="also write the results as JSON")
    evaluate.set_defaults(handler=_cmd_evaluate)

    demo = sub.add_parser(
        "demo", help="the quick start's main job: build the default dataset, train the "
                     "reference GAN, write media/ganadalama.gif, and write a sentence in "
                     "generated handwriting (media/handwriting.png)",
    )
    demo.add_argument("--epochs", type=int, default=DEMO_EPOCHS,
                      help=f"training epochs (default {DEMO_EPOCHS}: about 15 minutes on 2 CPU "
                           "cores)")
    demo.add_argument("--fonts", nargs="+", default=["bundled"], metavar="PATH")
    demo.add_argument("--data", default="data/seed16.npz", help="where the dataset is built")
    demo.add_argument("--run-dir", default=None, help="default runs/ganadalama-<date-time>")
    demo.add_argument("--media", default="media", help="where the GIF and final grid go")
    demo.set_defaults(handler=_cmd_demo)


def _add_sheet_parsers(sub) -> None:
    template = sub.add_parser(
        "template", help="make a printable handwriting sheet (PDF or PNG) and its layout",
        description="Lay a charset out as writing boxes with printed guide syllables and "
                    "ArUco markers; print it, write on it, photograph it and read it back with "
                    "`korean-gan ingest`. The layout goes to <out stem>.json beside the sheet.")
    template.add_argument("--charset", default="seed16",
                          help="seed16 (default), ks2350, a UTF-8 text file, or literal "
                               "syllables such as 가나다")
    template.add_argument("--page", choices=("A4", "letter"), default="A4")
    template.add_argument("--box-mm", type=float, default=20.0,
                          help="writing box side in millimetres (default 20)")
    template.add_argument("--dpi", type=int, default=200,
                          help="resolution of the sheet images (default 200)")
    template.add_argument("--font", default=None,
                          help="font file for the guide syllables (default: a bundled face)")
    template.add_argument("--out", default="sheet.pdf",
                          help="sheet.pdf (all pages) or sheet.png (sheet-01.png, ... for "
                               "several pages); default sheet.pdf")
    template.set_defaults(handler=_cmd_template)

    ingest = sub.add_parser(
        "ingest", help="read photos or scans of filled-in sheets into a glyph dataset",
        description="Find each photo's markers, undo its perspective, cut the writing boxes, "
                    "and write the glyphs in the `data build` format (.npz, with a manifest "
                    "holding a per-cell report, and a preview grid). Photos of several pages "
                    "go together, in any order.")
    ingest.add_argument("photos", nargs="+", help="photos or scans (JPEG, PNG) of filled pages")
    ingest.add_argument("--layout", default=None,
                        help="the sheet's layout .json (written beside it by `korean-gan "
                             "template`)")
    ingest.add_argument("--charset", default=None,
                        help="instead of --layout: the charset the sheet was made with (with "
                             "the same --page and --box-mm)")
    ingest.add_argument("--page", choices=("A4", "letter"), default="A4")
    ingest.add_argument("--box-mm", type=float, default=20.0)
    ingest.add_argument("--dpi", type=int, default=200)
    ingest.add_argument("--out", default="data/mine.npz",
                        help="the dataset .npz (default data/mine.npz)")
    ingest.add_argument("--style", default=None,
                        help="style name stored as the dataset's font (default: the --out "
                             "file's stem, e.g. mine)")
    ingest.add_argument("--size", type=int, default=32, help="glyph side in pixels (default 32)")
    ingest.add_argument("--no-preview", action="store_true", help="do not write the preview PNG")
    ingest.set_defaults(handler=_cmd_ingest)

    adapt = sub.add_parser(
        "adapt", help="fit a style of the conditional model to your ingested handwriting",
        description="Fit the conditional generator's style vector (the model stays frozen) to "
                    "the glyphs of `korean-gan ingest`, and save it as styles/<name>.npz, "
                    "so that `korean-gan write ... --style <name>` writes in your hand.")
    adapt.add_argument("--style-from", required=True, metavar="NPZ",
                       help="your glyphs: the .npz written by `korean-gan ingest`")
    adapt.add_argument("--model", default="default",
                       help="default (the pretrained conditional model) or a conditional run "
                            "folder")
    adapt.add_argument("--name", default=None,
                       help="the style's name (default: the dataset's style, e.g. mine)")
    adapt.add_argument("--out", default=None, help="default styles/<name>.npz")
    adapt.add_argument("--steps", type=int, default=300, help="optimisation steps (default 300)")
    adapt.add_argument("--seed", type=int, default=0)
    adapt.set_defaults(handler=_cmd_adapt)

    distill = sub.add_parser(
        "distill", help="make a faster copy of a conditional model (narrower last blocks)",
        description="Train a generator whose last blocks are narrower to draw what a "
                    "conditional model draws (the blocks before them are the model's own, "
                    "frozen), and save it as a model folder that write and synth take with "
                    "--model. No data needed.")
    distill.add_argument("--model", default="default",
                         help="the model to copy: default (the pretrained model) or a "
                              "conditional model folder")
    distill.add_argument("--out", default="models/hangul-fast",
                         help="the new model folder (default models/hangul-fast)")
    distill.add_argument("--filters", default="128,32,16",
                         help="channels of the new model's three upsampling blocks, each at "
                              "most the model's (default 128,32,16, as the committed "
                              "hangul-fast; the default model has 128,64,32)")
    distill.add_argument("--steps", type=int, default=3000, help="training steps (default 3000, "
                                                                 "about 15 min on 2 cores)")
    distill.add_argument("--seed", type=int, default=0)
    distill.add_argument("--quiet", action="store_true", help="no progress bar")
    distill.set_defaults(handler=_cmd_distill)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``korean-gan`` command."""
    from korean_gan import __version__

    parser = argparse.ArgumentParser(
        prog="korean-gan",
        description="Generate handwritten Korean (Hangul) glyph images with GANs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_data_parsers(sub)
    _add_fonts_parsers(sub)
    _add_gan_parsers(sub)
    _add_sheet_parsers(sub)
    return parser


def _font_paths(args) -> tuple[str, ...]:
    fonts = list(args.fonts) if args.fonts else ([] if args.font_dir else ["bundled"])
    return tuple(fonts + list(args.font_dir))


def _cmd_data_build(args) -> int:
    from korean_gan.data.dataset import BuildConfig, build_dataset

    config = BuildConfig(
        charset=args.charset, fonts=_font_paths(args),
        augment=tuple(p.strip() for p in args.augment.split(",") if p.strip()),
        copies=args.copies, size=args.size, seed=args.seed, out=args.out, format=args.format,
        workers=args.workers, strict=args.strict,
        exclude_fonts=tuple(n.strip() for n in args.exclude_fonts.split(",") if n.strip()),
        extra=tuple(args.extra),
        preview=not args.no_preview,
        progress=not args.quiet,
    )
    result = build_dataset(config)
    counts = result.manifest["counts"]
    print(f"wrote {result.path}: {result.n_images:,} images of {result.n_classes} syllables "
          f"({result.n_glyphs:,} glyphs from {result.n_fonts} fonts × "
          f"{len(result.manifest['augmentations'])} augmentations) in {result.seconds:.1f} s "
          f"({result.images_per_second:,.0f} images/s)")
    if counts["glyphs_skipped"]:
        short = [f"{f['name']} ({sum(len(v) for v in f['skipped'].values())})"
                 for f in result.manifest["fonts"] if f["skipped"]]
        print(f"skipped {counts['glyphs_skipped']:,} syllables that fonts do not draw: "
              + ", ".join(short[:8]) + (" ..." if len(short) > 8 else ""))
    print(f"manifest {result.manifest_path}")
    if result.preview_path:
        print(f"preview  {result.preview_path}")
    return 0


def _cmd_data_info(args) -> int:
    import numpy as np

    from korean_gan.data.dataset import load_dataset

    ds = load_dataset(args.path)
    per_class = np.bincount(ds.labels, minlength=len(ds.charset))
    print(f"{args.path}: {len(ds):,} images of {ds.image_size}×{ds.image_size} px")
    print(f"  syllables     {len(ds.charset)} ({''.join(ds.charset.chars[:16])}"
          f"{'…' if len(ds.charset) > 16 else ''}), {per_class.min()}–{per_class.max()} "
          "images each")
    print(f"  fonts         {len(ds.fonts)}")
    print(f"  augmentations {', '.join(ds.augmentations)}")
    return 0


def _cmd_fonts_list(args) -> int:
    from korean_gan.data.charsets import resolve_charset
    from korean_gan.data.fonts import drawn_syllables, load_faces

    charset = resolve_charset(args.charset)
    faces = load_faces(args.paths)
    print(f"{'face':32} {'family':28} drawn of {charset.name}")
    for face in faces:
        drawn, _ = drawn_syllables(face, charset.chars)
        print(f"{face.name:32.32} {face.family:28.28} {len(drawn):>6,}/{len(charset):,}")
    return 0


def _cmd_fonts_catalog(args) -> int:
    from korean_gan.data.fonts import write_catalog

    path = write_catalog(args.font_dir)
    print(f"wrote {path}")
    return 0


def _cmd_train(args) -> int:
    from pathlib import Path

    from korean_gan.data.dataset import parse_repeat_fonts
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import read_run_config, train

    verbose = 2 if args.quiet else "auto"
    if args.resume:
        if not args.run_dir:
            raise ValueError("--resume needs the --run-dir of the run to continue")
        config = read_run_config(Path(args.run_dir))
        # The folder named here, not the one saved in it: a copied or moved run goes on in place.
        config.run_dir = args.run_dir
        config.epochs = args.epochs or config.epochs
        if args.lr_decay_epochs is not None:
            config.lr_decay_epochs = args.lr_decay_epochs
        config.verbose = verbose
        config.strategy = args.strategy
        config.precision = args.precision or config.precision
    else:
        config = TrainConfig.from_preset(
            args.preset, data=args.data, run_dir=args.run_dir or f"runs/{args.preset}",
            epochs=args.epochs, batch_size=args.batch_size, g_learning_rate=args.g_lr,
            d_learning_rate=args.d_lr, lr_decay_epochs=args.lr_decay_epochs,
            g_filters=args.g_filters, d_filters=args.d_filters,
            content_weight=args.content_weight, init_from=args.init_from,
            recognizer_epochs=args.recognizer_epochs,
            recognizer_warmup_epochs=args.recognizer_warmup,
            repeat_fonts=parse_repeat_fonts(args.repeat_font or ()) or None,
            seed=args.seed, checkpoint_every=args.checkpoint_every,
            snapshot_every=args.snapshot_every, eval_every=args.eval_every,
            tensorboard=False if args.no_tensorboard else None, verbose=verbose,
            precision=args.precision, strategy=args.strategy,
        )
    history = train(config, resume=args.resume)
    run = Path(config.run_dir)
    print(f"run folder {run}: samples.gif, samples/, log.csv, checkpoints/, "
          "generator.weights.h5")
    if history.interrupted:
        print(f"stopped early and checkpointed; continue with: korean-gan train --resume "
              f"--run-dir {run}")
        return 130
    return 0


def _cmd_sample(args) -> int:
    import numpy as np

    from korean_gan._io import save_npz
    from korean_gan.artifacts import load_generator
    from korean_gan.data.images import save_png, tile
    from korean_gan.generate import sample_images

    out = args.out
    if not out.endswith((".png", ".npz")):
        raise ValueError(f"--out {out}: give a .png (grid) or .npz (images) file name")
    arrays = {}
    if args.run_dir and _run_model(args.run_dir) == "conditional":
        from korean_gan.data.charsets import SEED16, resolve_charset
        from korean_gan.generate import Handwriting

        if args.n < 1:
            raise ValueError(f"--n must be a positive integer, got {args.n}")
        writer = Handwriting.load(args.run_dir)
        charset = resolve_charset(args.chars) if args.chars else resolve_charset(list(SEED16))
        labels = np.arange(args.n) % len(charset)
        images = writer.glyphs([charset.chars[i] for i in labels], args.style, seed=args.seed)
        arrays = {"labels": labels.astype(np.int32), "charset": np.array(charset.chars)}
    else:
        generator = load_generator(run_dir=args.run_dir, weights=args.weights)
        images = sample_images(generator, args.n, seed=args.seed)
    if out.endswith(".png"):
        save_png(tile(images), out)
    else:
        save_npz(out, {"images": images, **arrays, "seed": np.int64(args.seed)})
    print(f"wrote {args.n} samples to {out}")
    return 0


def _run_model(run_dir: str) -> str:
    from korean_gan.artifacts import run_settings

    return run_settings(run_dir).get("model", "dcgan")


def _add_sampling_precision(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--precision", default="auto",
                        choices=PRECISIONS,
                        help="what the generator computes in: auto (default: bf16 on CPUs "
                             "where a timed matmul shows it faster than float32, glyphs within "
                             "a few grey levels of float32's; float16 on GPUs; else float32) "
                             "or float32 for the same bytes on every machine")


def _cmd_write(args) -> int:
    from korean_gan.data.images import save_png
    from korean_gan.generate import Handwriting

    if not args.out.lower().endswith(".png"):
        raise ValueError(f"--out {args.out}: give a .png file name")
    if args.scale < 1:
        raise ValueError(f"--scale must be a positive integer, got {args.scale}")
    writer = Handwriting.load(args.model, precision=args.precision)
    text = args.text.replace("\\n", "\n")
    image = writer.write(text, style=_style_arg(args.style), seed=args.seed, scale=args.scale)
    save_png(image, args.out)
    print(f"wrote {args.out} ({image.shape[1]}×{image.shape[0]} px, style {args.style}, "
          f"seed {args.seed})")
    return 0


def _style_arg(style: str) -> str:
    # On the command line "random" and "mix" mean one new style for the whole text.
    return {"random": "random-one", "mix": "mix-one"}.get(style, style)


def _cmd_synth(args) -> int:
    from korean_gan.generate import Handwriting, SynthConfig

    writer = Handwriting.load(args.model, precision=args.precision)
    config = SynthConfig(charset=args.charset, per_class=args.per_class,
                         styles=tuple(s.strip() for s in args.styles.split(",") if s.strip()),
                         seed=args.seed, out=args.out, format=args.format,
                         batch_size=args.batch_size, preview=not args.no_preview,
                         progress=not args.quiet, keep_legible=args.keep_legible)
    path, manifest = writer.synthesize(config)
    counts, build = manifest["counts"], manifest["build"]
    print(f"wrote {path}: {counts['images']:,} images of {counts['classes']} syllables × "
          f"{counts['per_class']} ({counts['styles']} styles) in {build['seconds']:.1f} s "
          f"({build['glyphs_per_second']:,.0f} glyphs/s)")
    if manifest["keep_legible"]:
        kept = manifest["keep_legible"]
        print(f"keep-legible: dropped {kept['dropped']:,} glyphs the evaluator "
              f"{kept['evaluator']} read as another syllable; "
              f"{kept['syllables_without_images']} syllables have no image left")
    return 0


def _cmd_styles(args) -> int:
    from korean_gan.generate import Handwriting

    writer = Handwriting.load(args.model)
    print(f"styles of {writer.info['source']} (plus: random, mix, mean):")
    for i, font in enumerate(writer.fonts):
        print(f"{i:3d}  {font}")
    return 0


def _cmd_models(args) -> int:
    import textwrap

    from korean_gan.artifacts import pretrained_models

    for model in pretrained_models():
        names = ", ".join([model["name"], *model["aliases"]])
        print(f"{names}  ({model['megabytes']} MB)")
        print(textwrap.fill(model["description"], width=92, initial_indent="    ",
                            subsequent_indent="    ", break_on_hyphens=False))
    print("Any run folder of `korean-gan train --preset hangul` works as --model too.")
    return 0


def _cmd_gif(args) -> int:
    from pathlib import Path

    from korean_gan.data.images import frame_paths, write_gif

    run = Path(args.run_dir)
    frames = frame_paths(run / "samples")
    if not frames:
        raise ValueError(f"{run / 'samples'} holds no epoch_NNNN.png frames; train first")
    out = write_gif(frames, args.out or run / "samples.gif", args.frame_seconds,
                    max_frames=args.max_frames, width=args.width)
    print(f"wrote {out} ({len(frames)} epochs)")
    return 0


def _int_list(text: str, flag: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"{flag} takes comma-separated integers, got {text!r}") from None
    if any(v < 1 for v in values):
        raise ValueError(f"{flag} values must be positive, got {text!r}")
    return values


def _cmd_evaluator_train(args) -> int:
    from korean_gan.evaluation.evaluator import EvaluatorConfig, train_evaluator

    overrides = {key: value for key, value in (
        ("epochs", args.epochs), ("copies", args.copies),
        ("augment", tuple(args.augment.split(",")) if args.augment else None),
        ("widths", _int_list(args.widths, "--widths") if args.widths else None),
    ) if value is not None}
    config = EvaluatorConfig(charset=args.charset, fonts=tuple(args.fonts), seed=args.seed,
                             **overrides)
    _, report = train_evaluator(config, args.out, verbose=2 if args.quiet else "auto")
    print(f"evaluator for {report['charset_name']} ({len(report['charset'])} syllables): "
          f"held-out-font accuracy {report['held_out_accuracy']:.2%} on "
          f"{report['held_out_images']:,} glyphs of {', '.join(report['held_out_fonts'])}; "
          f"trained on {len(report['train_fonts'])} fonts in {report['seconds']:.0f} s")
    return 0


def _cmd_evaluator_info(args) -> int:
    from korean_gan.evaluation.evaluator import Evaluator

    info = Evaluator.load(args.name).info
    print(f"{args.name}: {len(info['charset'])} syllables, held-out-font accuracy "
          f"{info['held_out_accuracy']:.2%} ({info['held_out_images']:,} glyphs)")
    print(f"  trained on  {', '.join(info['train_fonts'])}")
    print(f"  held out    {', '.join(info['held_out_fonts'])}")
    return 0


def _cmd_evaluate(args) -> int:
    from pathlib import Path

    import numpy as np

    from korean_gan.data.dataset import load_dataset
    from korean_gan.evaluation.evaluator import (
        CASConfig,
        Evaluator,
        classification_accuracy_score,
        evaluate_samples,
        find_evaluator,
        format_report,
        real_statistics,
    )

    labels = None
    if args.run_dir:
        from korean_gan.artifacts import load_generator, run_settings
        from korean_gan.generate import sample_images

        data_path = Path(args.data or run_settings(args.run_dir)["data"])
        images = sample_images(load_generator(run_dir=args.run_dir), args.n, seed=args.seed)
        source = f"{args.n} samples of {args.run_dir}"
    else:
        data_path = Path(args.data or "data/seed16.npz")
        path = Path(args.samples)
        if not path.is_file():
            raise ValueError(f"samples file {path} does not exist")
        try:
            with np.load(path, allow_pickle=False) as npz:
                if "images" not in npz.files:
                    raise ValueError(f"samples file {path} has no 'images' array")
                images = npz["images"]
                labels = npz["labels"] if "labels" in npz.files else None
        except (OSError, ValueError) as err:
            raise ValueError(f"samples file {path} cannot be read ({err})") from None
        source = f"{len(images)} images of {path}"
    real = load_dataset(data_path)
    evaluator = (find_evaluator(real.charset) if args.evaluator == "auto"
                 else Evaluator.load(args.evaluator))
    stats = real_statistics(data_path, evaluator)
    result = evaluate_samples(images, evaluator, stats, labels=labels, seed=args.seed)
    if args.cas:
        if labels is None:
            raise ValueError("--cas needs labelled samples (an .npz with a 'labels' array)")
        result.update(classification_accuracy_score(
            images, labels, evaluator, real,
            CASConfig(seeds=tuple(args.cas_seeds)) if args.cas_seeds else CASConfig(),
            progress=True))
    print(f"{source}, against {data_path} ({stats.n:,} images), evaluator {evaluator.name}:")
    print(format_report(result))
    if args.json:
        from korean_gan._io import write_json_atomic

        write_json_atomic(args.json, {**result, "data": str(data_path), "source": source})
        print(f"wrote {args.json}")
    return 0


def _cmd_demo(args) -> int:
    import shutil
    import time
    from pathlib import Path

    from korean_gan.data.dataset import build_dataset
    from korean_gan.data.images import save_png, tile

    started = time.perf_counter()
    built = build_dataset(fonts=tuple(args.fonts), out=args.data, progress=False)
    print(f"1/4 dataset {built.path}: {built.n_images:,} images ({built.n_glyphs} glyphs of "
          f"{built.n_classes} syllables from {built.n_fonts} fonts × "
          f"{len(built.manifest['augmentations'])} variants); preview {built.preview_path}")

    from korean_gan.artifacts import load_generator
    from korean_gan.generate import sample_images
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import train

    run_dir = Path(args.run_dir or time.strftime("runs/ganadalama-%Y%m%d-%H%M%S"))
    config = TrainConfig.from_preset("seed", data=str(built.path), run_dir=str(run_dir),
                                     epochs=args.epochs,
                                     batch_size=min(256, built.n_images), verbose=2)
    print(f"2/4 training the reference DCGAN for {args.epochs} epochs into {run_dir} "
          "(Ctrl-C stops after the current step, with a checkpoint)")
    history = train(config)
    media = Path(args.media)
    gif = media / "ganadalama.gif"
    from korean_gan._io import atomic_path

    with atomic_path(gif, suffix=".gif") as tmp:
        shutil.copyfile(run_dir / "samples.gif", tmp)
    final = save_png(tile(sample_images(load_generator(run_dir), 64, seed=1), cols=8),
                     media / "ganadalama-final.png")
    print(f"3/4 wrote {gif} (samples over {len(history.epoch)} epochs) and {final} "
          f"(64 new glyphs)")
    sentence = _demo_sentence(media / "handwriting.png")
    minutes = (time.perf_counter() - started) / 60
    print(f"4/4 wrote {sentence}: \"{DEMO_TEXT}\" in three generated handwriting styles "
          f"(the pretrained conditional model; `korean-gan write` writes any text) in "
          f"{minutes:.1f} min in all")
    return 130 if history.interrupted else 0


#: A Korean pangram ("the squirrel wants to ride the old wheel"), written by the demo.
DEMO_TEXT = "다람쥐 헌 쳇바퀴에 타고파"


def _demo_sentence(path) -> str:
    """Writes DEMO_TEXT in two font styles and one random style, one line each."""
    import numpy as np

    from korean_gan.data.images import save_png
    from korean_gan.generate import Handwriting

    writer = Handwriting.load("default")
    lines = [writer.write(DEMO_TEXT, style=style, seed=seed)
             for style, seed in ((0, 0), (len(writer.fonts) // 2, 0), ("random-one", 3))]
    width = max(line.shape[1] for line in lines)
    page = np.concatenate([np.pad(line, ((0, 0), (0, width - line.shape[1])),
                                  constant_values=255) for line in lines])
    return str(save_png(page, path))


def _cmd_template(args) -> int:
    from korean_gan.handwriting.template import TemplateConfig, write_template

    config = TemplateConfig(charset=args.charset, page=args.page, dpi=args.dpi,
                            box_mm=args.box_mm, out=args.out, font=args.font)
    result = write_template(config)
    layout = result.layout
    sheets = (str(result.sheets[0]) if len(result.sheets) == 1
              else f"{result.sheets[0]} … {result.sheets[-1].name}")
    print(f"wrote {sheets}: {len(layout.charset)} syllables on {len(layout.pages)} "
          f"{layout.page_name} page(s) ({layout.rows}×{layout.cols} boxes of {args.box_mm:g} mm "
          f"per page), template {layout.template_id}")
    print(f"layout {result.layout_path} (keep it: `korean-gan ingest` needs it)")
    print("print at 100% (any scale works), write one syllable per box with a dark felt-tip "
          "pen, photograph or scan each page flat with its four corner markers")
    return 0


def _cmd_ingest(args) -> int:
    from korean_gan.handwriting.ingest import IngestConfig, ingest

    config = IngestConfig(photos=tuple(args.photos), layout=args.layout, charset=args.charset,
                          page=args.page, box_mm=args.box_mm, dpi=args.dpi, out=args.out,
                          style=args.style, size=args.size, preview=not args.no_preview)
    result = ingest(config)
    manifest, counts = result.manifest, result.manifest["counts"]
    pages = manifest["template"]["pages"]
    print(f"wrote {result.path}: {counts['glyphs']} glyphs of {counts['syllables']} syllables "
          f"(style {manifest['style']}) from {counts['photos']} photo(s) in "
          f"{manifest['build']['seconds']:.1f} s")
    for photo in manifest["photos"]:
        cells = ", ".join(f"{n} {status}" for status, n in photo["cells"].items())
        print(f"  {photo['photo']}: page {photo['page']} of {pages}: {cells} "
              f"({photo['px_per_mm']:.1f} px/mm)")
    odd = [c for c in result.cells if c.status not in ("ok", "blank") or c.touches_edge]
    for cell in odd[:10]:
        what = cell.status if cell.status != "ok" else "ink touches the box edge (cut off?)"
        print(f"  page {cell.page} box {cell.cell + 1} ({cell.char}) in {cell.photo}: {what}")
    if len(odd) > 10:
        print(f"  ... {len(odd) - 10} more in the manifest")
    if counts["pages_missing"]:
        missing = counts["pages_missing"]
        print(f"not photographed: page(s) {', '.join(map(str, missing[:20]))}"
              f"{' ...' if len(missing) > 20 else ''}")
    print(f"manifest {result.manifest_path} (with a per-cell report)")
    if result.preview_path:
        print(f"preview  {result.preview_path}")
    return 0


def _cmd_adapt(args) -> int:
    from korean_gan.artifacts import STYLE_DIR
    from korean_gan.handwriting.adapt import AdaptConfig, adapt

    config = AdaptConfig(data=args.style_from, model=args.model, name=args.name, out=args.out,
                         steps=args.steps, seed=args.seed)
    result = adapt(config)
    print(f"fitted style {result.name} to {result.n_glyphs} glyphs in {result.seconds:.0f} s: "
          f"L1 {result.loss_start:.3f} (closest start: {result.start}) → {result.loss_end:.3f}")
    style = result.name if result.path == STYLE_DIR / f"{result.name}.npz" else result.path
    model = "" if args.model == "default" else f" --model {args.model}"
    print(f"wrote {result.path}; write with it: korean-gan write \"안녕하세요\" --style {style}"
          f"{model} --out hello.png")
    return 0


def _widths(filters) -> str:
    return ",".join(str(f) for f in filters)


def _cmd_distill(args) -> int:
    from korean_gan.training.distill import DistillConfig, distill

    try:
        filters = tuple(int(f) for f in args.filters.split(","))
    except ValueError:
        raise ValueError(f"--filters {args.filters}: give three whole numbers separated by "
                         "commas, e.g. 128,32,16") from None
    result = distill(DistillConfig(model=args.model, out=args.out, block_filters=filters,
                                   steps=args.steps, seed=args.seed, progress=not args.quiet))
    print(f"distilled {args.model} (blocks of {_widths(result.teacher_block_filters)} channels) "
          f"into {_widths(result.block_filters)} in {result.seconds:.0f} s: difference to it "
          f"{result.difference_start:.2f} → {result.difference_end:.2f} grey levels (mean, of "
          "255)")
    print(f"wrote {result.path}; use it: korean-gan synth --model {result.path} ...")
    return 0


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # TensorFlow's INFO lines (oneDNN, XLA start-up) say nothing to a user of the command line;
    # its warnings and errors still show. A value the user set wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    previous = warnings.showwarning
    warnings.showwarning = _one_line_warning
    try:
        try:
            return int(args.handler(args) or 0)
        except Exception as err:
            # TensorFlow's own errors (a damaged file it reads, ...) are neither ValueError
            # nor OSError; report them the same way, on one line.
            if type(err).__module__.startswith("tensorflow") and not os.environ.get(
                    "KOREAN_GAN_DEBUG"):
                raise OSError(str(err).splitlines()[0] if str(err) else type(err).__name__) \
                    from None
            raise
    except (ValueError, OSError) as err:
        # Every error the library raises for bad input is a ValueError or OSError subclass
        # whose message names the value and what to do. KOREAN_GAN_DEBUG=1 shows the traceback.
        if os.environ.get("KOREAN_GAN_DEBUG"):
            raise
        print(f"korean-gan: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("korean-gan: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = previous


if __name__ == "__main__":
    sys.exit(main())
