"""`korean-gan write`, `synth`, `styles`, `models`, `export-onnx` and `interpolate`: generated
handwriting from a conditional model, and the model folders it comes from."""

from __future__ import annotations

from korean_gan.cli._common import (
    MODEL_HELP,
    SEED,
    ConfigOptions,
    add_runtime,
    add_sampling_precision,
    add_yes,
    int_range,
    max_hours,
    read_text_source,
)

CONFIG_OPTIONS = (
    ConfigOptions(
        ("synth",), ("korean_gan.generate.SynthConfig",),
        {"charset": "charset", "per_class": "per_class", "styles": "styles", "seed": "seed",
         "out": "out", "format": "format", "batch_size": "batch_size", "no_preview": "preview",
         "quiet": "progress", "keep_legible": "keep_legible", "size": "size",
         "yes": "max_hours"},
        cli_only=frozenset({"model", "precision", "runtime"})),
)


def add_parsers(sub) -> None:
    """Adds ``write``, ``synth``, ``styles``, ``models``, ``export-onnx`` and ``interpolate``."""
    write = sub.add_parser(
        "write", help="write text in generated handwriting (a PNG)",
        description="Write text (line breaks as \\n) in a generated handwriting style with "
                    "the pretrained conditional model or your own run: Hangul drawn by the "
                    "model, set with the style's font metrics; digits, punctuation and Latin "
                    "letters drawn from a font.")
    write.add_argument("text", nargs="?",
                       help='the text, e.g. "2026년 12월 6일, 오늘은 Hello!" (\\n starts a '
                            "line; - reads standard input)")
    write.add_argument("--text-file", metavar="FILE",
                       help="write the UTF-8 text of FILE instead (- for standard input): for "
                            "texts longer than a command line takes")
    write.add_argument("--style", default="random",
                       help="a training font's number or name (see `korean-gan styles`), "
                            "random (one new style, from --seed), mix (one new blend of two "
                            "fonts) or mean (default random)")
    write.add_argument("--model", default="default",
                       help=MODEL_HELP)
    write.add_argument("--seed", type=SEED, default=0, help="seed of noise and style")
    write.add_argument("--size", type=int, default=128, metavar="{32,64,128}",
                       help="pixels per em (default 128: crisp strokes at reading size)")
    write.add_argument("--latin-from", default="auto", metavar="FONT",
                       help="font file or bundled font name for digits, punctuation and Latin "
                            "letters (default auto: the style's own font, then Gamja Flower)")
    write.add_argument("--scale", type=int_range(1, 16), default=1, help="upscaling (default 1)")
    write.add_argument("--out", required=True,
                       help="the PNG to write, or an SVG (.svg: the ink traced into outlines)")
    # float32 by default: a sentence gains nothing from bf16, and float32 runs in ONNX
    # Runtime (--runtime auto), ready in a second instead of TensorFlow's five.
    add_sampling_precision(write, default="float32")
    add_runtime(write)
    write.set_defaults(handler=_cmd_write)

    synth = sub.add_parser(
        "synth", help="generate a labelled synthetic dataset for a classifier",
        description="Generate --per-class images of every syllable of a charset in generated "
                    "handwriting, written like `data build` output (.npz or class folders of "
                    "PNG) with a manifest and a preview.")
    synth.add_argument("--charset", default="ks2350",
                       help="ks2350 (default), seed16, all11172, a file or literal syllables")
    synth.add_argument("--per-class", type=int_range(1, 1_000_000), default=100,
                       help="images per syllable (default 100)")
    synth.add_argument("--styles", default="fonts",
                       help="comma-separated: fonts (every training font in turn), font numbers "
                            "or names, random (a new style per image), mix (a new blend of two "
                            "training fonts per image), mean (default fonts)")
    synth.add_argument("--format", choices=("npz", "imagefolder"), default="npz")
    synth.add_argument("--out", default=None,
                       help="default data/synth-<charset>.npz (or a folder for imagefolder)")
    synth.add_argument("--model", default="default",
                       help=MODEL_HELP)
    synth.add_argument("--seed", type=SEED, default=0)
    synth.add_argument("--size", type=int, default=32, metavar="{32,64,128}",
                       help="glyph side in pixels (default 32, the model's own glyphs; 64 and "
                            "128 are redrawn by the upsampler and placed as the font places "
                            "them)")
    synth.add_argument("--batch-size", type=int_range(1, 8192), default=1024)
    synth.add_argument("--no-preview", action="store_true")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.add_argument("--keep-legible", action="store_true",
                       help="keep only glyphs the committed evaluator reads as the syllable "
                            "asked for (cleaner labels; some syllables get fewer images)")
    add_yes(synth)
    add_sampling_precision(synth)
    # TensorFlow by default: it starts slower but samples large sets faster (bf16 where the
    # CPU has it; float32 about 15% faster than ONNX Runtime on 2 cores).
    add_runtime(synth, default=None,
                default_help="tensorflow (faster than float32 ONNX Runtime on large sets), "
                             "auto with --precision int8")
    synth.set_defaults(handler=_cmd_synth)

    styles = sub.add_parser("styles", help="list the styles (training fonts) of a model")
    styles.add_argument("--model", default="default",
                        help="default (the pretrained model) or a conditional run folder")
    styles.set_defaults(handler=_cmd_styles)

    export = sub.add_parser(
        "export-onnx", help="export a model's networks to ONNX (for --runtime onnx)",
        description="Write generator.onnx and generator-int8.onnx (for --precision int8) "
                    "into a model folder (and upsampler.onnx into upsampler folders), each "
                    "checked against its Keras network first and "
                    "listed in the folder's model card. Commands with --runtime onnx or auto "
                    "then run them in ONNX Runtime, which starts in a tenth of TensorFlow's "
                    "time. The bundled model and upsamplers come exported.")
    export.add_argument("--model", default="default", help=MODEL_HELP)
    export.add_argument("--no-model", action="store_true",
                        help="export only the --upsampler folders")
    export.add_argument("--upsampler", action="append", default=[], metavar="DIR",
                        help="an upsampler folder (`korean-gan train-upsampler --out`) to "
                             "export too; repeatable")
    export.set_defaults(handler=_cmd_export_onnx)

    between = sub.add_parser(
        "interpolate", help="a model between a model and a fine-tune of it (weight averaging)",
        description="Write a model folder whose weights and font styles are (1 - weight) x "
                    "the first model + weight x the second (WiSE-FT): for a model and a "
                    "fine-tune of it, a weight between 0 and 1 keeps part of what the "
                    "fine-tune gained and part of what it cost.")
    between.add_argument("--models", nargs=2, required=True, metavar=("FIRST", "SECOND"),
                         help="two models of one architecture and fonts (names or folders)")
    between.add_argument("--weight", type=float, default=0.5,
                         help="share of the second model, 0 to 1 (default 0.5)")
    between.add_argument("--out", required=True, help="the model folder to write")
    between.set_defaults(handler=_cmd_interpolate)

    models = sub.add_parser("models", help="list the committed pretrained models",
                            description="List the models that --model takes by name: the "
                                        "committed ones under korean_gan/pretrained, with "
                                        "their other names, sizes and model cards' summaries.")
    models.set_defaults(handler=_cmd_models)


def _cmd_write(args) -> int:
    from korean_gan._io import stream_target
    from korean_gan.data.images import save_png
    from korean_gan.generate import Handwriting, check_size

    # A device or pipe (/dev/null, /dev/stdout) gets the PNG bytes whatever its name.
    svg = args.out.lower().endswith(".svg")
    if not (svg or args.out.lower().endswith(".png") or stream_target(args.out)):
        raise ValueError(f"--out {args.out}: give a .png file name (or .svg for outlines)")
    if args.scale < 1:
        raise ValueError(f"--scale must be a positive integer, got {args.scale}")
    check_size(args.size)
    if args.text is not None and args.text_file is not None:
        raise ValueError("give the text or --text-file, not both")
    if args.text is None and args.text_file is None:
        raise ValueError("give the text to write, or --text-file FILE (- for standard input)")
    if args.text_file is not None:
        text = read_text_source(args.text_file, "--text-file")
    elif args.text == "-":
        text = read_text_source("-", "text")
    else:
        text = args.text.replace("\\n", "\n")
    if not text.strip():
        raise ValueError("the text to write is empty")
    writer = Handwriting.load(args.model, precision=args.precision, runtime=args.runtime)
    image = writer.write(text, style=_style_arg(args.style), seed=args.seed, size=args.size,
                         latin_from=args.latin_from, scale=args.scale)
    if svg:
        from korean_gan.data.svgfile import save_svg

        save_svg(args.out, image, title=text)
    else:
        save_png(image, args.out)
    print(f"wrote {args.out} ({image.shape[1]}×{image.shape[0]} px, style {args.style}, "
          f"seed {args.seed})")
    return 0


def _style_arg(style: str) -> str:
    # On the command line "random" and "mix" mean one new style for the whole text.
    return {"random": "random-one", "mix": "mix-one"}.get(style, style)


def _cmd_synth(args) -> int:
    from korean_gan.generate import Handwriting, SynthConfig

    runtime = args.runtime or ("auto" if args.precision == "int8" else "tensorflow")
    writer = Handwriting.load(args.model, precision=args.precision, runtime=runtime)
    config = SynthConfig(charset=args.charset, per_class=args.per_class,
                         styles=tuple(s.strip() for s in args.styles.split(",") if s.strip()),
                         seed=args.seed, out=args.out, format=args.format,
                         batch_size=args.batch_size, preview=not args.no_preview,
                         progress=not args.quiet, keep_legible=args.keep_legible,
                         size=args.size, max_hours=max_hours(args))
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


def _cmd_export_onnx(args) -> int:
    from korean_gan.generate import export_onnx

    if args.no_model and not args.upsampler:
        raise ValueError("nothing to export: drop --no-model or give --upsampler DIR")
    for path in export_onnx(None if args.no_model else args.model, tuple(args.upsampler)):
        print(f"wrote {path}")
    return 0


def _cmd_interpolate(args) -> int:
    from korean_gan.artifacts import interpolate_models

    out = interpolate_models(*args.models, args.weight, args.out)
    print(f"wrote {out}: {1 - args.weight:g} x {args.models[0]} + {args.weight:g} x "
          f"{args.models[1]} (korean-gan export-onnx --model {out} for --precision int8)")
    return 0


def _cmd_styles(args) -> int:
    from korean_gan.generate import Handwriting

    # Only the names are needed: ONNX Runtime loads them without TensorFlow where it can.
    writer = Handwriting.load(args.model, precision="float32", runtime="auto")
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
