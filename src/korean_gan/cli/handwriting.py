"""`korean-gan template`, `ingest` and `adapt`: your own handwriting."""

from __future__ import annotations

from korean_gan.cli._common import (
    SEED,
    ConfigOptions,
    float_range,
    int_range,
)

CONFIG_OPTIONS = (
    ConfigOptions(
        ("template",), ("korean_gan.handwriting.template.TemplateConfig",),
        {name: name for name in ("charset", "page", "dpi", "box_mm", "out", "font")}),
    ConfigOptions(
        ("ingest",), ("korean_gan.handwriting.ingest.IngestConfig",),
        {**{name: name for name in ("photos", "layout", "charset", "page", "dpi", "box_mm",
                                    "out", "style", "size")}, "no_preview": "preview"}),
    ConfigOptions(
        ("adapt",), ("korean_gan.handwriting.adapt.AdaptConfig",),
        {"style_from": "data", "model": "model", "name": "name", "out": "out",
         "steps": "steps", "seed": "seed"},
        api_only=frozenset({"learning_rate", "noise_samples", "prior_weight"})),
)


def add_parsers(sub) -> None:
    """Adds ``template``, ``ingest`` and ``adapt``."""
    template = sub.add_parser(
        "template", help="make a printable handwriting sheet (PDF or PNG) and its layout",
        description="Lay a charset out as writing boxes with printed guide syllables and "
                    "ArUco markers; print it, write on it, photograph it and read it back with "
                    "`korean-gan ingest`. The layout goes to <out stem>.json beside the sheet.")
    template.add_argument("--charset", default="seed16",
                          help="seed16 (default), ks2350, a UTF-8 text file, or literal "
                               "syllables such as 가나다")
    template.add_argument("--page", choices=("A4", "letter"), default="A4")
    template.add_argument("--box-mm", type=float_range(5, 100), default=20.0,
                          help="writing box side in millimetres (default 20)")
    template.add_argument("--dpi", type=int_range(72, 1200), default=200,
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
    ingest.add_argument("--box-mm", type=float_range(5, 100), default=20.0)
    ingest.add_argument("--dpi", type=int_range(72, 1200), default=200)
    ingest.add_argument("--out", default="data/mine.npz",
                        help="the dataset .npz (default data/mine.npz)")
    ingest.add_argument("--style", default=None,
                        help="style name stored as the dataset's font (default: the --out "
                             "file's stem, e.g. mine)")
    ingest.add_argument("--size", type=int_range(8, 512), default=32,
                        help="glyph side in pixels (default 32)")
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
    adapt.add_argument("--steps", type=int_range(0, 100_000), default=300,
                       help="optimisation steps (default 300)")
    adapt.add_argument("--seed", type=SEED, default=0)
    adapt.set_defaults(handler=_cmd_adapt)


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
    from tqdm.auto import tqdm

    # A bar on a terminal only (disable=None), so logs and pipes stay one line per result.
    with tqdm(total=args.steps, desc="adapt", unit="step", disable=None, leave=False) as bar:
        def step(_stage: str, done: int, _total: int) -> None:
            bar.update(done - bar.n)

        result = adapt(config, on_progress=step)
    print(f"fitted style {result.name} to {result.n_glyphs} glyphs in {result.seconds:.0f} s: "
          f"L1 {result.loss_start:.3f} (closest start: {result.start}) → {result.loss_end:.3f}")
    style = result.name if result.path == STYLE_DIR / f"{result.name}.npz" else result.path
    model = "" if args.model == "default" else f" --model {args.model}"
    print(f"wrote {result.path}; write with it: korean-gan write \"안녕하세요\" --style {style}"
          f"{model} --out hello.png")
    return 0
