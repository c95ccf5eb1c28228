"""`korean-gan lines`: labelled handwritten text-line images for OCR recognizers."""

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
        ("lines",), ("korean_gan.textlines.LinesConfig",),
        {name: name for name in ("out", "text", "random", "frequency_from", "styles", "height",
                                 "count", "seed", "format", "shard", "workers", "augment",
                                 "latin_from", "model", "precision", "runtime",
                                 "batch_lines")}
        | {"quiet": "progress", "yes": "max_hours"},
        cli_only=frozenset({"ray", "ray_address"}), api_only=frozenset({"threads"})),
)


def add_parsers(sub) -> None:
    """Adds ``lines``."""
    lines = sub.add_parser(
        "lines", help="make labelled images of handwritten text lines for OCR",
        description="Write each line of a corpus (or random lines) in generated handwriting: "
                    "Hangul by the model, digits, punctuation and Latin by a font, set with "
                    "the style's metrics and jittered like handwriting. Labels hold the text, "
                    "every character's box, the style and the augmentation. Formats: a "
                    "PaddleOCR folder (labels.txt), a Hugging Face imagefolder "
                    "(metadata.jsonl) or WebDataset .tar shards.")
    source = lines.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", metavar="CORPUS", help="UTF-8 text file: one line per image "
                        "(- reads standard input)")
    source.add_argument("--random", type=int_range(1, 10_000_000), metavar="N",
                        help="N random lines of Hangul words (with a few numbers and "
                             "punctuation marks)")
    lines.add_argument("--frequency-from", metavar="CORPUS", default=None,
                       help="with --random: follow this corpus's syllable frequencies "
                            "(default: KS X 1001's 2,350 syllables equally often)")
    lines.add_argument("--out", default="data/lines", help="output folder (default data/lines)")
    lines.add_argument("--styles", default="fonts",
                       help="comma-separated, each optionally name:weight: fonts (every "
                            "training font), a font's name or number, random (a new style per "
                            "line), mix, mean, or your style from `korean-gan adapt` (default "
                            "fonts); e.g. Gaegu-Regular:2,random:1")
    lines.add_argument("--height", type=int, default=64, metavar="{32,64,128}",
                       help="pixels per em, and the image height (default 64)")
    lines.add_argument("--count", type=int_range(1, 10_000_000), default=None,
                       help="lines to make (default: each corpus line once, or --random N); "
                            "a corpus is repeated to reach it")
    lines.add_argument("--seed", type=SEED, default=0,
                       help="line i depends only on (seed, i): the same lines in any shard")
    lines.add_argument("--format", choices=("paddle", "imagefolder", "webdataset"),
                       default="paddle", help="default paddle (images/ + labels.txt)")
    lines.add_argument("--shard", default=None, metavar="K/N",
                       help="make only block K of N (from 0); the N shards together equal "
                            "the whole run")
    lines.add_argument("--workers", type=int_range(1, 64), default=None,
                       help="processes drawing lines, each with its own model (default: one "
                            "per core, up to 8, no more than the batches of lines)")
    lines.add_argument("--ray", type=int_range(1, 100_000), default=None, metavar="SHARDS",
                       help="make the lines as SHARDS Ray tasks, shard K into "
                            "OUT/shard-K-of-SHARDS (pip install \"korean-gan[ray]\")")
    lines.add_argument("--ray-address", default=None, metavar="ADDRESS",
                       help="with --ray: auto (the running cluster) or HOST:PORT (default: a "
                            "local Ray instance)")
    lines.add_argument("--augment", default="default", metavar="default|none|FILE.json",
                       help="how lines are made to look handwritten: default, none (the "
                            "layout as typeset), or a JSON file of LineAugment fields")
    lines.add_argument("--latin-from", default="auto", metavar="FONT",
                       help="font for digits, punctuation and Latin letters (default auto: "
                            "the style's own font, then Gamja Flower)")
    lines.add_argument("--model", default="default", help=MODEL_HELP)
    lines.add_argument("--batch-lines", type=int_range(1, 4096), default=64,
                       help="lines drawn together (default 64)")
    lines.add_argument("--quiet", action="store_true", help="no progress bar")
    add_yes(lines)
    add_sampling_precision(lines, default=None,
                           default_help="int8 where the model has its export (the bundled "
                                        "one does), else float32")
    add_runtime(lines)
    lines.set_defaults(handler=_cmd_lines)


def _cmd_lines(args) -> int:
    import contextlib
    import os
    import tempfile

    if args.batch_lines < 1:
        raise ValueError(f"--batch-lines must be a positive integer, got {args.batch_lines}")
    with contextlib.ExitStack() as stack:
        text = args.text
        if text == "-":  # kept in a file for the run: workers and shards read it again
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="korean-gan-"))
            text = os.path.join(folder, "stdin.txt")
            with open(text, "w", encoding="utf-8") as fh:
                fh.write(read_text_source("-", "--text"))
            try:
                return _make(args, text)
            except ValueError as err:  # name the input as the user gave it
                raise ValueError(str(err).replace(f"corpus file {text}", "--text -")
                                 .replace(text, "standard input")) from None
        return _make(args, text)


def _make(args, text: str | None) -> int:
    from korean_gan.textlines import LinesConfig, augment_from_spec, make_lines

    config = LinesConfig(out=args.out, text=text, random=args.random,
                         frequency_from=args.frequency_from, styles=args.styles,
                         height=args.height, count=args.count, seed=args.seed,
                         format=args.format, shard=args.shard, workers=args.workers,
                         augment=augment_from_spec(args.augment), latin_from=args.latin_from,
                         model=args.model, precision=args.precision,
                         runtime=args.runtime, batch_lines=args.batch_lines,
                         progress=not args.quiet, max_hours=max_hours(args))
    if args.ray is not None:
        from korean_gan.lines_ray import make_lines_on_ray

        config.progress = False
        for folder in make_lines_on_ray(config, args.ray, args.ray_address):
            print(folder)
        return 0
    result = make_lines(config)
    skipped = f", {result.skipped} skipped" if result.skipped else ""
    print(f"wrote {result.lines} lines to {result.path} ({args.format}{skipped}, "
          f"{result.lines / max(result.seconds, 1e-9):.0f} lines/s)")
    return 0
