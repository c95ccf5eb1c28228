"""`korean-gan data` and `korean-gan fonts`: build and inspect glyph datasets, list fonts."""

from __future__ import annotations

from korean_gan.cli._common import (
    SEED,
    ConfigOptions,
    int_range,
)

CONFIG_OPTIONS = (
    ConfigOptions(
        ("data", "build"), ("korean_gan.data.dataset.BuildConfig",),
        {**{name: name for name in ("charset", "fonts", "augment", "copies", "size",
                                    "placement", "seed", "out", "format", "workers", "strict",
                                    "exclude_fonts", "extra")},
         "no_preview": "preview", "quiet": "progress"},
        # --font-dir adds folders to --fonts.
        cli_only=frozenset({"font_dir"})),
)


def add_parsers(sub) -> None:
    """Adds the ``data`` and ``fonts`` command groups."""
    _add_data_parsers(sub)
    _add_fonts_parsers(sub)


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
    build.add_argument("--augment", default="reference",
                       help="comma-separated policies: none, reference (default: the reference's "
                            "±15° rotations and wrap shifts), elastic, affine, stroke")
    build.add_argument("--copies", type=int_range(0, 1000), default=3,
                       help="variants per glyph for the random policies (default 3)")
    build.add_argument("--size", type=int_range(8, 512), default=32,
                       help="image side in pixels (default 32)")
    build.add_argument("--placement", choices=("fit", "em"), default="fit",
                       help="fit (default, the reference's: each glyph's ink fills the box) or "
                            "em (as the font draws it: one scale per font, so small syllables "
                            "stay small and all sit on the font's baseline)")
    build.add_argument("--seed", type=SEED, default=0, help="augmentation seed (default 0)")
    build.add_argument("--out", default=None,
                       help="output .npz (or folder for imagefolder); default data/<charset>.npz")
    build.add_argument("--format", choices=("npz", "imagefolder"), default="npz")
    build.add_argument("--workers", type=int_range(0, 64), default=0,
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
    metrics = fonts_sub.add_parser(
        "metrics", help="measure the layout metrics of fonts (the table write places glyphs by)",
        description="Measure every font's ink box and advance width of all 11,172 syllables "
                    "(predicted from the jamo for the ones it does not draw) and its line "
                    "metrics, into one table (korean_gan/upsampler/font_metrics.npz is this "
                    "command's output for the bundled fonts).")
    metrics.add_argument("paths", nargs="*", default=["bundled"],
                         help="font files or folders (default: the bundled corpus)")
    metrics.add_argument("--out", required=True, help="the .npz table to write")
    metrics.set_defaults(handler=_cmd_fonts_metrics)


def _font_paths(args) -> tuple[str, ...]:
    fonts = list(args.fonts) if args.fonts else ([] if args.font_dir else ["bundled"])
    return tuple(fonts + list(args.font_dir))


def _cmd_data_build(args) -> int:
    from korean_gan.data.dataset import BuildConfig, build_dataset

    config = BuildConfig(
        charset=args.charset, fonts=_font_paths(args),
        augment=tuple(p.strip() for p in args.augment.split(",") if p.strip()),
        copies=args.copies, size=args.size, placement=args.placement, seed=args.seed,
        out=args.out, format=args.format,
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
    from pathlib import Path

    from korean_gan.data.fonts import write_catalog

    if args.font_dir is not None and not Path(args.font_dir).is_dir():
        raise ValueError(f"--font-dir {args.font_dir}: no such folder; give the folder of the "
                         "fonts to catalog")
    path = write_catalog(args.font_dir)
    print(f"wrote {path}")
    return 0


def _cmd_fonts_metrics(args) -> int:
    from korean_gan.data.fonts import load_faces
    from korean_gan.data.metrics import build_metrics_table

    if not args.out.lower().endswith(".npz"):
        raise ValueError(f"--out {args.out}: give a .npz file name")
    table = build_metrics_table(load_faces(args.paths), progress=True)
    table.save(args.out)
    print(f"wrote {args.out}: metrics of {len(table)} fonts")
    return 0
