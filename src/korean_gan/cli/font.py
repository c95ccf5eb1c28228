"""`korean-gan font`: a handwriting style as an installable font."""

from __future__ import annotations

from korean_gan.cli._common import (
    MODEL_HELP,
    SEED,
    ConfigOptions,
    add_sampling_precision,
    int_range,
)

CONFIG_OPTIONS = (
    ConfigOptions(
        ("font",), ("korean_gan.fontmaker.FontConfig",),
        {name: name for name in ("out", "style", "charset", "family", "seed", "model",
                                 "latin_from", "written", "version", "precision",
                                 "batch_size")}
        | {"license_file": "license_text", "quiet": "progress"}),
)


def add_parsers(sub) -> None:
    """Adds ``font``."""
    font = sub.add_parser(
        "font", help="make an installable font (TTF, OTF, WOFF2) of a handwriting style",
        description="Write every syllable of a charset in one style (the model at 32 px, the "
                    "upsampler at 128 px), trace the glyphs into smooth outlines with potrace "
                    "and build a font with the style's metrics; digits, punctuation and Latin "
                    "letters come from a font. For a style fitted to your handwriting, the "
                    "syllables you wrote are kept as written and the model writes the rest.")
    font.add_argument("--style", default="random",
                      help="a training font's number or name (see `korean-gan styles`), random "
                           "(one new style, from --seed), mix, mean, or your style from "
                           "`korean-gan adapt` (default random)")
    font.add_argument("--out", required=True,
                      help="the font file: NAME.ttf, .otf, .woff2 or .woff (the suffix picks "
                           "the format)")
    font.add_argument("--charset", default="all11172",
                      help="all11172 (default: every syllable), ks2350, a file or literal "
                           "syllables; Hangul syllables only")
    font.add_argument("--family", default=None,
                      help='the family name, e.g. "My Hand" (default: Korean GAN and the '
                           "style); printable ASCII and Hangul, at most 31 characters")
    font.add_argument("--seed", type=SEED, default=0, help="seed of noise and style")
    font.add_argument("--model", default="default", help=MODEL_HELP)
    font.add_argument("--latin-from", default="auto", metavar="FONT",
                      help="font file or bundled font name for space, digits, punctuation and "
                           "Latin letters (default auto: the style's own font, then Gamja "
                           "Flower for what it lacks)")
    font.add_argument("--written", default="auto", metavar="NPZ",
                      help="your ingested glyphs to keep as written: auto (default: the dataset "
                           "your style was fitted to, if the style is yours), none (the model "
                           "writes every syllable) or a dataset .npz")
    font.add_argument("--version", default="1.000", help="font version (default 1.000)")
    font.add_argument("--license-file", default=None, metavar="TXT",
                      help="a text file whose content is the font's licence (default: the SIL "
                           "Open Font License 1.1 notice)")
    font.add_argument("--batch-size", type=int_range(1, 8192), default=512)
    font.add_argument("--quiet", action="store_true", help="no progress bars")
    add_sampling_precision(font, default="float32")
    font.set_defaults(handler=_cmd_font)


def _cmd_font(args) -> int:
    from korean_gan.cli._common import read_text_source
    from korean_gan.fontmaker import FontConfig, make_font

    license_text = None
    if args.license_file is not None:
        license_text = read_text_source(args.license_file, "--license-file").strip()
        if not license_text:
            raise ValueError(f"--license-file {args.license_file} is empty")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be a positive integer, got {args.batch_size}")
    config = FontConfig(out=args.out, style=args.style, charset=args.charset,
                        family=args.family, seed=args.seed, model=args.model,
                        latin_from=args.latin_from, written=args.written,
                        version=args.version, license_text=license_text,
                        precision=args.precision, batch_size=args.batch_size,
                        progress=not args.quiet)
    result = make_font(config)
    kept = f", {result.written} as you wrote them" if result.written else ""
    print(f"wrote {result.path} ({result.bytes / 1e6:.1f} MB, family \"{result.family}\", "
          f"{result.syllables} syllables{kept}, {result.seconds:.0f} s)")
    return 0
